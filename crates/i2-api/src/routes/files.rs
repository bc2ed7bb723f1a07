//! `/files/`, `/files_by_uuid/`, and streaming files out of project directories.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use i2_core::FileDirectory;
use i2_core::job_number::JobNumber;
use i2_core::layout::IMPORTED_FILES_DIR;
use i2_store::records::{self, Condition, Filter, RecordRow};
use i2_store::relations::{self, FilePlace};
use i2_store::tables::FILE;
use i2_store::{Arg, Conn};
use serde_json::{Map, Value, json};
use tokio_util::io::ReaderStream;

use crate::AppState;
use crate::body::Input;
use crate::crud::{self, page_of};
use crate::drf;
use crate::error::{ApiError, ApiResult};

/// Absolute path of a file from where its row says it is.
pub fn file_path(p: &FilePlace) -> Option<PathBuf> {
    let dir = PathBuf::from(p.project_dir.as_ref()?);
    match FileDirectory::from_i32(p.directory)? {
        FileDirectory::Job => {
            let n = JobNumber::parse(p.job_number.as_ref()?).ok()?;
            Some(dir.join(n.rel_dir()).join(&p.name))
        }
        FileDirectory::Import => Some(dir.join(IMPORTED_FILES_DIR).join(&p.name)),
    }
}

/// The file a row names, if it exists inside its project directory: a row whose `name`
/// climbs out (`../`) or leads through a symlink outside gives `None`, like a missing file.
pub async fn existing_file_inside(p: &FilePlace) -> ApiResult<Option<PathBuf>> {
    let (Some(full), Some(root)) = (file_path(p), p.project_dir.as_ref().map(PathBuf::from)) else {
        return Ok(None);
    };
    let Ok(rel) = full
        .strip_prefix(&root)
        .map(|r| r.to_string_lossy().into_owned())
    else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || crate::paths::resolve_inside(&root, &rel))
        .await
        .map_err(|e| ApiError::internal(format!("path task: {e}")))
}

fn file_map(row: &RecordRow, path: Option<PathBuf>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), drf::cell_json(row.pk()));
    m.insert(
        "path".into(),
        path.map(|p| json!(p.to_string_lossy()))
            .unwrap_or(Value::Null),
    );
    for (k, v) in drf::render(&FILE, row) {
        if k != "id" {
            m.insert(k, v);
        }
    }
    m
}

pub async fn files_json(c: &mut impl Conn, rows: &[RecordRow]) -> ApiResult<Vec<Value>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.pk().as_i64()).collect();
    let places = relations::places_of_files(c, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let path = r
                .pk()
                .as_i64()
                .and_then(|i| places.get(&i))
                .and_then(file_path);
            Value::Object(file_map(r, path))
        })
        .collect())
}

async fn file_json(c: &mut impl Conn, row: &RecordRow) -> ApiResult<Value> {
    Ok(files_json(c, std::slice::from_ref(row))
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

const FILE_FILTERS: &[(&str, &str)] = &[
    ("job", "job_id"),
    ("type", "type_id"),
    ("directory", "directory"),
];

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mut c = s.conn();
    let filters = crud::filters_of(&FILE, FILE_FILTERS, &q)?;
    crud::check_choice_filters(&mut c, &FILE, FILE_FILTERS, &filters).await?;
    let mut conds = Vec::new();
    // `?project=` and its alias `?job__project=` filter through the producing job.
    for param in ["project", "job__project"] {
        if let Some(p) = q.get(param).filter(|p| !p.is_empty()) {
            let pid: i64 = p
                .trim()
                .parse()
                .map_err(|_| ApiError::field(param, "Enter a whole number."))?;
            conds.push(Condition {
                sql: "job_id IN (SELECT id FROM ccp4i2_job WHERE project_id = {})",
                args: vec![Arg::Int(pid)],
            });
        }
    }
    match q
        .get("job__parent__isnull")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        Some("true" | "1") => conds.push(Condition {
            sql: "job_id IN (SELECT id FROM ccp4i2_job WHERE parent_id IS NULL)",
            args: vec![],
        }),
        Some("false" | "0") => conds.push(Condition {
            sql: "job_id IN (SELECT id FROM ccp4i2_job WHERE parent_id IS NOT NULL)",
            args: vec![],
        }),
        Some(_) | None => {}
    }
    let rows = records::list_where(&mut c, &FILE, &filters, &conds, "id", page_of(&q)?).await?;
    Ok(Json(Value::Array(files_json(&mut c, &rows).await?)))
}

pub async fn create(State(s): State<AppState>, input: Input) -> ApiResult<Response> {
    let row = crud::create_row(&s, &FILE, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(file_json(&mut s.conn(), &row).await?),
    )
        .into_response())
}

pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = crud::fetch(&s, &FILE, &id).await?;
    Ok(Json(file_json(&mut s.conn(), &row).await?))
}

async fn update(s: AppState, id: String, input: Input, partial: bool) -> ApiResult<Json<Value>> {
    let row = crud::update_row(&s, &FILE, &id, &input, partial, &[]).await?;
    Ok(Json(file_json(&mut s.conn(), &row).await?))
}

pub async fn put(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    update(s, id, input, false).await
}

pub async fn patch(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    update(s, id, input, true).await
}

