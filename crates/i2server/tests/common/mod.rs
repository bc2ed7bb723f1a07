//! Test harness: the real application on a fresh SQLite file or a fresh PostgreSQL
//! database, driven in-process through the router (no sockets needed).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use i2_api::{ApiConfig, AppState};
use i2_store::{Db, DbTarget};
use tower::ServiceExt;

mod jobs;
// Each test file compiles this module anew; not all of them use the job helpers.
#[allow(unused_imports)]
pub use jobs::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The PostgreSQL admin URL the test command provides. Tests that need PostgreSQL fail
/// without it unless `I2_SKIP_PG=1`, which they report loudly.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("I2_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("I2_SKIP_PG").is_ok_and(|v| v == "1") {
                eprintln!(
                    "NOTICE: PostgreSQL part SKIPPED (I2_SKIP_PG=1); run scripts/test.sh for the full suite"
                );
                None
            } else {
                panic!(
                    "I2_TEST_PG_URL is not set: run the suite with scripts/test.sh (or set I2_SKIP_PG=1 to skip PostgreSQL knowingly)"
                );
            }
        }
    }
}

/// `postgresql://u@h:5432/postgres?x=y` with the database name replaced.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let root = match base.rsplit_once('/') {
        Some((r, _)) if r.contains("://") && r.len() > r.find("://").unwrap_or(0) + 3 => r,
        _ => base,
    };
    match query {
        Some(q) => format!("{root}/{db}?{q}"),
        None => format!("{root}/{db}"),
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty PostgreSQL database; dropped by [`PgDatabase::drop_now`].
pub struct PgDatabase {
    pub name: String,
    pub url: String,
    admin: String,
}

impl PgDatabase {
    pub async fn create(admin: &str) -> PgDatabase {
        let name = format!(
            "i2test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            chrono_free_stamp()
        );
        let db = Db::connect(&DbTarget::parse(admin).expect("admin url"), 1)
            .await
            .expect("connect admin");
        use i2_store::Conn;
        let mut c = db.clone();
        c.execute(&format!("CREATE DATABASE {name}"), vec![])
            .await
            .expect("create database");
        db.close().await;
        PgDatabase {
            url: with_database(admin, &name),
            name,
            admin: admin.to_string(),
        }
    }

    pub async fn drop_now(self) {
        if let Ok(db) = Db::connect(&DbTarget::parse(&self.admin).expect("admin url"), 1).await {
            use i2_store::Conn;
            let mut c = db.clone();
            let _ = c
                .execute(
                    &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
                    vec![],
                )
                .await;
            db.close().await;
        }
    }
}

fn chrono_free_stamp() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() % 1_000_000_000)
        .unwrap_or(0)
}

/// The application under test.
pub struct TestApp {
    pub backend: Backend,
    /// The dispatch shared by the API and in-process workers.
    pub dispatch: std::sync::Arc<i2_jobs::Dispatch>,
    pub router: Router,
    pub db: Db,
    pub dir: tempfile::TempDir,
    pub projects_dir: PathBuf,
    pg: Option<PgDatabase>,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_string()
    }
}

impl TestApp {
    /// A migrated, empty database of the given kind; `None` when PostgreSQL is knowingly skipped.
    pub async fn start(backend: Backend) -> Option<TestApp> {
        Self::start_with(backend, |_| {}).await
    }

