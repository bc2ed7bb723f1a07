//! Where a request's credential is found, in upstream's order: `Authorization: Bearer`,
//! then Easy Auth's `X-MS-TOKEN-AAD-ACCESS-TOKEN`, then `?access_token=`. Upstream reads
//! the query on every route; here only on download links (an `<a href>` cannot carry a
//! header, and a token in any other URL would end up in logs and browser history).

use axum::http::{HeaderMap, Uri, header};

use crate::router::PREFIX;

pub const EASY_AUTH_HEADER: &str = "x-ms-token-aad-access-token";

/// The token after `Bearer ` (case-sensitive, as upstream); `None` for other schemes.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .filter(|t| !t.is_empty())
}

/// Routes whose links a browser follows without headers: file and export downloads.
pub fn accepts_query_token(path: &str) -> bool {
    path.starts_with(PREFIX) && path.ends_with("/download/")
}

/// The `access_token` query parameter, decoded.
fn query_token(uri: &Uri) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        if k != "access_token" || v.is_empty() {
            return None;
        }
        let v = v.replace('+', " ");
        percent_encoding::percent_decode_str(&v)
            .decode_utf8()
            .ok()
            .map(|s| s.into_owned())
    })
}

/// The Entra token a request carries, if any.
pub fn entra_token(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    if let Some(t) = bearer(headers) {
        return Some(t.to_string());
    }
    if let Some(t) = headers
        .get(EASY_AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|t| !t.is_empty())
    {
        return Some(t.to_string());
    }
    if accepts_query_token(uri.path()) {
        return query_token(uri);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().expect("uri")
    }

    #[test]
    fn order_and_places() {
        let mut h = HeaderMap::new();
        h.insert(EASY_AUTH_HEADER, "easy".parse().expect("v"));
        let dl = uri("/api/ccp4i2/files/1/download/?access_token=q%2Bx");
        assert_eq!(entra_token(&h, &dl).as_deref(), Some("easy"));
        h.insert(header::AUTHORIZATION, "Bearer b".parse().expect("v"));
        assert_eq!(entra_token(&h, &dl).as_deref(), Some("b"));
        let none = HeaderMap::new();
        assert_eq!(entra_token(&none, &dl).as_deref(), Some("q+x"));
        let other = uri("/api/ccp4i2/projects/?access_token=q");
        assert_eq!(entra_token(&none, &other), None);
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, "Basic abc".parse().expect("v"));
        assert_eq!(bearer(&basic), None);
        basic.insert(header::AUTHORIZATION, "Bearer ".parse().expect("v"));
        assert_eq!(bearer(&basic), None);
    }
}
