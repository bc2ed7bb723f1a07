//! Untyped rows for the generic record routes: each column decoded by the kind its
//! [`crate::tables`] spec declares, so both backends give the same [`Cell`]s.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use crate::types::{DbJson, DbTime, DbUuid, Kind};

/// One decoded column value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Uuid(Uuid),
    Time(DateTime<Utc>),
    Json(serde_json::Value),
}

impl Cell {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => Some(*v),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Cell::Text(v) => Some(v),
            _ => None,
        }
    }
}

type Decoded = Result<Cell, sqlx::Error>;

fn opt<T>(v: Option<T>, f: impl FnOnce(T) -> Cell) -> Cell {
    v.map(f).unwrap_or(Cell::Null)
}

pub(crate) fn decode_sqlite(row: &SqliteRow, i: usize, kind: Kind) -> Decoded {
    Ok(match kind {
        Kind::Int => opt(row.try_get::<Option<i64>, _>(i)?, Cell::Int),
        Kind::Float => opt(row.try_get::<Option<f64>, _>(i)?, Cell::Float),
        Kind::Text => opt(row.try_get::<Option<String>, _>(i)?, Cell::Text),
        Kind::Bool => opt(row.try_get::<Option<bool>, _>(i)?, Cell::Bool),
        Kind::Uuid => opt(row.try_get::<Option<DbUuid>, _>(i)?, |u| Cell::Uuid(u.0)),
        Kind::Time => opt(row.try_get::<Option<DbTime>, _>(i)?, |t| Cell::Time(t.0)),
        Kind::Json => opt(row.try_get::<Option<DbJson>, _>(i)?, |j| Cell::Json(j.0)),
    })
}

pub(crate) fn decode_pg(row: &PgRow, i: usize, kind: Kind) -> Decoded {
    Ok(match kind {
        // Upstream mixes `integer` and `bigint` columns; accept both.
        Kind::Int => match row.try_get::<Option<i64>, _>(i) {
            Ok(v) => opt(v, Cell::Int),
            Err(_) => opt(row.try_get::<Option<i32>, _>(i)?, |v| Cell::Int(v.into())),
        },
        Kind::Float => opt(row.try_get::<Option<f64>, _>(i)?, Cell::Float),
        Kind::Text => opt(row.try_get::<Option<String>, _>(i)?, Cell::Text),
        Kind::Bool => opt(row.try_get::<Option<bool>, _>(i)?, Cell::Bool),
        Kind::Uuid => opt(row.try_get::<Option<DbUuid>, _>(i)?, |u| Cell::Uuid(u.0)),
        Kind::Time => opt(row.try_get::<Option<DbTime>, _>(i)?, |t| Cell::Time(t.0)),
        Kind::Json => opt(row.try_get::<Option<DbJson>, _>(i)?, |j| Cell::Json(j.0)),
    })
}
