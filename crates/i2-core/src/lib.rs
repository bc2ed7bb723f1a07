//! Domain types shared by every i2server crate. Nothing here does I/O.
//!
//! - [`status`]: job status and evaluation enums with the upstream numeric values.
//! - [`job_number`]: dotted job numbers (`"3"`, `"3.1.2"`) and their directories.
//! - [`names`]: project-name rules and the slug used for default project directories.
//! - [`time`]: the datetime encodings upstream uses in JSON and in SQLite.
//! - [`layout`]: the fixed project-directory layout.

pub mod job_number;
pub mod layout;
pub mod names;
pub mod status;
pub mod time;

pub use job_number::JobNumber;
pub use status::{Evaluation, FileDirectory, JobStatus};
