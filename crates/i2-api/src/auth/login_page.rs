//! `/ui/login/`: where a browser signs in with the session token (the page is drawn by
//! `i2_ui::pages::login`; the cookie is [`super::ui_session`]'s). `GET` shows the form or
//! says why none is needed; `POST` takes `token` (and `next`, where to go back to) or
//! `logout=1`. Nothing is written anywhere but the browser's cookie.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use i2_ui::pages::login::{LoginView, render};
use subtle::ConstantTimeEq;

use super::{LOGIN_PATH, ui_session};
use crate::AppState;

/// Only a UI page may be gone back to (no open redirect to another site).
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.contains("//") && !n.contains('\\') => n,
        _ => "/ui/projects/",
    }
}

fn html(status: StatusCode, body: String) -> Response {
    let mut r = (status, axum::response::Html(body)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(i2_ui::CONTENT_SECURITY_POLICY),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn redirect(to: &str, cookie: HeaderValue) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    r
}

/// What a server without a session token says (nothing to sign in with here).
fn no_token_view(s: &AppState) -> LoginView<'static> {
    if s.auth.is_development() {
        LoginView::NotNeeded
    } else {
        LoginView::EntraOnly
    }
}

pub async fn page(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let Some(token) = s.auth.session_token() else {
        return html(StatusCode::OK, render(no_token_view(&s)));
    };
    let now = chrono::Utc::now().timestamp();
    let view =
        if ui_session::from_request(&headers).is_some_and(|v| ui_session::valid(token, v, now)) {
            LoginView::SignedIn
        } else if q.contains_key("out") {
            LoginView::SignedOut
        } else {
            LoginView::AskToken {
                message: None,
                next: safe_next(q.get("next").map(String::as_str)),
            }
        };
    html(StatusCode::OK, render(view))
}

pub async fn submit(
    State(s): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    if f.contains_key("logout") {
        return redirect(&format!("{LOGIN_PATH}?out=1"), ui_session::clear_cookie());
    }
    let Some(token) = s.auth.session_token() else {
        return html(StatusCode::BAD_REQUEST, render(no_token_view(&s)));
    };
    let next = safe_next(f.get("next").map(String::as_str));
    let given = f.get("token").map(|t| t.trim()).unwrap_or_default();
    if !given.is_empty() && bool::from(given.as_bytes().ct_eq(token)) {
        let https = headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"));
        return redirect(next, ui_session::set_cookie(token, https));
    }
    tracing::info!("a sign-in on the web UI was refused (wrong session token)");
    let mut r = html(
        StatusCode::UNAUTHORIZED,
        render(LoginView::AskToken {
            message: Some(
                "That is not this server's session token. Check it (it is the value of CCP4I2_LOCAL_SESSION_TOKEN the server was started with) and try again.",
            ),
            next,
        }),
    );
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}
