//! Running jobs beyond `run/`: `run_local/`, `regenerate_report/` and `active_jobs/`.
//!
//! - `run_local/`: upstream starts the runner as a child of the server (`synchronous: true`
//!   blocks until it exits). In i2server every job runs through its own workers, embedded in
//!   `serve` (so on this machine, as upstream's local mode) or in `i2server worker`
//!   processes, each supervising the same upstream runner in its own process group. So
//!   `run_local/` queues exactly as `run/` does, and with `synchronous: true` answers once
//!   the worker has closed the attempt (never with an early Finished). Upstream's
//!   feasibility check is kept: a task that needs CCP4 on a server without CCP4 answers 409,
//!   or 202 and queued with `on_unavailable: "queue"`.
//! - `regenerate_report/`: the report is rebuilt by the task's upstream report class in a
//!   supervised subprocess (`i2_jobs::ReportBuilder`); the server never runs Python itself.
//!   Pending jobs answer the fixed pending report without one, as upstream does.
//! - `active_jobs/`: the process group the worker recorded in the queue row, with the CPU
//!   and resident memory of all its processes read from `/proc` (when it runs on this host).

use std::path::Path as FsPath;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use i2_core::JobStatus;
use i2_jobs::dispatch::{Handoff, IdleSlot};
use i2_jobs::process;
use i2_store::queue;
use i2_store::tables::JOB;
use serde_json::{Value, json};

use crate::AppState;
use crate::crud;
use crate::error::{ApiError, ApiResult};
use crate::routes::{jobs, tasks};

fn status_of(row: &i2_store::records::RecordRow) -> Option<JobStatus> {
    JobStatus::from_i32(row.get(&JOB, "status").as_i64().unwrap_or(0) as i32)
}

// --- run_local ------------------------------------------------------------------------

/// Upstream's test for a usable CCP4 installation: `$CCP4` is a directory and its `cad`
/// program is found. Fixed for the life of the process, as upstream caches it.
fn ccp4_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let Some(ccp4) = std::env::var_os("CCP4").filter(|v| !v.is_empty()) else {
            return false;
        };
        let ccp4 = FsPath::new(&ccp4);
        if !ccp4.is_dir() {
            return false;
        }
        let on_path = std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("cad").is_file()));
        on_path || ccp4.join("bin").join("cad").exists()
    })
}

/// Whether the task can run here: CCP4 is installed, or the task needs none (`ccp4_free`).
/// An unknown task, or no catalogue, counts as needing CCP4 (as upstream).
fn can_run_local(s: &AppState, task: &str) -> bool {
    ccp4_available()
        || s.tasks
            .get()
            .and_then(|c| c.as_ref().ok())
            .and_then(|c| c.task(task))
            .is_some_and(|t| t.ccp4_free)
}

/// The optional body: `synchronous` and `on_unavailable`; anything unreadable means defaults.
fn run_local_options(body: &[u8]) -> (bool, Option<String>) {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let sync = v
        .get("synchronous")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let on_unavailable = v
        .get("on_unavailable")
        .and_then(Value::as_str)
        .map(str::to_string);
    (sync, on_unavailable)
}

pub async fn run_local(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let row = jobs::fetch_job_for_action(&s, &id).await?;
    let jid = row.pk().as_i64().unwrap_or_default();
    let task = row
        .get(&JOB, "task_name")
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (synchronous, on_unavailable) = run_local_options(&body);
    if !can_run_local(&s, &task) {
        if on_unavailable.as_deref() == Some("queue") {
            enqueue(&s, jid).await?;
            let job = queued_answer(&s, &row).await?;
            let body = json!({
                "disposition": "queued",
                "reason": "local execution unavailable; dispatched asynchronously",
                "job": job,
            });
            return Ok((StatusCode::ACCEPTED, Json(body)).into_response());
        }
        let body = json!({
            "error": "local_execution_unavailable",
            "task": task,
            "reason": format!("task '{task}' requires a CCP4 installation, which is not present on this server"),
            "ccp4_available": ccp4_available(),
            "async_available": true,
        });
        return Ok((StatusCode::CONFLICT, Json(body)).into_response());
    }
    enqueue(&s, jid).await?;
    let queued = queued_answer(&s, &row).await?;
    if !synchronous {
        return Ok(Json(queued).into_response());
    }
    wait_closed(&s, jid).await?;
    let row = jobs::fetch_job(&s, &id).await?;
    Ok(Json(jobs::job_json(&mut s.conn(), &row).await?).into_response())
}

/// Queue a job for `run/` and `run_local/`: straight into the hands of an idle worker of
/// this process when there is one (claimed in the queueing transaction, see
/// `i2_jobs::dispatch`), else on the queue with one worker woken. The queueing is made
/// durable before this returns, while the worker is already starting the job. A missing
/// job is [`ApiError::NotFound`]; one already queued or running is refused with 400.
pub(crate) async fn enqueue(s: &AppState, jid: i64) -> ApiResult<()> {
    let queued = match s.dispatch.take_idle() {
        Some(slot) => hand_to_idle_worker(s, slot, jid).await?,
        None => {
            let mut tx = s.db.begin_sync_later().await?;
            crud::fetch_in(&mut tx, &JOB, &jid.to_string()).await?;
            let queued = queue::enqueue_sync_later(tx, jid).await? == queue::Enqueued::Queued;
            if queued {
                s.dispatch.wake();
            }
            queued
        }
    };
    if !queued {
        return Err(ApiError::envelope(
            StatusCode::BAD_REQUEST,
            "Job is already queued or running",
        ));
    }
    s.db.sync_committed().await?;
    Ok(())
}

