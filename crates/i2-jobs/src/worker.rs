//! One worker: claims a job, starts its runner, keeps the lease alive, watches for cancel,
//! reaps the process and records how it ended. Several run in `i2server serve`
//! (`--workers N`) and in each `i2server worker` process.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use i2_core::job_number::JobNumber;
use i2_store::queue::{self, Beat, Claim, LimitKind, Outcome};
use i2_store::{Backend, Conn, Db};
use tokio::sync::watch;

use crate::dispatch::{Dispatch, Handoff};

use crate::limits::TaskLimits;
use crate::process::{self, ExitInfo};
use crate::runner::{Runner, RunnerEnv};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Seconds a claim stays valid without a heartbeat.
    pub lease_secs: i64,
    /// How often the worker looks at its lease (and for a cancel). On PostgreSQL each look
    /// renews the lease; on SQLite a look is a read and the lease is only renewed once half
    /// of it has passed, because every write can abort one of the upstream runner's deferred
    /// SQLite transactions.
    pub heartbeat: Duration,
    /// How long to sleep when the queue is empty and nobody wakes us.
    pub idle_poll: Duration,
    /// On shutdown, how long a running job may take to finish before it is handed back.
    pub shutdown_grace: Duration,
    /// Host name, recorded with each claim (a recovering worker on the same host ends a
    /// lost attempt's process group before starting again).
    pub host: String,
    /// Wall-time and memory limits by task.
    pub limits: TaskLimits,
    /// How often a running job's memory is measured when it has a memory limit.
    pub memory_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease_secs: 30,
            heartbeat: Duration::from_secs(5),
            idle_poll: Duration::from_secs(1),
            shutdown_grace: Duration::ZERO,
            host: "localhost".into(),
            limits: TaskLimits::default(),
            memory_poll: Duration::from_secs(1),
        }
    }
}

pub struct Worker {
    pub id: String,
    pub db: Db,
    pub runner: Runner,
    pub env: RunnerEnv,
    pub config: WorkerConfig,
    /// Where jobs queued in this process are handed over (and idle workers woken).
    pub dispatch: Arc<Dispatch>,
}

/// Name of the file in the job directory that receives the runner's stdout and stderr.
pub const RUNNER_LOG: &str = "i2server_runner.log";

