//! `jobs/{id}/report_xml/`: the job report. Reports are built by the worker with the
//! task's upstream report class when the runner exits (the server never runs Python) and
//! cached as `report_xml.xml` in the job directory; this route serves that file.
//! `jobs/{id}/diagnostic_xml/` serves the job's `diagnostic.xml`, as its runner wrote it (and
//! as the worker extended it when the runner crashed, see `i2_jobs::diagnostic`).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use i2_core::JobStatus;
use i2_store::queue;
use i2_store::tables::JOB;
use serde_json::json;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::routes::{jobs, tasks};

pub const REPORT_FILE: &str = "report_xml.xml";

/// `GET jobs/{id}/diagnostic_xml/`: `{xml}` of the job's `diagnostic.xml`; 404 when the job
/// or the file does not exist, with upstream's messages.
pub async fn diagnostic_xml(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Job not found: Job matching query does not exist."))?;
    let project = tasks::project_of(&s, &job).await?;
    let path = tasks::job_dir(&project, &job)?.join(i2_jobs::diagnostic::DIAGNOSTIC_FILE);
    match tokio::fs::read_to_string(&path).await {
        Ok(xml) => Ok(Json(json!({"success": true, "data": {"xml": xml}}))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ApiError::envelope(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "Diagnostic file not found for job {}",
                tasks::uuid_of(&job, &JOB)
            ),
        )),
        Err(e) => Err(ApiError::envelope(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            format!("Failed to read diagnostic XML: {e}"),
        )),
    }
}

/// A report that only says the job's status, in upstream's tab-indented form.
pub(crate) fn status_report(status: &str) -> String {
    format!("<report>\n\t<status>{status}</status>\n</report>")
}

pub async fn report_xml(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let job = jobs::fetch_job(&s, &id)
        .await
        .map_err(|e| jobs::envelope_404(e, "Job not found: Job matching query does not exist."))?;
    let jid = job.pk().as_i64().unwrap_or_default();
    let stored = JobStatus::from_i32(job.get(&JOB, "status").as_i64().unwrap_or(0) as i32);
    // What clients see: a job whose runner has not been reaped is still running.
    let shown = queue::visible_statuses(&mut s.conn(), &[jid])
        .await?
        .get(&jid)
        .copied()
        .and_then(JobStatus::from_i32)
        .or(stored);
    let project = tasks::project_of(&s, &job).await?;
    let cached = tasks::job_dir(&project, &job)
        .ok()
        .map(|d| d.join(REPORT_FILE));
    let xml = match shown {
        None | Some(JobStatus::Pending | JobStatus::Unknown) => status_report("PENDING"),
        Some(s) if s.is_terminal() => match cached.and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(x) => x,
            None => format!(
                "<report><status>{}</status><Text>No report is available for this job: it was not built when the job ended.</Text></report>",
                s.label().to_uppercase()
            ),
        },
        Some(s) => match cached.and_then(|p| std::fs::read_to_string(p).ok()) {
            Some(x) => x,
            None => status_report(&s.label().to_uppercase()),
        },
    };
    let mut resp = Json(json!({"success": true, "data": {"xml": xml}})).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    h.insert(header::EXPIRES, header::HeaderValue::from_static("0"));
    Ok(resp)
}
