//! The task catalogue and job parameters: `task_lookup/`, `create_task/`, `container/`,
//! `def_xml/`, `params_xml/`, `set_parameter/`, `get_parameter/`.
//!
//! Parameters live in the job directory's `input_params.xml` (the file upstream's runner
//! reads); every change rewrites it atomically (temporary file, then rename).

use std::collections::HashMap;
use std::path::{Path as FsPath, PathBuf};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use i2_core::JobStatus;
use i2_core::job_number::JobNumber;
use i2_store::records::{self, RecordRow};
use i2_store::relations;
use i2_store::tables::{JOB, PROJECT};
use i2_store::{Arg, Kind};
use i2_tasks::paramsxml::HeaderInfo;
use i2_tasks::{Catalogue, JobParams, TaskDef};
use serde_json::{Value, json};

use crate::AppState;
use crate::body::Input;
use crate::error::{ApiError, ApiResult};
use crate::routes::container_cache;
use crate::routes::context::{ProjectFiles, fill_from_context};
use crate::routes::{jobs, projects};

pub const INPUT_PARAMS: &str = "input_params.xml";
pub const PARAMS: &str = "params.xml";

pub fn catalogue(s: &AppState) -> ApiResult<&Catalogue> {
    match s.tasks.get() {
        Some(Ok(c)) => Ok(c),
        Some(Err(why)) => Err(ApiError::envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The CCP4i2 task catalogue is not available: {why}"),
        )),
        None => Err(ApiError::envelope(
            StatusCode::SERVICE_UNAVAILABLE,
            "The CCP4i2 task catalogue is still loading; try again in a moment",
        )),
    }
}

/// The task's parsed definition, shared (never copied per request).
fn definition(cat: &Catalogue, task: &str) -> ApiResult<std::sync::Arc<TaskDef>> {
    cat.definition_shared(task).map_err(|e| {
        ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Task '{task}' cannot be loaded: {e}"),
        )
    })
}

pub async fn task_lookup(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(catalogue(&s)?.task_lookup()))
}

/// Where a job's files are.
pub fn job_dir(project: &RecordRow, job: &RecordRow) -> ApiResult<PathBuf> {
    let number = job.get(&JOB, "number").as_str().unwrap_or_default();
    let n = JobNumber::parse(number).map_err(|e| ApiError::internal(e.to_string()))?;
    Ok(projects::project_dir(project).join(n.rel_dir()))
}

pub(crate) fn text(row: &RecordRow, t: &i2_store::tables::Table, f: &str) -> String {
    row.get(t, f).as_str().unwrap_or_default().to_string()
}

/// A row's uuid in upstream's hyphenated form.
pub(crate) fn uuid_of(row: &RecordRow, t: &i2_store::tables::Table) -> String {
    match row.get(t, "uuid") {
        i2_store::cells::Cell::Uuid(u) => u.hyphenated().to_string(),
        _ => String::new(),
    }
}

/// The params-file header for a job, as upstream writes it.
pub fn header_for(s: &AppState, project: &RecordRow, job: &RecordRow) -> HeaderInfo {
    let secs = chrono::Utc::now().timestamp();
    HeaderInfo {
        task_name: text(job, &JOB, "task_name"),
        user: std::env::var("USER")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "unknown".into()),
        host: s.config.host.clone(),
        creation_time: i2_tasks::paramsxml::format_creation_time(secs),
        ccp4i_version: catalogue(s)
            .ok()
            .and_then(|c| c.version())
            .unwrap_or_else(|| "3.0.1".into()),
        project_name: text(project, &PROJECT, "name"),
        project_id: uuid_of(project, &PROJECT),
        job_number: text(job, &JOB, "number"),
        job_id: uuid_of(job, &JOB),
    }
}

/// Write a file through a temporary sibling and a rename, so readers never see half of it.
pub fn write_atomic(path: &FsPath, content: &str) -> ApiResult<()> {
    let tmp = path.with_extension("xml.i2tmp");
    std::fs::write(&tmp, content)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| ApiError::internal(format!("writing {}: {e}", path.display())))
}

