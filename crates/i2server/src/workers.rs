//! Starting job workers, in `serve` (embedded) or in `worker` (separate processes).
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `CCP4I2_PYTHON` | the Python that runs upstream's runner | `ccp4-python` on `PATH`, else `python3` |
//! | `I2SERVER_RUNNER_COMMAND` | a JSON array run instead of the upstream runner (`{uuid}`, `{job_dir}` replaced) | unset |
//! | `I2SERVER_LEASE_SECS` | lease length; a worker silent this long loses its job to another | 30 |
//! | `I2SERVER_SHUTDOWN_GRACE_SECS` | on SIGTERM, how long a running job may finish before it is handed back | 0 |
//! | `I2SERVER_POLL_SECS` | how often an idle worker looks for work when nothing wakes it (PostgreSQL wakes workers with `NOTIFY` on every enqueue) | 1 |
//! | `I2SERVER_TASK_LIMITS` | per-task wall-time and memory limits: JSON, or the path of a JSON file (see `i2_jobs::limits`) | no limits |

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use i2_jobs::runner::RunnerEnv;
use i2_jobs::{Dispatch, ReportBuilder, Runner, TaskLimits, Worker, WorkerConfig};
use i2_store::{Db, DbTarget};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{ConfigError, Settings};

/// How workers are set up, from the environment.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub runner: Runner,
    pub config: WorkerConfig,
}

impl WorkerSettings {
    pub fn from_env(
        env: &HashMap<String, String>,
        host: &str,
    ) -> Result<WorkerSettings, ConfigError> {
        let get = |k: &str| {
            env.get(k)
                .map(String::as_str)
                .filter(|v| !v.trim().is_empty())
        };
        let runner = match get("I2SERVER_RUNNER_COMMAND") {
            Some(json) => {
                let argv: Vec<String> = serde_json::from_str(json).map_err(|e| {
                    ConfigError(format!(
                        "I2SERVER_RUNNER_COMMAND must be a JSON array of strings: {e}"
                    ))
                })?;
                if argv.is_empty() {
                    return Err(ConfigError(
                        "I2SERVER_RUNNER_COMMAND is an empty array".into(),
                    ));
                }
                Runner::Command { argv }
            }
            None => Runner::upstream_from_env(),
        };
        let secs = |k: &str, default: u64| -> Result<u64, ConfigError> {
            match get(k) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| ConfigError(format!("{k}={v:?} is not a number of seconds"))),
            }
        };
        let lease = secs("I2SERVER_LEASE_SECS", 30)?.max(2);
        let limits = match get("I2SERVER_TASK_LIMITS") {
            Some(v) => TaskLimits::from_setting(v)
                .map_err(|e| ConfigError(format!("I2SERVER_TASK_LIMITS: {e}")))?,
            None => TaskLimits::default(),
        };
        let config = WorkerConfig {
            lease_secs: lease as i64,
            // Looks (reads) often so a cancel acts quickly; the lease itself is renewed less
            // often (see `WorkerConfig::heartbeat`).
            heartbeat: Duration::from_millis((lease * 1000 / 3).min(2000)),
            idle_poll: Duration::from_secs(secs("I2SERVER_POLL_SECS", 1)?.max(1)),
            shutdown_grace: Duration::from_secs(secs("I2SERVER_SHUTDOWN_GRACE_SECS", 0)?),
            host: host.to_string(),
            limits,
            memory_poll: Duration::from_secs(1),
        };
        Ok(WorkerSettings { runner, config })
    }
}

/// `DATABASE_URL` in the form upstream's settings accept.
pub fn upstream_database_url(target: &DbTarget) -> String {
    match target {
        DbTarget::Sqlite(p) => {
            let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
            format!("sqlite://{}", abs.display())
        }
        // Upstream's settings fail on a URL without a password (trust auth needs none).
        DbTarget::Postgres(u) => match u.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((user, host)) if !user.contains(':') => {
                    format!("{scheme}://{user}:unused@{host}")
                }
                _ => u.clone(),
            },
            None => u.clone(),
        },
    }
}

/// What the runner shares with i2server.
pub fn runner_env(settings: &Settings) -> RunnerEnv {
    RunnerEnv {
        database_url: upstream_database_url(&settings.database),
        projects_dir: settings.api.projects_dir.clone(),
        home: settings.home.clone(),
    }
}

/// What `regenerate_report/` uses to rebuild reports: the configured runner's Python.
pub fn report_builder(settings: &Settings) -> Option<ReportBuilder> {
    let env: HashMap<String, String> = std::env::vars().collect();
    let ws = WorkerSettings::from_env(&env, &settings.api.host).ok()?;
    Some(ReportBuilder::new(ws.runner, runner_env(settings)))
}

/// Start `n` workers; they stop when `shutdown` turns true. On PostgreSQL a listener wakes
/// them when another process queues a job.
pub fn spawn_workers(
    n: usize,
    db: &Db,
    settings: &Settings,
    ws: &WorkerSettings,
    dispatch: Arc<Dispatch>,
    shutdown: watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    let env = runner_env(settings);
    if n > 0 {
        tokio::spawn(i2_jobs::wakeup::forward_enqueues(
            db.clone(),
            dispatch.clone(),
            shutdown.clone(),
        ));
    }
    (0..n)
        .map(|i| {
            let w = Worker {
                id: format!("{}:{}:{}", ws.config.host, std::process::id(), i),
                db: db.clone(),
                runner: ws.runner.clone(),
                env: env.clone(),
                config: ws.config.clone(),
                dispatch: dispatch.clone(),
            };
            tokio::spawn(w.run(shutdown.clone()))
        })
        .collect()
}