impl Worker {
    /// Claim and run jobs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(worker = %self.id, "worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            match queue::claim(
                &self.db,
                &self.id,
                &self.config.host,
                self.config.lease_secs,
            )
            .await
            {
                Ok(Some(claim)) => {
                    match queue::job_to_run(&mut self.db.clone(), claim.job_id).await {
                        Ok(job) => self.supervise(claim, job, &mut shutdown).await,
                        Err(e) => {
                            let reason = format!("job not readable: {e}");
                            self.finish(&claim, Outcome::SpawnFailed { reason }).await;
                        }
                    }
                }
                Ok(None) => {
                    tracing::debug!(worker = %self.id, "queue empty; waiting for work");
                    if let Some(h) = self.wait_idle(&mut shutdown).await {
                        if *shutdown.borrow() {
                            self.hand_back(&h.claim).await;
                        } else {
                            self.supervise(h.claim, h.job, &mut shutdown).await;
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(worker = %self.id, error = %e, "claim failed; retrying");
                    tokio::time::sleep(self.config.idle_poll).await;
                }
            }
        }
        tracing::info!(worker = %self.id, "worker stopped");
    }

    async fn finish(&self, claim: &Claim, outcome: Outcome) {
        match queue::finish(&self.db, claim.job_id, claim.fence, &outcome).await {
            Ok(true) => {
                tracing::info!(job = claim.job_id, outcome = %outcome.detail(), "job attempt ended")
            }
            Ok(false) => tracing::warn!(
                job = claim.job_id,
                "lease lost before the end was recorded; nothing written"
            ),
            Err(e) => {
                tracing::error!(job = claim.job_id, error = %e, "could not record how the job ended; its lease will expire and it will be recovered")
            }
        }
    }

    /// Wait, with an offer in the dispatch, until a job is handed over (returned), a job is
    /// queued without a taker, the poll interval passes or shutdown begins (`None`: claim).
    async fn wait_idle(&self, shutdown: &mut watch::Receiver<bool>) -> Option<Handoff> {
        let mut ticket = self
            .dispatch
            .offer(&self.id, &self.config.host, self.config.lease_secs);
        tokio::select! {
            h = &mut ticket.from_dispatch => return h.ok(),
            _ = self.dispatch.woken() => {}
            _ = tokio::time::sleep(self.config.idle_poll) => {}
            _ = shutdown.changed() => {}
        }
        if self.dispatch.withdraw(&ticket) {
            return None;
        }
        // Taken just now: the job is on its way (or its sender gave up, then `None`).
        ticket.from_dispatch.await.ok()
    }

    /// Give a job handed over during shutdown back to the queue.
    async fn hand_back(&self, claim: &Claim) {
        match queue::release(&self.db, claim.job_id, claim.fence).await {
            Ok(_) => tracing::info!(
                job = claim.job_id,
                "shutting down: job handed back to the queue"
            ),
            Err(e) => {
                tracing::warn!(job = claim.job_id, error = %e, "could not hand the job back; its lease will expire")
            }
        }
    }

    async fn supervise(
        &self,
        claim: Claim,
        job: queue::JobToRun,
        shutdown: &mut watch::Receiver<bool>,
    ) {
        let uuid = job.uuid.0.simple().to_string();
        if let (Some(pid), Some(host)) = (claim.prev_pid, claim.prev_host.as_deref())
            && host == self.config.host
            && process::runs_job(pid, &uuid)
        {
            // An earlier attempt lost its worker; make sure nothing of it still runs here.
            if let Err(e) = process::kill_group(pid) {
                tracing::warn!(job = claim.job_id, pid, error = %e, "could not end the lost attempt's processes");
            }
        }
        let job_dir = match JobNumber::parse(&job.number) {
            Ok(n) => PathBuf::from(&job.project_dir).join(n.rel_dir()),
            Err(e) => {
                self.finish(
                    &claim,
                    Outcome::SpawnFailed {
                        reason: e.to_string(),
                    },
                )
                .await;
                return;
            }
        };
        if let Err(e) = std::fs::create_dir_all(&job_dir) {
            self.finish(
                &claim,
                Outcome::SpawnFailed {
                    reason: format!("cannot create {}: {e}", job_dir.display()),
                },
            )
            .await;
            return;
        }
        let log = job_dir.join(RUNNER_LOG);
        let attempt_start = SystemTime::now();
        let cmd = self.runner.command(&uuid, &job_dir, &self.env);
        let mut child = match process::spawn_group_with(
            cmd,
            &log,
            self.runner.death_signal(),
            self.runner.announces_done(),
        ) {
            Ok(c) => c,
            Err(e) => {
                let reason = format!("{e}");
                let _ = std::fs::write(
                    &log,
                    format!("i2server: could not start the runner: {reason}\n"),
                );
                let outcome = Outcome::SpawnFailed { reason };
                self.explain(&job_dir, &job.task_name, &outcome, None, attempt_start);
                self.finish(&claim, outcome).await;
                return;
            }
        };
        let pgid = child.pgid;
        tracing::info!(job = claim.job_id, task = %job.task_name, pgid, attempt = claim.attempts, "job started");
        if !matches!(
            queue::record_pid(&self.db, claim.job_id, claim.fence, pgid).await,
            Ok(true)
        ) {
            tracing::warn!(job = claim.job_id, "lease lost at start; ending the runner");
            let _ = process::kill_group(pgid);
            let _ = child.wait().await;
            return;
        }
        let limits = self.config.limits.for_task(&job.task_name);
        let wall_limit = limits.wall_time();
        let deadline = wall_limit.map(|d| tokio::time::Instant::now() + d);
        let mut mem_poll = tokio::time::interval(self.config.memory_poll);
        let mut beat = tokio::time::interval(self.config.heartbeat);
        beat.tick().await;
        let mut renewed = Instant::now();
        let renew_after = self.renew_after();
        let mut cancelled = false;
        let mut limit: Option<Outcome> = None;
        let mut announcement = child.take_announcement();
        let end = loop {
            tokio::select! {
                r = child.wait() => break End::Exited(r),
                code = process::announced(&mut announcement), if !cancelled && limit.is_none() => {
                    break End::Announced(code);
                }
                _ = beat.tick() => {
                    let look = if renewed.elapsed() >= renew_after {
                        queue::heartbeat(&self.db, claim.job_id, claim.fence, self.config.lease_secs).await
                    } else {
                        queue::peek(&self.db, claim.job_id, claim.fence).await
                    };
                    match look {
                        Ok(b) => {
                            if renewed.elapsed() >= renew_after {
                                renewed = Instant::now();
                            }
                            match b {
                                Beat::Held => {}
                                Beat::CancelRequested => {
                                    tracing::info!(job = claim.job_id, "cancel requested: ending the process group");
                                    cancelled = true;
                                    let _ = process::kill_group(pgid);
                                }
                                Beat::Lost => {
                                    // Someone else holds the job now: end ours and write nothing.
                                    tracing::warn!(job = claim.job_id, "lease lost: ending the runner, writing nothing");
                                    let _ = process::kill_group(pgid);
                                    let _ = child.wait().await;
                                    return;
                                }
                            }
                        }
                        Err(e) => tracing::warn!(job = claim.job_id, error = %e, "heartbeat failed; will retry"),
                    }
                },
                _ = until(deadline), if limit.is_none() => {
                    let secs = wall_limit.map(|d| d.as_secs()).unwrap_or_default();
                    tracing::warn!(job = claim.job_id, task = %job.task_name, secs, "wall-time limit reached: ending the process group");
                    limit = Some(Outcome::LimitReached {
                        kind: LimitKind::WallTime,
                        what: format!("wall-time limit of {secs} s for task {} reached", job.task_name),
                    });
                    let _ = process::kill_group(pgid);
                },
                _ = mem_poll.tick(), if limit.is_none() && limits.memory_bytes().is_some() => {
                    let max = limits.memory_bytes().unwrap_or(u64::MAX);
                    let used = process::sample_group(pgid).rss_bytes;
                    if used > max {
                        tracing::warn!(job = claim.job_id, task = %job.task_name, used, max, "memory limit reached: ending the process group");
                        limit = Some(Outcome::LimitReached {
                            kind: LimitKind::Memory,
                            what: format!(
                                "memory limit of {} MiB for task {} reached (the job's processes held {} MiB)",
                                max / (1024 * 1024),
                                job.task_name,
                                used / (1024 * 1024)
                            ),
                        });
                        let _ = process::kill_group(pgid);
                    }
                },
                _ = shutdown.changed() => {
                    if tokio::time::timeout(self.config.shutdown_grace, child.wait()).await.is_err() {
                        let _ = process::kill_group(pgid);
                        let _ = child.wait().await;
                        self.hand_back(&claim).await;
                        return;
                    }
                    // It finished within the grace period: record it normally below.
                    break End::Exited(child.wait().await);
                }
            }
        };
        let status = match end {
            End::Exited(status) => status,
            End::Announced(code) => {
                let outcome = exit_outcome(
                    std::os::unix::process::ExitStatusExt::from_raw((code & 0xff) << 8),
                    self.runner.sets_status(),
                );
                self.explain(&job_dir, &job.task_name, &outcome, None, attempt_start);
                self.finish(&claim, outcome).await;
                self.await_teardown(&claim, &mut child, code).await;
                return;
            }
        };
        // Whatever is left of the group (daemonised grandchildren) goes with the attempt.
        let _ = process::kill_group(pgid);
        // The report is built before the job shows its final status, so a client that sees
        // Finished can read the report at once.
        let reported =
            self.runner.builds_report() && matches!(&status, Ok(e) if e.status.code().is_some());
        if !cancelled && limit.is_none() && status.is_ok() && !reported {
            self.build_report(&uuid, &job_dir, &log).await;
        }
        let outcome = match &status {
            Err(e) => Outcome::SpawnFailed {
                reason: format!("waiting for the runner failed: {e}"),
            },
            Ok(_) if cancelled => Outcome::Cancelled,
            Ok(_) if limit.is_some() => limit.clone().unwrap_or(Outcome::Cancelled),
            Ok(e) => exit_outcome(e.status, self.runner.sets_status()),
        };
        self.explain(
            &job_dir,
            &job.task_name,
            &outcome,
            status.as_ref().ok(),
            attempt_start,
        );
        self.finish(&claim, outcome).await;
    }

    /// How long a lease goes without renewal (see [`WorkerConfig::heartbeat`]).
    fn renew_after(&self) -> Duration {
        match self.db.backend() {
            Backend::Postgres => Duration::ZERO,
            Backend::Sqlite => Duration::from_secs((self.config.lease_secs / 2).max(1) as u64),
        }
    }

    /// Explain an abnormal end in `diagnostic.xml` before the job shows its final status.
    fn explain(
        &self,
        job_dir: &std::path::Path,
        task: &str,
        outcome: &Outcome,
        exit: Option<&ExitInfo>,
        attempt_start: SystemTime,
    ) {
        let logs = [RUNNER_LOG, "cplusplus_stdout.txt", "crash_traceback.txt"];
        if let Err(e) =
            crate::diagnostic::record(job_dir, task, outcome, exit, attempt_start, &logs)
        {
            tracing::warn!(dir = %job_dir.display(), error = %e, "could not write diagnostic.xml");
        }
    }
}

