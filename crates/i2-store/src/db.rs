//! The database handle: one enum over the two backends, chosen once from the URL.
//!
//! Queries are written once, with `$1`-style placeholders (SQLite accepts them too), and
//! run through [`Conn`], which both the pool ([`Db`]) and a transaction ([`Tx`]) implement.
//! Values are always bound as parameters ([`Arg`]); SQL text is only ever assembled from
//! static fragments in this crate.

use std::future::Future;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions, PgRow, PgSslMode};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, FromRow, PgPool, Postgres, Sqlite, SqlitePool, Transaction};

use crate::cells::{Cell, decode_pg, decode_sqlite};
use crate::error::StoreError;
use crate::types::{Arg, Kind};

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the database is, parsed from `DATABASE_URL` (or built from the SQLite default).
#[derive(Clone, PartialEq, Eq)]
pub enum DbTarget {
    Sqlite(PathBuf),
    /// The full URL; `sslmode` defaults to `require` as upstream does.
    Postgres(String),
}

impl std::fmt::Debug for DbTarget {
    /// Never prints a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbTarget::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DbTarget::Postgres(u) => write!(f, "{}", redact_url(u)),
        }
    }
}

/// `postgresql://user:secret@host/db` → `postgresql://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((userinfo, host)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
}

impl DbTarget {
    /// Parse a `DATABASE_URL` the way upstream's settings do: `sqlite:///abs/path` (the URL
    /// path is the file path) or `postgres[ql]://user:pass@host:port/db?sslmode=...`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite3://"))
        {
            // Everything after the authority: for `sqlite:///a/b` that is `/a/b`.
            let path = match rest.find('/') {
                Some(i) => &rest[i..],
                None => "",
            };
            let path = path.split('?').next().unwrap_or("");
            if path.is_empty() || path == "/" {
                return Err(format!(
                    "DATABASE_URL {url:?} names no file; use sqlite:///absolute/path/db.sqlite3"
                ));
            }
            let decoded = percent_encoding::percent_decode_str(path)
                .decode_utf8()
                .map_err(|_| format!("DATABASE_URL {url:?} is not valid UTF-8 once decoded"))?;
            return Ok(DbTarget::Sqlite(PathBuf::from(decoded.as_ref())));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url)
                .map_err(|e| format!("DATABASE_URL is not a valid PostgreSQL URL: {e}"))?;
            return Ok(DbTarget::Postgres(url.to_string()));
        }
        let scheme = url.split("://").next().unwrap_or(url);
        Err(format!(
            "DATABASE_URL scheme {scheme:?} is not supported; use sqlite:///path or postgresql://user:password@host:port/db"
        ))
    }
}

/// A connection pool to either backend. Cheap to clone.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePools),
    Postgres(PgPool),
}

/// The SQLite pools of one database file: `main` commits durably (`synchronous = FULL`, an
/// fsync per commit); `relaxed` (`synchronous = NORMAL`) serves [`Db::begin_relaxed`]: writes
/// that may be lost on a power failure without harm, such as a worker's claim of a job (see
/// there). Both see the same data; only when a commit reaches the disk differs.
#[derive(Clone, Debug)]
pub struct SqlitePools {
    pub main: SqlitePool,
    pub relaxed: SqlitePool,
    /// The database file's write-ahead log, which [`Db::sync_committed`] flushes.
    pub wal: PathBuf,
}

/// A row type both backends can decode.
pub trait Record:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> Record for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// Something queries can run on: the pool or an open transaction.
pub trait Conn: Send {
    fn backend(&self) -> Backend;

    fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Vec<T>, StoreError>> + Send;

    fn fetch_optional<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<Option<T>, StoreError>> + Send;

    /// Rows decoded column by column according to `kinds` (see [`crate::cells`]).
    fn fetch_cells(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
        kinds: &[Kind],
    ) -> impl Future<Output = Result<Vec<Vec<Cell>>, StoreError>> + Send;

