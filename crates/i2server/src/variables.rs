//! Every environment variable i2server reads, in one list, with who reads it and what a
//! cloud deployment must do with it. The Azure templates (`deploy/azure/`) are checked
//! against this list by `tests/deploy_templates.rs`, and that test also scans the sources
//! for variable names missing from it, so a new setting cannot be forgotten by the
//! templates.

/// Which process reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// `i2server serve` (the API replica).
    Server,
    /// `i2server worker` (and the runner it starts).
    Worker,
    Both,
}

/// What a cloud deployment (PostgreSQL, shared projects directory, authenticated API) must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deploy {
    /// Must be set (a plain value).
    Required,
    /// Must be set, from the secret store (a Key Vault reference, never a literal value).
    Secret,
    /// May be set; when set it must come from the secret store.
    OptionalSecret,
    /// May be set.
    Optional,
}

#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub reader: Reader,
    pub deploy: Deploy,
    pub meaning: &'static str,
}

impl Variable {
    /// Whether the process `reader` reads this variable.
    pub fn read_by(&self, reader: Reader) -> bool {
        self.reader == Reader::Both || self.reader == reader
    }
}

const fn v(name: &'static str, reader: Reader, deploy: Deploy, meaning: &'static str) -> Variable {
    Variable {
        name,
        reader,
        deploy,
        meaning,
    }
}

use Deploy::*;
use Reader::*;

