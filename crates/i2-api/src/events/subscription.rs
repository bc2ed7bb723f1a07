//! One client's subscription: each tick, one query for the visible states of the watched
//! jobs and a size check of the logs of the running ones; what changed becomes events.
//!
//! Polling (not in-process notification) because jobs are run by `i2server worker`
//! processes too, and by upstream's runner, which only meet i2server in the database
//! and the job directory.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

use axum::response::sse::Event;
use i2_core::JobStatus;
use i2_core::job_number::JobNumber;
use i2_store::Db;
use i2_store::queue::{self, JobState, Scope};
use serde_json::json;
use tokio::sync::OwnedSemaphorePermit;

use super::tail::Tail;

/// Log files followed in a job directory: the worker's capture of the runner's output
/// (`i2_jobs::worker::RUNNER_LOG`) and upstream's own logs.
pub const LOG_FILES: [&str; 3] = ["i2server_runner.log", "log.txt", "cplusplus_stdout.txt"];

struct Watched {
    /// The last status announced; `None` before the first event.
    status: Option<i32>,
    tails: Vec<Tail>,
}

pub struct Subscription {
    db: Db,
    scope: Scope,
    project_dir: PathBuf,
    from_start: bool,
    jobs: BTreeMap<i64, Watched>,
    /// Whether the first poll (which takes the starting offsets) is done.
    started: bool,
    pub pending: VecDeque<Event>,
    pub ended: bool,
    pub tick: tokio::time::Interval,
    /// Released when the stream is dropped (the client went away).
    _slot: OwnedSemaphorePermit,
}

fn running(status: i32) -> bool {
    status == JobStatus::Running as i32 || status == JobStatus::RunningRemotely as i32
}

fn active(status: Option<i32>) -> bool {
    status
        .and_then(JobStatus::from_i32)
        .is_some_and(JobStatus::is_active)
}

fn job_event(j: &JobState) -> Event {
    let label = JobStatus::from_i32(j.status)
        .map(JobStatus::label)
        .unwrap_or("Unknown");
    Event::default().event("job").data(
        json!({
            "id": j.id,
            "uuid": j.uuid.hyphenated().to_string(),
            "number": j.number,
            "status": j.status,
            "status_label": label,
            "project": j.project,
        })
        .to_string(),
    )
}

fn log_event(job: i64, file: &str, line: &str) -> Event {
    Event::default()
        .event("log")
        .data(json!({"job": job, "file": file, "line": line}).to_string())
}

async fn tails_of(project_dir: &Path, number: &str, from_start: bool) -> Vec<Tail> {
    let Ok(n) = JobNumber::parse(number) else {
        tracing::warn!(number, "job number unparsable: its logs are not followed");
        return Vec::new();
    };
    let dir = project_dir.join(n.rel_dir());
    let mut out = Vec::with_capacity(LOG_FILES.len());
    for name in LOG_FILES {
        out.push(Tail::new(name, dir.join(name), from_start).await);
    }
    out
}

impl Subscription {
    pub fn new(
        db: Db,
        scope: Scope,
        project_dir: PathBuf,
        from_start: bool,
        tick: std::time::Duration,
        slot: OwnedSemaphorePermit,
    ) -> Self {
        let mut tick = tokio::time::interval(tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        Subscription {
            db,
            scope,
            project_dir,
            from_start,
            jobs: BTreeMap::new(),
            started: false,
            pending: VecDeque::new(),
            ended: false,
            tick,
            _slot: slot,
        }
    }

    /// One tick: query, read logs, queue the events.
    pub async fn poll(&mut self) {
        let states = match queue::job_states(&mut self.db, self.scope).await {
            Ok(s) => s,
            Err(e) => {
                // A database hiccup costs a tick, not the stream.
                tracing::warn!(error = %e, "live events: polling job states failed");
                return;
            }
        };
        if matches!(self.scope, Scope::Job(_)) && states.is_empty() {
            // The watched job was deleted: nothing more will happen.
            self.ended = true;
            return;
        }
        self.jobs.retain(|id, _| states.iter().any(|s| s.id == *id));
        for st in &states {
            self.update(st).await;
        }
        self.started = true;
    }

    async fn update(&mut self, st: &JobState) {
        if !self.jobs.contains_key(&st.id) {
            // Jobs seen at the start are followed from their logs' current end; jobs that
            // appear later are new, so all of their output is news.
            let from_start = self.from_start || self.started;
            let tails = tails_of(&self.project_dir, &st.number, from_start).await;
            self.jobs.insert(
                st.id,
                Watched {
                    status: None,
                    tails,
                },
            );
        }
        let Some(w) = self.jobs.get_mut(&st.id) else {
            return;
        };
        let changed = w.status != Some(st.status);
        let now_running = running(st.status);
        // Queued counts: a short job can go from Queued to done between two ticks.
        let was_live = active(w.status);
        if changed && now_running {
            self.pending.push_back(job_event(st));
            w.status = Some(st.status);
        }
        let mut behind = false;
        if was_live || now_running {
            for t in &mut w.tails {
                for line in t.read_lines(!now_running).await {
                    self.pending.push_back(log_event(st.id, t.name, &line));
                }
                behind |= t.behind;
            }
        }
        // The end is announced after the last line (later ticks drain a long backlog).
        if changed && !now_running && !behind {
            self.pending.push_back(job_event(st));
            w.status = Some(st.status);
        }
    }
}
