//! `/jobs/`: records plus KPIs, dependents, cascading deletes.

use std::collections::HashMap;
use std::path::Path as FsPath;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use i2_core::JobStatus;
use i2_core::job_number::JobNumber;
use i2_store::records::{self, Filter, RecordRow};
use i2_store::relations::{self, Kpis};
use i2_store::tables::JOB;
use i2_store::{Arg, Conn, queue};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::body::Input;
use crate::crud::{self, page_of};
use crate::drf;
use crate::error::{ApiError, ApiResult};

/// Job JSON: `id`, KPIs, then the model fields (upstream's order).
pub fn job_map(row: &RecordRow, kpis: Kpis) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), drf::cell_json(row.pk()));
    m.insert("float_values".into(), json!(kpis.0));
    m.insert("char_values".into(), json!(kpis.1));
    for (k, v) in drf::render(&JOB, row) {
        if k != "id" {
            m.insert(k, v);
        }
    }
    m
}

pub async fn jobs_json(c: &mut impl Conn, rows: &[RecordRow]) -> ApiResult<Vec<Value>> {
    let ids: Vec<i64> = rows.iter().filter_map(|r| r.pk().as_i64()).collect();
    let mut kpis = relations::kpis_of_jobs(c, &ids).await?;
    let shown = queue::visible_statuses(c, &ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            let id = r.pk().as_i64().unwrap_or_default();
            let k = kpis.remove(&id).unwrap_or_default();
            let mut m = job_map(r, k);
            apply_visible_status(&mut m, shown.get(&id));
            Value::Object(m)
        })
        .collect())
}

/// A job whose worker has not yet seen its runner exit shows Running (never an early
/// Finished); a cancelled one shows Interrupted.
pub fn apply_visible_status(m: &mut Map<String, Value>, shown: Option<&i32>) {
    if let Some(s) = shown {
        m.insert("status".into(), json!(s));
        if *s == JobStatus::Running as i32 {
            m.insert("finish_time".into(), Value::Null);
        }
    }
}

pub async fn job_json(c: &mut impl Conn, row: &RecordRow) -> ApiResult<Value> {
    Ok(jobs_json(c, std::slice::from_ref(row))
        .await?
        .pop()
        .unwrap_or(Value::Null))
}

/// Custom actions answer a missing record in the `{success:false}` envelope.
pub fn envelope_404(e: ApiError, msg: &str) -> ApiError {
    e.when_missing(StatusCode::NOT_FOUND, msg)
}

/// The 400 envelope upstream's job actions give a missing job.
pub fn job_missing_400(e: ApiError) -> ApiError {
    e.when_missing(
        StatusCode::BAD_REQUEST,
        "Job matching query does not exist.",
    )
}

pub async fn fetch_job(s: &AppState, id: &str) -> ApiResult<RecordRow> {
    crud::fetch(s, &JOB, id).await
}

/// The job a custom action works on; a missing one is upstream's 404 envelope.
pub async fn fetch_job_for_action(s: &AppState, id: &str) -> ApiResult<RecordRow> {
    fetch_job(s, id)
        .await
        .map_err(|e| envelope_404(e, "Job matching query does not exist."))
}

pub async fn list(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let mut c = s.conn();
    let mut filters = crud::filters_of(&JOB, &[("project", "project_id")], &q)?;
    crud::check_choice_filters(&mut c, &JOB, &[("project", "project_id")], &filters).await?;
    if let Some(u) = q.get("project__uuid").filter(|u| !u.is_empty()) {
        let pid = match uuid::Uuid::parse_str(u.trim()) {
            Ok(u) => relations::project_id_by_uuid(&mut c, u).await?,
            Err(_) => return Err(ApiError::field("project__uuid", "Enter a valid UUID.")),
        };
        // An unknown project has no jobs.
        filters.push(Filter {
            column: "project_id",
            value: Arg::Int(pid.unwrap_or(-1)),
        });
    }
    let rows = records::list(&mut c, &JOB, &filters, "id", page_of(&q)?).await?;
    Ok(Json(Value::Array(jobs_json(&mut c, &rows).await?)))
}

pub async fn create(State(s): State<AppState>, input: Input) -> ApiResult<Response> {
    let row = crud::create_row(&s, &JOB, &input).await?;
    Ok((
        StatusCode::CREATED,
        Json(job_json(&mut s.conn(), &row).await?),
    )
        .into_response())
}

pub async fn retrieve(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_job(&s, &id).await?;
    Ok(Json(job_json(&mut s.conn(), &row).await?))
}

async fn update(s: AppState, id: String, input: Input, partial: bool) -> ApiResult<Json<Value>> {
    let row = crud::update_row(&s, &JOB, &id, &input, partial, &[]).await?;
    Ok(Json(job_json(&mut s.conn(), &row).await?))
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

/// Remove `CCP4_JOBS/job_N[/job_M]` of a deleted job; a missing directory is fine.
pub fn remove_job_dir(project_dir: &FsPath, number: &str) {
    let Ok(n) = JobNumber::parse(number) else {
        tracing::warn!(
            number,
            "not removing a directory for an unparsable job number"
        );
        return;
    };
    let dir = project_dir.join(n.rel_dir());
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(dir = %dir.display(), error = %e, "job directory not removed"),
    }
}

async fn delete_cascade(s: &AppState, job_ids: &[i64]) -> ApiResult<usize> {
    let mut tx = s.db.begin().await?;
    let mut deleted = Vec::new();
    for j in job_ids {
        deleted.extend(relations::delete_job_cascade(&mut tx, *j).await?);
    }
    tx.commit().await?;
    for d in &deleted {
        remove_job_dir(FsPath::new(&d.project_dir), &d.number);
    }
    Ok(deleted.len())
}

