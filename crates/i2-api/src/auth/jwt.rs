//! Entra ID access tokens: RS256 only, signature against the tenant's keys, `exp`/`nbf`
//! with a small leeway, `aud` = the client id, `iss` = the tenant's v2 issuer.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Refusal;
use super::config::EntraConfig;
use super::jwks::{Jwks, KeyError};
use super::verified::Verified;

/// The claims of a valid token.
pub type Claims = Map<String, Value>;

#[derive(Deserialize)]
struct RawHeader {
    alg: Option<String>,
    kid: Option<String>,
}

pub struct Validator {
    jwks: Jwks,
    validation: Validation,
    verified: Verified,
}

/// The header is read by hand so that `alg: none` and unknown algorithms are refused
/// by name here, before any key is looked up.
fn header(token: &str) -> Result<RawHeader, Refusal> {
    let first = token
        .split('.')
        .next()
        .filter(|_| token.split('.').count() == 3)
        .ok_or_else(|| Refusal::unauthenticated("Token decode error: not a JWT"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(first.trim_end_matches('='))
        .map_err(|_| Refusal::unauthenticated("Token decode error: invalid header encoding"))?;
    serde_json::from_slice(&bytes)
        .map_err(|_| Refusal::unauthenticated("Token decode error: invalid header"))
}

impl Validator {
    pub fn new(cfg: &EntraConfig) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = cfg.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_audience(&[&cfg.client_id]);
        validation.set_issuer(&[&cfg.issuer]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        let jwks = Jwks::new(
            &cfg.jwks_url,
            cfg.jwks_ttl,
            cfg.jwks_min_refresh,
            cfg.jwks_timeout,
        );
        Validator {
            jwks,
            validation,
            verified: Verified::new(cfg.leeway.as_secs()),
        }
    }

    /// The claims of `token` when it is valid; otherwise why not (a 401).
    pub async fn validate(&self, token: &str) -> Result<Arc<Claims>, Refusal> {
        if let Some(known) = self.verified.get(token) {
            return known;
        }
        let h = header(token)?;
        if h.alg.as_deref() != Some("RS256") {
            return Err(Refusal::unauthenticated(
                "Token validation error: the token's algorithm is not allowed (RS256 only)",
            ));
        }
        let kid = h
            .kid
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Refusal::unauthenticated("Token missing key ID (kid)"))?;
        let key = self.jwks.key(&kid).await.map_err(|e| match e {
            KeyError::Unknown(kid) => {
                Refusal::unauthenticated(format!("Unknown signing key: {kid}"))
            }
            KeyError::Unavailable(why) => Refusal::unauthenticated(format!(
                "Token validation error: the signing keys are unavailable ({why})"
            )),
        })?;
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|e| Refusal::unauthenticated(describe(e.kind())))?;
        let claims = Arc::new(data.claims);
        self.verified.put(token, claims.clone());
        Ok(claims)
    }
}

/// Upstream's wording where it has one.
fn describe(kind: &ErrorKind) -> String {
    match kind {
        ErrorKind::ExpiredSignature => "Token has expired".into(),
        ErrorKind::ImmatureSignature => "Token validation error: the token is not yet valid".into(),
        ErrorKind::InvalidAudience => "Invalid token audience".into(),
        ErrorKind::InvalidIssuer => "Invalid token issuer".into(),
        ErrorKind::InvalidSignature => "Invalid token signature".into(),
        ErrorKind::InvalidAlgorithm => {
            "Token validation error: the token's algorithm is not allowed (RS256 only)".into()
        }
        ErrorKind::MissingRequiredClaim(c) => {
            format!("Token validation error: the token has no {c:?} claim")
        }
        ErrorKind::InvalidClaimFormat(c) => {
            format!("Token validation error: the {c:?} claim is malformed")
        }
        other => format!("Token decode error: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_read_without_trusting_them() {
        // {"alg":"none"}
        let t = format!("{}.e30.", URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#));
        assert_eq!(header(&t).expect("parsed").alg.as_deref(), Some("none"));
        assert!(header("abc").is_err());
        assert!(header("a.b").is_err());
        assert!(header("!!.e30.x").is_err());
    }
}
