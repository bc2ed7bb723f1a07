//! The desktop app's per-launch token: `Authorization: Bearer <CCP4I2_LOCAL_SESSION_TOKEN>`.

use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use super::Refusal;
use super::credentials::bearer;

/// Checks the request's bearer token against the launch secret in constant time (only
/// the length can be learnt from timing, as with upstream's `hmac.compare_digest`).
pub fn check(headers: &HeaderMap, expected: &[u8]) -> Result<(), Refusal> {
    let provided =
        bearer(headers).ok_or_else(|| Refusal::unauthenticated("Missing Bearer token"))?;
    if bool::from(provided.as_bytes().ct_eq(expected)) {
        Ok(())
    } else {
        Err(Refusal::unauthenticated("Invalid local-session token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    #[test]
    fn only_the_exact_token_passes() {
        let mut h = HeaderMap::new();
        assert!(check(&h, b"s3cret").is_err());
        h.insert(header::AUTHORIZATION, "Bearer s3cret".parse().expect("v"));
        assert!(check(&h, b"s3cret").is_ok());
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Bearer S3CRET",
            "bearer s3cret",
        ] {
            h.insert(header::AUTHORIZATION, wrong.parse().expect("v"));
            assert!(check(&h, b"s3cret").is_err(), "{wrong}");
        }
    }
}
