//! A job: status and actions, where it stands in the queue, the parameter form, the live
//! log, and (once it ended) outputs, KPIs and the report. ui.js follows
//! `/events/?job=` and reloads the results fragment when the job ends.

use std::collections::HashMap;
use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::response::Html;
use i2_core::JobStatus;
use i2_core::job_number::JobNumber;
use i2_tasks::JobParams;
use maud::{Markup, html};

use crate::UiState;
use crate::error::{PageError, PageResult};
use crate::form::{self, FormContext};
use crate::layout;
use crate::pages::parse_id;
use crate::pages::project::short_type;
use crate::queries::{self, JobRow, ProjectInfo};

struct Loaded {
    job: JobRow,
    project: ProjectInfo,
    dir: PathBuf,
}

async fn load(s: &UiState, raw: &str) -> PageResult<Loaded> {
    let id = parse_id(raw, "job")?;
    let job = queries::job(&s.db, id).await?.ok_or_else(|| {
        PageError::NotFound(format!("There is no job {id}: it may have been deleted."))
    })?;
    let project = queries::project(&s.db, job.project)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("The project of job {id} is gone.")))?;
    let rel = JobNumber::parse(&job.number)
        .map_err(|e| PageError::Internal(format!("job {id} has a bad number: {e}")))?
        .rel_dir();
    let dir = PathBuf::from(&project.directory).join(rel);
    Ok(Loaded { job, project, dir })
}

fn status_of(job: &JobRow) -> Option<JobStatus> {
    JobStatus::from_i32(job.status as i32)
}

/// The job's parameters as a container tree, or why they cannot be shown.
fn container(s: &UiState, l: &Loaded) -> Result<serde_json::Value, String> {
    let cat = s.catalogue()?;
    let def = cat
        .definition(&l.job.task_name)
        .map_err(|e| format!("The task “{}” cannot be loaded: {e}", l.job.task_name))?;
    let editable = matches!(
        status_of(&l.job),
        Some(JobStatus::Pending | JobStatus::Unknown)
    );
    let names = if editable {
        ["input_params.xml", "params.xml"]
    } else {
        ["params.xml", "input_params.xml"]
    };
    let params = match names.iter().map(|n| l.dir.join(n)).find(|p| p.is_file()) {
        Some(p) => {
            let text = std::fs::read_to_string(&p)
                .map_err(|e| format!("The job's parameter file cannot be read: {e}"))?;
            JobParams::load(&def, &text)
                .map_err(|e| format!("The job's parameter file cannot be understood: {e}"))?
        }
        None => JobParams::fresh(&def, &l.job.task_name),
    };
    Ok(params.container_json().clone())
}

pub async fn page(State(s): State<UiState>, Path(id): Path<String>) -> PageResult<Html<String>> {
    let l = load(&s, &id).await?;
    let j = &l.job;
    let status = status_of(j);
    let editable = matches!(status, Some(JobStatus::Pending | JobStatus::Unknown));
    let form = match container(&s, &l) {
        Ok(tree) => {
            let mut types = Vec::new();
            form::file_types(&tree, &mut types);
            let mut by_type = HashMap::new();
            if editable {
                for t in &types {
                    by_type.insert(
                        t.clone(),
                        queries::files_of_types(&s.db, l.project.id, std::slice::from_ref(t), j.id)
                            .await?,
                    );
                }
            }
            let ctx = FormContext {
                editable,
                files_by_type: &by_type,
                project_uuid: &l.project.uuid,
            };
            form::render(&tree, &ctx)
        }
        Err(why) => html! { div.notice.error role="alert" { p { (why) } } },
    };
    let results = results(&s, &l).await?;
    let title = format!("Job {}", j.number);
    let task_title = s
        .catalogue()
        .ok()
        .and_then(|c| c.task(&j.task_name))
        .and_then(|t| t.title.clone())
        .unwrap_or_else(|| j.task_name.clone());
    let body = html! {
        div #job data-job=(j.id) data-project=(l.project.id) data-status=(j.status) {
            div.heading {
                h1 { (title) ": " (if j.title.is_empty() { &task_title } else { &j.title }) }
                span #job-status aria-live="polite" { (layout::status_badge(j.status)) }
            }
            p.sub { "Task " code { (j.task_name) } " · created " (layout::when(j.created))
                    @if let Some(p) = j.parent { " · part of " a href={"/ui/jobs/" (p) "/"} { "its parent job" } } }
            div.actions role="toolbar" aria-label="Job actions" {
                button.primary type="button" data-action="run-job" data-when="1 0" { "Run" }
                button type="button" data-action="cancel-job" data-when="2 3 7" { "Cancel" }
                button type="button" data-action="clone-job" { "Clone" }
                button.danger type="button" data-action="delete-job" data-number=(j.number) { "Delete" }
            }
            details #params-section open[editable] {
                summary { h2 { "Parameters" } @if !editable { span.sub { " (read only: the job has been run; clone it to change them)" } } }
                (form)
            }
            section #log-section hidden[status.is_none_or(|s| !(s.is_active() || s.is_terminal()))] {
                h2 { "Log" }
                pre #log-tail tabindex="0" aria-label="Latest log lines" {}
            }
            div #results { (results) }
        }
    };
    let crumbs = [
        ("Projects", "/ui/projects/".to_string()),
        (
            l.project.name.as_str(),
            format!("/ui/projects/{}/", l.project.id),
        ),
    ];
    Ok(Html(layout::page(&title, &crumbs, body).into_string()))
}