/// Deletes the row and its uses/import records; the file on disk stays (as upstream).
pub async fn destroy(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let row = crud::fetch(&s, &FILE, &id).await?;
    let mut tx = s.db.begin().await?;
    let fid = row.pk().as_i64().unwrap_or_default();
    relations::delete_file_rows(&mut tx, fid).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn download_row(s: &AppState, row: &RecordRow) -> ApiResult<Response> {
    let fid = row.pk().as_i64().unwrap_or_default();
    let places = relations::places_of_files(&mut s.conn(), &[fid]).await?;
    let missing = || ApiError::envelope(StatusCode::NOT_FOUND, "File not found on disk");
    let place = places.get(&fid).ok_or_else(missing)?;
    let path = existing_file_inside(place).await?.ok_or_else(missing)?;
    match stream_file(&path).await {
        Err(ApiError::Detail(StatusCode::NOT_FOUND, _)) => Err(missing()),
        other => other,
    }
}

pub async fn download(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let row = crud::fetch(&s, &FILE, &id)
        .await
        .map_err(|e| super::jobs::envelope_404(e, "File matching query does not exist."))?;
    download_row(&s, &row).await
}

/// `GET files/{id}/file_path/`: where the file is on the server's disk (upstream's desktop
/// client opens it in a local viewer).
pub async fn path_of_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = crud::fetch(&s, &FILE, &id)
        .await
        .map_err(|e| super::jobs::envelope_404(e, "File not found"))?;
    let fid = row.pk().as_i64().unwrap_or_default();
    let places = relations::places_of_files(&mut s.conn(), &[fid]).await?;
    let path = places.get(&fid).and_then(file_path);
    Ok(Json(
        json!({"success": true, "data": {"path": path.map(|p| p.to_string_lossy().into_owned())}}),
    ))
}

async fn by_uuid(s: &AppState, raw: &str) -> ApiResult<RecordRow> {
    let u = uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFoundPlain)?;
    records::list(
        &mut s.conn(),
        &FILE,
        &[Filter {
            column: "uuid",
            value: Arg::Uuid(u),
        }],
        "id",
        Default::default(),
    )
    .await?
    .into_iter()
    .next()
    .ok_or(ApiError::NotFound("File"))
}

pub async fn retrieve_by_uuid(
    State(s): State<AppState>,
    Path(u): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = by_uuid(&s, &u).await?;
    Ok(Json(file_json(&mut s.conn(), &row).await?))
}

pub async fn download_by_uuid(
    State(s): State<AppState>,
    Path(u): Path<String>,
) -> ApiResult<Response> {
    let row = by_uuid(&s, &u).await?;
    download_row(&s, &row).await
}

pub async fn list_by_uuid(
    State(s): State<AppState>,
    q: Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    list(State(s), q).await
}

fn guess_mime(path: &FsPath) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("txt" | "log") => "text/plain",
        Some("xml") => "application/xml",
        Some("html" | "htm") => "text/html",
        Some("json") => "application/json",
        Some("pdb" | "ent") => "chemical/x-pdb",
        Some("cif" | "mmcif") => "chemical/x-cif",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("svg") => "image/svg+xml",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// Stream a file from disk without reading it whole into memory.
pub async fn stream_file(path: &FsPath) -> ApiResult<Response> {
    let file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::Detail(
                StatusCode::NOT_FOUND,
                "File not found".into(),
            ));
        }
        Err(e) => return Err(ApiError::internal(format!("open {}: {e}", path.display()))),
    };
    let meta = file
        .metadata()
        .await
        .map_err(|e| ApiError::internal(format!("stat {}: {e}", path.display())))?;
    if meta.is_dir() {
        return Err(ApiError::Detail(
            StatusCode::NOT_FOUND,
            "File not found".into(),
        ));
    }
    let mut resp = Response::new(Body::from_stream(ReaderStream::new(file)));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(guess_mime(path)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().replace('"', ""))
        .unwrap_or_default();
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// Serve `rel` from inside a project directory; anything outside is a 404.
pub async fn serve_project_path(project_dir: &FsPath, rel: &str) -> ApiResult<Response> {
    let root = project_dir.to_path_buf();
    let rel_for_msg = rel.to_string();
    let rel = rel.to_string();
    let resolved = tokio::task::spawn_blocking(move || crate::paths::resolve_inside(&root, &rel))
        .await
        .map_err(ApiError::internal)?;
    match resolved {
        Some(p) => stream_file(&p).await,
        None if escapes(project_dir, &rel_for_msg) => Err(ApiError::Detail(
            StatusCode::NOT_FOUND,
            "Unacceptable file".into(),
        )),
        None => Err(ApiError::Detail(
            StatusCode::NOT_FOUND,
            "File not found".into(),
        )),
    }
}

/// Whether `rel` points outside the project (as opposed to simply not existing).
fn escapes(root: &FsPath, rel: &str) -> bool {
    use std::path::Component;
    let p = FsPath::new(rel);
    if p.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    }) {
        return true;
    }
    // A symlink inside the project that leads out of it.
    match (root.canonicalize(), root.join(p).canonicalize()) {
        (Ok(r), Ok(t)) => !t.starts_with(r),
        _ => false,
    }
}
