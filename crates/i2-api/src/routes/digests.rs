//! File digests: `files/{id}/digest/`, `files_by_uuid/{uuid}/digest/`, `jobs/{id}/digest/` and
//! `jobs/{id}/digest_param_file/`, with upstream's envelopes. The digest itself is
//! [`i2_formats::digest::digest_for`], run on the blocking pool.
//!
//! Upstream's shapes, as recorded (tests/conformance/uploads.json):
//! - File routes: `{"success": true, "data": <digest>}`; a file type without a digest class
//!   (`MultiPDB`, `Dummy`) or a digest failure → 400 envelope; a file gone from disk → 200 with
//!   `data: {}` (upstream's digest of a missing file is empty). Unknown id → 404 envelope.
//! - Job routes: failures are a 200 whose `data` is `{"status": "Failed", "reason", "digest": {}}`;
//!   an unknown job is a 400 envelope. `digest_param_file` wraps the digest in `{"digest": …}` and
//!   drops the last character of `job_param_name` (upstream does, and clients send a trailing
//!   character for it).
//!
//! Where upstream crashes (unknown uuid, a `job_param_name` naming no file, or none at all),
//! i2server answers a 4xx envelope instead.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use i2_formats::FormatError;
use i2_store::records::{self, Filter, RecordRow};
use i2_store::relations;
use i2_store::tables::{FILE, FILE_IMPORT, JOB, PROJECT};
use i2_store::{Arg, Conn};
use serde_json::{Value, json};

use crate::AppState;
use crate::crud;
use crate::error::{ApiError, ApiResult};
use crate::routes::{files, jobs, projects, tasks};

/// File types upstream lists without a digest class (its lookup of `C` fails).
const NO_DIGEST_CLASS: &[&str] = &["MultiPDB", "Dummy"];

/// How a digest attempt ended, before it is put in a route's envelope.
enum Outcome {
    Digest(Value),
    /// The file is not on disk: upstream's digest is then empty.
    Missing,
    Failed(String),
}

/// Digest `path` as a file of MIME type `mime` on the blocking pool.
async fn run_digest(mime: String, path: PathBuf) -> ApiResult<Outcome> {
    let res = tokio::task::spawn_blocking(move || i2_formats::digest::digest_for(&mime, &path))
        .await
        .map_err(|e| ApiError::internal(format!("digest task: {e}")))?;
    Ok(match res {
        Ok(v) => Outcome::Digest(v),
        Err(FormatError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Outcome::Missing
        }
        Err(FormatError::Unsupported(_)) => {
            Outcome::Failed("File type not supported for digest".into())
        }
        Err(e) => Outcome::Failed(format!("Failed digesting file: {e}")),
    })
}

async fn digest_file_row(s: &AppState, row: &RecordRow) -> ApiResult<Json<Value>> {
    let mime = row
        .get(&FILE, "type")
        .as_str()
        .unwrap_or("Unknown")
        .to_string();
    if NO_DIGEST_CLASS.contains(&mime.as_str()) {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "File type class not found: C",
        ));
    }
    let fid = row.pk().as_i64().unwrap_or_default();
    let places = relations::places_of_files(&mut s.conn(), &[fid]).await?;
    let path = match places.get(&fid) {
        Some(place) => files::existing_file_inside(place).await?,
        None => None,
    };
    let Some(path) = path else {
        return Ok(Json(json!({"success": true, "data": {}})));
    };
    match run_digest(mime, path).await? {
        Outcome::Digest(v) => Ok(Json(json!({"success": true, "data": v}))),
        Outcome::Missing => Ok(Json(json!({"success": true, "data": {}}))),
        Outcome::Failed(why) => Err(ApiError::envelope(StatusCode::BAD_REQUEST, why)),
    }
}

fn file_not_found(e: ApiError) -> ApiError {
    e.when_missing(StatusCode::NOT_FOUND, "File not found")
}

/// `GET files/{id}/digest/`
pub async fn file_digest(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = crud::fetch(&s, &FILE, &id).await.map_err(file_not_found)?;
    digest_file_row(&s, &row).await
}

