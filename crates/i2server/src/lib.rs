//! The `i2server` binary's library half: configuration ([`config`]) and start-up
//! ([`app`]), so tests boot the same system the binary runs.

pub mod app;
pub mod catalogue;
pub mod config;
pub mod doctor;
pub mod healthcheck;
pub mod variables;
pub mod workers;
