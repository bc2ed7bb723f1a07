//! The built-in UI adds no route that bypasses the API: every UI route answers GET only
//! (pages, page fragments, two static assets), mutating methods are refused without changing
//! anything, and the UI's script sends every change to `/api/ccp4i2/`. Also: the pages
//! render from a real database, paginate, and search.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::json;

async fn counts(app: &TestApp) -> (String, String) {
    let p = app.get("/api/ccp4i2/projects/").await;
    let j = app.get("/api/ccp4i2/jobs/").await;
    (
        String::from_utf8_lossy(&p.body).into_owned(),
        String::from_utf8_lossy(&j.body).into_owned(),
    )
}

fn concrete(path: &str, project: i64, job: i64) -> String {
    if path.starts_with("/ui/jobs/") {
        path.replace("{id}", &job.to_string())
    } else {
        path.replace("{id}", &project.to_string())
    }
}

#[tokio::test]
async fn ui_routes_are_get_only() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let ids = make_jobs(&app, 3).await;
    let pid = app.get("/api/ccp4i2/projects/").await.json()[0]["id"]
        .as_i64()
        .expect("project id");
    let before = counts(&app).await;
    for route in i2_ui::ROUTES {
        let path = concrete(route, pid, ids[0]);
        let r = app.get(&path).await;
        assert!(
            [200, 303].contains(&r.status.as_u16()),
            "GET {path}: {}",
            r.status
        );
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let r = app
                .request(
                    Request::builder()
                        .method(method)
                        .uri(&path)
                        .header("content-type", "application/json")
                        .body(Body::from(json!({"name": "x"}).to_string()))
                        .expect("request"),
                )
                .await;
            assert_eq!(r.status, 405, "{method} {path} must be refused");
        }
    }
    assert_eq!(counts(&app).await, before, "nothing changed");
    app.finish().await;
}

#[test]
fn the_script_changes_things_only_through_the_api() {
    let js =
        std::fs::read_to_string(workspace_root().join("crates/i2-ui/static/ui.js")).expect("ui.js");
    // Every request goes through api() (fetch(API + …)), the upload (POST to API + …), or
    // fetches a page fragment with GET (no method given).
    for (i, _) in js.match_indices("fetch(") {
        let call = &js[i..js.len().min(i + 120)];
        assert!(
            call.starts_with("fetch(API + path")
                || (call.starts_with("fetch(\"/ui/") && !call.contains("method")),
            "unexpected request in ui.js: {call}"
        );
    }
    for (i, _) in js.match_indices(".open(") {
        let call = &js[i..js.len().min(i + 40)];
        assert!(call.contains("API +"), "upload goes to the API: {call}");
    }
    assert!(!js.contains("new WebSocket") && !js.contains("sendBeacon"));
}

#[tokio::test]
async fn pages_render_paginate_and_search() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    for i in 0..55 {
        let r = app
            .send_json(
                "POST",
                "/api/ccp4i2/projects/",
                json!({"name": format!("proj_{i:02}"), "directory": "__default__"}),
            )
            .await;
        assert_eq!(r.status, 201);
    }
    let page = |r: Reply| String::from_utf8_lossy(&r.body).into_owned();
    let r = app.get("/ui/projects/").await;
    let csp = r
        .headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let first = page(r);
    assert_eq!(first.matches("data-project=").count(), 50, "one page of 50");
    assert!(first.contains("rel=\"next\""));
    let second = page(app.get("/ui/projects/?page=2").await);
    assert_eq!(second.matches("data-project=").count(), 5);
    assert!(!second.contains("rel=\"next\"") && second.contains("rel=\"prev\""));
    let found = page(app.get("/ui/projects/?q=PROJ_07").await);
    assert_eq!(
        found.matches("data-project=").count(),
        1,
        "case-insensitive search"
    );
    // Text from the database is escaped.
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/projects/",
            json!({"name": "x", "description": "<script>alert(1)</script>", "directory": "__default__"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let listed = page(app.get("/ui/projects/?q=x").await);
    assert!(listed.contains("&lt;script&gt;") && !listed.contains("<script>alert"));
    // Unknown things are a readable 404 page.
    let r = app.get("/ui/jobs/99999/").await;
    assert_eq!(r.status, 404);
    assert!(page(r).contains("There is no job 99999"));
    let r = app.get("/ui/projects/abc/").await;
    assert_eq!(r.status, 404);
    app.finish().await;
}

async fn pages_read_the_database(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let ids = make_jobs(&app, 3).await;
    let pid = app.get("/api/ccp4i2/projects/").await.json()[0]["id"]
        .as_i64()
        .expect("project id");
    for id in &ids[..2] {
        let r = app
            .send_json("POST", &format!("/api/ccp4i2/jobs/{id}/run/"), json!(null))
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    }
    let text = |r: Reply| {
        assert_eq!(r.status, 200);
        String::from_utf8_lossy(&r.body).into_owned()
    };
    let project = text(app.get(&format!("/ui/projects/{pid}/")).await);
    assert_eq!(project.matches("<tr data-job=").count(), 3, "{project}");
    assert_eq!(project.matches(">Queued<").count(), 2);
    // No worker runs here: the second queued job waits behind the first, and says so.
    let second = text(app.get(&format!("/ui/jobs/{}/results/", ids[1])).await);
    assert!(
        second.contains("1 job ahead of it in the queue"),
        "{second}"
    );
    let first = text(app.get(&format!("/ui/jobs/{}/results/", ids[0])).await);
    assert!(first.contains("next in the queue"), "{first}");
    let page = text(app.get(&format!("/ui/jobs/{}/", ids[0])).await);
    assert!(page.contains("data-status=\"2\""), "{page}");
    app.finish().await;
}

#[tokio::test]
async fn pages_read_the_database_sqlite() {
    pages_read_the_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn pages_read_the_database_postgres() {
    pages_read_the_database(Backend::Postgres).await;
}