    /// Runs a statement; returns the number of rows it changed.
    fn execute(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The one row a query must return; [`StoreError::NotFound`] otherwise.
    fn fetch_one<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> impl Future<Output = Result<T, StoreError>> + Send {
        async move {
            self.fetch_optional(sql, args)
                .await?
                .ok_or(StoreError::NotFound)
        }
    }
}

macro_rules! bound {
    ($kind:ident, $db:ty, $row:ty, $sql:expr, $args:expr) => {{
        let mut q = sqlx::$kind::<$db, $row>(AssertSqlSafe($sql.to_owned()));
        for a in $args {
            q = q.bind(a);
        }
        q
    }};
    (query, $db:ty, $sql:expr, $args:expr) => {{
        let mut q = sqlx::query::<$db>(AssertSqlSafe($sql.to_owned()));
        for a in $args {
            q = q.bind(a);
        }
        q
    }};
}

impl Conn for Db {
    fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    async fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => {
                bound!(query_as, Sqlite, T, sql, args)
                    .fetch_all(&p.main)
                    .await?
            }
            Db::Postgres(p) => {
                bound!(query_as, Postgres, T, sql, args)
                    .fetch_all(&*p)
                    .await?
            }
        })
    }

    async fn fetch_optional<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => {
                bound!(query_as, Sqlite, T, sql, args)
                    .fetch_optional(&p.main)
                    .await?
            }
            Db::Postgres(p) => {
                bound!(query_as, Postgres, T, sql, args)
                    .fetch_optional(&*p)
                    .await?
            }
        })
    }

    async fn fetch_cells(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match self {
            Db::Sqlite(p) => {
                let rows = bound!(query, Sqlite, sql, args).fetch_all(&p.main).await?;
                decode_rows(&rows, kinds, decode_sqlite)
            }
            Db::Postgres(p) => {
                let rows = bound!(query, Postgres, sql, args).fetch_all(&*p).await?;
                decode_rows(&rows, kinds, decode_pg)
            }
        }
    }

    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => bound!(query, Sqlite, sql, args)
                .execute(&p.main)
                .await?
                .rows_affected(),
            Db::Postgres(p) => bound!(query, Postgres, sql, args)
                .execute(&*p)
                .await?
                .rows_affected(),
        })
    }
}

/// An open transaction; dropped without [`Tx::commit`] it rolls back.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

impl Conn for Tx {
    fn backend(&self) -> Backend {
        match self {
            Tx::Sqlite(_) => Backend::Sqlite,
            Tx::Postgres(_) => Backend::Postgres,
        }
    }

