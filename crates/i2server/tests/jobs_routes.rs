//! Job routes and supervision beyond `run/`, with real processes: `active_jobs/` reports the
//! running group's real pid, CPU and memory; `run_local/` runs through i2server's workers
//! (synchronously when asked); `regenerate_report/` rebuilds a report with upstream's report
//! class in a subprocess; per-task wall-time and memory limits end a job with distinct
//! outcomes, and crashes and limits are explained in `diagnostic.xml`; on PostgreSQL a
//! separate worker wakes on `NOTIFY` (its poll interval is an hour).

mod common;

use std::path::PathBuf;

use common::*;
use i2_jobs::{Runner, TaskLimits, Worker};
use i2_store::queue;
use serde_json::{Value, json};

fn worker(app: &TestApp, argv: Vec<String>, limits: &str) -> Worker {
    let mut w = test_worker(app, Runner::Command { argv }, "w");
    w.config.limits = TaskLimits::parse(limits).expect("limits");
    w
}

fn sh(script: &str) -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into(), script.into()]
}

async fn job_dir(app: &TestApp, jid: i64) -> PathBuf {
    let j = app.get(&format!("/api/ccp4i2/jobs/{jid}/")).await.json();
    let p = app
        .get(&format!("/api/ccp4i2/projects/{}/", j["project"]))
        .await
        .json();
    PathBuf::from(p["directory"].as_str().expect("dir"))
        .join("CCP4_JOBS")
        .join(format!("job_{}", j["number"].as_str().expect("number")))
}

async fn active_jobs_reports_the_running_group(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 2).await;
    // A shell that keeps a busy child and some memory: both must show up in the numbers.
    let w = spawn_worker(worker(
        &app,
        sh(r#"/usr/bin/python3 -c 'b = b"x" * (64 << 20)
while True: pass' & wait"#),
        "{}",
    ));
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run/", ids[0]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    let jid = ids[0];
    let pgid = wait_runner_started(&app, jid, "the runner to start").await;
    // Wait for the busy child to hold its memory.
    wait_for(60, "the child's memory", || async move {
        i2_jobs::process::sample_group(pgid).rss_bytes > 64 << 20
    })
    .await;
    let body = app.get("/api/ccp4i2/active_jobs/").await.json();
    let list = body["data"]["active_jobs"]
        .as_array()
        .expect("list")
        .clone();
    assert_eq!(list.len(), 1, "only the running job is active: {body}");
    let a = &list[0];
    assert_eq!(a["job_id"], jid);
    assert_eq!(a["status"], "Running");
    assert_eq!(a["project"], "jobs");
    assert_eq!(a["pid"], pgid, "the process group the worker started");
    assert!(
        a["memory_usage_bytes"].as_u64().expect("memory") > 64 << 20,
        "{a}"
    );
    assert!(
        a["cpu_percent"].as_f64().expect("cpu") > 0.0,
        "a busy loop uses CPU: {a}"
    );
    // Queued without a worker's process: listed, with no numbers.
    queue::enqueue(&app.db, ids[1]).await.expect("enqueue");
    let body = app.get("/api/ccp4i2/active_jobs/").await.json();
    let queued = body["data"]["active_jobs"]
        .as_array()
        .expect("list")
        .iter()
        .find(|j| j["job_id"] == ids[1])
        .cloned()
        .expect("queued job listed");
    assert_eq!(queued["status"], "Queued");
    assert!(queued["pid"].is_null() && queued["cpu_percent"].is_null());
    // The queued job is cancelled first, so the worker does not start it once the running
    // one ends.
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/cancel/", ids[1]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    app.send_json(
        "POST",
        &format!("/api/ccp4i2/jobs/{jid}/cancel/"),
        Value::Null,
    )
    .await;
    wait_closed(&app, jid, "the attempt to close").await;
    w.abort();
    app.finish().await;
}

#[tokio::test]
async fn active_jobs_sqlite() {
    active_jobs_reports_the_running_group(Backend::Sqlite).await;
}

#[tokio::test]
async fn active_jobs_postgres() {
    active_jobs_reports_the_running_group(Backend::Postgres).await;
}