    /// As [`TestApp::start`], with the API settings adjusted first (e.g. authentication).
    pub async fn start_with(
        backend: Backend,
        adjust: impl FnOnce(&mut ApiConfig),
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("tempdir");
        let projects_dir = dir.path().join("CCP4X_PROJECTS");
        std::fs::create_dir_all(&projects_dir).expect("projects dir");
        let (target, pg) = match backend {
            Backend::Sqlite => (DbTarget::Sqlite(dir.path().join("db.sqlite3")), None),
            Backend::Postgres => {
                let admin = pg_admin_url()?;
                let pg = PgDatabase::create(&admin).await;
                (DbTarget::parse(&pg.url).expect("pg url"), Some(pg))
            }
        };
        let db = i2server::app::open_database(&target, true)
            .await
            .expect("open database");
        let mut config = ApiConfig::for_projects_dir(projects_dir.clone());
        config.user = "tester".into();
        config.host = "testhost".into();
        adjust(&mut config);
        let dispatch = std::sync::Arc::new(i2_jobs::Dispatch::new());
        let mut state = AppState::new(db.clone(), config).with_dispatch(dispatch.clone());
        if let Some(cat) = test_catalogue() {
            state = state.with_tasks(cat);
        }
        // `regenerate_report/` rebuilds reports with upstream's Python, as `serve` does.
        if let Some(py) = std::env::var_os("I2_TEST_PYTHON").filter(|p| !p.is_empty()) {
            state = state.with_reports(i2_jobs::ReportBuilder::new(
                i2_jobs::Runner::Upstream { python: py.into() },
                i2_jobs::runner::RunnerEnv {
                    database_url: i2server::workers::upstream_database_url(&target),
                    projects_dir: projects_dir.clone(),
                    home: dir.path().to_path_buf(),
                },
            ));
        }
        let router = i2_api::router(state);
        Some(TestApp {
            backend,
            dispatch,
            router,
            db,
            dir,
            projects_dir,
            pg,
        })
    }

    pub async fn request(&self, req: Request<Body>) -> Reply {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.request(Request::get(path).body(Body::empty()).expect("request"))
            .await
    }

    pub async fn send_json(&self, method: &str, path: &str, v: serde_json::Value) -> Reply {
        self.request(
            Request::builder()
                .method(method)
                .uri(path)
                .header("content-type", "application/json")
                .body(Body::from(v.to_string()))
                .expect("request"),
        )
        .await
    }

    /// The PostgreSQL URL of this app's database, if it runs on PostgreSQL.
    pub fn pg_url(&self) -> Option<String> {
        self.pg.as_ref().map(|p| p.url.clone())
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub async fn finish(self) {
        self.db.close().await;
        if let Some(pg) = self.pg {
            pg.drop_now().await;
        }
    }
}

/// The Python with upstream `ccp4i2` installed (set by scripts/test.sh).
pub fn upstream_python() -> Option<PathBuf> {
    match std::env::var("I2_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ => {
            if std::env::var("I2_SKIP_PY").is_ok_and(|v| v == "1") {
                eprintln!(
                    "NOTICE: upstream comparison SKIPPED (I2_SKIP_PY=1); run scripts/test.sh for the full suite"
                );
                None
            } else {
                panic!(
                    "I2_TEST_PYTHON is not set: run the suite with scripts/test.sh (or set I2_SKIP_PY=1 to skip upstream comparisons knowingly)"
                );
            }
        }
    }
}

/// Upstream's settings refuse a PostgreSQL URL without a password; trust auth ignores it.
pub fn with_dummy_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((user, host)) if !user.contains(':') => format!("{scheme}://{user}:unused@{host}"),
        _ => url.to_string(),
    }
}

/// Run an upstream Django management command with the given database and home.
pub fn upstream_manage(
    py: &Path,
    home: &Path,
    database_url: &str,
    args: &[&str],
) -> std::process::Output {
    std::fs::create_dir_all(home).expect("home");
    std::process::Command::new(py)
        .arg("-m")
        .arg("django")
        .args(args)
        .current_dir(home)
        .env("CCP4I2_HOME", home)
        .env("CCP4I2_PROJECTS_DIR", home.join("projects"))
        .env("DJANGO_SETTINGS_MODULE", "ccp4i2.config.settings")
        .env("DATABASE_URL", database_url)
        .env_remove("CCP4I2_LOCAL_SESSION_TOKEN")
        .env_remove("CCP4I2_REQUIRE_AUTH")
        .output()
        .expect("run upstream python")
}

/// The workspace root (for files such as tests/schema/compare_schema.py).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A minimal HTTP/1.1 GET over loopback (no client library needed): status and body.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    http_get_with(port, path, "", std::time::Duration::from_secs(10))
}

/// [`http_get`] with extra header lines (each ending in `\r\n`) and a read timeout.
pub fn http_get_with(
    port: u16,
    path: &str,
    headers: &str,
    timeout: std::time::Duration,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    // Bodies here are small JSON; undo chunked framing if present.
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((status, body))
}

