//! Project export and import, done by upstream's own management commands (`export_project`,
//! `import_ccp4_project_zip`) run with the runner's Python in supervised subprocesses, so
//! the archives are upstream's format exactly; the server itself runs no Python.
//!
//! - `POST projects/{id}/export/`: records a `ProjectExport` (pending), names the archive
//!   as upstream does (`<slug>_export_<UTC time>.ccp4_project.zip` in the project's
//!   `CCP4_EXPORT_FILES/`, with `_N` added if taken) and starts the export, which moves the
//!   record to running, then completed or failed. A process that dies without saying so is
//!   marked failed here.
//! - `GET projectexports/{id}/download/`: the archive as an attachment.
//! - `POST projects/import_project/` (multipart `files`, `.zip` only): each archive is kept
//!   under `$CCP4I2_HOME/files/uploaded_files/` and imported in the background.

use std::path::PathBuf;
use std::time::Duration;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use i2_core::names::slugify;
use i2_store::records::{self, RecordRow};
use i2_store::tables::{FILE, JOB, PROJECT, PROJECT_EXPORT};
use i2_store::{Arg, Conn};
use serde_json::{Value, json};

use crate::AppState;
use crate::crud;
use crate::error::{ApiError, ApiResult};
use crate::routes::projects::project_dir;
use crate::routes::tasks::{project_of, text, uuid_of};

/// The longest an export or import may run before it is stopped.
const COMMAND_LIMIT: Duration = Duration::from_secs(6 * 3600);

/// The archive's name for an export of `project` made at `time`, as upstream derives it
/// (both when it writes the archive and when it serves it).
fn archive_name(project: &RecordRow, time: chrono::DateTime<chrono::Utc>) -> String {
    let name = text(project, &PROJECT, "name");
    let slug = if name.is_empty() {
        format!("project_{}", project.pk().as_i64().unwrap_or_default())
    } else {
        slugify(&name)
    };
    format!(
        "{slug}_export_{}.ccp4_project.zip",
        time.format("%Y%m%d_%H%M%S")
    )
}

fn runner_needed() -> ApiError {
    ApiError::envelope(
        StatusCode::SERVICE_UNAVAILABLE,
        "project export and import need the upstream runner's Python, and this server has none configured",
    )
}

/// Record that an export which had not ended has failed.
async fn mark_failed(s: &AppState, export_id: i64) {
    let r = s
        .conn()
        .execute(
            "UPDATE ccp4i2_projectexport SET status = 'failed' \
             WHERE id = $1 AND status IN ('pending', 'running')",
            vec![Arg::Int(export_id)],
        )
        .await;
    if let Err(e) = r {
        tracing::warn!(export = export_id, error = %e, "could not record the export's status");
    }
}

/// The export could not be started: its record says so, and so does the answer.
async fn export_failed(s: &AppState, export_id: i64, why: String) -> ApiError {
    mark_failed(s, export_id).await;
    ApiError::envelope(StatusCode::INTERNAL_SERVER_ERROR, why)
}