/// Each way a job can end badly has its own outcome and its own `diagnostic.xml` entry.
async fn limits_and_crashes_are_distinct(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 4).await;
    let limits = r#"{"*": {"wall_time_secs": 2}, "test": {"memory_mb": 100}}"#;
    let cases = [
        // (runner, outcome, diagnostic code, text the diagnostic must hold)
        (
            sh("echo about to hang >&2; sleep 600"),
            "wall_time_limit",
            "9002",
            "about to hang",
        ),
        (
            sh(r#"/usr/bin/python3 -c 'b = b"x" * (300 << 20); import time; time.sleep(600)'"#),
            "memory_limit",
            "9003",
            "memory limit of 100 MiB",
        ),
        (
            sh("echo segfaulting >&2; kill -SEGV $$"),
            "crashed",
            "9001",
            "SIGSEGV",
        ),
        (
            sh("echo bad input >&2; exit 3"),
            "failed",
            "9004",
            "bad input",
        ),
    ];
    let mut seen = Vec::new();
    for (jid, (argv, outcome, code, text)) in ids.iter().copied().zip(cases) {
        let w = spawn_worker(worker(&app, argv, limits));
        let r = app
            .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
            .await;
        assert_eq!(r.status, 200);
        let row = wait_closed(&app, jid, "the attempt to close").await;
        assert_eq!(row.outcome.as_deref(), Some(outcome), "{}", row.detail);
        assert_eq!(job_status(&app, jid).await, 5, "Failed");
        let dir = job_dir(&app, jid).await;
        let diag = std::fs::read_to_string(dir.join("diagnostic.xml")).expect("diagnostic.xml");
        assert!(diag.starts_with("<errorReportList>"), "{diag}");
        assert!(diag.contains(&format!("<code>{code}</code>")), "{diag}");
        assert!(diag.contains(text), "{diag}");
        assert!(diag.contains("resources: wall time"), "{diag}");
        // Upstream's own reader (an XML parser) must accept it.
        let py = upstream_python();
        if let Some(py) = py {
            let ok = std::process::Command::new(py)
                .args([
                    "-c",
                    "import sys, xml.etree.ElementTree as ET\nr = ET.parse(sys.argv[1]).getroot()\nassert r.tag == 'errorReportList'\nassert all(e.find(t) is not None for e in r for t in ('class','code','details','name','severity','severityName'))",
                ])
                .arg(dir.join("diagnostic.xml"))
                .status()
                .expect("python");
            assert!(
                ok.success(),
                "diagnostic.xml does not parse as upstream's format"
            );
        }
        seen.push(outcome);
        w.abort();
    }
    seen.dedup();
    assert_eq!(seen.len(), 4, "four distinct outcomes");
    app.finish().await;
}

#[tokio::test]
async fn limits_and_crashes_sqlite() {
    limits_and_crashes_are_distinct(Backend::Sqlite).await;
}

#[tokio::test]
async fn limits_and_crashes_postgres() {
    limits_and_crashes_are_distinct(Backend::Postgres).await;
}

/// A task's own limits apply only to it.
#[tokio::test]
async fn limits_are_per_task() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    let w = spawn_worker(worker(
        &app,
        sh("sleep 3"),
        r#"{"other_task": {"wall_time_secs": 1}}"#,
    ));
    app.send_json(
        "POST",
        &format!("/api/ccp4i2/jobs/{}/run/", ids[0]),
        Value::Null,
    )
    .await;
    let row = wait_closed(&app, ids[0], "the attempt to close").await;
    assert_eq!(row.outcome.as_deref(), Some("succeeded"), "{}", row.detail);
    assert_eq!(job_status(&app, ids[0]).await, 6);
    w.abort();
    app.finish().await;
}