/// The project a job belongs to.
pub(crate) async fn project_of(s: &AppState, job: &RecordRow) -> ApiResult<RecordRow> {
    let pid = job.get(&JOB, "project").as_i64().unwrap_or_default();
    crate::crud::fetch(s, &PROJECT, &pid.to_string()).await
}

pub async fn create_task(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    input.require_object()?;
    let project = projects::fetch_project(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Project not found"))?;
    let Some(task) = input.str("task_name").filter(|t| !t.is_empty()) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "task_name is required",
        ));
    };
    let cat = catalogue(&s)?;
    let Some(info) = cat.task(&task) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Unknown task '{task}'"),
        ));
    };
    let def = definition(cat, &task)?;
    let title = input
        .str("title")
        .filter(|t| !t.is_empty())
        .or_else(|| info.short_title.clone().filter(|t| !t.is_empty()))
        .or_else(|| info.title.clone())
        .unwrap_or_else(|| task.clone());
    let pid = project.pk().as_i64().unwrap_or_default();
    let mut c = s.conn();
    let parent =
        match input.str("parent_job_uuid").filter(|u| !u.is_empty()) {
            None => None,
            Some(u) => {
                let u = uuid::Uuid::parse_str(u.trim()).map_err(|_| {
                    ApiError::envelope(StatusCode::BAD_REQUEST, "parent_job_uuid is not a UUID")
                })?;
                let rows = records::list(
                    &mut c,
                    &JOB,
                    &[records::Filter {
                        column: "uuid",
                        value: Arg::Uuid(u),
                    }],
                    "id",
                    Default::default(),
                )
                .await?;
                Some(rows.into_iter().next().ok_or_else(|| {
                    ApiError::envelope(StatusCode::NOT_FOUND, "Parent job not found")
                })?)
            }
        };
    let job = insert_job(
        &s,
        pid,
        parent.as_ref(),
        &title,
        &task,
        Arg::Null(Kind::Time),
    )
    .await?;
    let dir = job_dir(&project, &job)?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
    let header = header_for(&s, &project, &job);
    // The job's parameters are built only when something changes them; otherwise the file is
    // the task's shared fresh body under this job's header.
    let mut params: Option<JobParams> = None;
    let mut changed = false;
    // Inputs from an earlier job: the one named, else (unless `auto_context` is false) the
    // project's latest top-level job.
    let job_id = job.pk().as_i64().unwrap_or_default();
    let named = match input.str("context_job_uuid").filter(|u| !u.is_empty()) {
        Some(u) => Some(uuid::Uuid::parse_str(u.trim()).map_err(|_| {
            ApiError::envelope(StatusCode::BAD_REQUEST, "context_job_uuid is not a UUID")
        })?),
        None => None,
    };
    let auto = !matches!(input.get("auto_context"), Some(Value::Bool(false)));
    if named.is_some() || auto {
        let files = ProjectFiles::load(
            &mut s.conn(),
            pid,
            &uuid_of(&project, &PROJECT),
            projects::project_dir(&project),
        )
        .await?;
        let context = match named {
            Some(u) => job_id_by_uuid(&s, u).await?,
            None => files.latest_top_job(job_id),
        };
        if let Some(ctx) = context {
            let p = params.get_or_insert_with(|| JobParams::fresh(&def, &task));
            changed |= fill_from_context(p, &files, ctx) > 0;
        }
    }
    // `input_params` names parameters of `inputData` (others are ignored, as upstream does);
    // they override what the context gave.
    if let Some(Value::Object(given)) = input.get("input_params") {
        let params = params.get_or_insert_with(|| JobParams::fresh(&def, &task));
        for (k, v) in given {
            let path = format!("{task}.container.inputData.{k}");
            let known = params.find_node(&path).is_ok_and(|n| {
                n.get("_objectPath").and_then(Value::as_str)
                    == Some(format!("{task}.container.inputData.{k}").as_str())
            });
            if !known {
                tracing::warn!(task = %task, param = %k, "input_params: no such inputData parameter");
                continue;
            }
            match params.set_parameter(&path, v, &header) {
                Ok(_) => changed = true,
                Err(e) => {
                    tracing::warn!(task = %task, param = %k, error = %e.error, "input_params entry not applied")
                }
            }
        }
    }
    let xml = match &params {
        Some(p) if changed => p.to_fresh_xml(&header),
        _ => def.input_params_xml(&header),
    };
    write_atomic(&dir.join(INPUT_PARAMS), &xml)?;
    // A job just created has no performance indicators and no queue entry: no query needed.
    let body = Value::Object(jobs::job_map(&job, Default::default()));
    Ok(Json(json!({"success": true, "data": {"new_job": body}})))
}

