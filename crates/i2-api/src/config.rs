//! Settings the API needs, resolved by the binary from the environment.

use std::path::PathBuf;

use crate::auth::AuthConfig;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `CCP4I2_PROJECTS_DIR`: where `__default__` project directories go.
    pub projects_dir: PathBuf,
    /// `BUILD_TIMESTAMP` (upstream answers "dev" when unset).
    pub build_timestamp: String,
    /// `GIT_COMMIT` (upstream answers "unknown" when unset).
    pub git_commit: String,
    /// `CORS_ALLOWED_ORIGINS`; `None` allows any origin (upstream's development default).
    pub cors_allowed_origins: Option<Vec<String>>,
    /// Largest accepted request body (upstream: `DATA_UPLOAD_MAX_MEMORY_SIZE`, 100 MiB).
    pub max_body_bytes: usize,
    /// Recorded as `creation_user` / `creation_host` of new projects.
    pub user: String,
    pub host: String,
    /// Who may call: resolved by the binary, which refuses an open server off loopback.
    pub auth: AuthConfig,
    /// `CCP4`: the CCP4 suite, whose monomer library `monomer-info/` reads.
    pub ccp4: Option<PathBuf>,
}

impl ApiConfig {
    /// Defaults for tests and embedding: everything under `projects_dir`, development-mode
    /// authentication (callers must bind to loopback or set [`ApiConfig::auth`]).
    pub fn for_projects_dir(projects_dir: PathBuf) -> Self {
        ApiConfig {
            projects_dir,
            build_timestamp: "dev".into(),
            git_commit: "unknown".into(),
            cors_allowed_origins: None,
            max_body_bytes: 100 * 1024 * 1024,
            user: "unknown".into(),
            host: "localhost".into(),
            auth: AuthConfig::Development,
            ccp4: None,
        }
    }
}
