//! The job queue (`i2_job_queue`): every statement about queued and running work lives here.
//!
//! - A job's status and its queue row always change in one transaction, so no run request
//!   is lost and no queue row is orphaned.
//! - Workers hold a job by a lease they renew; each claim increments the row's `fence`, and
//!   every later write by a worker names the fence it holds: a worker whose lease expired
//!   (and was re-claimed by another) can no longer write anything about the job.
//! - PostgreSQL claims with `FOR UPDATE SKIP LOCKED`; SQLite with one `UPDATE … RETURNING`
//!   under its write lock.
//! - On PostgreSQL an enqueue also sends `NOTIFY i2_job_queue` (delivered at commit), so
//!   idle workers in other processes wake at once ([`EnqueueListener`]); polling remains
//!   the fallback (and the only mechanism on SQLite, where workers share one process).

use i2_core::JobStatus;

use crate::args;
use crate::db::{Backend, Conn, Db, Tx};
use crate::error::StoreError;
use crate::types::{Arg, DbUuid};

/// A job a worker now holds.
#[derive(Debug, Clone)]
pub struct Claim {
    pub job_id: i64,
    pub fence: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    /// Process group and host of an earlier attempt whose worker vanished, if any: the new
    /// holder ends that process tree before starting again.
    pub prev_pid: Option<i32>,
    pub prev_host: Option<String>,
}

/// What the worker needs to start a job.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JobToRun {
    pub uuid: DbUuid,
    pub task_name: String,
    pub number: String,
    pub status: i32,
    pub project_dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// Already queued or running: nothing changed.
    AlreadyActive,
}

/// How many times a job is started before a worker that keeps vanishing under it makes it
/// fail (a job that kills its worker must not loop forever).
pub const DEFAULT_MAX_ATTEMPTS: i32 = 3;

/// Put a job on the queue and mark it Queued, in one transaction.
pub async fn enqueue(db: &Db, job_id: i64) -> Result<Enqueued, StoreError> {
    enqueue_with_attempts(db, job_id, DEFAULT_MAX_ATTEMPTS).await
}

/// [`enqueue`] without waiting for the disk: a worker can claim the job at once while the
/// caller makes the queueing durable with [`Db::sync_committed`], which it must do before
/// it acknowledges the request (`POST run/` does). Until then a power failure may undo the
/// queueing together with any start of the job; a crash of this process cannot.
///
/// `tx` comes from [`Db::begin_sync_later`] (the caller may read the job in it first).
pub async fn enqueue_sync_later(tx: Tx, job_id: i64) -> Result<Enqueued, StoreError> {
    enqueue_in(tx, job_id, DEFAULT_MAX_ATTEMPTS).await
}

/// [`enqueue`] with an explicit attempt budget.
pub async fn enqueue_with_attempts(
    db: &Db,
    job_id: i64,
    max_attempts: i32,
) -> Result<Enqueued, StoreError> {
    let tx = db.begin().await?;
    enqueue_in(tx, job_id, max_attempts).await
}

/// Insert or reset the job's queue row as queued, unless it is already queued or running.
/// `false` when it is active. One statement: the upsert's condition is the "already
/// active" check.
async fn put_on_queue(tx: &mut Tx, job_id: i64, max_attempts: i32) -> Result<bool, StoreError> {
    let row: Option<(i64,)> = tx
        .fetch_optional(
            "INSERT INTO i2_job_queue (job_id, state, attempts, max_attempts, fence, cancel_requested, \
             enqueued_at, detail) VALUES ($1, 'queued', 0, $2, 0, $3, $4, '') \
             ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, \
             max_attempts = excluded.max_attempts, cancel_requested = excluded.cancel_requested, \
             enqueued_at = excluded.enqueued_at, started_at = NULL, finished_at = NULL, \
             outcome = NULL, detail = '', worker = NULL, host = NULL, pid = NULL, \
             lease_expires_at = NULL \
             WHERE i2_job_queue.state NOT IN ('queued', 'running') \
             RETURNING fence",
            args![job_id, max_attempts, false, i2_core::time::now()],
        )
        .await?;
    Ok(row.is_some())
}

