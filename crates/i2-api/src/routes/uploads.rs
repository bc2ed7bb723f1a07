//! `jobs/{id}/upload_file_param/`: a file uploaded into a job's file parameter. The upload
//! streams to disk (never whole in memory); MTZ columns chosen by the client are split into
//! a mini-MTZ; `File` and `FileImport` rows are written in one transaction; the parameter
//! is bound in `input_params.xml`. A failure leaves no rows behind.

use std::path::{Path as FsPath, PathBuf};

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use i2_core::layout::{DOWNLOADED_FILES_DIR, IMPORTED_FILES_DIR};
use i2_formats::upload::{self, ColumnRequest, ImportAction, ImportDir, UploadError};
use i2_store::records;
use i2_store::relations;
use i2_store::tables::{FILE, FILE_IMPORT, JOB};
use i2_store::{Arg, Kind};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::{jobs, projects, tasks};

fn dir_name(d: ImportDir) -> &'static str {
    match d {
        ImportDir::Downloaded => DOWNLOADED_FILES_DIR,
        ImportDir::Imported => IMPORTED_FILES_DIR,
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::envelope(StatusCode::BAD_REQUEST, msg)
}

fn upload_error(e: UploadError) -> ApiError {
    bad(e.upstream_message().unwrap_or_else(|| e.to_string()))
}

struct Form {
    object_path: Option<String>,
    column_selector: Option<String>,
    column_selectors: Option<String>,
    /// (original name, temporary path) of each file part.
    files: Vec<(String, PathBuf)>,
}

/// Read the multipart form, streaming file parts into `tmp_dir`. Every temporary file is
/// recorded in `tmps` as soon as it exists, so the caller removes it whatever happens (a body
/// cut off by the size limit fails mid-part).
async fn read_form(
    mut mp: Multipart,
    tmp_dir: &FsPath,
    max_body: usize,
    tmps: &mut Vec<PathBuf>,
) -> ApiResult<Form> {
    let mut form = Form {
        object_path: None,
        column_selector: None,
        column_selectors: None,
        files: vec![],
    };
    let mp_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            bad(format!(
                "Upload too large: the limit is {max_body} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)"
            ))
        } else {
            bad(format!("Multipart form parse error - {e}"))
        }
    };
    while let Some(mut field) = mp.next_field().await.map_err(mp_err)? {
        let name = field.name().unwrap_or_default().to_string();
        if let Some(fname) = field.file_name().map(str::to_string) {
            if form.files.len() >= 10 {
                return Err(bad("Too many files in one upload"));
            }
            let tmp = tmp_dir.join(format!("upload-{}", uuid::Uuid::new_v4().simple()));
            tmps.push(tmp.clone());
            let mut out = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| ApiError::internal(format!("creating {}: {e}", tmp.display())))?;
            form.files.push((fname, tmp.clone()));
            while let Some(chunk) = field.chunk().await.map_err(mp_err)? {
                out.write_all(&chunk)
                    .await
                    .map_err(|e| ApiError::internal(format!("writing {}: {e}", tmp.display())))?;
            }
            out.flush()
                .await
                .map_err(|e| ApiError::internal(format!("writing {}: {e}", tmp.display())))?;
            continue;
        }
        let text = field.text().await.map_err(mp_err)?;
        match name.as_str() {
            "object_path" | "objectPath" => form.object_path = Some(text),
            "column_selector" => form.column_selector = Some(text),
            "column_selectors" => form.column_selectors = Some(text),
            _ => {}
        }
    }
    Ok(form)
}