/// How a supervised attempt's wait ended.
enum End {
    /// The runner exited (or could not be waited for).
    Exited(Result<ExitInfo, String>),
    /// The runner announced that the job, its outputs, KPIs and report are written and that
    /// it exits with this code; only its interpreter's teardown is left.
    Announced(i32),
}

/// How long a runner that announced its end may take to exit before its group is ended.
const TEARDOWN_LIMIT: Duration = Duration::from_secs(60);

impl Worker {
    /// After the attempt was closed on the runner's announcement: reap it, and end whatever
    /// is left of its group, before this worker takes other work.
    async fn await_teardown(&self, claim: &Claim, child: &mut process::JobProcess, code: i32) {
        let pgid = child.pgid;
        match tokio::time::timeout(TEARDOWN_LIMIT, child.wait()).await {
            Ok(Ok(e)) if e.status.code() == Some(code & 0xff) => {}
            Ok(Ok(e)) => tracing::warn!(
                job = claim.job_id,
                status = %e.status,
                announced = code,
                "the runner ended otherwise than it announced; the job keeps the recorded end"
            ),
            Ok(Err(e)) => {
                tracing::warn!(job = claim.job_id, error = %e, "waiting for the runner failed")
            }
            Err(_) => tracing::warn!(
                job = claim.job_id,
                secs = TEARDOWN_LIMIT.as_secs(),
                "the runner announced its end but did not exit; ending its process group"
            ),
        }
        let _ = process::kill_group(pgid);
        let _ = child.wait().await;
    }
}

