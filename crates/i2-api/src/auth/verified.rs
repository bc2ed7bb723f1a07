//! Tokens already verified. A client sends the same token on every request until it
//! expires; checking its RS256 signature once instead of every time keeps authentication
//! cheap. Only what cannot change is remembered (signature, `aud`, `iss`): expiry is
//! checked again on every use, and an entry never outlives its token.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Refusal;
use super::jwt::Claims;

/// Plenty for the users of one server; past it, expired entries go, then everything.
const MAX_ENTRIES: usize = 4096;

pub struct Verified {
    entries: RwLock<HashMap<String, Arc<Claims>>>,
    leeway: i64,
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

fn exp(claims: &Claims) -> Option<i64> {
    let v = claims.get("exp")?;
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

impl Verified {
    pub fn new(leeway_secs: u64) -> Self {
        Verified {
            entries: RwLock::new(HashMap::new()),
            leeway: i64::try_from(leeway_secs).unwrap_or(i64::MAX),
        }
    }

    fn expired(&self, claims: &Claims, now: i64) -> bool {
        exp(claims).is_none_or(|e| now > e.saturating_add(self.leeway))
    }

    /// The claims of a token verified before, if it is still within its lifetime.
    pub fn get(&self, token: &str) -> Option<Result<Arc<Claims>, Refusal>> {
        let hit = match self.entries.read() {
            Ok(g) => g.get(token).cloned(),
            Err(p) => p.into_inner().get(token).cloned(),
        }?;
        if self.expired(&hit, unix_now()) {
            self.remove(token);
            return Some(Err(Refusal::unauthenticated("Token has expired")));
        }
        Some(Ok(hit))
    }

    fn remove(&self, token: &str) {
        match self.entries.write() {
            Ok(mut g) => g.remove(token),
            Err(p) => p.into_inner().remove(token),
        };
    }

    pub fn put(&self, token: &str, claims: Arc<Claims>) {
        let now = unix_now();
        let mut g = match self.entries.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if g.len() >= MAX_ENTRIES {
            g.retain(|_, c| !self.expired(c, now));
            if g.len() >= MAX_ENTRIES {
                g.clear();
            }
        }
        g.insert(token.to_string(), claims);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Arc<Claims> {
        Arc::new(v.as_object().cloned().expect("object"))
    }

    #[test]
    fn entries_expire_with_their_tokens() {
        let v = Verified::new(0);
        assert!(v.get("t").is_none());
        v.put("t", claims(json!({"exp": unix_now() + 100})));
        assert!(matches!(v.get("t"), Some(Ok(_))));
        v.put("old", claims(json!({"exp": unix_now() - 1})));
        assert!(matches!(v.get("old"), Some(Err(_))));
        assert!(v.get("old").is_none(), "removed once expired");
        v.put("noexp", claims(json!({})));
        assert!(matches!(v.get("noexp"), Some(Err(_))));
        let lenient = Verified::new(60);
        lenient.put("t", claims(json!({"exp": unix_now() - 30})));
        assert!(matches!(lenient.get("t"), Some(Ok(_))));
    }
}