async fn enqueue_in(mut tx: Tx, job_id: i64, max_attempts: i32) -> Result<Enqueued, StoreError> {
    if !put_on_queue(&mut tx, job_id, max_attempts).await? {
        return Ok(Enqueued::AlreadyActive);
    }
    set_status(&mut tx, job_id, JobStatus::Queued).await?;
    notify_enqueued(&mut tx).await?;
    tx.commit().await?;
    Ok(Enqueued::Queued)
}

/// How [`hand_to_worker`] went.
#[derive(Debug)]
pub enum HandedOver {
    /// Queued and claimed for the worker: what it needs to start the job.
    Claimed(Claim, JobToRun),
    /// Already queued or running: nothing changed.
    AlreadyActive,
    NoSuchJob,
}

/// The queue row of [`hand_to_worker`], claimed in the act of queueing, when the job exists
/// and is neither queued nor running. $1 job, $2 max attempts, $3 now, $4 worker, $5 host,
/// $6 lease expiry, $7 false.
macro_rules! claiming_upsert {
    () => {
        "INSERT INTO i2_job_queue (job_id, state, attempts, max_attempts, fence, \
         cancel_requested, enqueued_at, detail, worker, host, lease_expires_at, started_at) \
         SELECT id, 'running', 1, $2, 1, $7, $3, '', $4, $5, $6, $3 FROM ccp4i2_job WHERE id = $1 \
         ON CONFLICT (job_id) DO UPDATE SET state = excluded.state, attempts = excluded.attempts, \
         max_attempts = excluded.max_attempts, fence = i2_job_queue.fence + 1, \
         cancel_requested = excluded.cancel_requested, enqueued_at = excluded.enqueued_at, \
         started_at = excluded.started_at, finished_at = NULL, outcome = NULL, detail = '', \
         worker = excluded.worker, host = excluded.host, pid = NULL, \
         lease_expires_at = excluded.lease_expires_at \
         WHERE i2_job_queue.state NOT IN ('queued', 'running')"
    };
}

/// SQLite: the claim, then the job's status where the claim was made (this worker's, made
/// now), answering what the worker needs. $8 the Running status.
const HAND_OVER_SQLITE: &str = concat!(
    claiming_upsert!(),
    "; UPDATE ccp4i2_job SET status = $8 WHERE id = $1 AND EXISTS (SELECT 1 FROM i2_job_queue q \
     WHERE q.job_id = $1 AND q.state = 'running' AND q.worker = $4 AND q.started_at = $3) \
     RETURNING uuid, task_name, number, status, \
     (SELECT p.directory FROM ccp4i2_project p WHERE p.id = ccp4i2_job.project_id) AS project_dir, \
     (SELECT q.fence FROM i2_job_queue q WHERE q.job_id = ccp4i2_job.id) AS fence"
);

/// PostgreSQL: the same as one statement (the claim in a data-modifying `WITH`).
const HAND_OVER_POSTGRES: &str = concat!(
    "WITH claimed AS (",
    claiming_upsert!(),
    " RETURNING job_id, fence) \
     UPDATE ccp4i2_job j SET status = $8 FROM claimed c WHERE j.id = c.job_id \
     RETURNING j.uuid, j.task_name, j.number, j.status, \
     (SELECT p.directory FROM ccp4i2_project p WHERE p.id = j.project_id) AS project_dir, c.fence"
);

/// A job just claimed by [`hand_to_worker`], with its fence.
#[derive(sqlx::FromRow)]
struct HandedRow {
    #[sqlx(flatten)]
    job: JobToRun,
    fence: i64,
}

