//! The web UI's sign-in cookie. A browser page cannot put the desktop session token in an
//! `Authorization` header for its own navigations, downloads and event stream, so the token
//! is typed once on `/ui/login/` and the server answers with a cookie that stands for it:
//! `v1.<expiry>.<HMAC-SHA256(token, expiry)>`, `HttpOnly` (no script can read it),
//! `SameSite=Strict` (no other site's page makes the browser send it), 12 hours.
//!
//! The cookie is not the token: it cannot be replayed as a bearer token, it expires, and it
//! stops working when the server is started with another token. Signing out deletes it from
//! the browser; a copy taken before stays valid until it expires (there is no server-side
//! session table, so every replica of a deployment accepts it alike).
//!
//! Its path is `/` because the UI's script calls `/api/ccp4i2/` with it; a request that
//! changes something on the strength of the cookie alone must also come from this server's
//! own pages (`Origin` equal to the `Host` it was sent to): other local web servers are
//! "same-site" with this one, so SameSite alone would not stop them.

use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

use super::Refusal;

pub const COOKIE: &str = "i2server_ui";
pub const LIFETIME_SECS: i64 = 12 * 3600;

fn key(token: &[u8]) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, token)
}

fn message(expiry: i64) -> String {
    format!("i2server-ui-session|{expiry}")
}

/// A cookie value for `token`, valid until `now + LIFETIME_SECS`.
pub fn mint(token: &[u8], now: i64) -> String {
    let expiry = now + LIFETIME_SECS;
    let tag = hmac::sign(&key(token), message(expiry).as_bytes());
    format!("v1.{expiry}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `value` was minted for `token` and has not expired (the tag is compared in
/// constant time).
pub fn valid(token: &[u8], value: &str, now: i64) -> bool {
    let mut parts = value.splitn(3, '.');
    let (Some("v1"), Some(expiry), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Ok(expiry) = expiry.parse::<i64>() else {
        return false;
    };
    let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else {
        return false;
    };
    expiry > now
        && expiry <= now + LIFETIME_SECS
        && hmac::verify(&key(token), message(expiry).as_bytes(), &tag).is_ok()
}

/// The value of our cookie in the request, if any.
pub fn from_request(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Whether a request changing something comes from a page of this server: its `Origin`
/// names the host the request was sent to.
fn same_origin(headers: &HeaderMap) -> bool {
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// The request's cookie stands for `token` (and, for a method that changes things, the
/// request comes from this server's own pages).
pub fn check(headers: &HeaderMap, method: &Method, token: &[u8]) -> Result<(), Refusal> {
    let value =
        from_request(headers).ok_or_else(|| Refusal::unauthenticated("Missing Bearer token"))?;
    if !valid(token, value, now()) {
        return Err(Refusal::unauthenticated(
            "The sign-in has expired or is not for this server: sign in again at /ui/login/",
        ));
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !same_origin(headers) {
        return Err(Refusal::unauthenticated(
            "A signed-in browser may change things only from this server's own pages",
        ));
    }
    Ok(())
}

/// `Set-Cookie` for a fresh sign-in; `Secure` when the request came over HTTPS (through a
/// proxy that says so).
pub fn set_cookie(token: &[u8], https: bool) -> HeaderValue {
    let secure = if https { "; Secure" } else { "" };
    let v = format!(
        "{COOKIE}={}; Path=/; Max-Age={LIFETIME_SECS}; HttpOnly; SameSite=Strict{secure}",
        mint(token, now())
    );
    // The value is ASCII by construction.
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Set-Cookie` that deletes the sign-in.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("i2server_ui=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_for_this_token_and_time_only() {
        let v = mint(b"s3cret", 1000);
        assert!(valid(b"s3cret", &v, 1000));
        assert!(valid(b"s3cret", &v, 1000 + LIFETIME_SECS - 1));
        assert!(!valid(b"s3cret", &v, 1000 + LIFETIME_SECS), "expired");
        assert!(!valid(b"other", &v, 1000), "another server's token");
        assert!(
            !valid(b"s3cret", "s3cret", 1000),
            "the token itself is no cookie"
        );
        let (head, tag) = v.rsplit_once('.').expect("three parts");
        let later = head.replace(
            &(1000 + LIFETIME_SECS).to_string(),
            &(99_000 + LIFETIME_SECS).to_string(),
        );
        assert!(
            !valid(b"s3cret", &format!("{later}.{tag}"), 99_000),
            "expiry is signed"
        );
    }

    #[test]
    fn cookie_header_and_origin() {
        let mut h = HeaderMap::new();
        let v = mint(b"t", now() - 10);
        h.insert(
            header::COOKIE,
            format!("a=b; {COOKIE}={v}; c=d").parse().expect("v"),
        );
        assert_eq!(from_request(&h), Some(v.as_str()));
        assert!(check(&h, &Method::GET, b"t").is_ok());
        assert!(check(&h, &Method::POST, b"t").is_err(), "no Origin");
        h.insert(header::HOST, "127.0.0.1:8000".parse().expect("v"));
        h.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().expect("v"));
        assert!(
            check(&h, &Method::POST, b"t").is_err(),
            "another local server"
        );
        h.insert(header::ORIGIN, "http://127.0.0.1:8000".parse().expect("v"));
        assert!(check(&h, &Method::POST, b"t").is_ok());
        assert!(check(&h, &Method::POST, b"u").is_err());
    }
}
