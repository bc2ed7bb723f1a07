//! Recording who called in Django's `auth_user`, as upstream's middleware does, so a
//! database shared with upstream sees the same users. Each identity is written once per
//! process (and again only when its claims change), not on every request.

use std::collections::HashSet;
use std::sync::Mutex;

use i2_store::{Arg, Conn, Db, Kind, StoreError};

use super::jwt::Claims;

/// Who a request is, once authenticated; available to handlers as a request extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser {
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// Desktop and development users are superusers, as upstream makes them.
    pub superuser: bool,
}

/// Which of upstream's three get-or-create rules applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// By the username derived from `sub`; email and names follow the token.
    Entra,
    /// By email; an existing row is left as it is.
    Desktop,
    /// By username `dev_admin`; an existing row is made staff and superuser.
    Development,
}

pub const DEV_ADMIN_USERNAME: &str = "dev_admin";

impl AuthUser {
    /// The development-mode user (upstream's `dev_admin`).
    pub fn dev_admin() -> Self {
        AuthUser {
            username: DEV_ADMIN_USERNAME.into(),
            email: "dev_admin@localhost".into(),
            first_name: "Dev".into(),
            last_name: "Admin".into(),
            superuser: true,
        }
    }

    /// The desktop user: the part before `@` is the username of a new row.
    pub fn desktop(email: &str) -> Self {
        AuthUser {
            username: email.split('@').next().unwrap_or(email).to_string(),
            email: email.to_string(),
            first_name: String::new(),
            last_name: String::new(),
            superuser: true,
        }
    }