/// Queue a job and hand it at once to `worker`, an idle worker of this process: what
/// [`enqueue`] and then [`claim`] by that worker would do, as one transaction in one
/// exchange with the database (SQLite: one batch; PostgreSQL: one statement), without the
/// wake-up, the claim's search of the queue and a second commit between `run/` and the
/// job's start. The job shows Running from here on, as after any claim. Not synced, as
/// [`enqueue_sync_later`]: the caller makes it durable with [`Db::sync_committed`] before
/// it acknowledges the request.
pub async fn hand_to_worker(
    db: &Db,
    job_id: i64,
    worker: &str,
    host: &str,
    lease_secs: i64,
) -> Result<HandedOver, StoreError> {
    let now = i2_core::time::now();
    let args = args![
        job_id,
        DEFAULT_MAX_ATTEMPTS,
        now,
        worker.to_string(),
        host.to_string(),
        now + chrono::Duration::seconds(lease_secs),
        false,
        JobStatus::Running as i32
    ];
    let rows: Vec<HandedRow> = match db {
        Db::Sqlite(p) => Db::sqlite_batch_sync_later(p, HAND_OVER_SQLITE, args).await?,
        Db::Postgres(_) => db.clone().fetch_all(HAND_OVER_POSTGRES, args).await?,
    };
    let Some(row) = rows.into_iter().next() else {
        // Nothing claimed: tell a missing job from an active one (the rare path).
        let exists: Option<(i64,)> = db
            .clone()
            .fetch_optional("SELECT id FROM ccp4i2_job WHERE id = $1", args![job_id])
            .await?;
        return Ok(match exists {
            Some(_) => HandedOver::AlreadyActive,
            None => HandedOver::NoSuchJob,
        });
    };
    let claim = Claim {
        job_id,
        fence: row.fence,
        attempts: 1,
        max_attempts: DEFAULT_MAX_ATTEMPTS,
        prev_pid: None,
        prev_host: None,
    };
    Ok(HandedOver::Claimed(claim, row.job))
}

/// The PostgreSQL channel on which enqueues are announced.
pub const NOTIFY_CHANNEL: &str = "i2_job_queue";

/// Announce claimable work to listening workers (PostgreSQL; sent when `c` commits).
async fn notify_enqueued(c: &mut impl Conn) -> Result<(), StoreError> {
    if c.backend() == Backend::Postgres {
        let _: Option<(String,)> = c
            .fetch_optional("SELECT pg_notify($1, '')::text", args![NOTIFY_CHANNEL])
            .await?;
    }
    Ok(())
}

/// A PostgreSQL connection listening for enqueues.
pub struct EnqueueListener(sqlx::postgres::PgListener);

impl EnqueueListener {
    /// `None` on SQLite (workers share the enqueuing process and its in-memory wake-up).
    pub async fn connect(db: &Db) -> Result<Option<EnqueueListener>, StoreError> {
        let Db::Postgres(pool) = db else {
            return Ok(None);
        };
        let mut l = sqlx::postgres::PgListener::connect_with(pool).await?;
        l.listen(NOTIFY_CHANNEL).await?;
        Ok(Some(EnqueueListener(l)))
    }