    async fn fetch_all<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bound!(query_as, Sqlite, T, sql, args)
                    .fetch_all(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                bound!(query_as, Postgres, T, sql, args)
                    .fetch_all(&mut **t)
                    .await?
            }
        })
    }

    async fn fetch_optional<T: Record>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bound!(query_as, Sqlite, T, sql, args)
                    .fetch_optional(&mut **t)
                    .await?
            }
            Tx::Postgres(t) => {
                bound!(query_as, Postgres, T, sql, args)
                    .fetch_optional(&mut **t)
                    .await?
            }
        })
    }

    async fn fetch_cells(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Cell>>, StoreError> {
        match self {
            Tx::Sqlite(t) => {
                let rows = bound!(query, Sqlite, sql, args).fetch_all(&mut **t).await?;
                decode_rows(&rows, kinds, decode_sqlite)
            }
            Tx::Postgres(t) => {
                let rows = bound!(query, Postgres, sql, args)
                    .fetch_all(&mut **t)
                    .await?;
                decode_rows(&rows, kinds, decode_pg)
            }
        }
    }

    async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64, StoreError> {
        Ok(match self {
            Tx::Sqlite(t) => bound!(query, Sqlite, sql, args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Postgres(t) => bound!(query, Postgres, sql, args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }
}

impl Db {
    /// Open a pool. SQLite files (and their directory) are created when missing; every
    /// SQLite connection gets WAL, a busy timeout and foreign keys, because the upstream
    /// runner writes to the same file from other processes.
    pub async fn connect(target: &DbTarget, max_connections: u32) -> Result<Db, StoreError> {
        match target {
            DbTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Config(format!(
                            "cannot create the database directory {}: {e}",
                            dir.display()
                        ))
                    })?;
                }
                let opts = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    // Generous: the upstream runner holds the write lock for whole
                    // transactions while a job registers its outputs; waiting beats failing.
                    .busy_timeout(Duration::from_secs(60))
                    .foreign_keys(true);
                // A local file cannot drop a connection: no ping before each use.
                let main = SqlitePoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(15))
                    .test_before_acquire(false)
                    .connect_with(opts.clone().synchronous(SqliteSynchronous::Full))
                    .await?;
                let relaxed = SqlitePoolOptions::new()
                    .max_connections((max_connections / 2).clamp(1, 4))
                    .acquire_timeout(Duration::from_secs(15))
                    .test_before_acquire(false)
                    .connect_with(opts.synchronous(SqliteSynchronous::Normal))
                    .await?;
                let mut wal = path.clone().into_os_string();
                wal.push("-wal");
                Ok(Db::Sqlite(SqlitePools {
                    main,
                    relaxed,
                    wal: PathBuf::from(wal),
                }))
            }
            DbTarget::Postgres(url) => {
                let mut opts = PgConnectOptions::from_str(url)
                    .map_err(|e| StoreError::Config(format!("invalid PostgreSQL URL: {e}")))?;
                if !url.contains("sslmode=") {
                    opts = opts.ssl_mode(PgSslMode::Require);
                }
                let pool = PgPoolOptions::new()
                    .max_connections(max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(15))
                    .connect_with(opts)
                    .await?;
                Ok(Db::Postgres(pool))
            }
        }
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            // IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            // then writes can fail at once with SQLITE_BUSY instead of waiting its turn.
            Db::Sqlite(p) => Tx::Sqlite(p.main.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction whose commit does not wait for the disk: for writes whose loss on a
    /// power failure (never on a crash of this process) is harmless because the state
    /// before them is still correct — a worker's claim, lease renewals, the runner's pid.
    /// A lost claim leaves the job queued, as it was; the runner started by it died with
    /// the machine. Any later durable commit (the runner's own writes) makes it durable
    /// too, as the SQLite WAL and the PostgreSQL WAL are flushed in order.
    /// SQLite: a pool with `synchronous = NORMAL`; PostgreSQL: `synchronous_commit = off`
    /// for this transaction only.
    pub async fn begin_relaxed(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.relaxed.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => {
                let mut tx = p.begin().await?;
                sqlx::query("SET LOCAL synchronous_commit TO OFF")
                    .execute(&mut *tx)
                    .await?;
                Tx::Postgres(tx)
            }
        })
    }

    /// A transaction whose commit is made durable later by [`Db::sync_committed`], so that
    /// work that follows the commit (a worker starting the job just queued) need not wait
    /// for the disk while the caller does. SQLite: the `synchronous = NORMAL` pool; the
    /// caller must call `sync_committed` before it acknowledges anything. PostgreSQL: an
    /// ordinary durable transaction (its commit is quick; `sync_committed` does nothing).
    pub async fn begin_sync_later(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Sqlite(p) => Tx::Sqlite(p.relaxed.begin_with("BEGIN IMMEDIATE").await?),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// Make everything committed so far durable. SQLite: an fsync of the write-ahead log,
    /// which holds every commit not yet checkpointed (a checkpoint syncs the database file
    /// before it reuses the log), taken without any database lock so a concurrent writer
    /// is not held up. PostgreSQL: nothing to do (see [`Db::begin_sync_later`]).
    pub async fn sync_committed(&self) -> Result<(), StoreError> {
        let Db::Sqlite(p) = self else {
            return Ok(());
        };
        let wal = p.wal.clone();
        let r = tokio::task::spawn_blocking(move || match std::fs::File::open(&wal) {
            Ok(f) => f.sync_data(),
            // No log: nothing is pending in it (the database file is synced by checkpoints).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await;
        match r {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(StoreError::Io {
                context: format!("flushing the SQLite write-ahead log {}", p.wal.display()),
                source,
            }),
            Err(e) => Err(StoreError::Io {
                context: format!("flushing the SQLite write-ahead log {}", p.wal.display()),
                source: std::io::Error::other(e.to_string()),
            }),
        }
    }

    /// SQLite: `statements` (`;`-separated, `$N` parameters numbered over the whole text) as
    /// one transaction on the `synchronous = NORMAL` pool, made durable later as
    /// [`Db::begin_sync_later`]'s, sent to the connection's thread in one exchange: statement
    /// by statement, each would be a round trip between threads (some 80 µs each on a quiet
    /// machine, the larger part of `run/`'s own time). Returns the rows the statements
    /// return, which must all have the shape `T`.
    ///
    /// The batch runs in a task of its own, so a caller that goes away (a client hanging up)
    /// cannot stop it half-way; one that stops at an error is rolled back, and a connection
    /// that cannot be rolled back is not reused.
    pub(crate) async fn sqlite_batch_sync_later<T: Record>(
        pools: &SqlitePools,
        statements: &'static str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>, StoreError> {
        let pool = pools.relaxed.clone();
        let batch = tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            let sql = format!("BEGIN IMMEDIATE; {statements}; COMMIT");
            match bound!(query_as, Sqlite, T, sql, args)
                .fetch_all(&mut *conn)
                .await
            {
                Ok(rows) => Ok(rows),
                Err(e) => {
                    if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                        // Either no transaction was open (BEGIN itself failed) or the
                        // connection is broken: a fresh one costs little either way.
                        conn.close_on_drop();
                    }
                    Err(StoreError::from(e))
                }
            }
        });
        batch.await.map_err(|e| StoreError::Io {
            context: "running a batch of SQLite statements".to_string(),
            source: std::io::Error::other(e.to_string()),
        })?
    }

    /// `SELECT 1`, for health checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut db = self.clone();
        db.fetch_one::<(i32,)>("SELECT 1", vec![]).await.map(|_| ())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite(p) => {
                p.relaxed.close().await;
                p.main.close().await
            }
            Db::Postgres(p) => p.close().await,
        }
    }
}