/// `POST projects/{id}/export/`.
pub async fn export(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let project = crud::fetch(&s, &PROJECT, &id)
        .await
        .map_err(|e| e.when_missing(StatusCode::NOT_FOUND, "Project not found"))?;
    let builder = s.reports.clone().ok_or_else(runner_needed)?;
    let pid = project.pk().as_i64().unwrap_or_default();
    let time = i2_core::time::now();
    let record = records::insert(
        &mut s.conn(),
        &PROJECT_EXPORT,
        vec![
            ("project_id", Arg::Int(pid)),
            ("time", Arg::Time(time)),
            ("status", Arg::Text("pending".into())),
        ],
    )
    .await?;
    let export_id = record.pk().as_i64().unwrap_or_default();
    let dir = project_dir(&project).join("CCP4_EXPORT_FILES");
    let base = archive_name(&project, time);
    let started = {
        let dir = dir.clone();
        let base = base.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<(PathBuf, String)> {
            std::fs::create_dir_all(&dir)?;
            let mut name = base.clone();
            let stem = base.trim_end_matches(".zip").to_string();
            let mut n = 1;
            while dir.join(&name).exists() {
                name = format!("{stem}_{n}.ccp4_project.zip");
                n += 1;
            }
            Ok((dir.join(&name), name))
        })
        .await
        .map_err(ApiError::internal)?
    };
    let (path, file_name) = match started {
        Ok(p) => p,
        Err(e) => {
            let why = format!("cannot prepare {}: {e}", dir.display());
            return Err(export_failed(&s, export_id, why).await);
        }
    };
    let log_name = file_name.replace(".ccp4_project.zip", ".export.log");
    let args = vec![
        "export_project".to_string(),
        "-pi".into(),
        pid.to_string(),
        "-o".into(),
        path.to_string_lossy().into_owned(),
        "--export-id".into(),
        export_id.to_string(),
    ];
    let child = match builder.start_command(
        &args,
        &dir,
        &dir.join(&log_name),
        &format!("export-{export_id}"),
    ) {
        Ok(c) => c,
        Err(e) => return Err(export_failed(&s, export_id, e.to_string()).await),
    };
    let process_id = child.pgid;
    let state = s.clone();
    tokio::spawn(async move {
        if !i2_jobs::report::supervise_command(child, COMMAND_LIMIT).await {
            // The command marks its own failures; one that died without a word is marked here.
            mark_failed(&state, export_id).await;
        }
    });
    Ok(Json(json!({
        "status": "Success",
        "export_file_name": file_name,
        "log_file_name": log_name,
        "process_id": process_id,
    }))
    .into_response())
}