/// Insert a new Pending job with the next free number (top level, or under `parent`).
async fn insert_job(
    s: &AppState,
    pid: i64,
    parent: Option<&RecordRow>,
    title: &str,
    task: &str,
    finish_time: Arg,
) -> ApiResult<RecordRow> {
    // Numbering races are settled by the (project, number) unique constraint: retry.
    let mut attempt = 0;
    let job = loop {
        attempt += 1;
        let mut tx = s.db.begin().await?;
        let parent_key = parent.map(|p| {
            (
                p.pk().as_i64().unwrap_or_default(),
                p.get(&JOB, "number").as_str().unwrap_or(""),
            )
        });
        let number = relations::next_job_number(&mut tx, pid, parent_key).await?;
        let values = vec![
            ("uuid", Arg::Uuid(uuid::Uuid::new_v4())),
            ("number", Arg::Text(number.clone())),
            ("title", Arg::Text(title.to_string())),
            ("status", Arg::Int(JobStatus::Pending as i64)),
            ("evaluation", Arg::Int(0)),
            ("comments", Arg::Text(String::new())),
            ("creation_time", Arg::Time(i2_core::time::now())),
            ("finish_time", finish_time.clone()),
            ("task_name", Arg::Text(task.to_string())),
            ("process_id", Arg::Null(Kind::Int)),
            ("project_id", Arg::Int(pid)),
            (
                "parent_id",
                parent.map(drf_pk).unwrap_or(Arg::Null(Kind::Int)),
            ),
        ];
        match records::insert(&mut tx, &JOB, values).await {
            Ok(row) => {
                let top: i64 = number
                    .split('.')
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                relations::note_new_job(&mut tx, pid, top).await?;
                tx.commit().await?;
                break row;
            }
            Err(i2_store::StoreError::Conflict(_)) if attempt < 5 => continue,
            Err(e) => return Err(e.into()),
        }
    };
    Ok(job)
}

fn drf_pk(row: &RecordRow) -> Arg {
    crate::drf::cell_arg(row.pk())
}

/// Load the job's parameters: `input_params.xml` for a job still being edited, the runner's
/// `params.xml` first for one that ran (as upstream reads them).
async fn load_params(
    s: &AppState,
    job: &RecordRow,
) -> ApiResult<(RecordRow, std::sync::Arc<TaskDef>, JobParams, PathBuf)> {
    let project = project_of(s, job).await?;
    let task = text(job, &JOB, "task_name");
    let def = definition(catalogue(s)?, &task)?;
    let dir = job_dir(&project, job)?;
    let candidates = if editable(job) {
        [INPUT_PARAMS, PARAMS]
    } else {
        [PARAMS, INPUT_PARAMS]
    };
    let params = match candidates.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| ApiError::internal(format!("reading {}: {e}", p.display())))?;
            JobParams::load(&def, &text).map_err(|e| {
                ApiError::envelope(
                    StatusCode::BAD_REQUEST,
                    format!("{} cannot be read: {e}", p.display()),
                )
            })?
        }
        None => JobParams::fresh(&def, &task),
    };
    Ok((project, def, params, dir))
}