pub const VARIABLES: &[Variable] = &[
    // Database: the parts, so that only the password is a secret.
    v("DB_HOST", Both, Required, "PostgreSQL host"),
    v("DB_PORT", Both, Optional, "PostgreSQL port (5432)"),
    v("DB_USER", Both, Required, "PostgreSQL user"),
    v("DB_NAME", Both, Required, "PostgreSQL database"),
    v(
        "DB_SSL_MODE",
        Both,
        Required,
        "PostgreSQL sslmode (require on Azure)",
    ),
    v("DB_PASSWORD", Both, Secret, "PostgreSQL password"),
    v(
        "DATABASE_URL",
        Both,
        OptionalSecret,
        "whole database URL (holds the password, so a secret)",
    ),
    v(
        "CCP4I2_DB_FILE",
        Both,
        Optional,
        "SQLite file (desktop only)",
    ),
    // Files.
    v(
        "CCP4I2_HOME",
        Both,
        Required,
        "home for preferences and the task class cache",
    ),
    v(
        "CCP4I2_PROJECTS_DIR",
        Both,
        Required,
        "project directories: the shared Azure Files mount",
    ),
    v(
        "CCP4I2_ROOT",
        Server,
        Required,
        "the installed ccp4i2 package (task catalogue)",
    ),
    // HTTP.
    v(
        "I2SERVER_HOST",
        Server,
        Required,
        "listen address (0.0.0.0 in a container)",
    ),
    v("I2SERVER_PORT", Server, Required, "listen port"),
    v(
        "ALLOWED_HOSTS",
        Server,
        Optional,
        "accepted Host names (comma list)",
    ),
    v(
        "CORS_ALLOWED_ORIGINS",
        Server,
        Optional,
        "browser origins (comma list)",
    ),
    v(
        "DATA_UPLOAD_MAX_MEMORY_SIZE",
        Server,
        Optional,
        "largest request body in bytes",
    ),
    v("BUILD_TIMESTAMP", Server, Optional, "reported by /version/"),
    v("GIT_COMMIT", Server, Optional, "reported by /version/"),
    v(
        "SECRET_KEY",
        Server,
        OptionalSecret,
        "accepted for compatibility with upstream settings",
    ),
    // Authentication (upstream's names; see the authentication middleware).
    v(
        "CCP4I2_REQUIRE_AUTH",
        Server,
        Required,
        "true: Entra ID bearer tokens required",
    ),
    v("AZURE_AD_TENANT_ID", Server, Required, "Entra ID tenant"),
    v(
        "AZURE_AD_CLIENT_ID",
        Server,
        Required,
        "Entra ID application (token audience)",
    ),
    v(
        "ALLOWED_AZURE_AD_GROUPS",
        Server,
        Optional,
        "group object ids allowed in (comma list)",
    ),
    v(
        "CCP4I2_LOCAL_SESSION_TOKEN",
        Server,
        OptionalSecret,
        "a fixed bearer token (desktop, rehearsal, automation)",
    ),
    v(
        "CCP4I2_LOCAL_USER_EMAIL",
        Server,
        Optional,
        "the user a session token stands for",
    ),
    v(
        "I2SERVER_AUTH_JWKS_URL",
        Server,
        Optional,
        "Entra ID signing keys URL instead of the tenant's (tests, sovereign clouds)",
    ),
    v(
        "I2SERVER_AUTH_ISSUER",
        Server,
        Optional,
        "Entra ID token issuer instead of the tenant's v2 issuer",
    ),
    v(
        "I2SERVER_DEV_MODE",
        Server,
        Optional,
        "1: acknowledge development mode (no authentication; loopback only; never deployed)",
    ),
    // Jobs.
    v(
        "I2SERVER_WORKERS",
        Both,
        Required,
        "job workers per process (0 on API replicas)",
    ),
    v(
        "CCP4I2_PYTHON",
        Worker,
        Required,
        "the Python that runs upstream's runner",
    ),
    v(
        "CCP4",
        Both,
        Optional,
        "the CCP4 suite (runner, doctor; its monomer library for run-time validation and monomer-info/)",
    ),
    v(
        "CLIBD_MON",
        Both,
        Optional,
        "monomer library: run-time validation reads it, the runner passes it on",
    ),
    v("I2SERVER_LEASE_SECS", Worker, Optional, "job lease length"),
    v(
        "I2SERVER_POLL_SECS",
        Worker,
        Optional,
        "idle poll interval (PostgreSQL wakes workers by NOTIFY)",
    ),
    v(
        "I2SERVER_TASK_LIMITS",
        Worker,
        Optional,
        "per-task wall-time and memory limits (JSON or a file path)",
    ),
    v(
        "I2SERVER_SHUTDOWN_GRACE_SECS",
        Worker,
        Optional,
        "time a running job may finish on SIGTERM",
    ),
    v(
        "I2SERVER_RUNNER_COMMAND",
        Worker,
        Optional,
        "a command run instead of the upstream runner",
    ),
    // Logs.
    v("I2SERVER_LOG", Both, Optional, "log filter"),
    v(
        "I2SERVER_LOG_FORMAT",
        Both,
        Required,
        "json: one JSON object per log line (for Log Analytics)",
    ),
];

/// Names that look like settings in the sources but are not read as configuration.
pub const NOT_CONFIGURATION: &[(&str, &str)] = &[
    (
        "I2SERVER_JOB_UUID",
        "set by workers on the runner, to find a job's processes",
    ),
    (
        "I2SERVER_DONE_FD",
        "set by workers on the runner: its standard input is the channel on which it announces its end",
    ),
    (
        "CCP4I2_TOP",
        "a def.xml placeholder, not an environment variable",
    ),
    ("CLIBD", "passed through to the runner from the CCP4 setup"),
];

/// The variable called `name`, if i2server reads it.
pub fn find(name: &str) -> Option<&'static Variable> {
    VARIABLES.iter().find(|v| v.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        for (i, a) in VARIABLES.iter().enumerate() {
            assert!(
                VARIABLES[i + 1..].iter().all(|b| b.name != a.name),
                "{} listed twice",
                a.name
            );
        }
    }

    #[test]
    fn the_password_is_secret() {
        assert_eq!(find("DB_PASSWORD").map(|v| v.deploy), Some(Deploy::Secret));
        assert!(find("NOT_A_SETTING").is_none());
    }
}