async fn file_by_uuid(c: &mut impl Conn, u: uuid::Uuid) -> ApiResult<Option<RecordRow>> {
    Ok(records::list(
        c,
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
    .next())
}

/// `GET files_by_uuid/{uuid}/digest/` (upstream answers an unknown uuid with a 500).
pub async fn file_digest_by_uuid(
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> ApiResult<Json<Value>> {
    let missing = || ApiError::envelope(StatusCode::NOT_FOUND, "File not found");
    let u = uuid::Uuid::parse_str(raw.trim()).map_err(|_| missing())?;
    let row = file_by_uuid(&mut s.conn(), u).await?.ok_or_else(missing)?;
    digest_file_row(&s, &row).await
}

fn failed(reason: impl Into<String>) -> Value {
    json!({"status": "Failed", "reason": reason.into(), "digest": {}})
}

fn text_at<'a>(node: &'a Value, field: &str) -> &'a str {
    node.get("_value")
        .and_then(|v| v.get(field))
        .and_then(|f| f.get("_value"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Where the file a parameter node is bound to lives, and its MIME type: the `File` row named
/// by `dbFileId` when there is one, else `relPath/baseName` inside the node's project (the
/// job's project when the node names none). Never a path outside a project directory.
async fn bound_file(
    s: &AppState,
    job_project: &RecordRow,
    class: &str,
    node: &Value,
) -> ApiResult<Option<(String, PathBuf)>> {
    let class_mime = i2_formats::upload::class_mime_type(class)
        .filter(|m| !m.is_empty())
        .map(str::to_string);
    let mut c = s.conn();
    if let Ok(u) = uuid::Uuid::parse_str(text_at(node, "dbFileId").trim())
        && let Some(row) = file_by_uuid(&mut c, u).await?
    {
        let fid = row.pk().as_i64().unwrap_or_default();
        let places = relations::places_of_files(&mut c, &[fid]).await?;
        let path = match places.get(&fid) {
            Some(place) => files::existing_file_inside(place).await?,
            None => None,
        };
        if let Some(path) = path {
            let mime = class_mime.unwrap_or_else(|| {
                row.get(&FILE, "type")
                    .as_str()
                    .unwrap_or("Unknown")
                    .to_string()
            });
            return Ok(Some((mime, path)));
        }
    }
    let base = text_at(node, "baseName");
    let rel = text_at(node, "relPath");
    let mut project_dir = projects::project_dir(job_project);
    if let Ok(u) = uuid::Uuid::parse_str(text_at(node, "project").trim())
        && let Some(pid) = relations::project_id_by_uuid(&mut c, u).await?
        && let Ok(p) = crud::fetch(s, &PROJECT, &pid.to_string()).await
    {
        project_dir = projects::project_dir(&p);
    }
    let rel_path = if rel.is_empty() {
        base.to_string()
    } else {
        format!("{rel}/{base}")
    };
    let root = project_dir;
    let found = tokio::task::spawn_blocking(move || crate::paths::resolve_inside(&root, &rel_path))
        .await
        .map_err(|e| ApiError::internal(format!("path task: {e}")))?;
    // Not found (or outside the project): the digest of a missing file, which is empty.
    Ok(found.map(|path| (class_mime.unwrap_or_else(|| "Unknown".into()), path)))
}

/// The digest `data` of the file bound to `object_path` in the job's parameters.
async fn digest_param(s: &AppState, job: &RecordRow, object_path: &str) -> ApiResult<Value> {
    let (project, params) = match tasks::load_job_params(s, job).await {
        Ok(x) => x,
        // A task whose definition cannot be loaded (upstream: its plugin); a catalogue that is
        // still loading stays a 503.
        Err(ApiError::Envelope(StatusCode::BAD_REQUEST, why)) => {
            return Ok(failed(format!("Failed to load plugin: {why}")));
        }
        Err(e) => return Err(e),
    };
    let node = match params.find_node(object_path) {
        Ok(n) => n,
        Err(why) => return Ok(failed(why)),
    };
    let class = node.get("_class").and_then(Value::as_str).unwrap_or("");
    if !i2_formats::upload::is_file_class(class) || node.get("_value").is_none() {
        return Ok(failed("Not a valid file object"));
    }
    if text_at(node, "baseName").is_empty() {
        return Ok(failed("File object is not set"));
    }
    let Some((mime, path)) = bound_file(s, &project, class, node).await? else {
        return Ok(json!({}));
    };
    Ok(match run_digest(mime, path).await? {
        Outcome::Digest(v) => v,
        Outcome::Missing => json!({}),
        Outcome::Failed(why) => failed(why),
    })
}

/// `GET jobs/{id}/digest/?object_path=` (one trailing slash of the path is dropped).
pub async fn job_digest(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(jobs::job_missing_400)?;
    let raw = q.get("object_path").map(String::as_str).unwrap_or("");
    let object_path = raw.strip_suffix('/').unwrap_or(raw);
    let data = digest_param(&s, &job, object_path).await?;
    Ok(Json(json!({"success": true, "data": data})))
}

/// `GET jobs/{id}/digest_param_file/?job_param_name=`: the file the job holds for that
/// parameter, digested through `inputData` (an imported file) or `outputData`.
pub async fn job_digest_param_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let Some(given) = q.get("job_param_name") else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "job_param_name is required",
        ));
    };
    // Upstream drops the last character of the name; clients rely on it.
    let mut name = given.clone();
    name.pop();
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(jobs::job_missing_400)?;
    let jid = job.pk().as_i64().unwrap_or_default();
    let mut c = s.conn();
    let file = records::list(
        &mut c,
        &FILE,
        &[
            Filter {
                column: "job_id",
                value: Arg::Int(jid),
            },
            Filter {
                column: "job_param_name",
                value: Arg::Text(name.clone()),
            },
        ],
        "id",
        Default::default(),
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(|| {
        ApiError::envelope(StatusCode::NOT_FOUND, "File matching query does not exist.")
    })?;
    let imports = records::list(
        &mut c,
        &FILE_IMPORT,
        &[Filter {
            column: "file_id",
            value: crate::drf::cell_arg(file.pk()),
        }],
        "file_id",
        Default::default(),
    )
    .await?;
    let task = job.get(&JOB, "task_name").as_str().unwrap_or_default();
    let container = if imports.is_empty() {
        "outputData"
    } else {
        "inputData"
    };
    let object_path = format!("{task}.{container}.{name}");
    let data = digest_param(&s, &job, &object_path).await?;
    Ok(Json(json!({"success": true, "data": {"digest": data}})))
}