/// The job's project and parameters (for routes outside this module).
pub async fn load_job_params(s: &AppState, job: &RecordRow) -> ApiResult<(RecordRow, JobParams)> {
    let (project, _, params, _) = load_params(s, job).await?;
    Ok((project, params))
}

fn editable(job: &RecordRow) -> bool {
    matches!(
        JobStatus::from_i32(job.get(&JOB, "status").as_i64().unwrap_or(0) as i32),
        Some(JobStatus::Pending | JobStatus::Unknown)
    )
}

pub async fn container(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let job = jobs::fetch_job(&s, &id).await?;
    let project = project_of(&s, &job).await?;
    let task = text(&job, &JOB, "task_name");
    let dir = job_dir(&project, &job)?;
    let candidates = if editable(&job) {
        [INPUT_PARAMS, PARAMS]
    } else {
        [PARAMS, INPUT_PARAMS]
    };
    let source = match candidates.iter().map(|n| dir.join(n)).find(|p| p.is_file()) {
        Some(p) => Some(
            std::fs::read_to_string(&p)
                .map_err(|e| ApiError::internal(format!("reading {}: {e}", p.display())))?,
        ),
        None => None,
    };
    let cat = catalogue(&s)?;
    // Keyed by installation and task as well as by the file's text.
    let key = format!("{}\n{task}", cat.root().display());
    let body = match container_cache::get(&key, source.as_deref()) {
        Some(b) => b,
        None => {
            let def = definition(cat, &task)?;
            let params = match &source {
                Some(text) => JobParams::load(&def, text).map_err(|e| {
                    ApiError::envelope(
                        StatusCode::BAD_REQUEST,
                        format!("The job's parameter file cannot be read: {e}"),
                    )
                })?,
                None => JobParams::fresh(&def, &task),
            };
            let body = serde_json::to_vec(
                &json!({"success": true, "data": {"result": params.container_json()}}),
            )
            .map_err(|e| ApiError::internal(format!("encoding the container: {e}")))?;
            let body = Bytes::from(body);
            container_cache::put(&key, source.as_deref(), body.clone());
            body
        }
    };
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

pub async fn def_xml(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(jobs::job_missing_400)?;
    let def = definition(catalogue(&s)?, &text(&job, &JOB, "task_name"))?;
    Ok(Json(
        json!({"success": true, "data": {"xml": def.expanded_def_xml()}}),
    ))
}

pub async fn params_xml(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id).await?;
    let project = project_of(&s, &job).await?;
    let dir = job_dir(&project, &job)?;
    let order = if editable(&job) {
        [INPUT_PARAMS, PARAMS]
    } else {
        [PARAMS, INPUT_PARAMS]
    };
    for name in order {
        if let Ok(xml) = std::fs::read_to_string(dir.join(name)) {
            return Ok(Json(json!({"success": true, "data": {"xml": xml}})));
        }
    }
    Err(ApiError::envelope(
        StatusCode::NOT_FOUND,
        "No parameter file found for this job",
    ))
}

pub async fn put_params_xml(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id).await?;
    if !editable(&job) {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "Parameters can only be changed while the job is pending",
        ));
    }
    let xml = input.required_str("xml")?;
    let (_, def, _, dir) = load_params(&s, &job).await?;
    // Refuse what the runner could not read.
    JobParams::load(&def, &xml).map_err(|e| {
        ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Invalid parameter XML: {e}"),
        )
    })?;
    let path = dir.join(INPUT_PARAMS);
    write_atomic(&path, &xml)?;
    Ok(Json(
        json!({"success": true, "data": {"message": "Parameters saved successfully", "file": path.to_string_lossy()}}),
    ))
}

