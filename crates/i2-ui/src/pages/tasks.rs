//! The task chooser: the catalogue grouped by category, filtered as you type (ui.js);
//! choosing a task creates the job through `create_task/` and opens it.

use axum::extract::{Path, State};
use axum::response::Html;
use maud::html;

use crate::UiState;
use crate::categories::{CATEGORIES, category_of};
use crate::error::{PageError, PageResult};
use crate::layout;
use crate::pages::parse_id;
use crate::queries;

pub async fn page(State(s): State<UiState>, Path(id): Path<String>) -> PageResult<Html<String>> {
    let id = parse_id(&id, "project")?;
    let p = queries::project(&s.db, id)
        .await?
        .ok_or_else(|| PageError::NotFound(format!("There is no project {id}.")))?;
    let crumbs = [
        ("Projects", "/ui/projects/".to_string()),
        (p.name.as_str(), format!("/ui/projects/{id}/")),
    ];
    let body = match s.catalogue() {
        Err(why) => html! { h1 { "New job" } div.notice.error role="alert" { p { (why) } } },
        Ok(cat) => {
            let mut groups: Vec<(&str, Vec<&i2_tasks::TaskInfo>)> =
                CATEGORIES.iter().map(|c| (*c, vec![])).collect();
            for t in cat.tasks() {
                let c = category_of(t);
                if let Some(g) = groups.iter_mut().find(|(n, _)| *n == c) {
                    g.1.push(t);
                }
            }
            for (_, ts) in &mut groups {
                ts.sort_by_key(|t| {
                    t.title
                        .clone()
                        .unwrap_or_else(|| t.name.clone())
                        .to_lowercase()
                });
            }
            html! {
                h1 { "New job in " (p.name) }
                div.toolbar {
                    label for="task-search" { "Find a task" }
                    input #task-search type="search" placeholder="e.g. refinement, freerflag, phaser" autocomplete="off" autofocus;
                }
                div #task-groups data-project=(id) {
                    @for (name, ts) in &groups {
                        @if !ts.is_empty() {
                            section.task-group {
                                h2 { (name) }
                                ul.tasks {
                                    @for t in ts {
                                        @let title = t.title.clone().unwrap_or_else(|| t.name.clone());
                                        li data-search={(t.name) " " (title) " " (t.description.as_deref().unwrap_or_default()) " " (name)} {
                                            button type="button" data-action="create-task" data-task=(t.name) data-project=(id) {
                                                span.task-title { (title) }
                                                span.task-name { (t.name) }
                                            }
                                            @if let Some(d) = &t.description { div.sub { (d) } }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Html(layout::page("New job", &crumbs, body).into_string()))
}
