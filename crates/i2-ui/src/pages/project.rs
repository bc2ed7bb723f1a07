//! A project: its job tree (one page of top-level jobs with their sub-jobs), KPIs and files
//! with their lineage. ui.js keeps statuses live over `/events/?project=`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use maud::{Markup, html};

use crate::UiState;
use crate::error::{PageError, PageResult};
use crate::layout;
use crate::pages::{PageQuery, parse_id};
use crate::queries::{self, FILES_PAGE, JobRow, PAGE};

async fn project_or_404(s: &UiState, raw: &str) -> PageResult<queries::ProjectInfo> {
    let id = parse_id(raw, "project")?;
    queries::project(&s.db, id).await?.ok_or_else(|| {
        PageError::NotFound(format!(
            "There is no project {id}: it may have been deleted."
        ))
    })
}

pub async fn page(
    State(s): State<UiState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult<Html<String>> {
    let p = project_or_404(&s, &id).await?;
    let page = q.number();
    let tree = jobs_table(&s, p.id, page).await?;
    let mut files = queries::project_files(&s.db, p.id, FILES_PAGE + 1, 0).await?;
    let more_files = files.len() as i64 > FILES_PAGE;
    files.truncate(FILES_PAGE as usize);
    let body = html! {
        div.heading {
            h1 { (p.name) }
            a.button.primary href={"/ui/projects/" (p.id) "/tasks/"} { "New job…" }
        }
        p.sub { (p.jobs) " jobs, " (p.files) " files · " code { (p.directory) } }
        section #jobs data-live-project=(p.id) data-page=(page) aria-labelledby="jobs-h" {
            h2 #jobs-h { "Jobs" }
            div #job-tree { (tree) }
        }
        section #files aria-labelledby="files-h" {
            h2 #files-h { "Files" }
            @if files.is_empty() { p.empty { "No files yet." } } @else {
                table.list {
                    thead { tr { th { "File" } th { "Type" } th { "Made by" } th { "Used by" } th { "Annotation" } } }
                    tbody {
                        @for f in &files {
                            tr {
                                td { a href={"/api/ccp4i2/files/" (f.id) "/download/"} download=(f.name) { (f.name) } }
                                td { (short_type(&f.file_type)) }
                                td { a href={"/ui/jobs/" (f.job_id) "/"} { "job " (f.job_number) }
                                     @if f.directory == 2 { " (imported)" } @else if !f.param.is_empty() { " (" (f.param) ")" } }
                                td { @for (i, (jid, num)) in f.used_by.iter().enumerate() {
                                        @if i > 0 { ", " } a href={"/ui/jobs/" (jid) "/"} { "job " (num) } } }
                                td { (f.annotation) }
                            }
                        }
                    }
                }
                @if more_files { p.sub { "Showing the newest " (FILES_PAGE) " files." } }
            }
        }
    };
    let crumbs = [("Projects", "/ui/projects/".to_string())];
    Ok(Html(layout::page(&p.name, &crumbs, body).into_string()))
}

/// The job table alone, for ui.js to refresh when jobs appear or change.
pub async fn jobs_fragment(
    State(s): State<UiState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult<Html<String>> {
    let p = project_or_404(&s, &id).await?;
    Ok(Html(jobs_table(&s, p.id, q.number()).await?.into_string()))
}

/// `application/CCP4-mtz-observed` → `MTZ observed`.
pub fn short_type(t: &str) -> String {
    let t = t
        .trim_start_matches("application/")
        .trim_start_matches("CCP4-");
    t.replace('-', " ")
}

/// KPI keys shown in their own columns, with their headings.
const KPI_COLUMNS: &[(&str, &str)] = &[
    ("RFactor", "R"),
    ("RFree", "R-free"),
    ("highResLimit", "Resolution (Å)"),
];

fn fmt_kpi(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

async fn jobs_table(s: &UiState, project: i64, page: i64) -> PageResult<Markup> {
    let mut jobs = queries::job_tree(&s.db, project, PAGE + 1, (page - 1) * PAGE).await?;
    // One more top-level job than a page says whether there is a next page.
    let tops: Vec<i64> = jobs
        .iter()
        .filter(|j| j.parent.is_none())
        .map(|j| j.id)
        .collect();
    let has_more = tops.len() as i64 > PAGE;
    if has_more {
        let extra = tops[PAGE as usize];
        let number = jobs
            .iter()
            .find(|j| j.id == extra)
            .map(|j| j.number.clone())
            .unwrap_or_default();
        jobs.retain(|j| j.id != extra && !j.number.starts_with(&format!("{number}.")));
    }
    jobs.sort_by(|a, b| {
        let (ka, kb) = (
            i2_core::job_number::sort_key(&a.number),
            i2_core::job_number::sort_key(&b.number),
        );
        // Newest top-level job first; sub-jobs under their parent in order.
        kb.first().cmp(&ka.first()).then(ka.cmp(&kb))
    });
    let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
    let kpis = queries::kpis(&s.db, &ids).await?;
    let empty = Default::default();
    Ok(html! {
        @if jobs.is_empty() {
            p.empty { "No jobs yet: choose “New job…” to start one." }
        } @else {
            table.list.jobs {
                thead { tr {
                    th { "Job" } th { "Task" } th { "Status" } th { "Evaluation" }
                    @for (_, h) in KPI_COLUMNS { th.num { (h) } }
                    th { "Space group" } th { "Finished" }
                } }
                tbody {
                    @for j in &jobs {
                        @let (floats, chars) = kpis.get(&j.id).unwrap_or(&empty);
                        (job_row(j, floats, chars))
                    }
                }
            }
            (layout::pager(&format!("/ui/projects/{project}/"), page, has_more, ""))
        }
    })
}

fn job_row(
    j: &JobRow,
    floats: &std::collections::BTreeMap<String, f64>,
    chars: &std::collections::BTreeMap<String, String>,
) -> Markup {
    let depth = j.number.matches('.').count();
    let space_group = chars
        .get("spaceGroup")
        .or_else(|| chars.get("space_group"))
        .cloned()
        .unwrap_or_default();
    let others: HashMap<&str, f64> = floats
        .iter()
        .filter(|(k, _)| !KPI_COLUMNS.iter().any(|(c, _)| c == k))
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    let title = if j.title.is_empty() {
        j.task_name.clone()
    } else {
        j.title.clone()
    };
    html! {
        tr data-job=(j.id) class={"depth-" (depth.min(4))} {
            td { a href={"/ui/jobs/" (j.id) "/"} { (j.number) } }
            td { (title)
                 @if !others.is_empty() {
                    div.sub { @for (k, v) in &others { (k) " " (fmt_kpi(*v)) "  " } }
                 } }
            td.status { (layout::status_badge(j.status)) }
            td { (layout::evaluation_label(j.evaluation)) }
            @for (k, _) in KPI_COLUMNS {
                td.num { @if let Some(v) = floats.get(*k) { (fmt_kpi(*v)) } }
            }
            td { (space_group) }
            td { (layout::when(j.finished.filter(|_| j.status >= 4 && j.status != 7))) }
        }
    }
}
