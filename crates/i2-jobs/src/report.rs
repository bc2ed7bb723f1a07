//! Rebuilding a job's report on request (`regenerate_report/`): the task's upstream report
//! class runs in a short-lived subprocess (`get_job_report --regenerate`), supervised like a
//! job: its own process group, a time limit, a bounded number at once, and the whole group
//! ended if the request goes away. The server process itself never runs Python.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::process;
use crate::runner::{Runner, RunnerEnv};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("this server's runner cannot build reports (a plain command is configured)")]
    Unsupported,
    #[error("the report builder could not be started: {0}")]
    Spawn(String),
    #[error("the report builder took longer than {0} s and was stopped")]
    TimedOut(u64),
    #[error("{0}")]
    Failed(String),
}

pub struct ReportBuilder {
    runner: Runner,
    env: RunnerEnv,
    slots: Arc<Semaphore>,
    timeout: Duration,
}

/// Ends a process group when dropped unless disarmed (a request that goes away takes its
/// report builder with it).
struct GroupGuard(i32);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let _ = process::kill_group(self.0);
    }
}

impl ReportBuilder {
    pub fn new(runner: Runner, env: RunnerEnv) -> ReportBuilder {
        ReportBuilder {
            runner,
            env,
            slots: Arc::new(Semaphore::new(2)),
            timeout: Duration::from_secs(300),
        }
    }

    /// The upstream runner's Python, which the API also uses for the few computations only
    /// a compiled Python package can do (`None` for a plain-command runner).
    pub fn python(&self) -> Option<&Path> {
        match &self.runner {
            Runner::Upstream { python } => Some(python),
            Runner::Command { .. } => None,
        }
    }

    /// `CCP4I2_HOME` of the runner's environment (upstream keeps uploads under it).
    pub fn home(&self) -> &Path {
        &self.env.home
    }

    /// Start upstream's management command `args` in `dir` (project export and import), its
    /// output appended to `log`, as a process group of its own. The caller supervises it
    /// with [`supervise_command`].
    pub fn start_command(
        &self,
        args: &[String],
        dir: &Path,
        log: &Path,
        marker: &str,
    ) -> Result<process::JobProcess, ReportError> {
        let cmd = self
            .runner
            .management_command(args, dir, &self.env, marker)
            .ok_or(ReportError::Unsupported)?;
        process::spawn_group(cmd, log).map_err(|e| ReportError::Spawn(e.to_string()))
    }

    /// Build the report of job `uuid` afresh and return it. Upstream's command also caches
    /// a terminal job's report as `report_xml.xml` in `job_dir`.
    pub async fn regenerate(&self, uuid: &str, job_dir: &Path) -> Result<String, ReportError> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|e| ReportError::Spawn(e.to_string()))?;
        std::fs::create_dir_all(job_dir)
            .map_err(|e| ReportError::Spawn(format!("{}: {e}", job_dir.display())))?;
        let tag = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let out = job_dir.join(format!(".i2server_report_{tag}.xml"));
        let log = job_dir.join(format!(".i2server_report_{tag}.log"));
        let _cleanup = Cleanup(vec![out.clone(), log.clone()]);
        let cmd = self
            .runner
            .report_command(uuid, job_dir, &self.env, &out)
            .ok_or(ReportError::Unsupported)?;
        let mut child =
            process::spawn_group(cmd, &log).map_err(|e| ReportError::Spawn(e.to_string()))?;
        let guard = GroupGuard(child.pgid);
        let exit = match tokio::time::timeout(self.timeout, child.wait()).await {
            Err(_) => return Err(ReportError::TimedOut(self.timeout.as_secs())),
            Ok(Err(e)) => return Err(ReportError::Failed(e)),
            Ok(Ok(e)) => e,
        };
        drop(guard);
        let why = || last_line(&log).unwrap_or_else(|| format!("exit status {}", exit.status));
        if !exit.status.success() {
            return Err(ReportError::Failed(why()));
        }
        std::fs::read_to_string(&out).map_err(|_| ReportError::Failed(why()))
    }
}

/// Wait for a command started with [`ReportBuilder::start_command`], ending its whole group
/// if it runs longer than `limit`; whether it exited successfully.
pub async fn supervise_command(mut child: process::JobProcess, limit: Duration) -> bool {
    match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(exit)) => exit.status.success(),
        Ok(Err(_)) => false,
        Err(_) => {
            let _ = process::kill_group(child.pgid);
            let _ = child.wait().await;
            false
        }
    }
}

struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The last non-empty line of a log (upstream's command ends with `CommandError: …`).
pub fn last_line(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_string())
}