pub async fn set_parameter(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    input.require_object()?;
    let job = jobs::fetch_job(&s, &id).await?;
    if !editable(&job) {
        let label = JobStatus::from_i32(job.get(&JOB, "status").as_i64().unwrap_or(0) as i32)
            .map(JobStatus::label)
            .unwrap_or("Unknown");
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!(
                "Cannot change parameters of a job that is {label}; clone it to make a new one"
            ),
        ));
    }
    let path = input.required_str("object_path")?;
    let value = input.get("value").cloned().unwrap_or(Value::Null);
    let (project, _, mut params, dir) = load_params(&s, &job).await?;
    let header = header_for(&s, &project, &job);
    match params.set_parameter(&path, &value, &header) {
        Ok(out) => {
            write_atomic(&dir.join(INPUT_PARAMS), &out.xml)?;
            Ok(Json(json!({"success": true, "data": out.data})))
        }
        Err(e) => Err(ApiError::Body(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.body(),
        )),
    }
}

/// A set file parameter also gets where its file is: `value.fullPath`, `file_path`,
/// `db_file_id` and `base_name` (as upstream answers).
fn add_file_paths(data: &mut Value, project: &RecordRow) {
    let class = data
        .get("object_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !i2_formats::upload::is_file_class(class) {
        return;
    }
    let Some(value) = data.get_mut("value").and_then(Value::as_object_mut) else {
        return;
    };
    let field = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (base, rel, db) = (field("baseName"), field("relPath"), field("dbFileId"));
    if base.is_empty() {
        return;
    }
    let mut full = projects::project_dir(project);
    if !rel.is_empty() {
        full.push(&rel);
    }
    full.push(&base);
    let full = full.to_string_lossy().into_owned();
    value.insert("fullPath".into(), json!(full));
    if let Some(m) = data.as_object_mut() {
        m.insert("file_path".into(), json!(full));
        m.insert("db_file_id".into(), json!(db));
        m.insert("base_name".into(), json!(base));
    }
}

pub async fn get_parameter(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id).await?;
    let Some(path) = q.get("object_path").filter(|p| !p.is_empty()) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "object_path is required",
        ));
    };
    let (project, _, params, _) = load_params(&s, &job).await?;
    match params.get_parameter(path) {
        Ok(mut data) => {
            add_file_paths(&mut data, &project);
            Ok(Json(json!({"success": true, "data": data})))
        }
        Err(e) => Err(ApiError::Body(
            StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
            e.body(),
        )),
    }
}

/// `POST jobs/{id}/clone/`: a new Pending top-level job of the same task and title, with the
/// source's parameters (its `input_params.xml`); inputs keep pointing at the same files,
/// outputs are named afresh for the new job's directory (as upstream does) and KPIs are not
/// copied. Upstream answers 201 with the job and sets the new job's `finish_time` to the epoch.
pub async fn clone(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let source = jobs::fetch_job(&s, &id).await?;
    let project = project_of(&s, &source).await?;
    let src_file = job_dir(&project, &source)?.join(INPUT_PARAMS);
    let Ok(xml) = std::fs::read_to_string(&src_file) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Cannot clone: {} is missing", src_file.display()),
        ));
    };
    let task = text(&source, &JOB, "task_name");
    let def = definition(catalogue(&s)?, &task)?;
    let mut params = JobParams::load(&def, &xml)
        .map_err(|e| ApiError::envelope(StatusCode::BAD_REQUEST, format!("Cannot clone: {e}")))?;
    let epoch = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).unwrap_or_default();
    let pid = project.pk().as_i64().unwrap_or_default();
    let job = insert_job(
        &s,
        pid,
        None,
        &text(&source, &JOB, "title"),
        &task,
        Arg::Time(epoch),
    )
    .await?;
    let dir = job_dir(&project, &job)?;
    std::fs::create_dir_all(&dir)
        .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
    // Upstream's clone saves the whole container (defaults included) with the new job's output
    // files named in it.
    params.name_outputs(
        &dir.to_string_lossy(),
        &text(&job, &JOB, "number"),
        &text(&project, &PROJECT, "name"),
    );
    // Upstream reads its own file back before this answer is seen, so carriage returns from
    // def.xml defaults (`&#13;`) come out as XML line-end normalisation leaves them.
    let xml = params
        .to_full_xml(&header_for(&s, &project, &job))
        .replace("\r\n", "\n")
        .replace('\r', "\n");
    write_atomic(&dir.join(INPUT_PARAMS), &xml)?;
    Ok((
        StatusCode::CREATED,
        Json(jobs::job_json(&mut s.conn(), &job).await?),
    ))
}