/// Resolves at `deadline`, never without one.
async fn until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

impl Worker {
    async fn build_report(&self, uuid: &str, job_dir: &std::path::Path, log: &std::path::Path) {
        let Some(cmd) = self.runner.report_command(
            uuid,
            job_dir,
            &self.env,
            &job_dir.join(crate::runner::REPORT_FILE),
        ) else {
            return;
        };
        let mut child = match process::spawn_group(cmd, log) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(job = %uuid, error = %e, "could not start the report builder");
                return;
            }
        };
        let pgid = child.pgid;
        match tokio::time::timeout(REPORT_TIMEOUT, child.wait()).await {
            Ok(Ok(e)) if e.status.success() => {}
            Ok(Ok(e)) => {
                tracing::warn!(job = %uuid, status = %e.status, "the report builder failed; see i2server_runner.log")
            }
            Ok(Err(e)) => {
                tracing::warn!(job = %uuid, error = %e, "waiting for the report builder failed")
            }
            Err(_) => {
                let _ = process::kill_group(pgid);
                let _ = child.wait().await;
                tracing::warn!(job = %uuid, "the report builder took too long and was stopped");
            }
        }
    }
}

/// How long a report may take to build before the job is closed without one.
const REPORT_TIMEOUT: Duration = Duration::from_secs(300);

fn exit_outcome(s: std::process::ExitStatus, runner_sets_status: bool) -> Outcome {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(0), _) if runner_sets_status => Outcome::Exited,
        (Some(0), _) => Outcome::Succeeded,
        (Some(code), _) => Outcome::Failed { code },
        (None, Some(signal)) => Outcome::Crashed { signal },
        (None, None) => Outcome::Failed { code: -1 },
    }
}
