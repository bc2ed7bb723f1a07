//! Schema migrations: embedded SQL per backend, applied once, under a lock.
//!
//! The first two migrations build exactly the database upstream's `migrate` builds
//! (Django's tables, every `ccp4i2_*` table, seed rows and `django_migrations` records), so
//! upstream code runs against an i2server database unchanged. i2server's own tables are
//! prefixed `i2_`; [`TRACKING_TABLE`] records which migrations ran.
//!
//! A database that upstream created is *adopted*: its tables already match migrations
//! 1–2, so those are recorded as applied without running them.

use crate::args;
use crate::db::{Backend, Conn, Db, Tx};
use crate::error::StoreError;
use crate::types::DbTime;
use sqlx::AssertSqlSafe;

pub const TRACKING_TABLE: &str = "i2_schema_migrations";

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
    /// Already present in a database upstream migrated (adopted, not run).
    upstream_baseline: bool,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "upstream_schema",
        sqlite: include_str!("../migrations/sqlite/0001_upstream_schema.sql"),
        postgres: include_str!("../migrations/postgres/0001_upstream_schema.sql"),
        upstream_baseline: true,
    },
    Migration {
        version: 2,
        name: "upstream_seed",
        sqlite: include_str!("../migrations/sqlite/0002_upstream_seed.sql"),
        postgres: include_str!("../migrations/postgres/0002_upstream_seed.sql"),
        upstream_baseline: true,
    },
    Migration {
        version: 3,
        name: "i2_job_queue",
        sqlite: include_str!("../migrations/sqlite/0003_i2_job_queue.sql"),
        postgres: include_str!("../migrations/postgres/0003_i2_job_queue.sql"),
        upstream_baseline: false,
    },
];

/// The newest upstream (Django) migration of app `ccp4i2` that this schema corresponds to.
pub const UPSTREAM_LATEST: &str = "0016_projectexport_status";

pub fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// What a database holds, relative to this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaState {
    /// No tables at all.
    Empty,
    /// Created by upstream and never touched by i2server.
    UpstreamOnly,
    Behind {
        current: i64,
        latest: i64,
    },
    Current {
        version: i64,
    },
    /// Migrated by a newer i2server.
    Ahead {
        current: i64,
        latest: i64,
    },
}

impl SchemaState {
    /// A one-line explanation for operators, with what to run.
    pub fn explain(&self) -> String {
        match self {
            SchemaState::Empty => "the database has no schema; run `i2server migrate`".into(),
            SchemaState::UpstreamOnly => {
                "the database was created by upstream CCP4i2 and not yet adopted; run `i2server migrate`".into()
            }
            SchemaState::Behind { current, latest } => format!(
                "the database schema is at version {current} but this i2server needs {latest}; run `i2server migrate`"
            ),
            SchemaState::Current { version } => format!("the database schema is current (version {version})"),
            SchemaState::Ahead { current, latest } => format!(
                "the database schema is at version {current}, newer than this i2server knows ({latest}); upgrade i2server"
            ),
        }
    }

    pub fn is_current(&self) -> bool {
        matches!(self, SchemaState::Current { .. })
    }
}

async fn table_exists(c: &mut impl Conn, name: &str) -> Result<bool, StoreError> {
    let sql = match c.backend() {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1",
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
        }
    };
    Ok(c.fetch_optional::<(String,)>(sql, args![name])
        .await?
        .is_some())
}

async fn applied_versions(c: &mut impl Conn) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(i64,)> = c
        .fetch_all(
            "SELECT version FROM i2_schema_migrations ORDER BY version",
            vec![],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

async fn state_on(c: &mut impl Conn) -> Result<SchemaState, StoreError> {
    if !table_exists(c, TRACKING_TABLE).await? {
        return Ok(if table_exists(c, "ccp4i2_project").await? {
            SchemaState::UpstreamOnly
        } else {
            SchemaState::Empty
        });
    }
    let current = applied_versions(c).await?.last().copied().unwrap_or(0);
    let latest = latest_version();
    Ok(match current.cmp(&latest) {
        std::cmp::Ordering::Less => SchemaState::Behind { current, latest },
        std::cmp::Ordering::Equal => SchemaState::Current { version: current },
        std::cmp::Ordering::Greater => SchemaState::Ahead { current, latest },
    })
}

/// Inspect without changing anything.
pub async fn state(db: &Db) -> Result<SchemaState, StoreError> {
    let mut db = db.clone();
    state_on(&mut db).await
}

/// What [`migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrateReport {
    pub applied: Vec<i64>,
    pub adopted: Vec<i64>,
    pub version: i64,
}