/// Project directories by project uuid for every file parameter of `params` (the job's own
/// project first), so file paths can be resolved without further queries.
async fn file_project_dirs(
    s: &AppState,
    project: &RecordRow,
    params: &JobParams,
) -> ApiResult<HashMap<String, PathBuf>> {
    let mut dirs = HashMap::new();
    dirs.insert(
        uuid_of(project, &PROJECT).replace('-', ""),
        projects::project_dir(project),
    );
    let mut wanted = Vec::new();
    collect_file_projects(params.container_json(), &mut wanted);
    let mut c = s.conn();
    for u in wanted {
        let key = u.replace('-', "");
        if dirs.contains_key(&key) {
            continue;
        }
        let Ok(id) = uuid::Uuid::parse_str(&u) else {
            continue;
        };
        let rows = records::list(
            &mut c,
            &PROJECT,
            &[records::Filter {
                column: "uuid",
                value: Arg::Uuid(id),
            }],
            "id",
            Default::default(),
        )
        .await?;
        if let Some(row) = rows.first() {
            dirs.insert(key, projects::project_dir(row));
        }
    }
    Ok(dirs)
}

fn collect_file_projects(node: &Value, out: &mut Vec<String>) {
    match node.get("_value") {
        Some(Value::Object(m)) => {
            if let Some(p) = m
                .get("project")
                .and_then(|p| p.get("_value"))
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                && m.contains_key("baseName")
            {
                out.push(p.to_string());
            }
            for c in m.values() {
                collect_file_projects(c, out);
            }
        }
        Some(Value::Array(items)) => items.iter().for_each(|i| collect_file_projects(i, out)),
        _ => {}
    }
}

