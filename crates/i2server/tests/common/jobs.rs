//! Projects, jobs and workers as tests set them up: through the API where a client would,
//! with the waits every job test needs (runner started, attempt closed, job ended).

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use i2_store::queue;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::{Reply, TestApp, multipart, test_worker, wait_for};

/// `POST /projects/` with the default directory; the new project (asserts 201).
pub async fn create_project(app: &TestApp, name: &str) -> Value {
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/projects/",
            json!({"name": name, "directory": "__default__"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()
}

/// `POST /projects/{pid}/create_task/`; the new job (asserts 200).
pub async fn create_task(app: &TestApp, pid: i64, task_name: &str) -> Value {
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/projects/{pid}/create_task/"),
            json!({"task_name": task_name}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["data"]["new_job"].clone()
}

/// Create a project and `n` jobs through the API; returns the job ids.
pub async fn make_jobs(app: &TestApp, n: usize) -> Vec<i64> {
    let pid = create_project(app, "jobs").await["id"]
        .as_i64()
        .expect("project id");
    let mut ids = Vec::new();
    for i in 1..=n {
        let r = app
            .send_json(
                "POST",
                "/api/ccp4i2/jobs/",
                json!({"project": pid, "number": i.to_string(), "title": "engine test", "task_name": "test"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        ids.push(r.json()["id"].as_i64().expect("job id"));
    }
    ids
}

/// `POST /jobs/{jid}/upload_file_param/` of `bytes` as file `name`, with the form `fields`
/// (`object_path`, `column_selector`…). The answer is the caller's to check.
pub async fn upload_file_param(
    app: &TestApp,
    jid: i64,
    fields: &[(&str, &str)],
    name: &str,
    bytes: &[u8],
) -> Reply {
    let (ct, body) = multipart(fields, Some(("file", name, bytes)));
    app.request(
        Request::post(format!("/api/ccp4i2/jobs/{jid}/upload_file_param/"))
            .header("content-type", ct)
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

/// The job's status number as `GET /jobs/{id}/` gives it.
pub async fn job_status(app: &TestApp, id: i64) -> i64 {
    app.get(&format!("/api/ccp4i2/jobs/{id}/")).await.json()["status"]
        .as_i64()
        .expect("status")
}

/// Poll the job every `every` until it has ended (Interrupted, Failed, Finished or Unsatisfactory),
/// failing after `secs`; the job as last read.
pub async fn wait_job_end(app: &TestApp, jid: i64, secs: u64, every: Duration) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let j = app.get(&format!("/api/ccp4i2/jobs/{jid}/")).await.json();
        let s = j["status"].as_i64().expect("status");
        if matches!(s, 4 | 5 | 6 | 10) {
            return j;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not finish in time (status {s})"
        );
        tokio::time::sleep(every).await;
    }
}

/// Wait (up to a minute) until a worker has started the job's runner; its process group.
pub async fn wait_runner_started(app: &TestApp, jid: i64, what: &str) -> i32 {
    wait_queue_row(app, jid, 60, what, |r| r.pid.is_some())
        .await
        .pid
        .expect("pid")
}

/// Wait (up to two minutes) until the job's queue attempt is closed; its row.
pub async fn wait_closed(app: &TestApp, jid: i64, what: &str) -> queue::QueueRow {
    wait_queue_row(app, jid, 120, what, |r| r.state == "done").await
}

/// Wait (up to `secs`) until the job's queue row meets `cond`; the row.
async fn wait_queue_row(
    app: &TestApp,
    jid: i64,
    secs: u64,
    what: &str,
    cond: fn(&queue::QueueRow) -> bool,
) -> queue::QueueRow {
    let db = app.db.clone();
    wait_for(secs, what, || {
        let db = db.clone();
        async move {
            queue::row(&db, jid)
                .await
                .ok()
                .flatten()
                .is_some_and(|r| cond(&r))
        }
    })
    .await;
    queue::row(&app.db, jid).await.expect("row").expect("row")
}

/// An in-process worker on the test's runtime, until [`RunningWorker::stop`] or
/// [`RunningWorker::abort`].
pub struct RunningWorker {
    stop: watch::Sender<bool>,
    handle: tokio::task::JoinHandle<()>,
}

pub fn spawn_worker(worker: i2_jobs::Worker) -> RunningWorker {
    let (stop, stop_rx) = watch::channel(false);
    RunningWorker {
        stop,
        handle: tokio::spawn(worker.run(stop_rx)),
    }
}

impl RunningWorker {
    /// Ask the worker to stop and wait until it has.
    pub async fn stop(self) {
        self.stop.send(true).expect("stop");
        self.handle.await.expect("worker");
    }

    /// Ask the worker to stop and end its task at once.
    pub fn abort(self) {
        self.stop.send(true).ok();
        self.handle.abort();
    }
}

/// An embedded worker with upstream's runner and the deployed lease timings: upstream's
/// runner opens deferred SQLite transactions, which a concurrent write (a heartbeat) can
/// abort with SQLITE_BUSY; 200 ms test heartbeats made that likely enough to fail a run.
pub fn embedded_upstream_worker(app: &TestApp, python: PathBuf) -> i2_jobs::Worker {
    let mut w = test_worker(app, i2_jobs::Runner::Upstream { python }, "embedded");
    w.config = i2_jobs::WorkerConfig {
        host: "testhost".into(),
        ..i2_jobs::WorkerConfig::default()
    };
    w
}
