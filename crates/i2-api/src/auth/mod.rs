//! Authentication, failing closed, with upstream's three modes (ccp4i2-reference §2.2):
//! the desktop's per-launch token, Entra ID bearer tokens with an optional group
//! allow-list, and a development mode (which the binary allows on loopback only).
//!
//! - [`config`]: the mode and its settings; [`credentials`]: where a token is found;
//! - [`local`]: the desktop token; [`jwt`] and [`jwks`]: Entra tokens and their keys;
//! - [`verified`]: tokens whose signature was already checked (expiry is checked always);
//! - [`groups`]: the group allow-list; [`users`]: recording callers in `auth_user`;
//! - [`ui_session`]: the web UI's sign-in cookie, which stands for the session token.
//!
//! Every route but [`PUBLIC_PATHS`] needs credentials; a browser asking for a UI page without
//! them is sent to the sign-in page instead of the 401; refusals are upstream's bodies:
//! 401 `{"success": false, "error": "Authentication failed: …"}` and 403 `Access denied: …`.

pub mod config;
pub mod credentials;
pub mod groups;
pub mod jwks;
pub mod jwt;
pub mod local;
pub mod login_page;
pub mod ui_session;
pub mod users;
pub mod verified;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use i2_store::Db;

pub use config::{AuthConfig, EntraConfig};
pub use users::AuthUser;

use users::{Lookup, Users};

/// Paths served without credentials: probes poll health and version before any token
/// exists; a browser needs the sign-in page and the two static files it uses (compiled into
/// the binary, nothing secret).
pub const PUBLIC_PATHS: &[&str] = &[
    "/api/ccp4i2/health/",
    "/api/ccp4i2/version/",
    LOGIN_PATH,
    "/ui/static/ui.css",
    "/ui/static/ui.js",
];

/// The web UI's sign-in page (`GET` the form, `POST` the token or `logout=1`).
pub const LOGIN_PATH: &str = "/ui/login/";

/// `/api/ccp4i2/health` (no slash) is public too: it only redirects to the public path.
pub fn is_public(path: &str) -> bool {
    PUBLIC_PATHS
        .iter()
        .any(|p| path == *p || Some(path) == p.strip_suffix('/'))
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 401: no valid credentials.
    Unauthenticated(String),
    /// 403: a valid identity that may not use this server.
    Forbidden(String),
}