/// The full path of a file parameter, as upstream resolves it: an absolute `baseName` as it
/// is, else the file's project directory (the job's when unknown), `relPath`, `baseName`.
fn file_full_path(node: &Value, dirs: &HashMap<String, PathBuf>, own: &FsPath) -> Option<String> {
    let part = |k: &str| {
        node.get("_value")
            .and_then(|v| v.get(k))
            .and_then(|v| v.get("_value"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let base = part("baseName");
    if base.is_empty() {
        return None;
    }
    if FsPath::new(&base).is_absolute() {
        return Some(base);
    }
    let mut full = dirs
        .get(&part("project").replace('-', ""))
        .cloned()
        .unwrap_or_else(|| own.to_path_buf());
    let rel = part("relPath");
    if !rel.is_empty() {
        full.push(rel);
    }
    full.push(base);
    Some(full.to_string_lossy().into_owned())
}

/// The monomer library the refinement programs read: `$CLIBD_MON`, else the CCP4 suite's.
fn monomer_library() -> Option<PathBuf> {
    let var = |n: &str| std::env::var_os(n).filter(|v| !v.is_empty());
    var("CLIBD_MON")
        .map(PathBuf::from)
        .or_else(|| var("CCP4").map(|c| PathBuf::from(c).join("lib/data/monomers")))
}

async fn validation_report(s: &AppState, id: &str, run_time: bool) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(s, id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Job not found: Job matching query does not exist."))?;
    let (project, _, params, _) = load_params(s, &job).await?;
    let dirs = file_project_dirs(s, &project, &params).await?;
    let own = projects::project_dir(&project);
    let full_path = |n: &Value| file_full_path(n, &dirs, &own);
    let exists = |p: &str| FsPath::new(p).exists();
    let monomers = run_time.then(monomer_library).flatten();
    let ctx = i2_tasks::validity::FileContext {
        full_path: &full_path,
        exists: &exists,
        monomer_dir: monomers.as_deref(),
    };
    let findings = if run_time {
        params.run_time_validity(&ctx)
    } else {
        params.validity(&ctx)
    };
    let xml = i2_tasks::validity::report_xml(&findings);
    Ok(Json(json!({"success": true, "data": {"xml": xml}})))
}

/// `GET jobs/{id}/validation/`: the generic parameter checks as an `<errorReportList>`.
pub async fn validation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    validation_report(&s, &id, false).await
}

/// `GET jobs/{id}/run_time_validation/`: the checks made before a job runs.
pub async fn run_time_validation(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    validation_report(&s, &id, true).await
}

/// The id of the job with this uuid, if there is one.
async fn job_id_by_uuid(s: &AppState, u: uuid::Uuid) -> ApiResult<Option<i64>> {
    let rows = records::list(
        &mut s.conn(),
        &JOB,
        &[records::Filter {
            column: "uuid",
            value: Arg::Uuid(u),
        }],
        "id",
        Default::default(),
    )
    .await?;
    Ok(rows.first().and_then(|r| r.pk().as_i64()))
}

/// `POST jobs/{id}/set_context_job/` with `{context_job_uuid}`: fills the job's input files
/// from that job's (or an earlier job's) files and answers the job. Unlike upstream, a job
/// that is no longer Pending is refused (its parameters are a record of what ran).
pub async fn set_context_job(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    input.require_object()?;
    let job = jobs::fetch_job_for_action(&s, &id).await?;
    let u = input.required_str("context_job_uuid")?;
    let u = uuid::Uuid::parse_str(u.trim()).map_err(|_| {
        ApiError::envelope(StatusCode::BAD_REQUEST, "context_job_uuid is not a UUID")
    })?;
    if !editable(&job) {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "Parameters can only be changed while the job is pending",
        ));
    }
    let Some(ctx) = job_id_by_uuid(&s, u).await? else {
        return Err(ApiError::envelope(
            StatusCode::NOT_FOUND,
            "Job matching query does not exist.",
        ));
    };
    let (project, _, mut params, dir) = load_params(&s, &job).await?;
    let files = ProjectFiles::load(
        &mut s.conn(),
        project.pk().as_i64().unwrap_or_default(),
        &uuid_of(&project, &PROJECT),
        projects::project_dir(&project),
    )
    .await?;
    fill_from_context(&mut params, &files, ctx);
    // Upstream saves the whole container here (as after an upload).
    write_atomic(
        &dir.join(INPUT_PARAMS),
        &params.to_full_xml(&header_for(&s, &project, &job)),
    )?;
    let body = jobs::job_json(&mut s.conn(), &job).await?;
    Ok(Json(json!({"success": true, "data": {"new_job": body}})))
}

/// `GET jobs/{id}/what_next/`: the tasks the job's plugin suggests next (its `WHATNEXT`), each
/// with upstream's fields; `Status: Failed` and no result when the plugin names none.
pub async fn what_next(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job_for_action(&s, &id).await?;
    let cat = catalogue(&s)?;
    let task = text(&job, &JOB, "task_name");
    let data = match cat.what_next(&task) {
        Some(list) => {
            let result: Vec<Value> = list
                .iter()
                .map(|t| {
                    let title = cat
                        .task(t)
                        .and_then(|i| i.short_title.clone().or_else(|| i.title.clone()));
                    json!({"taskName": t, "shortTitle": t, "title": title})
                })
                .collect();
            json!({"Status": "Success", "result": result})
        }
        None => json!({"Status": "Failed", "result": []}),
    };
    Ok(Json(json!({"success": true, "data": data})))
}

