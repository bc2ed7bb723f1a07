//! Configuration from the environment, with upstream's names and precedence:
//! environment variable > `$CCP4I2_HOME/preferences.json` > default.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CCP4I2_HOME` | home for the SQLite database and preferences | `~/.ccp4i2` |
//! | `DATABASE_URL` | `sqlite:///path` or `postgresql://user:pass@host:port/db?sslmode=…` | see below |
//! | `DB_HOST`, `DB_PORT`, `DB_USER`, `DB_PASSWORD`, `DB_NAME`, `DB_SSL_MODE` | PostgreSQL parts, used when `DATABASE_URL` is unset | port 5432, db `postgres`, sslmode `require` |
//! | `CCP4I2_DB_FILE` | SQLite file when neither of the above is set | `$CCP4I2_HOME/db.sqlite3` |
//! | `CCP4I2_PROJECTS_DIR` | project directories | `$CCP4I2_HOME/CCP4X_PROJECTS` |
//! | `SECRET_KEY` | accepted for compatibility (i2server signs nothing with it) | |
//! | `ALLOWED_HOSTS` | comma list of accepted `Host` names; `*` or unset accepts any | unset |
//! | `CORS_ALLOWED_ORIGINS` | comma list of browser origins; unset allows any | unset |
//! | `DATA_UPLOAD_MAX_MEMORY_SIZE` | largest request body in bytes (`a*b` accepted) | 104857600 |
//! | `BUILD_TIMESTAMP`, `GIT_COMMIT` | reported by `/version/` | `dev`, `unknown` |
//! | `CCP4I2_LOCAL_SESSION_TOKEN`, `CCP4I2_LOCAL_USER_EMAIL` | desktop: every request needs `Authorization: Bearer <token>` | unset, `desktop@ccp4i2.invalid` |
//! | `CCP4I2_REQUIRE_AUTH` | `true`: Entra ID bearer tokens, with `AZURE_AD_TENANT_ID`, `AZURE_AD_CLIENT_ID` and optional `ALLOWED_AZURE_AD_GROUPS` | unset |
//! | `I2SERVER_AUTH_JWKS_URL`, `I2SERVER_AUTH_ISSUER` | override the tenant's key set URL and issuer (tests, sovereign clouds) | the tenant's |
//! | `I2SERVER_DEV_MODE` | `1` acknowledges development mode (no authentication; loopback only) | unset |
//!
//! Authentication follows upstream's modes: the session token if set, Entra ID if required
//! (both together: either credential is accepted), else development mode, which `serve`
//! allows only when every address it binds is loopback.
//!
//! A wrong value stops start-up with one line naming the setting and the problem.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use i2_api::ApiConfig;
use i2_api::auth::{AuthConfig, EntraConfig, config::DEFAULT_DESKTOP_EMAIL};
use i2_store::DbTarget;

/// Everything `serve` and `migrate` need.
#[derive(Debug, Clone)]
pub struct Settings {
    pub home: PathBuf,
    pub database: DbTarget,
    pub api: ApiConfig,
    pub allowed_hosts: Option<Vec<String>>,
    /// `I2SERVER_DEV_MODE`: development mode acknowledged.
    pub dev_mode: bool,
}

/// A configuration error: which setting, and why.
#[derive(Debug)]
pub struct ConfigError(pub String);

type Env = HashMap<String, String>;

fn get<'a>(env: &'a Env, k: &str) -> Option<&'a str> {
    env.get(k)
        .map(String::as_str)
        .filter(|v| !v.trim().is_empty())
}

fn list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `104857600` or `100*1024*1024`.
fn size_expr(name: &str, v: &str) -> Result<usize, ConfigError> {
    v.split('*')
        .map(|p| p.trim().parse::<usize>())
        .try_fold(1usize, |acc, n| n.ok().and_then(|n| acc.checked_mul(n)))
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            ConfigError(format!(
                "{name}={v:?} is not a positive byte count (e.g. 104857600 or 100*1024*1024)"
            ))
        })
}

