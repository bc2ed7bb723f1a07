//! API errors and the bodies upstream sends for them.
//!
//! Policy: handlers return [`ApiResult`]. Client mistakes map to the exact upstream shape
//! for that route family (DRF `{"detail": …}`, field errors `{"field": ["…"]}`, or the
//! `{"success": false, "error": …}` envelope of custom actions). Anything else is logged
//! with its cause and answered with a bare 500, never with internal detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use i2_store::StoreError;
use serde_json::{Map, Value, json};

#[derive(Debug)]
pub enum ApiError {
    /// 404 `{"detail": "No <Model> matches the given query."}`
    NotFound(&'static str),
    /// 404 `{"detail": "Not found."}`
    NotFoundPlain,
    /// 400 DRF field errors.
    Fields(Map<String, Value>),
    /// A status with `{"detail": …}`.
    Detail(StatusCode, String),
    /// A status with `{"success": false, "error": …}`.
    Envelope(StatusCode, String),
    /// A status with an arbitrary JSON body (legacy shapes).
    Body(StatusCode, Value),
    /// 404 HTML page (unknown routes, refused file paths).
    HtmlNotFound,
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A missing record answered in a custom action's `{success: false, error}` envelope with
    /// `status` (upstream's actions use 404 or 400 and their own message); other errors pass.
    pub fn when_missing(self, status: StatusCode, msg: &str) -> ApiError {
        match self {
            ApiError::NotFound(_) | ApiError::NotFoundPlain => ApiError::envelope(status, msg),
            other => other,
        }
    }

    pub fn field(field: &str, msg: impl Into<String>) -> Self {
        let mut m = Map::new();
        m.insert(field.to_string(), json!([msg.into()]));
        ApiError::Fields(m)
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::Detail(StatusCode::BAD_REQUEST, detail.into())
    }
    pub fn envelope(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError::Envelope(status, msg.into())
    }
    pub fn internal(context: impl std::fmt::Display) -> Self {
        ApiError::Internal(context.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFoundPlain,
            StoreError::Conflict(m) => ApiError::Detail(
                StatusCode::BAD_REQUEST,
                format!("The request conflicts with existing data: {m}"),
            ),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

pub const NOT_FOUND_HTML: &str = "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound(model) => (
                StatusCode::NOT_FOUND,
                Json(json!({"detail": format!("No {model} matches the given query.")})),
            )
                .into_response(),
            ApiError::NotFoundPlain => {
                (StatusCode::NOT_FOUND, Json(json!({"detail": "Not found."}))).into_response()
            }
            ApiError::Fields(m) => {
                (StatusCode::BAD_REQUEST, Json(Value::Object(m))).into_response()
            }
            ApiError::Detail(s, d) => (s, Json(json!({ "detail": d }))).into_response(),
            ApiError::Envelope(s, e) => {
                (s, Json(json!({"success": false, "error": e}))).into_response()
            }
            ApiError::Body(s, v) => (s, Json(v)).into_response(),
            ApiError::HtmlNotFound => (
                StatusCode::NOT_FOUND,
                [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
                NOT_FOUND_HTML,
            )
                .into_response(),
            ApiError::Internal(msg) => {
                tracing::error!(error = %msg, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"detail": "A server error occurred."})),
                )
                    .into_response()
            }
        }
    }
}