pub async fn destroy(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_job(&s, &id)
        .await
        .map_err(|e| envelope_404(e, "Job not found"))?;
    delete_cascade(&s, &[row.pk().as_i64().unwrap_or_default()]).await?;
    Ok(Json(json!({"success": true, "data": {"deleted": true}})))
}

pub async fn dependent_jobs(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let row = fetch_job_for_action(&s, &id).await?;
    let mut c = s.conn();
    let ids = relations::dependent_jobs(&mut c, row.pk().as_i64().unwrap_or_default()).await?;
    let rows = rows_in_order(&mut c, &ids).await?;
    Ok(Json(Value::Array(jobs_json(&mut c, &rows).await?)))
}

async fn rows_in_order(c: &mut impl Conn, ids: &[i64]) -> ApiResult<Vec<RecordRow>> {
    let rows = records::list_in(
        c,
        &JOB,
        "id",
        ids.iter().map(|i| Arg::Int(*i)).collect(),
        "id",
    )
    .await?;
    let mut by_id: HashMap<i64, RecordRow> = rows
        .into_iter()
        .map(|r| (r.pk().as_i64().unwrap_or_default(), r))
        .collect();
    Ok(ids.iter().filter_map(|i| by_id.remove(i)).collect())
}

fn job_ids_of(input: &Input) -> ApiResult<Vec<i64>> {
    input.require_object()?;
    let Some(v) = input.get("job_ids") else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "No job IDs provided",
        ));
    };
    let list = match v {
        Value::Array(a) => a.clone(),
        other => vec![other.clone()],
    };
    list.iter()
        .map(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()
        .filter(|ids| !ids.is_empty())
        .ok_or_else(|| {
            ApiError::envelope(StatusCode::BAD_REQUEST, "job_ids must be a list of job ids")
        })
}

pub async fn bulk_dependent_jobs(
    State(s): State<AppState>,
    input: Input,
) -> ApiResult<Json<Value>> {
    let ids = job_ids_of(&input)?;
    let mut c = s.conn();
    let selected = rows_in_order(&mut c, &ids).await?;
    let selected_ids: Vec<i64> = selected.iter().filter_map(|r| r.pk().as_i64()).collect();
    let mut extra: Vec<i64> = Vec::new();
    for id in &selected_ids {
        for d in relations::dependent_jobs(&mut c, *id).await? {
            if !selected_ids.contains(&d) && !extra.contains(&d) {
                extra.push(d);
            }
        }
    }
    let extra_rows = rows_in_order(&mut c, &extra).await?;
    let has_active = selected.iter().chain(extra_rows.iter()).any(|r| {
        JobStatus::from_i32(r.get(&JOB, "status").as_i64().unwrap_or(0) as i32)
            .is_some_and(JobStatus::is_active)
    });
    Ok(Json(json!({"success": true, "data": {
        "selected_jobs": jobs_json(&mut c, &selected).await?,
        "additional_dependents": jobs_json(&mut c, &extra_rows).await?,
        "total_to_delete": selected.len() + extra_rows.len(),
        "has_active_dependents": has_active,
    }})))
}

pub async fn bulk_delete(State(s): State<AppState>, input: Input) -> ApiResult<Json<Value>> {
    let ids = job_ids_of(&input)?;
    let mut c = s.conn();
    let existing: Vec<i64> = rows_in_order(&mut c, &ids)
        .await?
        .iter()
        .filter_map(|r| r.pk().as_i64())
        .collect();
    let count = delete_cascade(&s, &existing).await?;
    Ok(Json(
        json!({"success": true, "data": {"deleted": true, "count": count}}),
    ))
}

pub async fn run(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let missing = "Job matching query does not exist.";
    // Queued first, read after: the job's start waits for nothing but the queueing.
    let jid = id
        .parse::<i64>()
        .map_err(|_| envelope_404(ApiError::NotFound(JOB.model), missing))?;
    super::runs::enqueue(&s, jid)
        .await
        .map_err(|e| envelope_404(e, missing))?;
    let row = fetch_job(&s, &id).await?;
    Ok(Json(super::runs::queued_answer(&s, &row).await?))
}

/// `GET jobs/{id}/export_job_file_menu/`: the task's menu of files to export. Upstream's
/// task manager no longer has one and answers an empty menu for any job, so does i2server.
pub async fn export_job_file_menu(Path(_id): Path<String>) -> Json<Value> {
    Json(json!({"success": true, "data": {"result": []}}))
}

/// `GET jobs/{id}/export_job_file/?mode=…`: a file from that menu. With the menu empty no
/// mode names a file: 404 (upstream fails with a 500 here, its exporter being gone).
pub async fn export_job_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let Some(mode) = q.get("mode").filter(|m| !m.is_empty()) else {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "Missing required 'mode' parameter",
        ));
    };
    fetch_job(&s, &id)
        .await
        .map_err(|e| envelope_404(e, "Job not found: Job matching query does not exist."))?;
    Err(ApiError::envelope(
        StatusCode::NOT_FOUND,
        format!("No file available for export mode '{mode}'"),
    ))
}

pub async fn cancel(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let row = fetch_job(&s, &id)
        .await
        .map_err(|e| envelope_404(e, &format!("Job {id} not found")))?;
    let jid = row.pk().as_i64().unwrap_or_default();
    if queue::cancel(&s.db, jid).await? == queue::Cancelled::NotActive {
        let status = row.get(&JOB, "status").as_i64().unwrap_or(0) as i32;
        let label = JobStatus::from_i32(status)
            .map(JobStatus::label)
            .unwrap_or("Unknown");
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            format!("Job is not running or queued (status: {label})"),
        ));
    }
    let row = fetch_job(&s, &id).await?;
    Ok(Json(job_json(&mut s.conn(), &row).await?))
}
