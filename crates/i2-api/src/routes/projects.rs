//! `/projects/` and its per-project actions.

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use i2_core::layout::{DEFAULT_DIRECTORY, PROJECT_SUBDIRS};
use i2_core::names;
use i2_store::cells::Cell;
use i2_store::records::{self, Filter, Page, RecordRow};
use i2_store::relations;
use i2_store::tables::{
    FILE, FILE_USE, JOB, JOB_CHAR_VALUE, JOB_FLOAT_VALUE, PROJECT, PROJECT_EXPORT, PROJECT_TAG,
};
use i2_store::{Arg, Conn};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::Input;
use crate::crud::{self, page_of};
use crate::drf::{self, Mode};
use crate::error::{ApiError, ApiResult};
use crate::routes::{files, jobs};

/// The full project JSON: all fields plus `tags` with their project lists.
pub async fn project_json(c: &mut impl Conn, row: &RecordRow) -> ApiResult<Value> {
    let id = row.pk().as_i64().unwrap_or_default();
    let links = relations::tags_of_projects(c, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let tag_ids: Vec<i64> = links.iter().map(|l| l.id).collect();
    let members = relations::projects_of_tags(c, &tag_ids).await?;
    let tags: Vec<Value> = links
        .iter()
        .map(|l| {
            json!({"id": l.id, "text": l.text, "parent": l.parent_id,
                   "projects": members.get(&l.id).cloned().unwrap_or_default()})
        })
        .collect();
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("tags".into(), Value::Array(tags));
    for (k, v) in drf::render(&PROJECT, row) {
        if k != "id" {
            m.insert(k, v);
        }
    }
    Ok(Value::Object(m))
}

pub async fn fetch_project(state: &AppState, id: &str) -> ApiResult<RecordRow> {
    crud::fetch(state, &PROJECT, id).await
}

pub fn project_dir(row: &RecordRow) -> PathBuf {
    PathBuf::from(row.get(&PROJECT, "directory").as_str().unwrap_or_default())
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let page = page_of(&q)?;
    let uuid = match q.get("uuid").filter(|u| !u.is_empty()) {
        Some(u) => Some(
            uuid::Uuid::parse_str(u.trim())
                .map_err(|_| ApiError::field("uuid", "Enter a valid UUID."))?,
        ),
        None => None,
    };
    let name = q.get("name").filter(|n| !n.is_empty()).map(String::as_str);
    let json =
        relations::project_list_json(&mut s.conn(), name, uuid, page.limit, page.offset).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response())
}

/// Checks on the name that upstream's serializer adds to the model's own.
async fn check_name(c: &mut impl Conn, input: &Input, except: Option<i64>) -> ApiResult<()> {
    let Some(name) = input.str("name") else {
        return Ok(());
    };
    if !names::is_valid_project_name(&name) {
        return Err(ApiError::field(
            "name",
            format!("Your project name contains whitespace or special characters [{name}]"),
        ));
    }
    if input.get("uuid").is_none() && relations::project_name_taken(c, &name, except).await? {
        return Err(ApiError::field(
            "name",
            "A project with this name already exists!",
        ));
    }
    Ok(())
}

pub async fn create(State(s): State<AppState>, mut input: Input) -> ApiResult<Response> {
    input.require_object()?;
    let mut c = s.conn();
    let runtime = [
        ("creation_user", Arg::Text(s.config.user.clone())),
        ("creation_host", Arg::Text(s.config.host.clone())),
    ];
    // Field checks as upstream orders them: the model's validators, then the name rules
    // (skipped for a field that already failed), all reported together.
    let fields = drf::validate(&mut c, &PROJECT, &input, &Mode::Create, &[], &runtime).await;
    let mut errors = match &fields {
        Err(ApiError::Fields(m)) => m.clone(),
        _ => Map::new(),
    };
    if !errors.contains_key("name")
        && let Err(ApiError::Fields(m)) = check_name(&mut c, &input, None).await
    {
        errors.extend(m);
    }
    if !errors.is_empty() {
        return Err(ApiError::Fields(errors));
    }
    let mut values = fields?;
    // `__default__` (the web client's choice) means <projects dir>/<slug of the name>.
    let name = input.str("name").unwrap_or_default();
    for (col, v) in values.iter_mut() {
        if *col == "directory" && matches!(v, Arg::Text(d) if d == DEFAULT_DIRECTORY) {
            let dir = s.config.projects_dir.join(names::slugify(&name));
            *v = Arg::Text(dir.to_string_lossy().into_owned());
            if relations::project_directory_taken(&mut c, &dir.to_string_lossy()).await? {
                return Err(ApiError::field(
                    "directory",
                    "project with this directory already exists.",
                ));
            }
        }
    }
    let dir = values
        .iter()
        .find(|(c, _)| *c == "directory")
        .and_then(|(_, a)| match a {
            Arg::Text(t) => Some(PathBuf::from(t)),
            _ => None,
        })
        .ok_or_else(|| ApiError::field("directory", "This field is required."))?;
    create_project_dirs(&dir)?;
    let row = records::insert(&mut c, &PROJECT, values).await?;
    input.fields.clear();
    Ok((StatusCode::CREATED, Json(project_json(&mut c, &row).await?)).into_response())
}

