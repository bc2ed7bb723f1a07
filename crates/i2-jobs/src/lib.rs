//! Running jobs: the worker loop and the supervision of each job's process tree.
//!
//! - [`runner`]: what to start for a job (the upstream runner, or a fixed command), with an
//!   explicit environment.
//! - [`process`]: spawning a job in its own process group, ending the whole group.
//! - [`limits`]: per-task wall-time and memory limits.
//! - [`diagnostic`]: explaining crashes and limits in the job's `diagnostic.xml`.
//! - [`dispatch`]: handing a job queued in this process straight to an idle worker.
//! - [`wakeup`]: PostgreSQL `LISTEN` for enqueues from other processes.
//! - [`report`]: rebuilding a report on request in a supervised subprocess.
//! - [`worker`]: claim → start → heartbeat (lease, cancel) → reap → finish, with fencing.
//!
//! The queue itself (claims, leases, fences, cancel) is SQL and lives in `i2_store::queue`.

pub mod diagnostic;
pub mod dispatch;
pub mod limits;
pub mod process;
pub mod report;
pub mod runner;
pub mod wakeup;
pub mod worker;

pub use dispatch::Dispatch;
pub use limits::TaskLimits;
pub use report::ReportBuilder;
pub use runner::Runner;
pub use worker::{Worker, WorkerConfig};
