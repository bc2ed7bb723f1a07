//! Health, version, the API root, directory listings, and the plain
//! record collections (`filetypes/`, `fileimports/`, `fileuses/`, …).

use std::path::Path;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use i2_store::tables::{
    FILE_IMPORT, FILE_TYPE, FILE_USE, PROJECT_EXPORT, PROJECT_GROUP_MEMBERSHIP,
};
use serde_json::{Value, json};

use crate::AppState;
use crate::crud::Resource;

// No ORDER BY: upstream lists file types in seed (insertion) order.
pub static FILE_TYPES: Resource = Resource {
    table: &FILE_TYPE,
    order_by: "",
    filters: &[],
};
pub static FILE_IMPORTS: Resource = Resource {
    table: &FILE_IMPORT,
    order_by: "file_id",
    filters: &[("file", "file_id")],
};
pub static FILE_USES: Resource = Resource {
    table: &FILE_USE,
    order_by: "id",
    filters: &[("file", "file_id"), ("job", "job_id"), ("role", "role")],
};
pub static MEMBERSHIPS: Resource = Resource {
    table: &PROJECT_GROUP_MEMBERSHIP,
    order_by: "id",
    filters: &[
        ("group", "group_id"),
        ("type", "type"),
        ("project", "project_id"),
    ],
};
pub static PROJECT_EXPORTS: Resource = Resource {
    table: &PROJECT_EXPORT,
    order_by: "time DESC, id DESC",
    filters: &[("project", "project_id")],
};

/// How long `health/` waits for the database. A probe must get an answer even when the
/// pool is exhausted or the database server stops answering (its default wait would be the
/// pool's 15 s checkout timeout, longer than the probes' own).
pub const HEALTH_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub async fn health(State(s): State<AppState>) -> Response {
    let checked = match tokio::time::timeout(HEALTH_DB_TIMEOUT, s.db.ping()).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "the database did not answer within {} s",
            HEALTH_DB_TIMEOUT.as_secs()
        )),
    };
    match checked {
        Ok(()) => Json(json!({"status": "healthy", "service": "ccp4i2-django-api", "database": "connected"})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unhealthy", "service": "ccp4i2-django-api", "database": "disconnected", "error": e})),
        )
            .into_response(),
    }
}

pub async fn version(State(s): State<AppState>) -> Json<Value> {
    Json(json!({"buildTimestamp": s.config.build_timestamp, "gitCommit": s.config.git_commit}))
}

/// `GET monomer-info/{code}/`: the non-hydrogen atoms of a CCP4 monomer-library entry and the
/// bonds between them, from `$CCP4/lib/data/monomers/<first letter>/<CODE>.cif`, read as
/// upstream reads it (`i2_formats::dict::first_monomer`), with upstream's messages when CCP4
/// is not configured or the entry is missing (both 404 here; upstream's first is a 500).
pub async fn monomer_info(
    State(s): State<AppState>,
    axum::extract::Path(code): axum::extract::Path<String>,
) -> Response {
    let fail = |status: StatusCode, error: String| {
        (status, Json(json!({"success": false, "error": error}))).into_response()
    };
    // Upstream answers 500 here; with no library there is no such entry, a 404 with its
    // message (a server error would page an operator for a configuration choice).
    let Some(ccp4) = s.config.ccp4.clone() else {
        return fail(
            StatusCode::NOT_FOUND,
            "CCP4 environment not configured".into(),
        );
    };
    // A decoded `%2F` must not reach the file system (upstream's route never matches one).
    if code.contains(['/', '\\', '\0']) || code.is_empty() {
        return crate::error::ApiError::HtmlNotFound.into_response();
    }
    let code = code.to_uppercase();
    let first: String = code.chars().take(1).flat_map(char::to_lowercase).collect();
    let path = ccp4
        .join("lib/data/monomers")
        .join(first)
        .join(format!("{code}.cif"));
    let read = tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return None;
        }
        let text = std::fs::read(&path).ok()?;
        Some(i2_formats::dict::first_monomer(&String::from_utf8_lossy(
            &text,
        )))
    })
    .await;
    match read {
        Ok(Some(monomer)) => {
            let (atoms, bonds) = match monomer {
                Some(m) => (
                    m.atoms,
                    m.bonds
                        .into_iter()
                        .map(|b| json!({"atom1": b.atom1, "atom2": b.atom2, "type": b.kind}))
                        .collect(),
                ),
                None => (Vec::new(), Vec::new()),
            };
            Json(json!({"success": true, "data": {"code": code, "atoms": atoms, "bonds": bonds}}))
                .into_response()
        }
        Ok(None) => fail(
            StatusCode::NOT_FOUND,
            format!("Monomer '{code}' not found in library"),
        ),
        Err(e) => fail(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("Error parsing monomer: {e}"),
        ),
    }
}

/// The names of the record collections, as the API root lists them.
pub const ROOT_ENTRIES: &[&str] = &[
    "projects",
    "projecttags",
    "projectgroups",
    "projectgroupmemberships",
    "files",
    "files_by_uuid",
    "filetypes",
    "fileimports",
    "fileuses",
    "jobs",
    "projectexports",
];

/// Upstream's health view sits behind CSRF protection, so a POST is refused with 403.
pub async fn health_post() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p>",
    )
        .into_response()
}

pub async fn api_root(headers: HeaderMap) -> Json<Value> {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let m: serde_json::Map<String, Value> = ROOT_ENTRIES
        .iter()
        .map(|n| {
            (
                n.to_string(),
                json!(format!("http://{host}/api/ccp4i2/{n}/")),
            )
        })
        .collect();
    Json(Value::Object(m))
}

/// A recursive listing for `projects/{id}/directory/`: at most 10 levels, 10,000 entries.
pub fn scan_dir(dir: &Path, depth: usize, budget: &mut usize) -> Vec<Value> {
    let mut out = Vec::new();
    let Ok(read) = std::fs::read_dir(dir) else {
        return out;
    };
    let mut entries: Vec<_> = read.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let is_dir = meta.is_dir();
        let mut node = node_of(&path, &meta);
        if is_dir && depth < 10 {
            node["contents"] = Value::Array(scan_dir(&path, depth + 1, budget));
        }
        out.push(node);
    }
    out
}

#[cfg(unix)]
fn node_of(path: &Path, meta: &std::fs::Metadata) -> Value {
    use std::os::unix::fs::MetadataExt;
    let t = |s: i64, ns: i64| s as f64 + ns as f64 / 1e9;
    json!({
        "path": path.to_string_lossy(),
        "name": path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        "type": if meta.is_dir() { "directory" } else { "file" },
        "size": meta.size(),
        "mode": meta.mode(),
        "inode": meta.ino(),
        "device": meta.dev(),
        "nlink": meta.nlink(),
        "uid": meta.uid(),
        "gid": meta.gid(),
        "atime": t(meta.atime(), meta.atime_nsec()),
        "mtime": t(meta.mtime(), meta.mtime_nsec()),
        "ctime": t(meta.ctime(), meta.ctime_nsec()),
    })
}

#[cfg(not(unix))]
fn node_of(path: &Path, meta: &std::fs::Metadata) -> Value {
    json!({
        "path": path.to_string_lossy(),
        "name": path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        "type": if meta.is_dir() { "directory" } else { "file" },
        "size": meta.len(),
    })
}