    /// Wait for the next announcement. After a lost connection the listener reconnects and
    /// returns; announcements sent meanwhile are lost, which polling covers.
    pub async fn recv(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}

async fn set_status(c: &mut impl Conn, job_id: i64, s: JobStatus) -> Result<(), StoreError> {
    c.execute(
        "UPDATE ccp4i2_job SET status = $1 WHERE id = $2",
        args![s as i32, job_id],
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Pick {
    job_id: i64,
    pid: Option<i32>,
    host: Option<String>,
    state: String,
}

/// Claim the oldest claimable job: queued, or running under a lease that expired. The job
/// shows Running from here on; a recovered job whose attempts are used up is failed instead
/// (and `None` is returned for it; the caller simply claims again).
pub async fn claim(
    db: &Db,
    worker: &str,
    host: &str,
    lease_secs: i64,
) -> Result<Option<Claim>, StoreError> {
    let now = i2_core::time::now();
    let until = now + chrono::Duration::seconds(lease_secs);
    // Relaxed: a claim lost to a power failure leaves the job queued (see `begin_relaxed`).
    let mut tx = db.begin_relaxed().await?;
    let pick_sql = match tx.backend() {
        Backend::Postgres => {
            "SELECT job_id, pid, host, state FROM i2_job_queue \
             WHERE (state = 'queued' AND cancel_requested = false) OR (state = 'running' AND lease_expires_at < $1) \
             ORDER BY enqueued_at, job_id LIMIT 1 FOR UPDATE SKIP LOCKED"
        }
        Backend::Sqlite => {
            "SELECT job_id, pid, host, state FROM i2_job_queue \
             WHERE (state = 'queued' AND cancel_requested = 0) OR (state = 'running' AND lease_expires_at < $1) \
             ORDER BY enqueued_at, job_id LIMIT 1"
        }
    };
    let Some(pick) = tx.fetch_optional::<Pick>(pick_sql, args![now]).await? else {
        return Ok(None);
    };
    let (fence, attempts, max_attempts): (i64, i32, i32) = tx
        .fetch_one(
            "UPDATE i2_job_queue SET state = 'running', fence = fence + 1, attempts = attempts + 1, \
             worker = $2, host = $3, pid = NULL, lease_expires_at = $4, started_at = $5 \
             WHERE job_id = $1 RETURNING fence, attempts, max_attempts",
            args![pick.job_id, worker, host, until, now],
        )
        .await?;
    let recovered = pick.state == "running";
    if recovered {
        let status: Option<(i32,)> = tx
            .fetch_optional(
                "SELECT status FROM ccp4i2_job WHERE id = $1",
                args![pick.job_id],
            )
            .await?;
        if status
            .and_then(|s| JobStatus::from_i32(s.0))
            .is_some_and(JobStatus::is_terminal)
        {
            // The runner completed and recorded its verdict; only its worker vanished
            // before closing the attempt. Running it again would do the work twice.
            tx.execute(
                "UPDATE i2_job_queue SET state = 'done', finished_at = $2, outcome = 'exited', \
                 detail = 'the runner finished; its worker stopped before recording it' WHERE job_id = $1",
                args![pick.job_id, now],
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        }
    }
    if recovered && attempts > max_attempts {
        tx.execute(
            "UPDATE i2_job_queue SET state = 'done', finished_at = $2, outcome = 'lost', \
             detail = 'the worker running this job stopped answering too many times' WHERE job_id = $1",
            args![pick.job_id, now],
        )
        .await?;
        set_status(&mut tx, pick.job_id, JobStatus::Failed).await?;
        tx.commit().await?;
        return Ok(None);
    }
    set_status(&mut tx, pick.job_id, JobStatus::Running).await?;
    tx.commit().await?;
    Ok(Some(Claim {
        job_id: pick.job_id,
        fence,
        attempts,
        max_attempts,
        prev_pid: if recovered { pick.pid } else { None },
        prev_host: if recovered { pick.host } else { None },
    }))
}

/// What a worker needs to start the job it claimed.
pub async fn job_to_run(c: &mut impl Conn, job_id: i64) -> Result<JobToRun, StoreError> {
    c.fetch_one(
        "SELECT j.uuid, j.task_name, j.number, j.status, p.directory AS project_dir \
         FROM ccp4i2_job j JOIN ccp4i2_project p ON p.id = j.project_id WHERE j.id = $1",
        args![job_id],
    )
    .await
}

/// Record the process group of the running attempt (fenced).
pub async fn record_pid(db: &Db, job_id: i64, fence: i64, pid: i32) -> Result<bool, StoreError> {
    let mut tx = db.begin_relaxed().await?;
    let n = tx
        .execute(
            "UPDATE i2_job_queue SET pid = $3 WHERE job_id = $1 AND fence = $2 AND state = 'running'",
            args![job_id, fence, pid],
        )
        .await?;
    tx.commit().await?;
    Ok(n > 0)
}

/// What a heartbeat learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// The lease is renewed.
    Held,
    /// Renewed, and a cancel was requested: end the process tree.
    CancelRequested,
    /// Another worker holds the job now (or it is gone): stop, and write nothing more.
    Lost,
}

pub async fn heartbeat(
    db: &Db,
    job_id: i64,
    fence: i64,
    lease_secs: i64,
) -> Result<Beat, StoreError> {
    let until = i2_core::time::now() + chrono::Duration::seconds(lease_secs);
    // Relaxed: a renewal lost to a power failure is moot (the worker died with the machine).
    let mut tx = db.begin_relaxed().await?;
    let row: Option<(bool,)> = tx
        .fetch_optional(
            "UPDATE i2_job_queue SET lease_expires_at = $3 WHERE job_id = $1 AND fence = $2 \
             AND state = 'running' RETURNING cancel_requested",
            args![job_id, fence, until],
        )
        .await?;
    tx.commit().await?;
    Ok(match row {
        None => Beat::Lost,
        Some((true,)) => Beat::CancelRequested,
        Some((false,)) => Beat::Held,
    })
}

/// Look at the lease without renewing it: whether it is still ours and whether a cancel was
/// asked for. A read, so it never conflicts with the runner's own SQLite transactions.
pub async fn peek(db: &Db, job_id: i64, fence: i64) -> Result<Beat, StoreError> {
    let mut c = db.clone();
    let row: Option<(bool,)> = c
        .fetch_optional(
            "SELECT cancel_requested FROM i2_job_queue WHERE job_id = $1 AND fence = $2 AND state = 'running'",
            args![job_id, fence],
        )
        .await?;
    Ok(match row {
        None => Beat::Lost,
        Some((true,)) => Beat::CancelRequested,
        Some((false,)) => Beat::Held,
    })
}

/// Which limit stopped a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitKind {
    WallTime,
    Memory,
}

/// How an attempt ended, as the worker saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The runner exited 0; the status it wrote stands (Running left behind becomes Failed).
    Exited,
    /// A runner that does not write statuses (a plain command) exited 0: Finished.
    Succeeded,
    /// The runner exited non-zero.
    Failed { code: i32 },
    /// The runner was killed by a signal it did not ask for (crash, OOM killer, limit).
    Crashed { signal: i32 },
    /// A wall-time or memory limit was reached and the worker ended the job.
    LimitReached { kind: LimitKind, what: String },
    /// The worker ended the job because a cancel was requested.
    Cancelled,
    /// The runner could not be started at all.
    SpawnFailed { reason: String },
}

impl Outcome {
    /// The `outcome` recorded in the queue row.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Exited => "exited",
            Outcome::Succeeded => "succeeded",
            Outcome::Failed { .. } => "failed",
            Outcome::Crashed { .. } => "crashed",
            Outcome::LimitReached {
                kind: LimitKind::WallTime,
                ..
            } => "wall_time_limit",
            Outcome::LimitReached {
                kind: LimitKind::Memory,
                ..
            } => "memory_limit",
            Outcome::Cancelled => "cancelled",
            Outcome::SpawnFailed { .. } => "spawn_failed",
        }
    }
    pub fn detail(&self) -> String {
        match self {
            Outcome::Exited => "the runner exited normally".into(),
            Outcome::Succeeded => "the command exited with status 0".into(),
            Outcome::Failed { code } => format!("the runner exited with status {code}"),
            Outcome::Crashed { signal } => format!("the runner was killed by signal {signal}"),
            Outcome::LimitReached { what, .. } => format!("stopped: {what}"),
            Outcome::Cancelled => "cancelled by a user".into(),
            Outcome::SpawnFailed { reason } => format!("the runner could not be started: {reason}"),
        }
    }
}

