//! Running jobs: the worker loop and the supervision of each job's process tree.
//!
//! - [`runner`]: what to start for a job (the upstream runner, or a fixed command), with an
//!   explicit environment.
//! - [`process`]: spawning a job in its own process group, ending the whole group.
//! - [`worker`]: claim → start → heartbeat (lease, cancel) → reap → finish, with fencing.
//!
//! The queue itself (claims, leases, fences, cancel) is SQL and lives in `i2_store::queue`.

pub mod process;
pub mod runner;
pub mod worker;

pub use runner::Runner;
pub use worker::{Worker, WorkerConfig};
