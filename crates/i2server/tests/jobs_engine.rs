//! The job engine with real processes: run → queue → worker → runner → final status;
//! cancel ends the whole process tree; Finished never shows before outputs and KPIs;
//! a worker killed with SIGKILL loses its job to another after the lease expires, and its
//! attempt writes nothing afterwards; a soak of 1,000 jobs across 4 worker processes that
//! are killed and restarted at random runs every job to completion exactly once.

mod common;

use std::time::Duration;

use common::*;
use i2_jobs::{Runner, Worker};
use i2_store::queue;
use serde_json::Value;

fn worker(app: &TestApp, argv: Vec<String>, id: &str) -> Worker {
    test_worker(app, Runner::Command { argv }, id)
}

async fn job(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/ccp4i2/jobs/{id}/")).await.json()
}

async fn cancel_ends_the_process_tree(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    let w = spawn_worker(worker(&app, fake_runner(&py, "hang"), "w1"));

    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/run/", ids[0]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["status"], 2, "queued");
    let jid = ids[0];
    let pgid = wait_runner_started(&app, jid, "the runner to start").await;
    wait_for(60, "the grandchildren to start", || async move {
        i2_jobs::process::group_alive(pgid)
    })
    .await;
    assert_eq!(job_status(&app, jid).await, 3, "running");

    let t0 = std::time::Instant::now();
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{jid}/cancel/"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], 4, "Interrupted at once");
    // Typically well under a second; the limit here only catches a tree that never dies
    // (machines running the suite can be very busy, so no timing target is asserted).
    wait_for(30, "the whole process group to be gone", || async move {
        !i2_jobs::process::group_alive(pgid)
    })
    .await;
    println!(
        "{}: process tree gone {:?} after cancel",
        backend.name(),
        t0.elapsed()
    );
    let row = wait_closed(&app, jid, "the attempt to be closed").await;
    assert_eq!(row.outcome.as_deref(), Some("cancelled"));
    assert_eq!(job_status(&app, jid).await, 4, "stays Interrupted");
    // Cancelling again is refused: it is no longer active.
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{jid}/cancel/"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 400);

    w.stop().await;
    app.finish().await;
}

#[tokio::test]
async fn cancel_sqlite() {
    cancel_ends_the_process_tree(Backend::Sqlite).await;
}

#[tokio::test]
async fn cancel_postgres() {
    cancel_ends_the_process_tree(Backend::Postgres).await;
}

async fn run(app: &TestApp, jid: i64) -> (u16, Value) {
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    (r.status.as_u16(), r.json())
}

async fn idle_workers(app: &TestApp, n: usize) {
    let d = app.dispatch.clone();
    wait_for(30, &format!("{n} idle worker(s)"), || {
        let d = d.clone();
        async move { d.idle_workers() == n }
    })
    .await;
}

async fn queue_row(app: &TestApp, jid: i64) -> queue::QueueRow {
    queue::row(&app.db, jid)
        .await
        .expect("queue row")
        .expect("the job has a queue row")
}