/// Close an attempt (fenced): the queue row is done and the job's final status is set, in
/// one transaction. Returns false when the fence no longer matches (nothing written).
pub async fn finish(
    db: &Db,
    job_id: i64,
    fence: i64,
    outcome: &Outcome,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let held: Option<(bool,)> = tx
        .fetch_optional(
            "SELECT cancel_requested FROM i2_job_queue WHERE job_id = $1 AND fence = $2 AND state = 'running'",
            args![job_id, fence],
        )
        .await?;
    let Some((cancelled,)) = held else {
        return Ok(false);
    };
    let status: Option<(i32,)> = tx
        .fetch_optional("SELECT status FROM ccp4i2_job WHERE id = $1", args![job_id])
        .await?;
    let current = status.and_then(|s| JobStatus::from_i32(s.0));
    // Interrupted wins over anything the runner wrote; a clean exit keeps the runner's verdict.
    let new = if cancelled || *outcome == Outcome::Cancelled {
        Some(JobStatus::Interrupted)
    } else {
        match outcome {
            Outcome::Exited => match current {
                Some(s) if s.is_terminal() => None,
                _ => Some(JobStatus::Failed),
            },
            Outcome::Succeeded => Some(JobStatus::Finished),
            _ => Some(JobStatus::Failed),
        }
    };
    if let Some(s) = new {
        set_status(&mut tx, job_id, s).await?;
        if s == JobStatus::Finished {
            tx.execute(
                "UPDATE ccp4i2_job SET finish_time = $2 WHERE id = $1",
                args![job_id, i2_core::time::now()],
            )
            .await?;
        }
    }
    let outcome_label = if cancelled {
        "cancelled"
    } else {
        outcome.label()
    };
    tx.execute(
        "UPDATE i2_job_queue SET state = 'done', finished_at = $3, outcome = $4, detail = $5, \
         lease_expires_at = NULL WHERE job_id = $1 AND fence = $2",
        args![
            job_id,
            fence,
            i2_core::time::now(),
            outcome_label,
            outcome.detail()
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Give a job back to the queue without counting the attempt (graceful worker shutdown).
pub async fn release(db: &Db, job_id: i64, fence: i64) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            "UPDATE i2_job_queue SET state = 'queued', attempts = attempts - 1, worker = NULL, \
             host = NULL, pid = NULL, lease_expires_at = NULL WHERE job_id = $1 AND fence = $2 AND state = 'running'",
            args![job_id, fence],
        )
        .await?;
    if n > 0 {
        set_status(&mut tx, job_id, JobStatus::Queued).await?;
        notify_enqueued(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// It was waiting: it will not run.
    Dequeued,
    /// It is running: its worker ends the process tree at its next heartbeat.
    Signalled,
    /// Queued or running outside i2server's queue (e.g. by upstream): marked Interrupted.
    Marked,
    /// Not queued or running.
    NotActive,
}

/// Cancel a job: Interrupted at once, in the same transaction as the queue change.
pub async fn cancel(db: &Db, job_id: i64) -> Result<Cancelled, StoreError> {
    let mut tx = db.begin().await?;
    let row: Option<(String,)> = tx
        .fetch_optional(
            "SELECT state FROM i2_job_queue WHERE job_id = $1",
            args![job_id],
        )
        .await?;
    let result = match row.as_ref().map(|r| r.0.as_str()) {
        Some("queued") => {
            tx.execute(
                "UPDATE i2_job_queue SET state = 'done', cancel_requested = $2, finished_at = $3, \
                 outcome = 'cancelled', detail = 'cancelled before it started' WHERE job_id = $1",
                args![job_id, true, i2_core::time::now()],
            )
            .await?;
            Cancelled::Dequeued
        }
        Some("running") => {
            tx.execute(
                "UPDATE i2_job_queue SET cancel_requested = $2 WHERE job_id = $1",
                args![job_id, true],
            )
            .await?;
            Cancelled::Signalled
        }
        _ => {
            let status: Option<(i32,)> = tx
                .fetch_optional("SELECT status FROM ccp4i2_job WHERE id = $1", args![job_id])
                .await?;
            match status.and_then(|s| JobStatus::from_i32(s.0)) {
                Some(s) if s.is_active() => Cancelled::Marked,
                _ => return Ok(Cancelled::NotActive),
            }
        }
    };
    set_status(&mut tx, job_id, JobStatus::Interrupted).await?;
    tx.commit().await?;
    Ok(result)
}

/// Statuses clients must see instead of the stored ones: a job whose worker has not yet
/// seen its runner exit is still Running, even if the runner already wrote Finished (so
/// Finished never shows before the outputs and KPIs are in); a cancelled one is Interrupted.
pub async fn visible_statuses(
    c: &mut impl Conn,
    job_ids: &[i64],
) -> Result<std::collections::HashMap<i64, i32>, StoreError> {
    let mut out = std::collections::HashMap::new();
    for chunk in job_ids.chunks(500) {
        let ph: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT job_id, cancel_requested FROM i2_job_queue WHERE state = 'running' AND job_id IN ({})",
            ph.join(", ")
        );
        let rows: Vec<(i64, bool)> = c
            .fetch_all(&sql, chunk.iter().map(|i| Arg::Int(*i)).collect())
            .await?;
        for (id, cancelled) in rows {
            out.insert(id, shown_while_running(cancelled) as i32);
        }
    }
    Ok(out)
}

/// The one overlay rule: while a worker holds the attempt the job shows Running, or
/// Interrupted once a cancel was asked for.
fn shown_while_running(cancel_requested: bool) -> JobStatus {
    if cancel_requested {
        JobStatus::Interrupted
    } else {
        JobStatus::Running
    }
}

/// Which jobs a live-event subscription watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Project(i64),
    Job(i64),
}

/// A job as clients see it right now (visible status, see [`visible_statuses`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    pub id: i64,
    pub uuid: uuid::Uuid,
    pub number: String,
    pub status: i32,
    pub project: i64,
}