fn home_dir(env: &Env) -> PathBuf {
    if let Some(h) = get(env, "CCP4I2_HOME") {
        return PathBuf::from(h);
    }
    let user_home = get(env, "HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    user_home.join(".ccp4i2")
}

fn preferences(home: &Path) -> Result<serde_json::Map<String, serde_json::Value>, ConfigError> {
    let path = home.join("preferences.json");
    match std::fs::read_to_string(&path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => Ok(m),
            Ok(_) => Err(ConfigError(format!(
                "{} must hold a JSON object",
                path.display()
            ))),
            Err(e) => Err(ConfigError(format!(
                "{} is not valid JSON: {e}",
                path.display()
            ))),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
        Err(e) => Err(ConfigError(format!("cannot read {}: {e}", path.display()))),
    }
}

fn pref(prefs: &serde_json::Map<String, serde_json::Value>, k: &str) -> Option<String> {
    prefs
        .get(k)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// URL-encode a user, password or database name, leaving RFC 3986's unreserved characters
/// alone: upstream's runner reads the database name from the URL without decoding it, so
/// `my_db` must stay `my_db` (not `my%5Fdb`).
fn encode(s: &str) -> String {
    const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

fn database(
    env: &Env,
    home: &Path,
    prefs: &serde_json::Map<String, serde_json::Value>,
) -> Result<DbTarget, ConfigError> {
    let url = get(env, "DATABASE_URL")
        .map(str::to_string)
        .or_else(|| pref(prefs, "database"));
    if let Some(url) = url {
        return DbTarget::parse(&url).map_err(ConfigError);
    }
    if let Some(host) = get(env, "DB_HOST") {
        let port = get(env, "DB_PORT").unwrap_or("5432");
        if port.parse::<u16>().is_err() {
            return Err(ConfigError(format!(
                "DB_PORT={port:?} is not a port number"
            )));
        }
        let user = get(env, "DB_USER")
            .ok_or_else(|| ConfigError("DB_HOST is set but DB_USER is not".into()))?;
        let name = get(env, "DB_NAME").unwrap_or("postgres");
        let ssl = get(env, "DB_SSL_MODE").unwrap_or("require");
        let auth = match get(env, "DB_PASSWORD") {
            Some(p) => format!("{}:{}", encode(user), encode(p)),
            None => encode(user),
        };
        let url = format!(
            "postgresql://{auth}@{host}:{port}/{}?sslmode={ssl}",
            encode(name)
        );
        return DbTarget::parse(&url).map_err(ConfigError);
    }
    let file = get(env, "CCP4I2_DB_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| home.join("db.sqlite3"));
    Ok(DbTarget::Sqlite(file))
}

impl Settings {
    pub fn from_env(env: &Env) -> Result<Settings, ConfigError> {
        let home = home_dir(env);
        let prefs = preferences(&home)?;
        let database = database(env, &home, &prefs)?;
        let projects_dir = get(env, "CCP4I2_PROJECTS_DIR")
            .map(PathBuf::from)
            .or_else(|| pref(&prefs, "projectsDir").map(PathBuf::from))
            .unwrap_or_else(|| home.join("CCP4X_PROJECTS"));
        let max_body_bytes = match get(env, "DATA_UPLOAD_MAX_MEMORY_SIZE") {
            Some(v) => size_expr("DATA_UPLOAD_MAX_MEMORY_SIZE", v)?,
            None => 100 * 1024 * 1024,
        };
        let cors = get(env, "CORS_ALLOWED_ORIGINS").map(list);
        if let Some(origins) = &cors
            && let Some(bad) = origins
                .iter()
                .find(|o| !(o.starts_with("http://") || o.starts_with("https://")))
        {
            return Err(ConfigError(format!(
                "CORS_ALLOWED_ORIGINS entry {bad:?} is not an origin like https://host[:port]"
            )));
        }
        let allowed_hosts = get(env, "ALLOWED_HOSTS")
            .map(list)
            .filter(|l| !l.iter().any(|h| h == "*"));
        let user = ["LOGNAME", "USER", "LNAME", "USERNAME"]
            .iter()
            .find_map(|k| get(env, k).map(str::to_string))
            .or_else(current_user_name)
            .unwrap_or_else(|| "unknown".into());
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .or_else(|| get(env, "HOSTNAME").map(str::to_string))
            .unwrap_or_else(|| "localhost".into());
        let api = ApiConfig {
            projects_dir,
            build_timestamp: get(env, "BUILD_TIMESTAMP").unwrap_or("dev").to_string(),
            git_commit: get(env, "GIT_COMMIT").unwrap_or("unknown").to_string(),
            cors_allowed_origins: cors,
            max_body_bytes,
            user,
            host,
            auth: auth(env)?,
            ccp4: get(env, "CCP4")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        };
        let dev_mode = match get(env, "I2SERVER_DEV_MODE") {
            Some(v) => flag("I2SERVER_DEV_MODE", v)?,
            None => false,
        };
        Ok(Settings {
            home,
            database,
            api,
            allowed_hosts,
            dev_mode,
        })
    }

    /// Create the directories the defaults point at.
    pub fn prepare_dirs(&self) -> Result<(), ConfigError> {
        std::fs::create_dir_all(&self.api.projects_dir).map_err(|e| {
            ConfigError(format!(
                "CCP4I2_PROJECTS_DIR {} cannot be created: {e}",
                self.api.projects_dir.display()
            ))
        })?;
        let probe = self.api.projects_dir.join(".i2server-write-test");
        std::fs::write(&probe, b"ok")
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| {
                ConfigError(format!(
                    "CCP4I2_PROJECTS_DIR {} is not writable: {e}",
                    self.api.projects_dir.display()
                ))
            })?;
        Ok(())
    }
}

/// `true`/`1`/`yes` or `false`/`0`/`no` (any case); anything else is refused rather
/// than guessed, so a typo cannot switch authentication off.
fn flag(name: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(ConfigError(format!("{name}={v:?} is not true or false"))),
    }
}

/// A loopback `http://` URL (a test's key server); everything else must be https.
fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Upstream's variables to one authentication mode.
fn auth(env: &Env) -> Result<AuthConfig, ConfigError> {
    let session = match env.get("CCP4I2_LOCAL_SESSION_TOKEN") {
        Some(token) if token.trim().is_empty() => {
            return Err(ConfigError(
                "CCP4I2_LOCAL_SESSION_TOKEN is set but empty; set the launch secret or unset it"
                    .into(),
            ));
        }
        Some(token) => Some((
            token.clone(),
            get(env, "CCP4I2_LOCAL_USER_EMAIL")
                .unwrap_or(DEFAULT_DESKTOP_EMAIL)
                .to_string(),
        )),
        None => None,
    };
    let required = match get(env, "CCP4I2_REQUIRE_AUTH") {
        Some(v) => flag("CCP4I2_REQUIRE_AUTH", v)?,
        None => false,
    };
    if !required {
        return Ok(match session {
            Some((token, email)) => AuthConfig::LocalToken { token, email },
            None => AuthConfig::Development,
        });
    }
    let entra = entra(env)?;
    Ok(match session {
        Some((token, email)) => AuthConfig::EntraAndLocalToken {
            entra,
            token,
            email,
        },
        None => AuthConfig::Entra(entra),
    })
}

/// `AZURE_AD_*` and the overrides, for `CCP4I2_REQUIRE_AUTH=true`.
fn entra(env: &Env) -> Result<EntraConfig, ConfigError> {
    let need = |k: &str| {
        get(env, k).map(str::trim).ok_or_else(|| {
            ConfigError(format!(
                "CCP4I2_REQUIRE_AUTH=true needs {k} (the app registration's tenant and client ids)"
            ))
        })
    };
    let tenant = need("AZURE_AD_TENANT_ID")?;
    let client = need("AZURE_AD_CLIENT_ID")?;
    if !tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(ConfigError(format!(
            "AZURE_AD_TENANT_ID={tenant:?} is not a tenant id or domain"
        )));
    }
    let mut entra = EntraConfig::for_tenant(tenant, client);
    entra.allowed_groups = get(env, "ALLOWED_AZURE_AD_GROUPS")
        .map(list)
        .unwrap_or_default();
    if let Some(url) = get(env, "I2SERVER_AUTH_JWKS_URL") {
        if !(url.starts_with("https://") || is_loopback_http(url)) {
            return Err(ConfigError(format!(
                "I2SERVER_AUTH_JWKS_URL={url:?} must be https:// (http:// only to loopback)"
            )));
        }
        entra.jwks_url = url.to_string();
    }
    if let Some(issuer) = get(env, "I2SERVER_AUTH_ISSUER") {
        entra.issuer = issuer.to_string();
    }
    Ok(entra)
}

/// Development mode serves everyone as an administrator: allowed only when every
/// address `host` resolves to is loopback. Other modes may bind anywhere.
pub fn check_bind(
    auth: &AuthConfig,
    dev_flag: bool,
    host: &str,
    port: u16,
) -> Result<(), ConfigError> {
    if !auth.is_development() {
        if dev_flag {
            return Err(ConfigError(format!(
                "--dev / I2SERVER_DEV_MODE asks for development mode, but {} is configured; remove one",
                auth.mode_name()
            )));
        }
        return Ok(());
    }
    use std::net::ToSocketAddrs;
    let addrs: Vec<std::net::SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| ConfigError(format!("--host {host:?} cannot be resolved: {e}")))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !a.ip().is_loopback()) {
        return Err(ConfigError(format!(
            "no authentication is configured and --host {host} is not a loopback address: set \
             CCP4I2_REQUIRE_AUTH=true with AZURE_AD_TENANT_ID and AZURE_AD_CLIENT_ID (Entra ID) or \
             CCP4I2_LOCAL_SESSION_TOKEN (desktop), or serve on --host 127.0.0.1"
        )));
    }
    Ok(())
}

