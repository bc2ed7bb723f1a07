//! `ALLOWED_AZURE_AD_GROUPS`: a valid token must also name one of these groups.

use super::Refusal;
use super::jwt::Claims;

/// `Ok` when no allow-list is set or the token's `groups` claim names an allowed group.
/// A token in more than 200 groups carries an overage marker instead of the list, which
/// cannot be checked without calling Microsoft Graph: refused with what to do.
pub fn check(claims: &Claims, allowed: &[String]) -> Result<(), Refusal> {
    if allowed.is_empty() {
        return Ok(());
    }
    if claims.contains_key("_claim_names") || claims.contains_key("_claim_sources") {
        return Err(Refusal::forbidden(
            "your account is in too many groups for the token to list them; ask your \
             administrator to add you to a dedicated access group for this application",
        ));
    }
    let member = claims
        .get("groups")
        .and_then(|g| g.as_array())
        .is_some_and(|groups| {
            groups
                .iter()
                .filter_map(|g| g.as_str())
                .any(|g| allowed.iter().any(|a| a == g))
        });
    if member {
        Ok(())
    } else {
        Err(Refusal::forbidden(
            "you are not a member of a group allowed to use this server; ask your \
             administrator for access",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: serde_json::Value) -> Claims {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn allow_list() {
        let allowed = vec!["g1".to_string(), "g2".to_string()];
        assert!(check(&claims(json!({})), &[]).is_ok());
        assert!(check(&claims(json!({"groups": ["x", "g2"]})), &allowed).is_ok());
        assert!(check(&claims(json!({"groups": ["x"]})), &allowed).is_err());
        assert!(check(&claims(json!({})), &allowed).is_err());
        assert!(check(&claims(json!({"groups": "g1"})), &allowed).is_err());
        let overage = json!({"groups": ["g1"], "_claim_names": {"groups": "src1"}});
        assert!(check(&claims(overage), &allowed).is_err());
    }
}
