//! The built-in web UI, compiled into the binary (DESIGN.md §8).
//!
//! Pages are rendered on the server (maud templates) from paginated reads through
//! `i2-store`; a little hand-written JavaScript (`static/ui.js`, embedded) does every action
//! by calling the JSON API under `/api/ccp4i2/` and follows live changes over its `/events/`
//! stream. This crate therefore registers only `GET` routes: pages, page fragments and the
//! two static assets. Nothing here writes to the database or the project directories. (The
//! sign-in page, which sets a cookie, is drawn here by [`pages::login`] and served by
//! `i2-api`'s `auth::login_page`, next to the credentials it checks.)
//!
//! - [`router`]: the route table ([`ROUTES`]), mounted by `i2-api`'s router.
//! - [`queries`]: the SQL the pages read, each bounded by a page size.
//! - [`pages`]: one module per page; [`layout`]: the shared page shell.
//! - [`report`]: a job report (`report_xml.xml`) as HTML, graphs as SVG ([`svg`]).
//! - [`categories`]: the task chooser's grouping of the catalogue.

pub mod categories;
pub mod error;
pub mod form;
pub mod layout;
pub mod pages;
pub mod queries;
pub mod report;
pub mod svg;

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};
use i2_store::Db;
use i2_tasks::Catalogue;

/// What the pages can reach: the database and the task catalogue (shared with the API).
#[derive(Clone)]
pub struct UiState {
    pub db: Db,
    pub tasks: Arc<OnceLock<Result<Catalogue, String>>>,
}

impl UiState {
    pub fn new(db: Db, tasks: Arc<OnceLock<Result<Catalogue, String>>>) -> Self {
        UiState { db, tasks }
    }

    /// The catalogue, or a sentence saying why there is none yet.
    pub fn catalogue(&self) -> Result<&Catalogue, String> {
        match self.tasks.get() {
            Some(Ok(c)) => Ok(c),
            Some(Err(why)) => Err(format!("The list of CCP4i2 tasks is not available: {why}")),
            None => Err(
                "The list of CCP4i2 tasks is still loading; reload the page in a moment.".into(),
            ),
        }
    }
}

/// Every route of the UI with its handler. All are `GET` (see the crate docs); the test
/// `ui_routes.rs` checks that mutating methods are refused on each.
pub const ROUTES: &[&str] = &[
    "/",
    "/ui/",
    "/ui/static/ui.css",
    "/ui/static/ui.js",
    "/ui/projects/",
    "/ui/projects/{id}/",
    "/ui/projects/{id}/jobs/",
    "/ui/projects/{id}/tasks/",
    "/ui/jobs/{id}/",
    "/ui/jobs/{id}/results/",
];

fn handler(path: &str) -> MethodRouter<UiState> {
    match path {
        "/" | "/ui/" => get(|| async { Redirect::to("/ui/projects/") }),
        "/ui/static/ui.css" => get(|| async { asset("text/css; charset=utf-8", CSS) }),
        "/ui/static/ui.js" => get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        "/ui/projects/" => get(pages::projects::page),
        "/ui/projects/{id}/" => get(pages::project::page),
        "/ui/projects/{id}/jobs/" => get(pages::project::jobs_fragment),
        "/ui/projects/{id}/tasks/" => get(pages::tasks::page),
        "/ui/jobs/{id}/" => get(pages::job::page),
        "/ui/jobs/{id}/results/" => get(pages::job::results_fragment),
        _ => get(|| async { error::not_found("This page does not exist.") }),
    }
}

/// The UI routes, ready to merge into the application's router.
pub fn router<S: Clone + Send + Sync + 'static>(state: UiState) -> Router<S> {
    let mut r = Router::new();
    for path in ROUTES {
        r = r.route(path, handler(path));
    }
    r.layer(axum::middleware::map_response(content_policy))
        .with_state(state)
}

/// Pages load only this server's script and styles, and talk only to this server: report
/// text from a job can never run as script.
async fn content_policy(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    resp
}

/// The policy of every UI page (the sign-in page, served by `i2-api`, included).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const CSS: &str = include_str!("../static/ui.css");
const JS: &str = include_str!("../static/ui.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