fn create_project_dirs(dir: &FsPath) -> ApiResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        ApiError::field(
            "directory",
            format!("Cannot create the project directory {}: {e}", dir.display()),
        )
    })?;
    for sub in PROJECT_SUBDIRS {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| {
            ApiError::field(
                "directory",
                format!("Cannot create {}: {e}", dir.join(sub).display()),
            )
        })?;
    }
    Ok(())
}

pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id).await?;
    Ok(Json(project_json(&mut s.conn(), &row).await?))
}

async fn update(s: AppState, id: String, input: Input, partial: bool) -> ApiResult<Json<Value>> {
    let existing = fetch_project(&s, &id).await?;
    let pk = existing.pk().as_i64();
    let mut c = s.conn();
    let mode = if partial {
        Mode::Partial(existing.clone())
    } else {
        Mode::Replace(existing.clone())
    };
    let values = drf::validate(&mut c, &PROJECT, &input, &mode, &[], &[]).await?;
    // Upstream compares against every project, itself included.
    let _ = pk;
    check_name(&mut c, &input, None).await?;
    let row = records::update(&mut c, &PROJECT, drf::cell_arg(existing.pk()), values).await?;
    Ok(Json(project_json(&mut c, &row).await?))
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

pub async fn destroy(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id).await?;
    let pid = row.pk().as_i64().unwrap_or_default();
    let mut tx = s.db.begin().await?;
    let deleted = relations::delete_project_cascade(&mut tx, pid).await?;
    tx.commit().await?;
    // Files go after the rows are gone, so a failure cannot leave rows pointing nowhere.
    for d in &deleted {
        jobs::remove_job_dir(FsPath::new(&d.project_dir), &d.number);
    }
    let dir = project_dir(&row);
    for sub in PROJECT_SUBDIRS.iter().chain([".DS_Store"].iter()) {
        let p = dir.join(sub);
        let _ = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
    }
    if let Err(e) = std::fs::remove_dir(&dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "project directory left in place (not empty or not removable)");
    }
    Ok(Json(json!({"success": true, "data": {"deleted": true}})))
}

async fn touch(s: &AppState, row: &RecordRow) -> ApiResult<()> {
    if let Some(id) = row.pk().as_i64() {
        relations::touch_project(&mut s.conn(), id).await?;
    }
    Ok(())
}

fn project_id(row: &RecordRow) -> i64 {
    row.pk().as_i64().unwrap_or_default()
}

pub async fn job_tree(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Project not found"))?;
    touch(&s, &row).await?;
    let mut c = s.conn();
    let pid = project_id(&row);
    let job_rows = records::list(
        &mut c,
        &JOB,
        &[Filter {
            column: "project_id",
            value: Arg::Int(pid),
        }],
        "id",
        Page::default(),
    )
    .await?;
    let job_ids: Vec<i64> = job_rows.iter().filter_map(|r| r.pk().as_i64()).collect();
    let mut kpis = relations::kpis_of_jobs(&mut c, &job_ids).await?;
    let shown = i2_store::queue::visible_statuses(&mut c, &job_ids).await?;
    let file_rows = records::list_in(
        &mut c,
        &FILE,
        "job_id",
        job_ids.iter().map(|i| Arg::Int(*i)).collect(),
        "id",
    )
    .await?;
    let file_json = files::files_json(&mut c, &file_rows).await?;
    let mut files_by_job: HashMap<i64, Vec<Value>> = HashMap::new();
    for (r, j) in file_rows.iter().zip(file_json) {
        if let Some(jid) = r.get(&FILE, "job").as_i64() {
            files_by_job.entry(jid).or_default().push(j);
        }
    }
    // Build nodes, then attach children to parents (siblings newest first).
    let mut nodes: HashMap<i64, Node> = HashMap::new();
    for r in &job_rows {
        let jid = r.pk().as_i64().unwrap_or_default();
        let (fv, cv) = kpis.remove(&jid).unwrap_or_default();
        let mut m = jobs::job_map(r, (fv.clone(), cv.clone()));
        jobs::apply_visible_status(&mut m, shown.get(&jid));
        m.insert(
            "files".into(),
            Value::Array(files_by_job.remove(&jid).unwrap_or_default()),
        );
        m.insert(
            "kpis".into(),
            json!({"float_values": fv, "char_values": cv}),
        );
        let parent = r.get(&JOB, "parent").as_i64();
        let key = i2_core::job_number::sort_key(r.get(&JOB, "number").as_str().unwrap_or(""));
        nodes.insert(jid, (parent, key, m));
    }
    let total_jobs = job_rows.len();
    let total_files = file_rows.len();
    Ok(Json(json!({
        "job_tree": build_tree(nodes),
        "total_jobs": total_jobs,
        "total_files": total_files,
    })))
}

