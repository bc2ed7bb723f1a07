//! The projects page: search, tag filter, create, rename, delete (actions in ui.js).

use axum::extract::{Query, State};
use axum::response::Html;
use maud::html;
use serde::Deserialize;

use crate::UiState;
use crate::error::PageResult;
use crate::layout;
use crate::queries::{self, PAGE};

#[derive(Debug, Default, Deserialize)]
pub struct ProjectsQuery {
    pub q: Option<String>,
    pub tag: Option<String>,
    pub page: Option<i64>,
}

pub async fn page(
    State(s): State<UiState>,
    Query(q): Query<ProjectsQuery>,
) -> PageResult<Html<String>> {
    let search = q.q.clone().unwrap_or_default();
    let tag: Option<i64> = q.tag.as_deref().and_then(|t| t.parse().ok());
    let page = q.page.unwrap_or(1).max(1);
    let mut rows =
        queries::projects(&s.db, search.trim(), tag, PAGE + 1, (page - 1) * PAGE).await?;
    let has_more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let tags = queries::tags(&s.db).await?;
    let extra = format!(
        "&q={}{}",
        encode(&search),
        tag.map(|t| format!("&tag={t}")).unwrap_or_default()
    );
    let body = html! {
        h1 { "Projects" }
        div.toolbar {
            form.search method="get" action="/ui/projects/" role="search" {
                label for="q" { "Search by name" }
                input #q type="search" name="q" value=(search) placeholder="project name";
                label for="tag" { "Tag" }
                select #tag name="tag" {
                    option value="" { "any" }
                    @for (id, text) in &tags {
                        option value=(id) selected[tag == Some(*id)] { (text) }
                    }
                }
                button type="submit" { "Search" }
            }
            form #new-project data-action="create-project" {
                label for="new-project-name" { "New project" }
                input #new-project-name name="name" required placeholder="name (letters, digits, _ and -)" autocomplete="off";
                button type="submit" { "Create project" }
            }
        }
        @if rows.is_empty() {
            p.empty { @if search.is_empty() && tag.is_none() { "No projects yet: create one above." } @else { "No project matches." } }
        } @else {
            table.list #projects {
                thead { tr { th { "Name" } th { "Tags" } th.num { "Jobs" } th { "Last used" } th { span.sr { "Actions" } } } }
                tbody {
                    @for p in &rows {
                        tr data-project=(p.id) {
                            td { a href={"/ui/projects/" (p.id) "/"} { (p.name) }
                                 @if !p.description.is_empty() { div.sub { (p.description) } } }
                            td { @for t in &p.tags { span.tag { (t) } " " } }
                            td.num { (p.jobs) }
                            td { (layout::when(p.last_access)) }
                            td.row-actions {
                                button type="button" data-action="rename-project" data-id=(p.id) data-name=(p.name) { "Rename" }
                                " "
                                button.danger type="button" data-action="delete-project" data-id=(p.id) data-name=(p.name) data-jobs=(p.jobs) { "Delete" }
                            }
                        }
                    }
                }
            }
            (layout::pager("/ui/projects/", page, has_more, &extra))
        }
    };
    Ok(Html(layout::page("Projects", &[], body).into_string()))
}

/// Percent-encoding for a query value (search terms go back into pager links).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