/// `GET projectexports/{id}/download/`.
pub async fn download(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let record = crud::fetch(&s, &PROJECT_EXPORT, &id).await?;
    let project = crud::fetch(
        &s,
        &PROJECT,
        &record
            .get(&PROJECT_EXPORT, "project")
            .as_i64()
            .unwrap_or_default()
            .to_string(),
    )
    .await?;
    let time = match record.get(&PROJECT_EXPORT, "time") {
        i2_store::cells::Cell::Time(t) => *t,
        _ => return Err(ApiError::internal("a project export without a time")),
    };
    let name = archive_name(&project, time);
    let path = project_dir(&project).join("CCP4_EXPORT_FILES").join(&name);
    let missing = || {
        (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Export file not found"})),
        )
            .into_response()
    };
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(missing());
    }
    let mut resp = match super::files::stream_file(&path).await {
        Ok(r) => r,
        Err(ApiError::Detail(StatusCode::NOT_FOUND, _)) => return Ok(missing()),
        Err(e) => return Err(e),
    };
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// `POST projects/import_project/`.
pub async fn import_project(State(s): State<AppState>, mut mp: Multipart) -> ApiResult<Response> {
    let builder = s.reports.clone().ok_or_else(runner_needed)?;
    let store = builder.home().join("files").join("uploaded_files");
    tokio::fs::create_dir_all(&store)
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", store.display())))?;
    let bad = |m: String| ApiError::envelope(StatusCode::BAD_REQUEST, m);
    let mut saved = Vec::new();
    while let Some(mut field) = mp
        .next_field()
        .await
        .map_err(|e| bad(format!("Multipart form parse error - {e}")))?
    {
        if field.name() != Some("files") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_string();
        if !name.ends_with(".zip") {
            return Err(bad("Invalid file type".into()));
        }
        let path = store.join(slugify(&name));
        let mut out = tokio::fs::File::create(&path)
            .await
            .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
        while let Some(chunk) = field
            .chunk()
            .await
            .map_err(|e| bad(format!("Multipart form parse error - {e}")))?
        {
            use tokio::io::AsyncWriteExt;
            out.write_all(&chunk)
                .await
                .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
        }
        saved.push(path);
    }
    if saved.is_empty() {
        return Err(bad("No file provided".into()));
    }
    for path in saved {
        let log = path.with_extension("import.log");
        let args = vec![
            "import_ccp4_project_zip".to_string(),
            path.to_string_lossy().into_owned(),
        ];
        let child = builder
            .start_command(&args, &store, &log, "project-import")
            .map_err(|e| ApiError::envelope(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        tokio::spawn(async move {
            if !i2_jobs::report::supervise_command(child, COMMAND_LIMIT).await {
                tracing::warn!(archive = %path.display(), log = %log.display(), "project import failed");
            }
        });
    }
    Ok(Json(json!({"success": true, "data": {"imported": true}})).into_response())
}

/// `GET jobs/{id}/export_job/`: an archive of the project holding just this job (upstream's
/// `export_project -j <number>`), made now and sent as an attachment named as upstream names
/// it, with upstream's `X-Export-Info` header.
pub async fn export_job(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let job = crud::fetch(&s, &JOB, &id)
        .await
        .map_err(|e| e.when_missing(StatusCode::NOT_FOUND, "Job matching query does not exist."))?;
    let project = project_of(&s, &job).await?;
    let builder = s.reports.clone().ok_or_else(runner_needed)?;
    let job_text = |c: &str| text(&job, &JOB, c);
    let number = job_text("number");
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let zip = std::env::temp_dir().join(format!("i2server-export-job-{tag}.zip"));
    let log = std::env::temp_dir().join(format!("i2server-export-job-{tag}.log"));
    let args = vec![
        "export_project".to_string(),
        "-pi".into(),
        project.pk().as_i64().unwrap_or_default().to_string(),
        "-j".into(),
        number.clone(),
        "-o".into(),
        zip.to_string_lossy().into_owned(),
    ];
    let dir = project_dir(&project);
    let failed = |why: String| {
        ApiError::envelope(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Export failed: {why}"),
        )
    };
    let child = builder
        .start_command(&args, &dir, &log, &format!("export-job-{id}"))
        .map_err(|e| failed(e.to_string()))?;
    let ok = i2_jobs::report::supervise_command(child, Duration::from_secs(1800)).await;
    let why =
        i2_jobs::report::last_line(&log).unwrap_or_else(|| "the export command failed".into());
    let _ = std::fs::remove_file(&log);
    let file = match tokio::fs::File::open(&zip).await {
        Ok(f) if ok => f,
        _ => {
            let _ = std::fs::remove_file(&zip);
            return Err(failed(why));
        }
    };
    // The open file keeps the archive readable while it is sent; its name goes now.
    let _ = std::fs::remove_file(&zip);
    let keep = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect::<String>()
    };
    let title = [
        job_text("title"),
        job_text("task_name"),
        format!("job_{number}"),
    ]
    .into_iter()
    .find(|t| !t.is_empty())
    .unwrap_or_default();
    let name = format!(
        "{}_job_{number}_{}.zip",
        keep(&text(&project, &PROJECT, "name")),
        keep(&title)
    );
    let job_title = [job_text("title"), job_text("task_name")]
        .into_iter()
        .find(|t| !t.is_empty());
    let info = json!({
        "project_name": text(&project, &PROJECT, "name"),
        "project_uuid": uuid_of(&project, &PROJECT),
        "job_number": number,
        "job_title": job_title,
        "job_uuid": uuid_of(&job, &JOB),
        "export_type": "job_selection",
    });
    let mut resp = Response::new(axum::body::Body::from_stream(
        tokio_util::io::ReaderStream::new(file),
    ));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/zip"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&info.to_string()) {
        h.insert("x-export-info", v);
    }
    Ok(resp)
}

/// Upstream's desktop build opens these on the machine that runs the server.
const FILE_VIEWERS: &[&str] = &["coot", "ccp4mg", "viewhkl", "terminal", "postscript"];

/// A server opens nothing on its own screen: refused, saying what to do instead.
fn preview_refused() -> ApiError {
    ApiError::envelope(
        StatusCode::BAD_REQUEST,
        "i2server does not open viewers or terminals on the server machine: download the files \
         and open them in a viewer on your own",
    )
}

/// The `viewer` of a preview request as upstream's message shows it (`None` when absent).
fn viewer_of(input: &crate::body::Input) -> String {
    match input.get("viewer") {
        None | Some(Value::Null) => "None".into(),
        Some(Value::String(v)) => v.clone(),
        Some(other) => other.to_string(),
    }
}