/// Queue the job claimed for the idle worker of `slot` and hand it over. `false` when the
/// job is already active (the worker, its slot dropped, goes back to looking at the queue).
async fn hand_to_idle_worker(s: &AppState, slot: IdleSlot, jid: i64) -> ApiResult<bool> {
    match queue::hand_to_worker(&s.db, jid, &slot.worker, &slot.host, slot.lease_secs).await? {
        queue::HandedOver::Claimed(claim, job) => {
            if let Err(claim) = slot.hand_over(Handoff { claim, job }) {
                // The worker stopped meanwhile: the queue takes the job back.
                queue::release(&s.db, claim.job_id, claim.fence).await?;
                s.dispatch.wake();
            }
            Ok(true)
        }
        queue::HandedOver::AlreadyActive => Ok(false),
        queue::HandedOver::NoSuchJob => Err(ApiError::NotFound(JOB.model)),
    }
}

/// The answer of `run/` and `run_local/` once the job is queued: the job as it was asked
/// for, shown queued (as upstream's answer does), even if it is running by then.
pub(crate) async fn queued_answer(
    s: &AppState,
    row: &i2_store::records::RecordRow,
) -> ApiResult<Value> {
    let mut body = jobs::job_json(&mut s.conn(), row).await?;
    body["status"] = json!(JobStatus::Queued as i32);
    Ok(body)
}

/// Wait until the job's queue row is closed (its worker recorded how the attempt ended).
async fn wait_closed(s: &AppState, jid: i64) -> ApiResult<()> {
    loop {
        match queue::row(&s.db, jid).await? {
            Some(r) if r.state == "done" => return Ok(()),
            None => return Ok(()),
            Some(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

// --- regenerate_report -----------------------------------------------------------------

fn no_cache(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store, no-cache, must-revalidate, max-age=0"),
    );
    h.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    h.insert(header::EXPIRES, header::HeaderValue::from_static("0"));
    resp
}

pub async fn regenerate_report(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Job not found: Job matching query does not exist."))?;
    let xml = match status_of(&job) {
        None | Some(JobStatus::Pending | JobStatus::Unknown) => {
            crate::routes::reports::status_report("PENDING")
        }
        Some(_) => {
            let Some(builder) = s.reports.clone() else {
                return Err(ApiError::envelope(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Failed to generate report: this server has no job runner to build reports with",
                ));
            };
            let project = tasks::project_of(&s, &job).await?;
            let dir = tasks::job_dir(&project, &job)?;
            let uuid = match job.get(&JOB, "uuid") {
                i2_store::cells::Cell::Uuid(u) => u.simple().to_string(),
                other => other.as_str().unwrap_or_default().to_string(),
            };
            builder.regenerate(&uuid, &dir).await.map_err(|e| {
                ApiError::envelope(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("Failed to generate report: {e}"),
                )
            })?
        }
    };
    let body = json!({"success": true, "data": {"regenerated": true, "xml": xml}});
    Ok(no_cache(Json(body).into_response()))
}

// --- active_jobs -------------------------------------------------------------------------

/// How long CPU use is measured over (all jobs at once; upstream takes 0.5 s per process).
const CPU_WINDOW: Duration = Duration::from_millis(250);

pub async fn active_jobs(State(s): State<AppState>) -> ApiResult<Json<Value>> {
    let rows = queue::active_jobs(&mut s.conn()).await?;
    // Only groups that really run this job on this host (process ids are reused, and a
    // worker on another host records its own numbers).
    let local: Vec<Option<i32>> = rows
        .iter()
        .map(|r| {
            r.pid
                .filter(|p| process::runs_job(*p, &r.uuid.0.simple().to_string()))
        })
        .collect();
    let before: Vec<Option<process::GroupSample>> =
        local.iter().map(|p| p.map(process::sample_group)).collect();
    if before.iter().any(Option::is_some) {
        tokio::time::sleep(CPU_WINDOW).await;
    }
    let jobs: Vec<Value> = rows
        .iter()
        .zip(local.iter().zip(before))
        .map(|(r, (pid, before))| {
            let after = pid.map(process::sample_group).filter(|a| a.processes > 0);
            let (cpu, mem) = match (before, after) {
                (Some(b), Some(a)) => (
                    json!(process::cpu_percent(b, a, CPU_WINDOW)),
                    json!(a.rss_bytes),
                ),
                _ => (Value::Null, Value::Null),
            };
            json!({
                "project": r.project,
                "job_id": r.id,
                "job_task_name": r.task,
                "job_uuid": r.uuid.0.hyphenated().to_string(),
                "job_number": r.number,
                "status": JobStatus::from_i32(r.status).map(JobStatus::label).unwrap_or("Unknown"),
                "pid": r.pid,
                "cpu_percent": cpu,
                "memory_usage_bytes": mem,
            })
        })
        .collect();
    Ok(Json(
        json!({"success": true, "data": {"active_jobs": jobs}}),
    ))
}
