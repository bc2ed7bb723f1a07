//! The CCP4i2 database, shared with upstream, on SQLite or PostgreSQL.
//!
//! - [`db`]: the backend enum, the [`Conn`] trait queries run on, transactions.
//! - [`types`]: UUID / datetime / JSON columns that differ per backend; bound [`Arg`]s.
//! - [`migrate`]: embedded migrations, the schema-state check `serve` relies on.
//! - [`models`]: row types, one per upstream table.
//! - the remaining modules hold the queries, one module per upstream noun.

pub mod cells;
pub mod db;
pub mod error;
pub mod migrate;
pub mod queue;
pub mod records;
pub mod relations;
pub mod tables;
pub mod types;

pub use db::{Backend, Conn, Db, DbTarget, Tx};
pub use error::StoreError;
pub use types::{Arg, DbJson, DbTime, DbUuid, Kind};