/// Bring the schema to [`latest_version`]. Safe to run from several processes at once:
/// the whole run holds a lock (PostgreSQL advisory lock; SQLite's write lock), and the
/// second runner finds nothing left to do.
pub async fn migrate(db: &Db) -> Result<MigrateReport, StoreError> {
    let mut tx = db.begin().await?;
    if let Tx::Postgres(_) = tx {
        // Held until commit or rollback.
        tx.execute("SELECT pg_advisory_xact_lock(7238140419)", vec![])
            .await?;
    }
    let before = state_on(&mut tx).await?;
    if let SchemaState::Ahead { .. } = before {
        return Err(StoreError::Schema(before.explain()));
    }
    if !table_exists(&mut tx, TRACKING_TABLE).await? {
        let ddl = match tx.backend() {
            Backend::Sqlite => {
                "CREATE TABLE i2_schema_migrations (version bigint NOT NULL PRIMARY KEY, name text NOT NULL, applied_at datetime NOT NULL)"
            }
            Backend::Postgres => {
                "CREATE TABLE i2_schema_migrations (version bigint NOT NULL PRIMARY KEY, name text NOT NULL, applied_at timestamp with time zone NOT NULL)"
            }
        };
        tx.execute(ddl, vec![]).await?;
    }
    let adopting = before == SchemaState::UpstreamOnly;
    if adopting {
        check_upstream_level(&mut tx).await?;
    }
    let done = applied_versions(&mut tx).await?;
    let mut report = MigrateReport {
        applied: vec![],
        adopted: vec![],
        version: 0,
    };
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        if adopting && m.upstream_baseline {
            report.adopted.push(m.version);
        } else {
            run_script(&mut tx, m).await?;
            report.applied.push(m.version);
        }
        tx.execute(
            "INSERT INTO i2_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            args![m.version, m.name, i2_core::time::now()],
        )
        .await?;
    }
    tx.commit().await?;
    report.version = latest_version();
    Ok(report)
}

async fn run_script(tx: &mut Tx, m: &Migration) -> Result<(), StoreError> {
    let ctx = |e: sqlx::Error| {
        StoreError::Schema(format!("migration {} ({}) failed: {e}", m.version, m.name))
    };
    match tx {
        Tx::Sqlite(t) => {
            sqlx::raw_sql(AssertSqlSafe(m.sqlite))
                .execute(&mut **t)
                .await
                .map_err(ctx)?;
        }
        Tx::Postgres(t) => {
            sqlx::raw_sql(AssertSqlSafe(m.postgres))
                .execute(&mut **t)
                .await
                .map_err(ctx)?;
        }
    }
    Ok(())
}

/// An upstream database can be adopted only if upstream migrated it to the level our
/// baseline reproduces; an older one must be brought up by upstream's `migrate` first.
async fn check_upstream_level(tx: &mut Tx) -> Result<(), StoreError> {
    let found: Option<(String, DbTime)> = tx
        .fetch_optional(
            "SELECT name, applied FROM django_migrations WHERE app = 'ccp4i2' AND name = $1",
            args![UPSTREAM_LATEST],
        )
        .await?;
    if found.is_none() {
        return Err(StoreError::Schema(format!(
            "this database was created by an older upstream CCP4i2 (ccp4i2 migration {UPSTREAM_LATEST} is missing); \
             run upstream `python -m django migrate` with ccp4i2 3.0.1 once, then `i2server migrate`"
        )));
    }
    Ok(())
}