/// Why a job waits, in words.
fn queue_note(j: &JobRow, q: &queries::QueueInfo) -> Markup {
    match (status_of(j), q.state.as_deref()) {
        (Some(JobStatus::Queued), _) => html! {
            p.notice {
                "Waiting to start: "
                @if q.ahead == 0 { "it is next in the queue" } @else { (q.ahead) " job" @if q.ahead != 1 { "s" } " ahead of it in the queue" }
                "; " (q.running) " job" @if q.running != 1 { "s" } " running now. "
                @if q.ahead == 0 && q.running == 0 { "If it stays here, no job worker may be running: ask whoever runs this server." }
                @else if q.attempts > 0 { "Earlier attempts: " (q.attempts) ". " (q.detail) }
            }
        },
        (Some(JobStatus::Running), _) => {
            html! { p.notice { "Running." @if q.attempts > 1 { " (attempt " (q.attempts) ")" } } }
        }
        (Some(JobStatus::Failed), Some(_)) if !q.detail.is_empty() => html! {
            p.notice.error { "The job failed: " (q.detail) }
        },
        _ => html! {},
    }
}

/// Where the job stands (queue position, why it waits) until it ends; then its outputs,
/// KPIs and report. ui.js re-fetches this on every status change.
pub async fn results_fragment(
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> PageResult<Html<String>> {
    let l = load(&s, &id).await?;
    Ok(Html(results(&s, &l).await?.into_string()))
}

async fn results(s: &UiState, l: &Loaded) -> PageResult<Markup> {
    let j = &l.job;
    let status = status_of(j);
    if !status.is_some_and(JobStatus::is_terminal) {
        let queue = queries::queue_info(&s.db, j.id).await?;
        return Ok(html! { div #queue aria-live="polite" { (queue_note(j, &queue)) } });
    }
    let files = queries::job_files(&s.db, j.id).await?;
    let kpis = queries::kpis(&s.db, &[j.id]).await?;
    let (floats, chars) = kpis.get(&j.id).cloned().unwrap_or_default();
    let report = std::fs::read_to_string(l.dir.join("report_xml.xml")).ok();
    Ok(html! {
        section #outputs {
            h2 { "Files" }
            @if files.is_empty() { p.empty { "This job made no files." } } @else {
                table.list {
                    thead { tr { th { "File" } th { "Type" } th { "Role" } th { "Annotation" } } }
                    tbody { @for f in &files {
                        tr {
                            td { a href={"/api/ccp4i2/files/" (f.id) "/download/"} download=(f.name) data-param=(f.param) { (f.name) } }
                            td { (short_type(&f.file_type)) }
                            td { @if f.directory == 2 { "imported input" } @else { (f.param) } }
                            td { (f.annotation) }
                        }
                    } }
                }
            }
        }
        @if !floats.is_empty() || !chars.is_empty() {
            section #kpis {
                h2 { "Key results" }
                table.list.kpi {
                    tbody {
                        @for (k, v) in &floats { tr { th scope="row" { (k) } td.num { (format!("{v:.4}")) } } }
                        @for (k, v) in &chars { tr { th scope="row" { (k) } td { (v) } } }
                    }
                }
            }
        }
        section #report {
            h2 { "Report" }
            @match report {
                Some(xml) => (crate::report::render(&xml)),
                None => p.empty { "No report was made for this job." },
            }
        }
    })
}