/// `run/` hands the job to an idle worker of the server inside the queueing transaction
/// (claimed, so `started_at` is the queueing time itself); a job already running is refused
/// and the worker offered for it stays available, as it does for a job that does not
/// exist (404); a hand-over to a worker that stopped
/// meanwhile puts the job back on the queue, where a worker claims it.
async fn run_hands_the_job_to_an_idle_worker(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 3).await;

    // A worker that stops between offering itself and receiving the job.
    drop(app.dispatch.offer("gone", "testhost", 5));
    let (status, body) = run(&app, ids[2]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 2, "queued");
    let row = queue_row(&app, ids[2]).await;
    assert_eq!(
        (row.state.as_str(), row.worker.as_deref(), row.attempts),
        ("queued", None, 0),
        "handed back to the queue"
    );
    assert_eq!(job_status(&app, ids[2]).await, 2, "shows Queued again");

    let w1 = spawn_worker(worker(&app, fake_runner(&py, "quick"), "w1"));
    let row = wait_closed(&app, ids[2], "the handed-back job to be run").await;
    assert_eq!(row.worker.as_deref(), Some("w1"));
    assert_eq!((row.attempts, row.fence), (1, 2), "claimed once more");
    assert_eq!(job_status(&app, ids[2]).await, 6);
    w1.stop().await;

    // A job that runs until cancelled, handed to the idle w2.
    let w2 = spawn_worker(worker(&app, fake_runner(&py, "hang"), "w2"));
    idle_workers(&app, 1).await;
    let (status, body) = run(&app, ids[0]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], 2, "the answer shows the job as queued");
    let row = queue_row(&app, ids[0]).await;
    assert_eq!(
        row.worker.as_deref(),
        Some("w2"),
        "handed to the idle worker"
    );
    assert_eq!((row.attempts, row.fence), (1, 1));
    assert_eq!(
        row.started_at.map(|t| t.0),
        Some(row.enqueued_at.0),
        "claimed in the queueing transaction"
    );
    assert_eq!(app.dispatch.idle_workers(), 0, "w2 is busy");

    let w3 = spawn_worker(worker(&app, fake_runner(&py, "quick"), "w3"));
    idle_workers(&app, 1).await;
    let (status, body) = run(&app, ids[0]).await;
    assert_eq!(status, 400, "already running: {body}");
    // w3's offer was taken for the refused run; it offers itself again.
    idle_workers(&app, 1).await;
    // A job that does not exist: nothing is queued or claimed, the worker stays available.
    let (status, body) = run(&app, 987_654).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["success"], false, "{body}");
    let none = queue::row(&app.db, 987_654).await.expect("queue read");
    assert!(none.is_none(), "no queue row: {none:?}");
    idle_workers(&app, 1).await;
    let (status, body) = run(&app, ids[1]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(queue_row(&app, ids[1]).await.worker.as_deref(), Some("w3"));
    let row = wait_closed(&app, ids[1], "the job to end").await;
    assert_eq!(row.attempts, 1, "run once");
    assert_eq!(job_status(&app, ids[1]).await, 6, "Finished");
    // Run again: the closed row is reused, with the next fence.
    idle_workers(&app, 1).await;
    let (status, body) = run(&app, ids[1]).await;
    assert_eq!(status, 200, "{body}");
    let row = wait_closed(&app, ids[1], "the second run to end").await;
    assert_eq!(
        (row.worker.as_deref(), row.attempts, row.fence),
        (Some("w3"), 1, 2)
    );
    // It really ran again: the fake runner's completion marker is unique per job, so a
    // second completion fails.
    assert_eq!(row.outcome.as_deref(), Some("failed"));

    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{}/cancel/", ids[0]),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    let row = wait_closed(&app, ids[0], "the cancelled job to be closed").await;
    assert_eq!(row.outcome.as_deref(), Some("cancelled"));
    w2.stop().await;
    w3.stop().await;
    app.finish().await;
}

#[tokio::test]
async fn handoff_sqlite() {
    run_hands_the_job_to_an_idle_worker(Backend::Sqlite).await;
}

#[tokio::test]
async fn handoff_postgres() {
    run_hands_the_job_to_an_idle_worker(Backend::Postgres).await;
}

/// A client polling the job sees Finished only once the outputs and KPIs are there, even
/// though the runner writes Finished first.
async fn finished_only_with_outputs(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 1).await;
    let jid = ids[0];
    let w = spawn_worker(worker(&app, fake_runner(&py, "early"), "w1"));
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    assert_eq!(r.status, 200);
    let mut seen_running = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        assert!(std::time::Instant::now() < deadline, "job never finished");
        let j = job(&app, jid).await;
        let s = j["status"].as_i64().expect("status");
        seen_running |= s == 3;
        if s == 6 {
            let files = app
                .get(&format!("/api/ccp4i2/files/?job={jid}"))
                .await
                .json();
            assert_eq!(
                files.as_array().map(Vec::len),
                Some(1),
                "outputs visible with Finished: {files}"
            );
            assert_eq!(
                j["float_values"]["RFree"], 0.25,
                "KPIs visible with Finished: {j}"
            );
            break;
        }
        assert!(!matches!(s, 4 | 5), "unexpected status {s}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        seen_running,
        "the job was seen running while its runner worked"
    );
    w.stop().await;
    app.finish().await;
}