async fn run_local_through_workers(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    // The engine's test jobs have task "test", which is not ccp4_free: make it runnable
    // by using a ccp4_free task name.
    let ids = make_jobs(&app, 2).await;
    for id in &ids {
        let r = app
            .send_json(
                "PATCH",
                &format!("/api/ccp4i2/jobs/{id}/"),
                json!({"task_name": "freerflag"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let w = spawn_worker(worker(&app, sh("sleep 1; echo done"), "{}"));
    // Synchronous: the answer is the job after its worker closed the attempt.
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run_local/", ids[0]),
            json!({"synchronous": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["status"], 6, "Finished: {}", r.json());
    assert_eq!(
        queue::row(&app.db, ids[0])
            .await
            .expect("row")
            .expect("row")
            .state,
        "done"
    );
    // Asynchronous: queued at once, then run by the worker.
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run_local/", ids[1]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], 2);
    let again = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run_local/", ids[1]),
            Value::Null,
        )
        .await;
    // A second run_local while it is queued or running is refused, as run/ does.
    assert_eq!(
        again.status,
        400,
        "{}",
        String::from_utf8_lossy(&again.body)
    );
    let row = wait_closed(&app, ids[1], "the attempt to close").await;
    assert_eq!(row.outcome.as_deref(), Some("succeeded"));
    w.abort();
    app.finish().await;
}

#[tokio::test]
async fn run_local_sqlite() {
    run_local_through_workers(Backend::Sqlite).await;
}

#[tokio::test]
async fn run_local_postgres() {
    run_local_through_workers(Backend::Postgres).await;
}

/// `regenerate_report/` of a job the upstream runner failed: upstream's report class
/// explains it (as the reference server answers: "No report because: No program XML found").
async fn regenerate_report_with_upstream(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let pid = create_project(&app, "regen").await["id"]
        .as_i64()
        .expect("project");
    let jid = create_task(&app, pid, "freerflag").await["id"]
        .as_i64()
        .expect("job");
    // Pending: upstream's fixed pending report, without Python.
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{jid}/regenerate_report/"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"success": true, "data": {"regenerated": true, "xml": "<report>\n\t<status>PENDING</status>\n</report>"}})
    );
    // Run it with the upstream runner: freerflag without its input fails.
    let w = spawn_worker(test_worker(&app, Runner::Upstream { python: py }, "w"));
    app.send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    let row = wait_closed(&app, jid, "the attempt to close").await;
    let dir = job_dir(&app, jid).await;
    assert_eq!(
        job_status(&app, jid).await,
        5,
        "{} {}",
        row.detail,
        diagnostics(&dir)
    );
    std::fs::remove_file(dir.join("report_xml.xml")).ok();
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{jid}/regenerate_report/"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
        Some("no-store, no-cache, must-revalidate, max-age=0")
    );
    let body = r.json();
    assert_eq!(body["data"]["regenerated"], true);
    let xml = body["data"]["xml"].as_str().expect("xml");
    assert!(xml.starts_with("<CCP4i2Reportfreerflag_report"), "{xml}");
    assert!(xml.contains("No report because"), "{xml}");
    // Unknown job: upstream's 404 envelope.
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/jobs/9999/regenerate_report/",
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.json()["error"],
        "Job not found: Job matching query does not exist."
    );
    w.abort();
    app.finish().await;
}

#[tokio::test]
async fn regenerate_report_sqlite() {
    regenerate_report_with_upstream(Backend::Sqlite).await;
}

#[tokio::test]
async fn regenerate_report_postgres() {
    regenerate_report_with_upstream(Backend::Postgres).await;
}

/// A separate worker whose poll interval is an hour picks up a job queued after it went
/// idle: only PostgreSQL's NOTIFY can have woken it.
#[tokio::test]
async fn separate_worker_wakes_on_notify() {
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    let log = app.root().join("workers.log");
    let _worker = worker_process(
        &app,
        &[
            ("I2SERVER_POLL_SECS", "3600".into()),
            ("I2SERVER_LOG", "warn,i2_jobs=debug".into()),
            (
                "I2SERVER_RUNNER_COMMAND",
                serde_json::to_string(&sh("exit 0")).expect("json"),
            ),
        ],
    );
    // Idle: it looked once, found nothing, and now waits (for an hour, or a NOTIFY).
    wait_for(120, "the worker to go idle", || {
        let log = log.clone();
        async move {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.contains("queue empty; waiting for work")
                && text.contains("listening for queued jobs")
        }
    })
    .await;
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run/", ids[0]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    let row = wait_closed(&app, ids[0], "the attempt to close").await;
    assert_eq!(row.outcome.as_deref(), Some("succeeded"), "{}", row.detail);
    assert_eq!(job_status(&app, ids[0]).await, 6);
    app.finish().await;
}

/// On SQLite a running job's lease is renewed only once half of it has passed (every write
/// can abort one of the upstream runner's deferred transactions), while cancel is still
/// looked for at every heartbeat: a 3 s job under a 5 s lease and 200 ms heartbeats (15
/// looks) gets its lease written at most twice (the claim and one renewal).
#[tokio::test]
async fn sqlite_heartbeats_rarely_write() {
    use i2_store::{Conn, args};
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    let w = spawn_worker(worker(&app, sh("sleep 3"), "{}"));
    app.send_json(
        "POST",
        &format!("/api/ccp4i2/jobs/{}/run/", ids[0]),
        Value::Null,
    )
    .await;
    let mut leases = std::collections::BTreeSet::new();
    let mut c = app.db.clone();
    loop {
        let row: Option<(String, Option<String>)> = c
            .fetch_optional(
                "SELECT state, CAST(lease_expires_at AS TEXT) FROM i2_job_queue WHERE job_id = $1",
                args![ids[0]],
            )
            .await
            .expect("row");
        match row {
            Some((state, _)) if state == "done" => break,
            Some((_, Some(lease))) => {
                leases.insert(lease);
            }
            _ => {}
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!leases.is_empty());
    assert!(
        leases.len() <= 2,
        "lease written {} times: {leases:?}",
        leases.len()
    );
    assert_eq!(job_status(&app, ids[0]).await, 6);
    w.abort();
    app.finish().await;
}
