//! Live job events (`GET /events/`) through the router: a subscriber sees a job go
//! Queued → Running → Finished and its printed lines in order while an in-process worker
//! runs it; a second subscription to a running job starts at the logs' end; unknown
//! scopes are 404s; the stream limit answers 503 and frees its slot when a client leaves;
//! shutting down ends open streams.

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use i2_api::events::EventSettings;
use i2_api::{ApiConfig, AppState};
use i2_jobs::{Runner, Worker};
use serde_json::Value;
use tokio::sync::watch;
use tower::ServiceExt;

fn worker(app: &TestApp, script: &str) -> Worker {
    let argv = vec!["/bin/sh".into(), "-c".into(), script.into()];
    test_worker(app, Runner::Command { argv }, "events-w")
}

/// An open event stream, read incrementally.
struct Events {
    body: Body,
    buf: String,
}

impl Events {
    async fn open(router: &axum::Router, query: &str) -> Events {
        let req = Request::get(format!("/api/ccp4i2/events/?{query}"))
            .body(Body::empty())
            .expect("request");
        let resp = router
            .clone()
            .oneshot(req)
            .await
            .expect("infallible router");
        assert_eq!(resp.status(), 200);
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        assert_eq!(ct, Some("text/event-stream"));
        Events {
            body: resp.into_body(),
            buf: String::new(),
        }
    }

    /// The next event (name, JSON data), skipping keep-alive comments; fails at `deadline`.
    async fn next(&mut self, deadline: Instant) -> (String, Value) {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        name = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                if name.is_empty() {
                    continue;
                }
                let v = serde_json::from_str(&data).expect("event data is JSON");
                return (name, v);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.body.frame())
                .await
                .expect("timed out waiting for an event")
                .expect("stream ended early")
                .expect("body frame");
            if let Ok(data) = frame.into_data() {
                self.buf.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }

    /// Events until one satisfies `stop` (included); fails at `deadline`.
    async fn until(
        &mut self,
        deadline: Instant,
        stop: impl Fn(&str, &Value) -> bool,
    ) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        loop {
            let (name, v) = self.next(deadline).await;
            let done = stop(&name, &v);
            out.push((name, v));
            if done {
                return out;
            }
        }
    }
}

fn is_status(job: i64, status: i64) -> impl Fn(&str, &Value) -> bool {
    move |name, v| name == "job" && v["id"] == job && v["status"] == status
}

async fn run(app: &TestApp, job: i64) {
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{job}/run/"), Value::Null)
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
}

