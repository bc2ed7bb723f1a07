//! Cross-cutting HTTP behaviour that upstream's middleware stack provides: CORS answers
//! exactly as django-cors-headers gives them, and JSON bodies for 405s.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::ApiConfig;
use crate::error::ApiError;

const ALLOW_HEADERS: &str =
    "accept, authorization, content-type, user-agent, x-csrftoken, x-requested-with";
const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, PATCH, POST, PUT";

/// The `Access-Control-Allow-Origin` value for this origin, if it is allowed.
fn allowed_origin(config: &ApiConfig, origin: &str) -> Option<HeaderValue> {
    match &config.cors_allowed_origins {
        None => Some(HeaderValue::from_static("*")),
        Some(list) if list.iter().any(|o| o == origin) => HeaderValue::from_str(origin).ok(),
        Some(_) => None,
    }
}

fn add_vary_origin(resp: &mut Response) {
    let h = resp.headers_mut();
    let vary = match h.get(header::VARY).and_then(|v| v.to_str().ok()) {
        Some(v) if v.to_ascii_lowercase().contains("origin") => return,
        Some(v) => format!("{v}, origin"),
        None => "origin".to_string(),
    };
    if let Ok(v) = HeaderValue::from_str(&vary) {
        h.insert(header::VARY, v);
    }
}

pub async fn cors(State(config): State<Arc<ApiConfig>>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let preflight = req.method() == Method::OPTIONS
        && origin.is_some()
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let allow = origin.as_deref().and_then(|o| allowed_origin(&config, o));
    if preflight {
        let mut resp = Response::new(Body::empty());
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        if let Some(a) = allow {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, a);
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static(ALLOW_METHODS),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
        }
        add_vary_origin(&mut resp);
        return resp;
    }
    let mut resp = next.run(req).await;
    if let Some(a) = allow {
        resp.headers_mut()
            .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, a);
    }
    add_vary_origin(&mut resp);
    resp
}

/// Axum answers an unsupported method with an empty 405; upstream says which method.
pub async fn method_not_allowed(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let resp = next.run(req).await;
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut out = ApiError::Detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method \"{method}\" not allowed."),
        )
        .into_response();
        if let Some(allow) = resp.headers().get(header::ALLOW) {
            out.headers_mut().insert(header::ALLOW, allow.clone());
        }
        return out;
    }
    resp
}