impl Refusal {
    pub fn unauthenticated(msg: impl Into<String>) -> Self {
        Refusal::Unauthenticated(msg.into())
    }
    pub fn forbidden(msg: impl Into<String>) -> Self {
        Refusal::Forbidden(msg.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, error) = match self {
            Refusal::Unauthenticated(m) => (
                StatusCode::UNAUTHORIZED,
                format!("Authentication failed: {m}"),
            ),
            Refusal::Forbidden(m) => (StatusCode::FORBIDDEN, format!("Access denied: {m}")),
        };
        let body = serde_json::json!({"success": false, "error": error});
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

enum Mode {
    Development,
    LocalToken {
        token: Vec<u8>,
        email: String,
    },
    Entra {
        validator: Box<jwt::Validator>,
        allowed_groups: Vec<String>,
        /// A session token accepted besides Entra ID tokens, and its user's email.
        session: Option<(Vec<u8>, String)>,
    },
}

/// The authentication of one server: its mode, key cache and user recorder.
pub struct Auth {
    mode: Mode,
    users: Users,
}

impl Auth {
    pub fn new(config: &AuthConfig, db: Db) -> Self {
        let mode = match config {
            AuthConfig::Development => Mode::Development,
            AuthConfig::LocalToken { token, email } => Mode::LocalToken {
                token: token.as_bytes().to_vec(),
                email: email.clone(),
            },
            AuthConfig::Entra(e) => Mode::Entra {
                validator: Box::new(jwt::Validator::new(e)),
                allowed_groups: e.allowed_groups.clone(),
                session: None,
            },
            AuthConfig::EntraAndLocalToken {
                entra,
                token,
                email,
            } => Mode::Entra {
                validator: Box::new(jwt::Validator::new(entra)),
                allowed_groups: entra.allowed_groups.clone(),
                session: Some((token.as_bytes().to_vec(), email.clone())),
            },
        };
        Auth {
            mode,
            users: Users::new(db),
        }
    }

    /// The session token a browser may sign in with on [`LOGIN_PATH`], if this server has one.
    pub fn session_token(&self) -> Option<&[u8]> {
        match &self.mode {
            Mode::LocalToken { token, .. }
            | Mode::Entra {
                session: Some((token, _)),
                ..
            } => Some(token),
            _ => None,
        }
    }

    pub fn is_development(&self) -> bool {
        matches!(self.mode, Mode::Development)
    }

    /// Who the request is, or why it is refused.
    pub async fn authenticate(
        &self,
        method: &Method,
        headers: &HeaderMap,
        uri: &Uri,
    ) -> Result<AuthUser, Refusal> {
        let (user, lookup) = match &self.mode {
            Mode::Development => (AuthUser::dev_admin(), Lookup::Development),
            Mode::LocalToken { token, email } => {
                // The bearer token, else the UI's cookie (a request with neither is told
                // about the bearer token, as upstream tells it).
                if let Err(e) = local::check(headers, token) {
                    if ui_session::from_request(headers).is_none() {
                        return Err(e);
                    }
                    ui_session::check(headers, method, token)?;
                }
                (AuthUser::desktop(email), Lookup::Desktop)
            }
            Mode::Entra {
                session: Some((token, email)),
                ..
            } if local::check(headers, token).is_ok()
                || ui_session::check(headers, method, token).is_ok() =>
            {
                (AuthUser::desktop(email), Lookup::Desktop)
            }
            Mode::Entra {
                validator,
                allowed_groups,
                ..
            } => {
                let token = credentials::entra_token(headers, uri).ok_or_else(|| {
                    Refusal::unauthenticated(
                        "Authentication required. Provide Authorization: Bearer <token>",
                    )
                })?;
                let claims = validator.validate(&token).await?;
                let sub = claims
                    .get("sub")
                    .and_then(|s| s.as_str())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| Refusal::unauthenticated("Token has no subject (sub)"))?
                    .to_string();
                groups::check(&claims, allowed_groups)?;
                let header_email = headers.get("x-user-email").and_then(|v| v.to_str().ok());
                (
                    AuthUser::from_claims(&claims, &sub, header_email),
                    Lookup::Entra,
                )
            }
        };
        // The identity is proven; failing to write it down must not lock everyone out.
        if let Err(e) = self.users.record(&user, lookup).await {
            tracing::warn!(user = %user.username, error = %e, "cannot record the user in auth_user");
        }
        Ok(user)
    }
}

/// The middleware: public paths pass; anything else is authenticated first, and the
/// caller is handed on as an [`AuthUser`] extension.
pub async fn require(State(auth): State<Arc<Auth>>, mut req: Request, next: Next) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    // Only the (Sync) parts are borrowed across the awaits: the body is not Sync.
    match auth
        .authenticate(req.method(), req.headers(), req.uri())
        .await
    {
        Ok(user) => {
            req.extensions_mut().insert(user);
            next.run(req).await
        }
        Err(refusal) => {
            tracing::debug!(path = %req.uri().path(), ?refusal, "request refused");
            if let Some(to) = sign_in_first(&req, &refusal) {
                return to;
            }
            refusal.into_response()
        }
    }
}

/// A browser opening a UI page without (valid) credentials goes to the sign-in page, which
/// brings it back afterwards; API clients and scripts keep getting the 401.
fn sign_in_first(req: &Request, refusal: &Refusal) -> Option<Response> {
    let path = req.uri().path();
    let page = path == "/" || path.starts_with("/ui/");
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if req.method() != Method::GET || !page || !wants_html {
        return None;
    }
    if !matches!(refusal, Refusal::Unauthenticated(_)) {
        return None;
    }
    let next: String =
        percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC).to_string();
    Some(
        (
            StatusCode::SEE_OTHER,
            [(header::LOCATION, format!("{LOGIN_PATH}?next={next}"))],
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_health_version_and_the_sign_in_page_are_public() {
        assert!(is_public("/ui/login/"));
        assert!(is_public("/ui/static/ui.js"));
        assert!(!is_public("/ui/projects/"));
        assert!(!is_public("/ui/"));
        assert!(is_public("/api/ccp4i2/health/"));
        assert!(is_public("/api/ccp4i2/health"));
        assert!(is_public("/api/ccp4i2/version/"));
        assert!(!is_public("/api/ccp4i2/projects/"));
        assert!(!is_public("/api/ccp4i2/health/x"));
        assert!(!is_public("/api/ccp4i2/projects/1/health/"));
        assert!(!is_public("/api/ccp4i2/"));
    }
}
