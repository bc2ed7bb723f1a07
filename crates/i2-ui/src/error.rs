//! Page errors, in words a scientist understands; details go to the log.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::html;

use crate::layout;

/// A page that cannot be shown, and why.
#[derive(Debug)]
pub enum PageError {
    NotFound(String),
    /// The database or a file could not be read: logged in full, shown in short.
    Internal(String),
}

pub type PageResult<T> = Result<T, PageError>;

impl From<i2_store::StoreError> for PageError {
    fn from(e: i2_store::StoreError) -> Self {
        PageError::Internal(format!("database: {e}"))
    }
}

pub fn not_found(what: &str) -> Response {
    PageError::NotFound(what.to_string()).into_response()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, title, text) = match self {
            PageError::NotFound(t) => (StatusCode::NOT_FOUND, "Not found", t),
            PageError::Internal(detail) => {
                tracing::error!(%detail, "a UI page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The server could not read what this page shows (the details are in the server log). Try again; if it keeps happening, ask whoever runs this server.".to_string(),
                )
            }
        };
        let body = layout::page(
            title,
            &[("Projects", "/ui/projects/".to_string())],
            html! { div.notice.error role="alert" { p { (text) } p { a href="/ui/projects/" { "Back to the projects" } } } },
        );
        (status, Html(body.into_string())).into_response()
    }
}