#[tokio::test]
async fn finished_only_with_outputs_sqlite() {
    finished_only_with_outputs(Backend::Sqlite).await;
}

#[tokio::test]
async fn finished_only_with_outputs_postgres() {
    finished_only_with_outputs(Backend::Postgres).await;
}

/// A command that fails, and one that cannot start, end Failed with the reason recorded.
#[tokio::test]
async fn failures_are_classified() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let ids = make_jobs(&app, 3).await;
    let mut cases = vec![
        (
            ids[0],
            vec!["/bin/sh".to_string(), "-c".into(), "exit 3".into()],
            "failed",
        ),
        (
            ids[1],
            vec!["/nonexistent/runner".to_string()],
            "spawn_failed",
        ),
        (
            ids[2],
            vec!["/bin/sh".to_string(), "-c".into(), "kill -SEGV $$".into()],
            "crashed",
        ),
    ];
    for (jid, argv, want) in cases.drain(..) {
        let w = spawn_worker(worker(&app, argv, "w"));
        let r = app
            .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
            .await;
        assert_eq!(r.status, 200);
        let row = wait_closed(&app, jid, "the attempt to close").await;
        assert_eq!(row.outcome.as_deref(), Some(want), "{}", row.detail);
        assert_eq!(job_status(&app, jid).await, 5, "Failed");
        w.abort();
    }
    app.finish().await;
}

// --- separate worker processes (PostgreSQL, as deployed) ---

fn spawn_worker_process(app: &TestApp, py: &std::path::Path, mode: &str, lease: u64) -> Child {
    let argv = serde_json::to_string(&fake_runner(py, mode)).expect("json");
    worker_process(
        app,
        &[
            ("I2SERVER_RUNNER_COMMAND", argv),
            ("I2SERVER_LEASE_SECS", lease.to_string()),
        ],
    )
}

async fn completions(app: &TestApp) -> Vec<(i64, i64)> {
    use i2_store::Conn;
    let mut c = app.db.clone();
    c.fetch_all::<(i64, i64)>(
        "SELECT job_id, COUNT(*) FROM ccp4i2_jobcharvalue WHERE key_id = 'Unknown' GROUP BY job_id",
        vec![],
    )
    .await
    .expect("completions")
}

#[tokio::test]
async fn killed_worker_loses_its_job_to_another() {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let jid = make_jobs(&app, 1).await[0];
    let mut a = spawn_worker_process(&app, &py, "slow", 3);
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    assert_eq!(r.status, 200);
    let first_pgid = wait_runner_started(&app, jid, "worker A to start the job").await;
    // SIGKILL: no chance to clean up or hand anything back.
    a.0.kill().expect("kill -9 worker A");
    let _ = a.0.wait();
    let _b = spawn_worker_process(&app, &py, "slow", 3);
    let row = wait_closed(&app, jid, "worker B to finish the recovered job").await;
    assert_eq!(row.attempts, 2, "one lost attempt, one recovery");
    assert_eq!(
        job_status(&app, jid).await,
        6,
        "defined end state: Finished"
    );
    assert_eq!(
        completions(&app).await,
        vec![(jid, 1)],
        "the killed attempt wrote nothing"
    );
    assert!(
        !i2_jobs::process::group_alive(first_pgid),
        "nothing of the killed attempt still runs"
    );
    app.finish().await;
}

/// Whether the lifeline of process group `pgid` runs (its command line names the group).
fn lifeline_running(pgid: i32) -> bool {
    let pgid = pgid.to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.flatten().any(|p| {
        std::fs::read(p.path().join("cmdline")).is_ok_and(|c| {
            let args: Vec<&[u8]> = c.split(|b| *b == 0).collect();
            args.contains(&b"i2server-lifeline".as_slice()) && args.contains(&pgid.as_bytes())
        })
    })
}