/// `POST files/{id}/preview/` `{viewer}`: upstream's desktop build opens the file in Coot,
/// CCP4MG, ViewHKL, a terminal or a PostScript viewer on the server's machine. Unknown
/// viewers get upstream's 400; known ones are refused (see [`preview_refused`]).
pub async fn preview_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: crate::body::Input,
) -> ApiResult<Json<Value>> {
    crud::fetch(&s, &FILE, &id).await.map_err(|e| {
        e.when_missing(StatusCode::NOT_FOUND, "File matching query does not exist.")
    })?;
    let viewer = viewer_of(&input);
    if !FILE_VIEWERS.contains(&viewer.as_str()) {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Viewer {viewer} is not supported."),
        ));
    }
    Err(preview_refused())
}

/// `POST jobs/{id}/preview/` `{viewer}`: upstream's desktop build opens a terminal in the job
/// directory (`terminal`, its only viewer here). Refused likewise.
pub async fn preview_job(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: crate::body::Input,
) -> ApiResult<Json<Value>> {
    crud::fetch(&s, &JOB, &id)
        .await
        .map_err(|e| e.when_missing(StatusCode::NOT_FOUND, "Job matching query does not exist."))?;
    let viewer = viewer_of(&input);
    if viewer != "terminal" {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Viewer {viewer} is not supported."),
        ));
    }
    Err(preview_refused())
}

/// The ligand code and MolBlock of a dictionary, by upstream's converter in the
/// installation's Python (it needs RDKit); `{"unavailable": true}` without it.
const MOLBLOCK: &str = r#"
import json, sys
path = json.loads(sys.argv[1])["path"]
answer_to, sys.stdout = sys.stdout, sys.stderr
code = None
try:
    import gemmi
    for block in gemmi.cif.read_file(path):
        ids = list(block.find_loop("_chem_comp_atom.comp_id"))
        if ids:
            code = ids[0]
            break
        if block.name and len(block.name) <= 4:
            code = block.name
            break
except Exception as e:
    print("no ligand code:", e)
try:
    from ccp4i2.wrappers.acedrgNew.script.cifToMolBlock import cifFileToMolBlock
except ImportError as e:
    print("no converter:", e)
    answer_to.write(json.dumps({"unavailable": True}))
    sys.exit(0)
answer_to.write(json.dumps({"molblock": cifFileToMolBlock(path) or None, "ligand_code": code}))
"#;

/// `GET files/{id}/molblock/`: a ligand dictionary as a MolBlock for 2-D drawing.
pub async fn molblock(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let file = crud::fetch(&s, &FILE, &id)
        .await
        .map_err(|e| e.when_missing(StatusCode::NOT_FOUND, "File not found"))?;
    let kind = file
        .get(&FILE, "type")
        .as_str()
        .unwrap_or_default()
        .to_string();
    if kind != "application/refmac-dictionary" {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("File type must be application/refmac-dictionary, got {kind}"),
        ));
    }
    let fid = file.pk().as_i64().unwrap_or_default();
    let places = i2_store::relations::places_of_files(&mut s.conn(), &[fid]).await?;
    let on_disk = match places.get(&fid) {
        Some(p) => super::files::existing_file_inside(p).await?,
        None => None,
    };
    let Some(path) = on_disk else {
        return Err(ApiError::envelope(
            StatusCode::NOT_FOUND,
            "File not found on disk",
        ));
    };
    let python = s
        .reports
        .as_ref()
        .and_then(|r| r.python())
        .map(PathBuf::from)
        .ok_or_else(runner_needed)?;
    let input = json!({"path": path.to_string_lossy()});
    let answer = tokio::task::spawn_blocking(move || {
        i2_tasks::methods::python::call(&python, MOLBLOCK, &input)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(|e| ApiError::envelope(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if answer.get("unavailable").is_some() {
        // Upstream's 500; a missing optional package is this server's state, not a crash.
        return Err(ApiError::envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            "MolBlock conversion not available (missing RDKit/gemmi)",
        ));
    }
    if answer["molblock"].is_null() {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "Failed to convert CIF to MolBlock - check server logs for details",
        ));
    }
    Ok(Json(json!({"success": true, "data": {
        "molblock": answer["molblock"],
        "ligand_code": answer["ligand_code"],
    }}))
    .into_response())
}