/// The payload of a `Transfer-Encoding: chunked` body.
pub fn dechunk(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// Poll until `GET path` answers 200 or the deadline passes.
pub fn wait_healthy(port: u16, path: &str, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if matches!(http_get(port, path), Some((200, _))) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

/// A child process killed when dropped.
pub struct Child(pub std::process::Child);

/// The last 4,000 bytes of a log file (for failure messages).
pub fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let start = text.len().saturating_sub(4000);
    text.get(start..).unwrap_or("").to_string()
}

/// `i2server serve` as the browser tests run it: SQLite and projects under `home`, one
/// embedded worker with the upstream runner `py`, `extra_env` on top, output in
/// `home/server.log`. Returns once the server is healthy and its task catalogue has loaded
/// (`get` fetches a path, with whatever credentials the server needs); the server ends
/// when the guard drops.
pub fn serve_for_browser(
    home: &Path,
    port: u16,
    py: &Path,
    extra_env: &[(&str, &str)],
    get: impl Fn(u16, &str) -> Option<(u16, String)>,
) -> Child {
    let log = std::fs::File::create(home.join("server.log")).expect("log");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_i2server"))
        .args(["serve", "--port", &port.to_string(), "--workers", "1"])
        .env("CCP4I2_HOME", home)
        .env("CCP4I2_PYTHON", py)
        .env("I2SERVER_LOG", "warn")
        .envs(extra_env.iter().copied())
        .env_remove("DATABASE_URL")
        .env_remove("CCP4I2_PROJECTS_DIR")
        .env_remove("CCP4I2_DB_FILE")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("spawn i2server");
    let server = Child(child);
    assert!(
        wait_healthy(port, "/api/ccp4i2/health/", 30),
        "i2server did not become healthy: {}",
        tail(&home.join("server.log"))
    );
    // The catalogue loads in the background (the first time it builds a class cache).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while get(port, "/api/ccp4i2/task_lookup/").map(|r| r.0) != Some(200) {
        assert!(
            std::time::Instant::now() < deadline,
            "the task catalogue never loaded"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    server
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start the upstream server (uvicorn) on `port` against `database_url`.
pub fn start_upstream_server(py: &Path, home: &Path, database_url: &str, port: u16) -> Child {
    std::fs::create_dir_all(home).expect("home");
    let log = std::fs::File::create(home.join("server.log")).expect("log");
    let child = std::process::Command::new(py)
        .args([
            "-m",
            "uvicorn",
            "ccp4i2.config.asgi:application",
            "--host",
            "127.0.0.1",
        ])
        .args(["--port", &port.to_string(), "--log-level", "warning"])
        .current_dir(home)
        .env("CCP4I2_HOME", home)
        .env("CCP4I2_PROJECTS_DIR", home.join("projects"))
        .env("DJANGO_SETTINGS_MODULE", "ccp4i2.config.settings")
        .env("DEBUG", "True")
        .env("DATABASE_URL", database_url)
        .env_remove("CCP4I2_LOCAL_SESSION_TOKEN")
        .env_remove("CCP4I2_REQUIRE_AUTH")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start upstream server");
    Child(child)
}

/// The database URL a runner process uses for this app (upstream's form).
pub fn runner_database_url(app: &TestApp) -> String {
    match app.backend {
        Backend::Sqlite => format!("sqlite://{}", app.root().join("db.sqlite3").display()),
        // Upstream's settings refuse a PostgreSQL URL without a password.
        Backend::Postgres => with_dummy_password(&app.pg_url().expect("pg url")),
    }
}

/// The fake runner script (see tests/support/fake_runner.py) as a command for `mode`.
pub fn fake_runner(py: &Path, mode: &str) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/fake_runner.py");
    vec![
        py.display().to_string(),
        script.display().to_string(),
        "{uuid}".into(),
        mode.into(),
    ]
}

/// Poll `cond` every 20 ms until it holds or `secs` pass.
pub async fn wait_for<F, Fut>(secs: u64, what: &str, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The task catalogue of the installed upstream package, when the test command provides it
/// (`I2_CCP4I2_ROOT`, `I2_TEST_PYTHON`); its class cache is shared by all tests.
pub fn test_catalogue() -> Option<Result<i2_tasks::Catalogue, String>> {
    let root = std::env::var_os("I2_CCP4I2_ROOT").filter(|v| !v.is_empty())?;
    let py = std::env::var_os("I2_TEST_PYTHON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let cache = std::env::temp_dir().join("i2server-test-class-cache");
    Some(i2server::catalogue::load(
        Some(Path::new(&root)),
        &cache,
        py.as_deref(),
    ))
}

/// A multipart/form-data body with text fields and one file.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "i2serverTestBoundary9f8e7d";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((field, name, bytes)) = file {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// The installed upstream package directory (test data lives in its `wrappers/*/test_data`).
pub fn ccp4i2_root() -> PathBuf {
    PathBuf::from(
        std::env::var_os("I2_CCP4I2_ROOT").unwrap_or_else(|| {
            panic!("I2_CCP4I2_ROOT is not set: run the suite with scripts/test.sh")
        }),
    )
}

/// An in-process worker for `app` with short leases and heartbeats, so tests see changes
/// quickly.
pub fn test_worker(app: &TestApp, runner: i2_jobs::Runner, id: &str) -> i2_jobs::Worker {
    i2_jobs::Worker {
        id: id.to_string(),
        db: app.db.clone(),
        runner,
        env: i2_jobs::runner::RunnerEnv {
            database_url: runner_database_url(app),
            projects_dir: app.projects_dir.clone(),
            home: app.root().to_path_buf(),
        },
        config: i2_jobs::WorkerConfig {
            lease_secs: 5,
            heartbeat: std::time::Duration::from_millis(200),
            idle_poll: std::time::Duration::from_millis(100),
            shutdown_grace: std::time::Duration::ZERO,
            host: "testhost".into(),
            limits: i2_jobs::TaskLimits::default(),
            memory_poll: std::time::Duration::from_millis(100),
        },
        dispatch: app.dispatch.clone(),
    }
}

/// A separate `i2server worker` process on this app's PostgreSQL database, configured like
/// a deployed worker plus `env`; its output goes to `workers.log` in the app's directory.
pub fn worker_process(app: &TestApp, env: &[(&str, String)]) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(app.root().join("workers.log"))
        .expect("worker log");
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_i2server"));
    cmd.args(["worker", "--workers", "1"])
        .env(
            "DATABASE_URL",
            app.pg_url().expect("workers need PostgreSQL"),
        )
        .env("CCP4I2_HOME", app.root())
        .env("CCP4I2_PROJECTS_DIR", &app.projects_dir)
        .env("I2SERVER_LOG", "warn")
        .stdout(log.try_clone().expect("worker log"))
        .stderr(log);
    for (k, v) in env {
        cmd.env(k, v);
    }
    Child(cmd.spawn().expect("spawn i2server worker"))
}

/// What a failed run left behind in its job directory, for assertion messages.
pub fn diagnostics(job_dir: &Path) -> String {
    let mut out = String::new();
    for rel in [
        "diagnostic.xml",
        "i2server_runner.log",
        "cplusplus_stdout.txt",
        "crash_traceback.txt",
        "stderr.txt",
        "job_1/log.txt",
        "job_1/stderr.txt",
    ] {
        if let Ok(text) = std::fs::read_to_string(job_dir.join(rel)) {
            let tail: String = text
                .chars()
                .rev()
                .take(3000)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            out.push_str(&format!("\n--- {rel}:\n{tail}"));
        }
    }
    out
}

/// The first value under `key` in a JSON document, at any depth.
pub fn find_key<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    use serde_json::Value;
    match v {
        Value::Object(m) => m
            .get(key)
            .or_else(|| m.values().find_map(|x| find_key(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_key(x, key)),
        _ => None,
    }
}

/// The items of the list parameter `name` of a job, as `container/` shows them (upstream's
/// `get_parameter/` answers every list with `{}`).
pub async fn list_items(app: &TestApp, job: i64, name: &str) -> serde_json::Value {
    let c = app
        .get(&format!("/api/ccp4i2/jobs/{job}/container/"))
        .await
        .json();
    let list = find_key(&c, name).unwrap_or_else(|| panic!("{name} is in container/"));
    serde_json::Value::Array(
        list["_value"]
            .as_array()
            .map(|a| a.iter().map(|i| i["_value"].clone()).collect())
            .unwrap_or_default(),
    )
}