/// The login name of this process's user, as `getpass.getuser()` finds it without env.
fn current_user_name() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_string();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid).then(|| f[0].to_string())
    })
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_live_under_home() {
        let s = Settings::from_env(&env(&[("HOME", "/h")])).expect("ok");
        assert_eq!(
            s.database,
            DbTarget::Sqlite(PathBuf::from("/h/.ccp4i2/db.sqlite3"))
        );
        assert_eq!(
            s.api.projects_dir,
            PathBuf::from("/h/.ccp4i2/CCP4X_PROJECTS")
        );
        assert_eq!(s.api.build_timestamp, "dev");
    }

    #[test]
    fn precedence_env_over_defaults() {
        let s = Settings::from_env(&env(&[
            ("CCP4I2_HOME", "/x"),
            ("CCP4I2_DB_FILE", "/d/db.sqlite3"),
            ("CCP4I2_PROJECTS_DIR", "/p"),
        ]))
        .expect("ok");
        assert_eq!(s.database, DbTarget::Sqlite(PathBuf::from("/d/db.sqlite3")));
        assert_eq!(s.api.projects_dir, PathBuf::from("/p"));
        let s = Settings::from_env(&env(&[
            ("DATABASE_URL", "sqlite:///tmp/a.db"),
            ("CCP4I2_DB_FILE", "/d/db"),
        ]))
        .expect("ok");
        assert_eq!(s.database, DbTarget::Sqlite(PathBuf::from("/tmp/a.db")));
    }

    #[test]
    fn db_parts_build_a_postgres_url() {
        let s = Settings::from_env(&env(&[
            ("DB_HOST", "db.example"),
            ("DB_USER", "u@x"),
            ("DB_PASSWORD", "p/w:1"),
            ("DB_NAME", "my_db-1.x~"),
        ]))
        .expect("ok");
        match s.database {
            DbTarget::Postgres(u) => {
                assert!(
                    u.starts_with(
                        "postgresql://u%40x:p%2Fw%3A1@db.example:5432/my_db-1.x~?sslmode=require"
                    ),
                    "{u}"
                );
            }
            other => panic!("expected postgres, got {other:?}"),
        }
    }

    #[test]
    fn bad_settings_say_which_and_why() {
        let e = Settings::from_env(&env(&[("DATABASE_URL", "mysql://x")])).expect_err("refused");
        assert!(
            e.0.contains("DATABASE_URL") && e.0.contains("mysql"),
            "{}",
            e.0
        );
        let e = Settings::from_env(&env(&[
            ("DB_HOST", "h"),
            ("DB_USER", "u"),
            ("DB_PORT", "abc"),
        ]))
        .expect_err("refused");
        assert!(e.0.contains("DB_PORT"), "{}", e.0);
        let e = Settings::from_env(&env(&[("DATA_UPLOAD_MAX_MEMORY_SIZE", "lots")]))
            .expect_err("refused");
        assert!(e.0.contains("DATA_UPLOAD_MAX_MEMORY_SIZE"), "{}", e.0);
        let e = Settings::from_env(&env(&[("CORS_ALLOWED_ORIGINS", "example.com")]))
            .expect_err("refused");
        assert!(e.0.contains("CORS_ALLOWED_ORIGINS"), "{}", e.0);
        assert_eq!(size_expr("X", "100*1024").ok(), Some(102400));
    }

    #[test]
    fn authentication_modes() {
        let s = Settings::from_env(&env(&[])).expect("ok");
        assert!(s.api.auth.is_development());
        let s = Settings::from_env(&env(&[("CCP4I2_LOCAL_SESSION_TOKEN", "t0k")])).expect("ok");
        match &s.api.auth {
            AuthConfig::LocalToken { token, email } => {
                assert_eq!(
                    (token.as_str(), email.as_str()),
                    ("t0k", DEFAULT_DESKTOP_EMAIL)
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(!format!("{:?}", s.api.auth).contains("t0k"));
        let s = Settings::from_env(&env(&[
            ("CCP4I2_REQUIRE_AUTH", "True"),
            ("AZURE_AD_TENANT_ID", "tid"),
            ("AZURE_AD_CLIENT_ID", "cid"),
            ("ALLOWED_AZURE_AD_GROUPS", "g1, g2"),
        ]))
        .expect("ok");
        match &s.api.auth {
            AuthConfig::Entra(e) => {
                assert_eq!(e.issuer, "https://login.microsoftonline.com/tid/v2.0");
                assert_eq!(e.client_id, "cid");
                assert_eq!(e.allowed_groups, vec!["g1", "g2"]);
                assert!(
                    e.jwks_url
                        .starts_with("https://login.microsoftonline.com/tid/")
                );
            }
            other => panic!("{other:?}"),
        }
        let s = Settings::from_env(&env(&[
            ("CCP4I2_REQUIRE_AUTH", "yes"),
            ("AZURE_AD_TENANT_ID", "tid"),
            ("AZURE_AD_CLIENT_ID", "cid"),
            ("CCP4I2_LOCAL_SESSION_TOKEN", "automation"),
        ]))
        .expect("ok");
        assert!(
            matches!(&s.api.auth, AuthConfig::EntraAndLocalToken { token, .. } if token == "automation")
        );
        assert!(!format!("{:?}", s.api.auth).contains("automation"));
        for (pairs, needle) in [
            (vec![("CCP4I2_REQUIRE_AUTH", "true")], "AZURE_AD_TENANT_ID"),
            (
                vec![("CCP4I2_REQUIRE_AUTH", "true"), ("AZURE_AD_TENANT_ID", "t")],
                "AZURE_AD_CLIENT_ID",
            ),
            (vec![("CCP4I2_REQUIRE_AUTH", "ture")], "CCP4I2_REQUIRE_AUTH"),
            (
                vec![("CCP4I2_LOCAL_SESSION_TOKEN", "")],
                "CCP4I2_LOCAL_SESSION_TOKEN",
            ),
            (vec![("I2SERVER_DEV_MODE", "maybe")], "I2SERVER_DEV_MODE"),
            (
                vec![
                    ("CCP4I2_REQUIRE_AUTH", "1"),
                    ("AZURE_AD_TENANT_ID", "t"),
                    ("AZURE_AD_CLIENT_ID", "c"),
                    ("I2SERVER_AUTH_JWKS_URL", "http://example.com/keys"),
                ],
                "I2SERVER_AUTH_JWKS_URL",
            ),
        ] {
            let e = Settings::from_env(&env(&pairs)).expect_err("refused");
            assert!(e.0.contains(needle), "{}", e.0);
        }
        assert!(is_loopback_http("http://127.0.0.1:9/k"));
        assert!(is_loopback_http("http://[::1]:9/k"));
        assert!(!is_loopback_http("http://10.0.0.1/k"));
    }

    #[test]
    fn development_mode_binds_to_loopback_only() {
        let dev = AuthConfig::Development;
        assert!(check_bind(&dev, false, "127.0.0.1", 0).is_ok());
        assert!(check_bind(&dev, true, "::1", 0).is_ok());
        assert!(check_bind(&dev, false, "localhost", 0).is_ok());
        for host in ["0.0.0.0", "::", "192.168.1.10"] {
            let e = check_bind(&dev, false, host, 0).expect_err("refused");
            assert!(e.0.contains("CCP4I2_REQUIRE_AUTH"), "{}", e.0);
        }
        let local = AuthConfig::LocalToken {
            token: "t".into(),
            email: "e".into(),
        };
        assert!(check_bind(&local, false, "0.0.0.0", 0).is_ok());
        assert!(check_bind(&local, true, "127.0.0.1", 0).is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = Settings::from_env(&env(&[("DATABASE_URL", "postgresql://u:hunter2@h/db")]))
            .expect("ok");
        assert!(!format!("{:?}", s.database).contains("hunter2"));
    }
}