type Node = (Option<i64>, Vec<u32>, Map<String, Value>);

fn build_tree(mut nodes: HashMap<i64, Node>) -> Vec<Value> {
    let mut children: HashMap<Option<i64>, Vec<(Vec<u32>, i64)>> = HashMap::new();
    for (id, (parent, key, _)) in &nodes {
        let parent = parent.filter(|p| nodes.contains_key(p));
        children.entry(parent).or_default().push((key.clone(), *id));
    }
    for v in children.values_mut() {
        v.sort_by(|a, b| b.cmp(a));
    }
    fn emit(
        id: i64,
        nodes: &mut HashMap<i64, Node>,
        children: &HashMap<Option<i64>, Vec<(Vec<u32>, i64)>>,
    ) -> Value {
        let kids: Vec<Value> = children
            .get(&Some(id))
            .map(|v| v.iter().map(|(_, k)| emit(*k, nodes, children)).collect())
            .unwrap_or_default();
        let mut m = nodes.remove(&id).map(|n| n.2).unwrap_or_default();
        m.insert("children".into(), Value::Array(kids));
        Value::Object(m)
    }
    children
        .get(&None)
        .map(|roots| {
            roots
                .iter()
                .map(|(_, id)| emit(*id, &mut nodes, &children))
                .collect()
        })
        .unwrap_or_default()
}

/// Rows of `table` whose `job` belongs to the project.
async fn per_job_rows(
    s: &AppState,
    id: &str,
    t: &'static i2_store::tables::Table,
) -> ApiResult<Json<Value>> {
    let row = fetch_project(s, id).await?;
    touch(s, &row).await?;
    let mut c = s.conn();
    let jobs = relations::job_ids_of_project(&mut c, project_id(&row)).await?;
    let rows = records::list_in(
        &mut c,
        t,
        "job_id",
        jobs.into_iter().map(Arg::Int).collect(),
        "id",
    )
    .await?;
    Ok(Json(crud::json_list(t, &rows)))
}

pub async fn file_uses(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    per_job_rows(&s, &id, &FILE_USE).await
}

pub async fn job_float_values(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    per_job_rows(&s, &id, &JOB_FLOAT_VALUE).await
}

pub async fn job_char_values(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    per_job_rows(&s, &id, &JOB_CHAR_VALUE).await
}

pub async fn exports(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Project not found"))?;
    touch(&s, &row).await?;
    let rows = records::list(
        &mut s.conn(),
        &PROJECT_EXPORT,
        &[Filter {
            column: "project_id",
            value: Arg::Int(project_id(&row)),
        }],
        "time DESC, id DESC",
        Page::default(),
    )
    .await?;
    Ok(Json(crud::json_list(&PROJECT_EXPORT, &rows)))
}

pub async fn tags_list(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id).await?;
    touch(&s, &row).await?;
    let mut c = s.conn();
    let pid = project_id(&row);
    let links = relations::tags_of_projects(&mut c, &[pid])
        .await?
        .remove(&pid)
        .unwrap_or_default();
    let members =
        relations::projects_of_tags(&mut c, &links.iter().map(|l| l.id).collect::<Vec<_>>())
            .await?;
    Ok(Json(Value::Array(
        links
            .iter()
            .map(|l| json!({"id": l.id, "text": l.text, "parent": l.parent_id, "projects": members.get(&l.id).cloned().unwrap_or_default()}))
            .collect(),
    )))
}