pub async fn upload_file_param(
    State(s): State<AppState>,
    Path(id): Path<String>,
    mp: Multipart,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id).await?;
    let pid = job.get(&JOB, "project").as_i64().unwrap_or_default();
    let project = projects::fetch_project(&s, &pid.to_string()).await?;
    let pdir = projects::project_dir(&project);
    let tmp_dir = pdir.join("CCP4_TMP");
    std::fs::create_dir_all(&tmp_dir)
        .map_err(|e| ApiError::internal(format!("{}: {e}", tmp_dir.display())))?;
    let mut tmps = Vec::new();
    let result = match read_form(mp, &tmp_dir, s.config.max_body_bytes, &mut tmps).await {
        Ok(form) => import(&s, &job, &project, &pdir, &form).await,
        Err(e) => Err(e),
    };
    for tmp in &tmps {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

async fn import(
    s: &AppState,
    job: &records::RecordRow,
    project: &records::RecordRow,
    pdir: &FsPath,
    form: &Form,
) -> ApiResult<Json<Value>> {
    let Some(object_path) = form.object_path.clone().filter(|p| !p.is_empty()) else {
        return Err(bad("object_path is required"));
    };
    let jid = job.pk().as_i64().unwrap_or_default();
    let (params_project, mut params) = tasks::load_job_params(s, job).await?;
    let _ = params_project;
    params.extend_list_to(&object_path).map_err(bad)?;
    let node = params.find_node(&object_path).map_err(bad)?;
    let class = node
        .get("_class")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if !upload::is_file_class(&class) {
        // Upstream names the Python class of the parameter; the scalar ones are known.
        if matches!(class.as_str(), "CInt" | "CFloat" | "CString" | "CBoolean") {
            return Err(bad(format!(
                "param_object must be CDataFile, got <class 'ccp4i2.core.base_object.fundamental_types.{class}'>"
            )));
        }
        return Err(upload_error(UploadError::NotAFileParameter(class)));
    }
    let param_name = object_path.rsplit('.').next().unwrap_or("").to_string();

    // An earlier upload into the same parameter is replaced (its name becomes free again).
    let mut c = s.conn();
    for (fid, name) in relations::imported_files_of_param(&mut c, jid, &param_name).await? {
        let mut tx = s.db.begin().await?;
        relations::delete_file_rows(&mut tx, fid).await?;
        tx.commit().await?;
        let _ = std::fs::remove_file(pdir.join(IMPORTED_FILES_DIR).join(name));
    }
    if form.files.len() != 1 {
        return Err(upload_error(UploadError::FileCount(form.files.len())));
    }
    let (original, tmp) = &form.files[0];
    let request = ColumnRequest::from_form(
        form.column_selector.as_deref(),
        form.column_selectors.as_deref(),
    )
    .map_err(upload_error)?;
    let exists = |d: ImportDir, name: &str| pdir.join(dir_name(d)).join(name).exists();
    let plan =
        upload::plan_upload(&class, original, tmp, &request, &exists).map_err(upload_error)?;

    // Files first (into place), rows after; on any failure the new files are removed.
    let download = pdir
        .join(dir_name(plan.download.dir))
        .join(&plan.download.name);
    let imported = pdir
        .join(dir_name(plan.imported.dir))
        .join(&plan.imported.name);
    let mut written: Vec<PathBuf> = Vec::new();
    let outcome = async {
        for d in [DOWNLOADED_FILES_DIR, IMPORTED_FILES_DIR] {
            std::fs::create_dir_all(pdir.join(d))
                .map_err(|e| ApiError::internal(format!("{d}: {e}")))?;
        }
        std::fs::copy(tmp, &download)
            .map_err(|e| ApiError::internal(format!("saving {}: {e}", download.display())))?;
        written.push(download.clone());
        match &plan.action {
            ImportAction::UseDownloaded => {}
            ImportAction::Copy => {
                std::fs::copy(&download, &imported).map_err(|e| {
                    ApiError::internal(format!("copying to {}: {e}", imported.display()))
                })?;
                written.push(imported.clone());
            }
            ImportAction::Split(spec) => {
                upload::execute_split(&download, &imported, spec).map_err(upload_error)?;
                written.push(imported.clone());
            }
        }
        for (extra, spec) in &plan.extra {
            let p = pdir.join(dir_name(extra.dir)).join(&extra.name);
            upload::execute_split(&download, &p, spec).map_err(upload_error)?;
            written.push(p);
        }
        let checksum =
            upload::md5_file(&imported).map_err(|e| ApiError::internal(e.to_string()))?;
        let file_uuid = uuid::Uuid::new_v4();
        let mut tx = s.db.begin().await?;
        relations::ensure_file_type(&mut tx, &plan.mime_type).await?;
        let file = records::insert(
            &mut tx,
            &FILE,
            vec![
                ("uuid", Arg::Uuid(file_uuid)),
                ("name", Arg::Text(plan.imported.name.clone())),
                ("directory", Arg::Int(2)),
                ("sub_type", Arg::Int(plan.sub_type.into())),
                ("content", Arg::Int(plan.content_flag.into())),
                ("annotation", Arg::Text(plan.annotation.clone())),
                ("job_param_name", Arg::Text(param_name.clone())),
                ("job_id", Arg::Int(jid)),
                ("type_id", Arg::Text(plan.mime_type.clone())),
            ],
        )
        .await?;
        records::insert(
            &mut tx,
            &FILE_IMPORT,
            vec![
                ("file_id", crate::drf::cell_arg(file.pk())),
                ("time", Arg::Time(i2_core::time::now())),
                ("name", Arg::Text(plan.original_name.clone())),
                ("checksum", Arg::Text(checksum)),
                ("last_modified", Arg::Null(Kind::Time)),
            ],
        )
        .await?;
        // Bind the parameter; only then commit the rows.
        let project_uuid = match project.get(&i2_store::tables::PROJECT, "uuid") {
            i2_store::cells::Cell::Uuid(u) => u.simple().to_string(),
            _ => String::new(),
        };
        let value = json!({
            "project": project_uuid,
            "baseName": plan.imported.name,
            "relPath": IMPORTED_FILES_DIR,
            "annotation": plan.annotation,
            "dbFileId": file_uuid.simple().to_string(),
            "subType": plan.sub_type,
            "contentFlag": plan.content_flag,
        });
        let header = tasks::header_for(s, project, job);
        let out = params
            .set_parameter(&object_path, &value, &header)
            .map_err(|e| {
                ApiError::Body(
                    StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
                    e.body(),
                )
            })?;
        params
            .keep_plain_file_parts(&object_path)
            .map_err(ApiError::internal)?;
        // Upstream saves the whole container after an upload (every parameter, defaults too).
        let dir = tasks::job_dir(project, job)?;
        tasks::write_atomic(&dir.join(tasks::INPUT_PARAMS), &params.to_full_xml(&header))?;
        tx.commit().await?;
        let item = params
            .find_node(&object_path)
            .cloned()
            .unwrap_or_else(|_| out.data.get("updated_item").cloned().unwrap_or(Value::Null));
        Ok::<Value, ApiError>(item)
    }
    .await;
    match outcome {
        Ok(item) => Ok(Json(
            json!({"success": true, "data": {"updated_item": item}}),
        )),
        Err(e) => {
            // The downloaded copy stays (as upstream keeps it); derived files go.
            for p in written.iter().filter(|p| **p != download) {
                let _ = std::fs::remove_file(p);
            }
            Err(e)
        }
    }
}