/// `GET jobs/{id}/i2run_command/`. Upstream 3.0.1 walks a container in which it finds no set
/// parameter (recorded: also after set_parameter and file uploads), so its command is always
/// the task and the project name; this answers the same.
pub async fn i2run_command(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(jobs::job_missing_400)?;
    let project = project_of(&s, &job).await?;
    let command = format!(
        "{} --project_name {} ",
        text(&job, &JOB, "task_name"),
        text(&project, &PROJECT, "name")
    );
    Ok(Json(json!({"success": true, "data": {"command": command}})))
}

/// `POST jobs/{id}/object_method/` `{object_path, method_name, args?, kwargs?}`: the methods of
/// parameter objects, file contents and task plugins the web client calls that need no CCP4
/// program, computed natively (`i2_tasks::methods`). Any other name is a 400 naming what is
/// available; no name is ever looked up and called.
pub async fn object_method(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    input.require_object()?;
    let job = jobs::fetch_job_for_action(&s, &id).await?;
    let (Some(path), Some(method)) = (input.str("object_path"), input.str("method_name")) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "object_path and method_name are required",
        ));
    };
    let (args, kwargs) = method_arguments(&input)?;
    run_method(&s, &job, move |env| {
        i2_tasks::methods::object_method(env, &path, &method, &args, &kwargs)
    })
    .await
}

/// `POST jobs/{id}/plugin_method/` `{method_name, args?, kwargs?}`: the task plugin methods the
/// web client calls (crank2/shelx, ProvideTLS, ProvideSequence), computed natively where they
/// need no CCP4 program; any other name is a 400. No name is ever called.
pub async fn plugin_method(
    State(s): State<AppState>,
    Path(id): Path<String>,
    input: Input,
) -> ApiResult<Json<Value>> {
    input.require_object()?;
    let job = jobs::fetch_job_for_action(&s, &id).await?;
    let method = input.required_str("method_name")?;
    let (args, kwargs) = method_arguments(&input)?;
    run_method(&s, &job, move |env| {
        i2_tasks::methods::plugin_method(env, &method, &args, &kwargs)
    })
    .await
}

/// `args` (a list) and `kwargs` (an object) of a method call; both optional.
fn method_arguments(input: &Input) -> ApiResult<(Vec<Value>, Value)> {
    let args = match input.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => {
            return Err(ApiError::envelope(
                StatusCode::BAD_REQUEST,
                "args must be a list",
            ));
        }
    };
    let kwargs = match input.get("kwargs") {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(_) => {
            return Err(ApiError::envelope(
                StatusCode::BAD_REQUEST,
                "kwargs must be an object",
            ));
        }
    };
    Ok((args, kwargs))
}

/// Load the job's parameters and the project directories of its files, then run `call` with
/// them (a method reads files, so it runs off the async workers).
async fn run_method<F>(s: &AppState, job: &RecordRow, call: F) -> ApiResult<Json<Value>>
where
    F: FnOnce(&i2_tasks::methods::Env) -> Result<Value, i2_tasks::methods::MethodError>
        + Send
        + 'static,
{
    let (project, _, params, dir) = load_params(s, job).await?;
    let dirs = file_project_dirs(s, &project, &params).await?;
    let root = catalogue(s)?.root().to_path_buf();
    let task = text(job, &JOB, "task_name");
    let python = s
        .reports
        .as_ref()
        .and_then(|r| r.python())
        .map(PathBuf::from);
    let outcome = tokio::task::spawn_blocking(move || {
        let file_path = |node: &Value| file_full_path(node, &dirs, &dir).map(PathBuf::from);
        let env = i2_tasks::methods::Env {
            task: &task,
            ccp4i2_root: &root,
            params: &params,
            file_path: &file_path,
            python: python.as_deref(),
        };
        call(&env)
    })
    .await
    .map_err(|e| ApiError::internal(format!("method call: {e}")))?;
    match outcome {
        Ok(result) => Ok(Json(json!({"success": true, "data": {"result": result}}))),
        Err(e) => Err(ApiError::envelope(StatusCode::BAD_REQUEST, e.to_string())),
    }
}