#[derive(sqlx::FromRow)]
struct JobStateRow {
    id: i64,
    uuid: DbUuid,
    number: String,
    status: i32,
    project_id: i64,
    q_state: Option<String>,
    cancel_requested: Option<bool>,
}

/// The visible states of the jobs in `scope`, in one query (the queue overlay is a join),
/// so a subscription polling every tick costs one round trip.
pub async fn job_states(c: &mut impl Conn, scope: Scope) -> Result<Vec<JobState>, StoreError> {
    let (filter, id) = match scope {
        Scope::Project(p) => ("j.project_id", p),
        Scope::Job(j) => ("j.id", j),
    };
    let sql = format!(
        "SELECT j.id, j.uuid, j.number, j.status, j.project_id, q.state AS q_state, q.cancel_requested \
         FROM ccp4i2_job j LEFT JOIN i2_job_queue q ON q.job_id = j.id WHERE {filter} = $1 ORDER BY j.id"
    );
    let rows: Vec<JobStateRow> = c.fetch_all(&sql, args![id]).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let status = if r.q_state.as_deref() == Some("running") {
                shown_while_running(r.cancel_requested.unwrap_or(false)) as i32
            } else {
                r.status
            };
            JobState {
                id: r.id,
                uuid: r.uuid.0,
                number: r.number,
                status,
                project: r.project_id,
            }
        })
        .collect())
}

