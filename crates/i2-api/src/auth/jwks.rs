//! The tenant's signing keys (JWKS): fetched on first use, kept for a TTL, fetched again
//! when a token names an unknown `kid` (at most once per `min_refresh`), and the last
//! good set kept whenever a fetch fails.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use serde::Deserialize;

/// A JWKS document is a few kilobytes; anything past this is not one.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

type HttpClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// Why no key could be found for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The set was fetched (or could not be refreshed) and has no such key.
    Unknown(String),
    /// No key set has ever been fetched.
    Unavailable(String),
}

struct KeySet {
    keys: HashMap<String, Arc<DecodingKey>>,
    fetched: Instant,
}

pub struct Jwks {
    url: String,
    /// Built once; an error here (no TLS) surfaces as a failed fetch.
    client: Result<HttpClient, String>,
    ttl: Duration,
    min_refresh: Duration,
    timeout: Duration,
    current: RwLock<Option<Arc<KeySet>>>,
    /// Held while fetching (one fetch at a time); remembers when the last fetch began.
    fetching: tokio::sync::Mutex<Option<Instant>>,
}

#[derive(Deserialize)]
struct JwkDoc {
    #[serde(default)]
    keys: Vec<JwkEntry>,
}

#[derive(Deserialize)]
struct JwkEntry {
    kty: Option<String>,
    kid: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    alg: Option<String>,
    n: Option<String>,
    e: Option<String>,
}

/// The RSA signature keys of a JWKS document, by `kid` (others are skipped).
fn parse_keys(body: &[u8]) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
    let doc: JwkDoc =
        serde_json::from_slice(body).map_err(|e| format!("the key set is not JSON: {e}"))?;
    let mut keys = HashMap::new();
    for k in doc.keys {
        let usable = k.kty.as_deref() == Some("RSA")
            && k.use_.as_deref().is_none_or(|u| u == "sig")
            && k.alg.as_deref().is_none_or(|a| a == "RS256");
        if let (true, Some(kid), Some(n), Some(e)) = (usable, k.kid, k.n, k.e) {
            match DecodingKey::from_rsa_components(&n, &e) {
                Ok(key) => {
                    keys.insert(kid, Arc::new(key));
                }
                Err(err) => {
                    tracing::warn!(%kid, error = %err, "skipping an unreadable signing key")
                }
            }
        }
    }
    Ok(keys)
}

fn http_client() -> Result<HttpClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        // Plain http is refused by the configuration except on loopback (tests).
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl Jwks {
    pub fn new(url: &str, ttl: Duration, min_refresh: Duration, timeout: Duration) -> Self {
        Jwks {
            url: url.to_string(),
            client: http_client(),
            ttl,
            min_refresh,
            timeout,
            current: RwLock::new(None),
            fetching: tokio::sync::Mutex::new(None),
        }
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        // A poisoned lock only means a panic elsewhere; the data is a plain Arc swap.
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    fn store(&self, set: KeySet) {
        let set = Some(Arc::new(set));
        match self.current.write() {
            Ok(mut g) => *g = set,
            Err(p) => *p.into_inner() = set,
        }
    }

    /// The key a token's `kid` names.
    pub async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, KeyError> {
        let known = self.snapshot().and_then(|set| {
            set.keys
                .get(kid)
                .map(|k| (k.clone(), set.fetched.elapsed()))
        });
        let mut last_attempt = match known {
            Some((k, age)) if age < self.ttl => return Ok(k),
            // Stale but known: while another request refreshes, don't wait for it.
            Some((k, _)) => match self.fetching.try_lock() {
                Ok(g) => g,
                Err(_) => return Ok(k),
            },
            None => self.fetching.lock().await,
        };
        // Someone else may have fetched while this request waited for the lock.
        let set = self.snapshot();
        if let Some(set) = &set
            && let Some(k) = set.keys.get(kid)
            && set.fetched.elapsed() < self.ttl
        {
            return Ok(k.clone());
        }
        let may_fetch = last_attempt.is_none_or(|t| t.elapsed() >= self.min_refresh);
        let mut failure = None;
        if may_fetch {
            *last_attempt = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => {
                    tracing::debug!(keys = keys.len(), "fetched the signing keys");
                    let found = keys.get(kid).cloned();
                    self.store(KeySet {
                        keys,
                        fetched: Instant::now(),
                    });
                    return found.ok_or_else(|| KeyError::Unknown(kid.to_string()));
                }
                Err(e) => {
                    tracing::warn!(url = %self.url, error = %e, "cannot fetch the signing keys; keeping the last good set");
                    failure = Some(e);
                }
            }
        }
        // No fetch allowed or it failed: the last good set, however old.
        match set {
            Some(set) => set
                .keys
                .get(kid)
                .cloned()
                .ok_or_else(|| KeyError::Unknown(kid.to_string())),
            None => Err(KeyError::Unavailable(failure.unwrap_or_else(|| {
                "the last attempt to fetch them failed moments ago".to_string()
            }))),
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<DecodingKey>>, String> {
        let uri: axum::http::Uri = self
            .url
            .parse()
            .map_err(|e| format!("bad key set URL: {e}"))?;
        let client = self.client.as_ref().map_err(Clone::clone)?;
        let work = async {
            let resp = client
                .get(uri)
                .await
                .map_err(|e| format!("request failed: {e}"))?;
            if !resp.status().is_success() {
                return Err(format!("the key set endpoint answered {}", resp.status()));
            }
            let body = Limited::new(resp.into_body(), MAX_JWKS_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the key set failed: {e}"))?
                .to_bytes();
            parse_keys(&body)
        };
        tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| format!("no answer within {:?}", self.timeout))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rsa_signature_keys_are_kept() {
        let doc = br#"{"keys":[
            {"kty":"RSA","kid":"a","use":"sig","n":"sXch","e":"AQAB"},
            {"kty":"RSA","kid":"b","use":"enc","n":"sXch","e":"AQAB"},
            {"kty":"EC","kid":"c","crv":"P-256","x":"AA","y":"AA"},
            {"kty":"RSA","use":"sig","n":"sXch","e":"AQAB"},
            {"kty":"RSA","kid":"d","alg":"RS512","n":"sXch","e":"AQAB"}
        ]}"#;
        let keys = parse_keys(doc).expect("parsed");
        assert_eq!(keys.keys().collect::<Vec<_>>(), vec!["a"]);
        assert!(parse_keys(b"<html>").is_err());
    }
}
