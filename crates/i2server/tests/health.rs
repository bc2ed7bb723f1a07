//! `health/` answers within its own time limit when the database does not: here every
//! connection of the pool is held, so the check cannot get one (as when a stuck database
//! holds them all); the probe must hear 503 after the limit, not wait for the pool's much
//! longer checkout timeout. Both backends.

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use common::*;
use i2_api::routes::misc::HEALTH_DB_TIMEOUT;
use i2_store::Db;

async fn check(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let healthy = app.get("/api/ccp4i2/health/").await;
    assert_eq!(healthy.status, StatusCode::OK);
    assert_eq!(healthy.json()["database"], "connected");

    // Hold every connection the pool may open.
    let mut held_sqlite = Vec::new();
    let mut held_pg = Vec::new();
    match &app.db {
        Db::Sqlite(p) => {
            for _ in 0..p.main.options().get_max_connections() {
                held_sqlite.push(p.main.acquire().await.expect("acquire"));
            }
        }
        Db::Postgres(p) => {
            for _ in 0..p.options().get_max_connections() {
                held_pg.push(p.acquire().await.expect("acquire"));
            }
        }
    }
    let started = Instant::now();
    let stuck = app.get("/api/ccp4i2/health/").await;
    let waited = started.elapsed();
    assert_eq!(stuck.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = stuck.json();
    assert_eq!(body["status"], "unhealthy");
    assert_eq!(body["database"], "disconnected");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("did not answer within")),
        "{body}"
    );
    // The message above says the answer came from the check's own limit (the pool's
    // checkout timeout would have said so instead); it cannot have come sooner.
    assert!(
        waited >= HEALTH_DB_TIMEOUT,
        "answered before its limit: {waited:?}"
    );

    drop(held_sqlite);
    drop(held_pg);
    assert_eq!(app.get("/api/ccp4i2/health/").await.status, StatusCode::OK);
    app.finish().await;
}

#[tokio::test]
async fn health_answers_when_the_pool_is_exhausted_sqlite() {
    check(Backend::Sqlite).await;
}

#[tokio::test]
async fn health_answers_when_the_pool_is_exhausted_postgres() {
    check(Backend::Postgres).await;
}