/// A queued or running job for `active_jobs/`: the status clients see, and the process group
/// its worker recorded (falling back to upstream's `process_id` for jobs run outside
/// i2server's queue).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActiveJob {
    pub id: i64,
    pub project: String,
    pub task: String,
    pub uuid: DbUuid,
    pub number: String,
    pub status: i32,
    pub pid: Option<i32>,
    pub q_state: Option<String>,
    pub cancel_requested: Option<bool>,
}

/// Jobs that are Queued, Running or Running remotely as clients see them, oldest first.
pub async fn active_jobs(c: &mut impl Conn) -> Result<Vec<ActiveJob>, StoreError> {
    let mut rows: Vec<ActiveJob> = c
        .fetch_all(
            "SELECT j.id, p.name AS project, j.task_name AS task, j.uuid, j.number, j.status, \
             COALESCE(q.pid, j.process_id) AS pid, q.state AS q_state, q.cancel_requested \
             FROM ccp4i2_job j JOIN ccp4i2_project p ON p.id = j.project_id \
             LEFT JOIN i2_job_queue q ON q.job_id = j.id \
             WHERE j.status IN (2, 3, 7) OR q.state IN ('queued', 'running') ORDER BY j.id",
            vec![],
        )
        .await?;
    for r in &mut rows {
        if r.q_state.as_deref() == Some("running") {
            r.status = shown_while_running(r.cancel_requested.unwrap_or(false)) as i32;
        } else if r.q_state.as_deref() == Some("queued") {
            r.status = JobStatus::Queued as i32;
        }
    }
    rows.retain(|r| matches!(r.status, 2 | 3 | 7));
    Ok(rows)
}