pub async fn tags_add(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Response> {
    let row = fetch_project(&s, &id).await?;
    let Some(tag_id) = input.int("tag_id") else {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "tag_id is required"})),
        )
            .into_response());
    };
    let mut c = s.conn();
    let Some(tag) = records::get(&mut c, &PROJECT_TAG, Arg::Int(tag_id)).await? else {
        return Ok((
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Tag not found"})),
        )
            .into_response());
    };
    relations::link_tag(&mut c, project_id(&row), tag_id).await?;
    touch(&s, &row).await?;
    let text = tag
        .get(&PROJECT_TAG, "text")
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(
        Json(json!({"status": "success", "message": format!("Tag '{text}' added to project")}))
            .into_response(),
    )
}

pub async fn tags_remove(
    State(s): State<AppState>,
    Path((id, tag_id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let row = fetch_project(&s, &id).await?;
    touch(&s, &row).await?;
    let mut c = s.conn();
    let tag = match tag_id.parse::<i64>() {
        Ok(t) => records::get(&mut c, &PROJECT_TAG, Arg::Int(t)).await?,
        Err(_) => None,
    };
    let Some(tag) = tag else {
        return Ok((
            StatusCode::NOT_FOUND,
            Json(json!({"error": "Tag not found"})),
        )
            .into_response());
    };
    let tid = tag.pk().as_i64().unwrap_or_default();
    relations::unlink_tag(&mut c, project_id(&row), tid).await?;
    let text = tag
        .get(&PROJECT_TAG, "text")
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(
        Json(json!({"status": "success", "message": format!("Tag '{text}' removed from project")}))
            .into_response(),
    )
}

pub async fn add_tag_by_text(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Response> {
    let row = fetch_project(&s, &id).await?;
    let text = input
        .str("text")
        .map(|t| t.trim().to_string())
        .unwrap_or_default();
    if text.is_empty() {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "text is required"})),
        )
            .into_response());
    }
    if text.chars().count() > 50 {
        return Ok((
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "Tag text must be 50 characters or fewer"})),
        )
            .into_response());
    }
    let mut c = s.conn();
    let existing = records::list(
        &mut c,
        &PROJECT_TAG,
        &[
            Filter {
                column: "text",
                value: Arg::Text(text.clone()),
            },
            Filter {
                column: "parent_id",
                value: Arg::Null(i2_store::Kind::Int),
            },
        ],
        "id",
        Page::default(),
    )
    .await?;
    let (tag, created) = match existing.into_iter().next() {
        Some(t) => (t, false),
        None => (
            records::insert(
                &mut c,
                &PROJECT_TAG,
                vec![
                    ("text", Arg::Text(text.clone())),
                    ("parent_id", Arg::Null(i2_store::Kind::Int)),
                ],
            )
            .await?,
            true,
        ),
    };
    let tid = tag.pk().as_i64().unwrap_or_default();
    relations::link_tag(&mut c, project_id(&row), tid).await?;
    touch(&s, &row).await?;
    let members = relations::projects_of_tags(&mut c, &[tid]).await?;
    Ok(Json(json!({
        "status": "success",
        "tag": {"id": tid, "text": text, "parent": Value::Null, "projects": members.get(&tid).cloned().unwrap_or_default()},
        "created": created,
        "message": format!("Tag '{text}' added to project"),
    }))
    .into_response())
}

pub async fn directory(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = fetch_project(&s, &id).await?;
    let dir = project_dir(&row);
    let listing = tokio::task::spawn_blocking(move || {
        let mut budget = 10_000usize;
        crate::routes::misc::scan_dir(&dir, 0, &mut budget)
    })
    .await
    .map_err(ApiError::internal)?;
    Ok(Json(json!({"status": "Success", "container": listing})))
}

pub async fn project_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Response> {
    let row = fetch_project(&s, &id).await?;
    let rel = q.get("path").cloned().unwrap_or_default();
    files::serve_project_path(&project_dir(&row), &rel).await
}

pub async fn files_by_path(
    State(s): State<AppState>,
    Path((id, rel)): Path<(String, String)>,
) -> ApiResult<Response> {
    let row = fetch_project(&s, &id).await?;
    files::serve_project_path(&project_dir(&row), &rel).await
}

/// Expose the cell helper for sibling modules.
pub fn text_of(c: &Cell) -> String {
    c.as_str().unwrap_or_default().to_string()
}