    /// An Entra user, mapped from the token as upstream maps it: username from `sub`;
    /// email from the first of `email`, `preferred_username`, `upn`, `unique_name`, the
    /// client's `X-User-Email` header, or a placeholder; names from `given_name` and
    /// `family_name`, else `name` split at the first space.
    pub fn from_claims(claims: &Claims, sub: &str, header_email: Option<&str>) -> Self {
        let text = |k: &str| {
            claims
                .get(k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let email = ["email", "preferred_username", "upn", "unique_name"]
            .iter()
            .find_map(|k| text(k))
            .or_else(|| header_email.filter(|e| !e.is_empty()).map(str::to_string))
            .unwrap_or_else(|| format!("user_{}@azuread.local", prefix(sub, 8)));
        let mut first_name = text("given_name").unwrap_or_default();
        let mut last_name = text("family_name").unwrap_or_default();
        if first_name.is_empty()
            && last_name.is_empty()
            && let Some(name) = text("name")
        {
            let mut parts = name.split_whitespace();
            first_name = parts.next().unwrap_or_default().to_string();
            last_name = parts.collect::<Vec<_>>().join(" ");
        }
        AuthUser {
            username: format!("aad_{}", prefix(sub, 32)),
            email: email.to_lowercase(),
            first_name,
            last_name,
            superuser: false,
        }
    }
}

/// The first `n` characters (not bytes).
fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

pub struct Users {
    db: Db,
    recorded: Mutex<HashSet<(String, String, String, String)>>,
}

/// Forget everything past this many identities (a bound, not a tuning knob).
const MAX_REMEMBERED: usize = 10_000;

impl Users {
    pub fn new(db: Db) -> Self {
        Users {
            db,
            recorded: Mutex::new(HashSet::new()),
        }
    }

    fn key(u: &AuthUser) -> (String, String, String, String) {
        (
            u.username.clone(),
            u.email.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
        )
    }

    fn seen(&self, u: &AuthUser) -> bool {
        match self.recorded.lock() {
            Ok(g) => g.contains(&Self::key(u)),
            Err(p) => p.into_inner().contains(&Self::key(u)),
        }
    }

    fn remember(&self, u: &AuthUser) {
        let mut g = match self.recorded.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if g.len() >= MAX_REMEMBERED {
            g.clear();
        }
        g.insert(Self::key(u));
    }

    /// Make sure `user` has its `auth_user` row (get-or-create, then bring email and
    /// names up to date as upstream does).
    pub async fn record(&self, user: &AuthUser, lookup: Lookup) -> Result<(), StoreError> {
        if self.seen(user) {
            return Ok(());
        }
        let mut db = self.db.clone();
        let (column, value) = match lookup {
            Lookup::Entra | Lookup::Development => ("username", &user.username),
            Lookup::Desktop => ("email", &user.email),
        };
        let sql = format!(
            "SELECT id, email, first_name, last_name, is_staff, is_superuser FROM auth_user \
             WHERE {column} = $1 ORDER BY id LIMIT 1"
        );
        let kinds = [
            Kind::Int,
            Kind::Text,
            Kind::Text,
            Kind::Text,
            Kind::Bool,
            Kind::Bool,
        ];
        let rows = db
            .fetch_cells(&sql, vec![Arg::Text(value.clone())], &kinds)
            .await?;
        match rows.first() {
            None => self.create(&mut db, user).await?,
            Some(row) => self.update(&mut db, user, lookup, row).await?,
        }
        self.remember(user);
        Ok(())
    }

    async fn create(&self, db: &mut Db, u: &AuthUser) -> Result<(), StoreError> {
        // Another replica may create the same user at the same moment: first one wins.
        db.execute(
            "INSERT INTO auth_user (password, last_login, is_superuser, username, first_name, \
             last_name, email, is_staff, is_active, date_joined) \
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (username) DO NOTHING",
            vec![
                Arg::Text(String::new()),
                Arg::Bool(u.superuser),
                Arg::Text(u.username.clone()),
                Arg::Text(u.first_name.clone()),
                Arg::Text(u.last_name.clone()),
                Arg::Text(u.email.clone()),
                Arg::Bool(u.superuser),
                Arg::Bool(true),
                Arg::Time(i2_core::time::now()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn update(
        &self,
        db: &mut Db,
        u: &AuthUser,
        lookup: Lookup,
        row: &[i2_store::cells::Cell],
    ) -> Result<(), StoreError> {
        use i2_store::cells::Cell;
        let id = row.first().and_then(Cell::as_i64).unwrap_or_default();
        let text = |i: usize| {
            row.get(i)
                .and_then(Cell::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let flag = |i: usize| matches!(row.get(i), Some(Cell::Bool(true)));
        let (mut email, mut first, mut last) = (text(1), text(2), text(3));
        let mut changed = false;
        if lookup == Lookup::Entra {
            if email != u.email {
                email = u.email.clone();
                changed = true;
            }
            if !u.first_name.is_empty() && first != u.first_name {
                first = u.first_name.clone();
                changed = true;
            }
            if !u.last_name.is_empty() && last != u.last_name {
                last = u.last_name.clone();
                changed = true;
            }
        }
        // Upstream tops up dev_admin's flags when an older row lacks them.
        let promote = lookup == Lookup::Development && !(flag(4) && flag(5));
        if changed || promote {
            db.execute(
                "UPDATE auth_user SET email = $1, first_name = $2, last_name = $3, \
                 is_staff = $4, is_superuser = $5 WHERE id = $6",
                vec![
                    Arg::Text(email),
                    Arg::Text(first),
                    Arg::Text(last),
                    Arg::Bool(flag(4) || promote),
                    Arg::Bool(flag(5) || promote),
                    Arg::Int(id),
                ],
            )
            .await?;
        }
        Ok(())
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
    fn claims_map_as_upstream() {
        let sub = "0123456789abcdef0123456789abcdefXYZ";
        let u = AuthUser::from_claims(
            &claims(json!({"preferred_username": "Ann@Lab.org", "name": "Ann Marie Smith"})),
            sub,
            None,
        );
        assert_eq!(u.username, "aad_0123456789abcdef0123456789abcdef");
        assert_eq!(u.email, "ann@lab.org");
        assert_eq!(
            (u.first_name.as_str(), u.last_name.as_str()),
            ("Ann", "Marie Smith")
        );
        let u = AuthUser::from_claims(
            &claims(json!({"upn": "x@y", "given_name": "G", "name": "N M"})),
            sub,
            Some("h@z"),
        );
        assert_eq!(
            (
                u.email.as_str(),
                u.first_name.as_str(),
                u.last_name.as_str()
            ),
            ("x@y", "G", "")
        );
        let u = AuthUser::from_claims(&claims(json!({})), sub, Some("H@Z"));
        assert_eq!(u.email, "h@z");
        let u = AuthUser::from_claims(&claims(json!({})), sub, None);
        assert_eq!(u.email, "user_01234567@azuread.local");
        assert_eq!(AuthUser::desktop("me@host.invalid").username, "me");
    }
}