/// A worker killed with SIGKILL while no other worker is there to recover its job: the
/// programs its runner started (here two `sleep`s) must not run on unsupervised. The
/// runner dies with its worker (death signal) and the job's lifeline ends the rest of the
/// group.
#[tokio::test]
async fn killed_worker_takes_its_jobs_processes_with_it() {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let jid = make_jobs(&app, 1).await[0];
    let mut a = spawn_worker_process(&app, &py, "hang", 30);
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    assert_eq!(r.status, 200);
    let pgid = wait_runner_started(&app, jid, "the worker to start the job").await;
    wait_for(30, "the runner and its two children", || async move {
        i2_jobs::process::sample_group(pgid).processes >= 3
    })
    .await;
    // The lifeline starts shortly after the runner (on a loaded machine, later still).
    wait_for(30, "the job's lifeline", || async move {
        lifeline_running(pgid)
    })
    .await;
    a.0.kill().expect("kill -9 the worker");
    let _ = a.0.wait();
    // Nobody recovers the job (its lease is 30 s): only the lifeline can end the group.
    wait_for(
        10,
        "the killed worker's job processes to end",
        || async move { !i2_jobs::process::group_alive(pgid) },
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn soak_1000_jobs_across_killed_and_restarted_workers() {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    const N: usize = 1000;
    let ids = make_jobs(&app, N).await;
    // Workers are killed far more often here than in any deployment (every 1–2.5 s, a
    // quarter of the pool), so a job can lose its worker several times in a row; the attempt
    // budget (3 by default, against jobs that kill their worker) is raised accordingly.
    for id in &ids {
        assert_eq!(
            queue::enqueue_with_attempts(&app.db, *id, 20)
                .await
                .expect("enqueue"),
            queue::Enqueued::Queued
        );
    }
    let mut workers: Vec<Child> = (0..4)
        .map(|_| spawn_worker_process(&app, &py, "quick", 2))
        .collect();
    // Bounded: fails if nothing completes for 90 s (stuck), and stops after 15 minutes in
    // any case. Progress, not speed, is what is tested: CI machines may be busy.
    let started = std::time::Instant::now();
    let mut last_progress = std::time::Instant::now();
    let mut last_left = i64::MAX;
    let mut kills = 0;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    loop {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(1000 + seed % 1500)).await;
        let left = {
            use i2_store::Conn;
            let mut c = app.db.clone();
            let (n,): (i64,) = c
                .fetch_one(
                    "SELECT COUNT(*) FROM i2_job_queue WHERE state <> 'done'",
                    vec![],
                )
                .await
                .expect("count");
            n
        };
        if left == 0 {
            break;
        }
        if left < last_left {
            last_left = left;
            last_progress = std::time::Instant::now();
        }
        assert!(
            last_progress.elapsed() < Duration::from_secs(90),
            "{left} jobs not done and none completed for 90 s: stuck"
        );
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "{left} jobs still not done after 15 minutes"
        );
        // Kill a random worker with SIGKILL and start a replacement.
        let victim = (seed % workers.len() as u64) as usize;
        let _ = workers[victim].0.kill();
        let _ = workers[victim].0.wait();
        workers[victim] = spawn_worker_process(&app, &py, "quick", 2);
        kills += 1;
    }
    drop(workers);
    let done = completions(&app).await;
    if done.len() != N {
        use i2_store::Conn;
        let mut c = app.db.clone();
        let odd: Vec<(i64, Option<String>, String, i32)> = c
            .fetch_all(
                "SELECT job_id, outcome, detail, attempts FROM i2_job_queue WHERE job_id NOT IN \
                 (SELECT job_id FROM ccp4i2_jobcharvalue WHERE key_id = 'Unknown')",
                vec![],
            )
            .await
            .expect("diagnostics");
        panic!("{} of {N} jobs completed; the others: {odd:?}", done.len());
    }
    assert!(done.iter().all(|(_, n)| *n == 1), "no job completed twice");
    use i2_store::Conn;
    let mut c = app.db.clone();
    let statuses: Vec<(i32, i64)> = c
        .fetch_all(
            "SELECT status, COUNT(*) FROM ccp4i2_job GROUP BY status",
            vec![],
        )
        .await
        .expect("statuses");
    assert_eq!(
        statuses,
        vec![(6, N as i64)],
        "all Finished, none lost or stuck"
    );
    println!("soak: {N} jobs, 4 workers, {kills} workers killed and restarted");
    app.finish().await;
}