/// Queue rows by state and, for closed attempts, by outcome (for metrics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub queued: i64,
    pub running: i64,
    /// `(outcome, count)` of closed attempts, e.g. `("exited", 12)`, `("memory_limit", 1)`.
    pub outcomes: Vec<(String, i64)>,
}

pub async fn counts(db: &Db) -> Result<Counts, StoreError> {
    let mut c = db.clone();
    let rows: Vec<(String, Option<String>, i64)> = c
        .fetch_all(
            "SELECT state, outcome, COUNT(*) FROM i2_job_queue GROUP BY state, outcome ORDER BY state, outcome",
            vec![],
        )
        .await?;
    let mut out = Counts::default();
    for (state, outcome, n) in rows {
        match state.as_str() {
            "queued" => out.queued += n,
            "running" => out.running += n,
            _ => out
                .outcomes
                .push((outcome.unwrap_or_else(|| "unknown".into()), n)),
        }
    }
    Ok(out)
}

/// Jobs waiting to be claimed (for metrics and autoscaling).
pub async fn depth(db: &Db) -> Result<i64, StoreError> {
    let mut c = db.clone();
    let (n,): (i64,) = c
        .fetch_one(
            "SELECT COUNT(*) FROM i2_job_queue WHERE state = 'queued'",
            vec![],
        )
        .await?;
    Ok(n)
}

/// What the queue holds, for `/metrics` (every process sees every worker's work, because
/// it is all in the database).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Waiting to be claimed (not cancelled).
    pub queued: i64,
    /// Held by a worker (or under a lease that expired, about to be recovered).
    pub running: i64,
    /// Finished attempts by outcome (`exited`, `failed`, `cancelled`, `lost`, …).
    pub outcomes: Vec<(String, i64)>,
    /// Claims of a job whose previous worker lost its lease.
    pub lease_recoveries: i64,
}

#[derive(sqlx::FromRow)]
struct StatsRow {
    state: String,
    outcome: String,
    cancelled: i64,
    n: i64,
    recoveries: i64,
}

pub async fn stats(db: &Db) -> Result<QueueStats, StoreError> {
    let mut c = db.clone();
    let rows: Vec<StatsRow> = c
        .fetch_all(
            "SELECT state, COALESCE(outcome, '') AS outcome, \
             CAST(CASE WHEN cancel_requested THEN 1 ELSE 0 END AS BIGINT) AS cancelled, \
             CAST(COUNT(*) AS BIGINT) AS n, \
             CAST(COALESCE(SUM(CASE WHEN attempts > 1 THEN attempts - 1 ELSE 0 END), 0) AS BIGINT) AS recoveries \
             FROM i2_job_queue GROUP BY state, COALESCE(outcome, ''), cancel_requested",
            vec![],
        )
        .await?;
    let mut out = QueueStats::default();
    for r in rows {
        out.lease_recoveries += r.recoveries;
        match r.state.as_str() {
            "queued" if r.cancelled == 0 => out.queued += r.n,
            "running" => out.running += r.n,
            "done" => match out.outcomes.iter_mut().find(|(o, _)| *o == r.outcome) {
                Some((_, n)) => *n += r.n,
                None => out.outcomes.push((r.outcome, r.n)),
            },
            _ => {}
        }
    }
    out.outcomes.sort();
    Ok(out)
}

/// The queue row of a job, for diagnostics (`outcome`, `detail`, attempts).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueueRow {
    pub job_id: i64,
    pub state: String,
    pub attempts: i32,
    pub fence: i64,
    pub pid: Option<i32>,
    pub worker: Option<String>,
    pub outcome: Option<String>,
    pub detail: String,
    pub enqueued_at: crate::DbTime,
    pub started_at: Option<crate::DbTime>,
    pub finished_at: Option<crate::DbTime>,
}

pub async fn row(db: &Db, job_id: i64) -> Result<Option<QueueRow>, StoreError> {
    let mut c = db.clone();
    c.fetch_optional(
        "SELECT job_id, state, attempts, fence, pid, worker, outcome, detail, enqueued_at, \
         started_at, finished_at FROM i2_job_queue WHERE job_id = $1",
        args![job_id],
    )
    .await
}