fn decode_rows<R>(
    rows: &[R],
    kinds: &[Kind],
    decode: fn(&R, usize, Kind) -> Result<Cell, sqlx::Error>,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    rows.iter()
        .map(|r| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, k)| decode(r, i, *k).map_err(StoreError::from))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch_sqlite(name: &str) -> (Db, PathBuf) {
        let dir = std::env::temp_dir().join(format!("i2-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Two connections in all: the relaxed pool gets one, so a transaction left open
        // on it would be met by the next user.
        let db = Db::connect(&DbTarget::Sqlite(dir.join("db.sqlite3")), 2)
            .await
            .expect("scratch database");
        db.clone()
            .execute("CREATE TABLE t (x INTEGER UNIQUE)", vec![])
            .await
            .expect("table");
        (db, dir)
    }

    #[tokio::test]
    async fn a_batch_is_one_transaction_and_one_that_fails_leaves_nothing_open() {
        let (db, dir) = scratch_sqlite("batch").await;
        let Db::Sqlite(pools) = &db else {
            unreachable!("a SQLite target")
        };
        let rows: Vec<(i64,)> = Db::sqlite_batch_sync_later(
            pools,
            "INSERT INTO t VALUES ($1); UPDATE t SET x = x + 1 WHERE x = $1 RETURNING x",
            vec![Arg::Int(1)],
        )
        .await
        .expect("batch");
        assert_eq!(rows, vec![(2,)], "rows of the statements that return any");

        // The second statement fails: the first is undone with it.
        let err = Db::sqlite_batch_sync_later::<(i64,)>(
            pools,
            "INSERT INTO t VALUES ($1); INSERT INTO t VALUES ($1)",
            vec![Arg::Int(5)],
        )
        .await
        .expect_err("a unique violation");
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        let left: Vec<(i64,)> = db
            .clone()
            .fetch_all("SELECT x FROM t ORDER BY x", vec![])
            .await
            .expect("read");
        assert_eq!(left, vec![(2,)], "the failed batch left nothing");
        // The relaxed pool's one connection has no transaction left open.
        let mut tx = db.begin_sync_later().await.expect("a new transaction");
        tx.execute("INSERT INTO t VALUES (9)", vec![])
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