async fn live_events(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 2).await;
    let job = app
        .get(&format!("/api/ccp4i2/jobs/{}/", ids[0]))
        .await
        .json();
    let project = job["project"].as_i64().expect("project");
    let deadline = Instant::now() + Duration::from_secs(30);

    // The first message for each job is its current state.
    let mut ev = Events::open(&app.router, &format!("project={project}")).await;
    let (name, first) = ev.next(deadline).await;
    assert_eq!((name.as_str(), &first["id"]), ("job", &job["id"]));
    assert_eq!(first["status"], job["status"]);
    assert_eq!(first["uuid"], job["uuid"]);
    assert_eq!(first["number"], "1");
    assert_eq!(first["project"], project);
    let (_, second) = ev.next(deadline).await;
    assert_eq!(second["id"], ids[1]);

    // Queued is announced before any worker exists, so it cannot be skipped over.
    run(&app, ids[0]).await;
    let seen = ev.until(deadline, is_status(ids[0], 2)).await;
    assert_eq!(
        seen.last().map(|e| &e.1["status_label"]),
        Some(&"Queued".into())
    );
    let (stop_tx, stop_rx) = watch::channel(false);
    let script = "echo 'first line'; sleep 0.3; echo 'second line'; sleep 0.3; \
                  printf 'third line\\nlast, unterminated'";
    let w = tokio::spawn(worker(&app, script).run(stop_rx));
    let seen = ev.until(deadline, is_status(ids[0], 6)).await;
    let statuses: Vec<i64> = seen
        .iter()
        .filter(|(n, v)| n == "job" && v["id"] == ids[0])
        .filter_map(|(_, v)| v["status"].as_i64())
        .collect();
    assert_eq!(statuses, [3, 6], "Running then Finished: {seen:?}");
    let lines: Vec<&str> = seen
        .iter()
        .filter(|(n, _)| n == "log")
        .filter_map(|(_, v)| {
            assert_eq!(v["job"], ids[0]);
            assert_eq!(v["file"], "i2server_runner.log");
            v["line"].as_str()
        })
        .collect();
    assert_eq!(
        lines,
        [
            "first line",
            "second line",
            "third line",
            "last, unterminated"
        ]
    );
    assert_eq!(seen[0].0, "job", "Running comes before the lines: {seen:?}");

    // A subscription that starts while a job runs sends only lines written after it.
    let script2 = "echo old; while [ ! -e go ]; do sleep 0.05; done; echo new";
    stop_tx.send(true).expect("stop");
    w.await.expect("worker");
    let (stop_tx, stop_rx) = watch::channel(false);
    let w = tokio::spawn(worker(&app, script2).run(stop_rx));
    run(&app, ids[1]).await;
    let seen = ev
        .until(deadline, |n, v| n == "log" && v["line"] == "old")
        .await;
    assert!(seen.iter().any(|(_, v)| v["status"] == 3), "{seen:?}");
    let mut late = Events::open(&app.router, &format!("job={}", ids[1])).await;
    let (_, now) = late.next(deadline).await;
    assert_eq!((&now["id"], &now["status"]), (&ids[1].into(), &3.into()));
    let dir = app
        .get(&format!("/api/ccp4i2/projects/{project}/"))
        .await
        .json()["directory"]
        .as_str()
        .map(std::path::PathBuf::from)
        .expect("project directory");
    let job_dir = dir.join("CCP4_JOBS/job_2");
    std::fs::write(job_dir.join("go"), b"").expect("release the job");
    let seen = late.until(deadline, is_status(ids[1], 6)).await;
    let lines: Vec<&Value> = seen
        .iter()
        .filter(|(n, _)| n == "log")
        .map(|(_, v)| &v["line"])
        .collect();
    assert_eq!(lines, [&Value::from("new")], "{seen:?}");

    stop_tx.send(true).expect("stop");
    w.await.expect("worker");
    drop((ev, late));
    app.finish().await;
}

#[tokio::test]
async fn live_events_sqlite() {
    live_events(Backend::Sqlite).await;
}

#[tokio::test]
async fn live_events_postgres() {
    live_events(Backend::Postgres).await;
}

#[tokio::test]
async fn unknown_scopes_and_the_stream_limit() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    for q in ["project=999999", "job=999999", "project=abc"] {
        let r = app.get(&format!("/api/ccp4i2/events/?{q}")).await;
        assert_eq!(r.status, 404, "{q}");
        assert!(r.json()["detail"].is_string(), "{q}");
    }
    let r = app.get("/api/ccp4i2/events/").await;
    assert_eq!(r.status, 400);

    let settings = EventSettings::new(Duration::from_millis(50), 1);
    let state = AppState::new(
        app.db.clone(),
        ApiConfig::for_projects_dir(app.projects_dir.clone()),
    )
    .with_events(settings.clone());
    let router = i2_api::router(state);
    let held = Events::open(&router, &format!("job={}", ids[0])).await;
    let req = || {
        Request::get(format!("/api/ccp4i2/events/?job={}", ids[0]))
            .body(Body::empty())
            .expect("request")
    };
    let resp = router.clone().oneshot(req()).await.expect("router");
    assert_eq!(resp.status(), 503);
    // The client goes away: its slot is free again.
    drop(held);
    let mut last = Events::open(&router, &format!("job={}", ids[0])).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    assert_eq!(last.next(deadline).await.0, "job");
    // Server shutdown ends open streams (graceful shutdown waits for them).
    settings.closing.cancel();
    let end = tokio::time::timeout(Duration::from_secs(30), last.body.frame()).await;
    assert!(
        matches!(end, Ok(None)),
        "the stream ends when the server closes"
    );
    app.finish().await;
}
