//! Handlers, one module per URL noun; `crate::router` wires them.

pub mod container_cache;
pub mod context;
pub mod digests;
pub mod exports;
pub mod files;
pub mod groups;
pub mod jobs;
pub mod misc;
pub mod projects;
pub mod reports;
pub mod runs;
pub mod tags;
pub mod tasks;
pub mod uploads;
