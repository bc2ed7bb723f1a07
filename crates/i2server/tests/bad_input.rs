//! Hostile and malformed requests get a clear 4xx, never a 500, on both backends.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::json;

async fn check(backend: Backend) {
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    create_project(&app, "p1").await;
    std::fs::write(app.projects_dir.join("p1/CCP4_JOBS/ok.txt"), "ok").expect("write");
    std::fs::write(app.root().join("secret.txt"), "secret").expect("write");

    let raw = |method: &str, path: &str, ct: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(Body::from(body))
            .expect("req")
    };
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let cases: Vec<(&str, Request<Body>)> = vec![
        (
            "malformed json",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "application/json",
                b"{\"name\": ".to_vec(),
            ),
        ),
        (
            "deeply nested json",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "application/json",
                deep.into_bytes(),
            ),
        ),
        (
            "invalid utf-8",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "application/json",
                vec![0xff, 0xfe, 0x7b],
            ),
        ),
        (
            "list body",
            raw(
                "POST",
                "/api/ccp4i2/jobs/",
                "application/json",
                b"[1,2]".to_vec(),
            ),
        ),
        (
            "wrong types",
            raw(
                "POST",
                "/api/ccp4i2/jobs/",
                "application/json",
                br#"{"project":"x","number":[],"title":{},"task_name":null,"status":"abc"}"#
                    .to_vec(),
            ),
        ),
        (
            "huge int",
            raw(
                "PATCH",
                "/api/ccp4i2/projects/1/",
                "application/json",
                br#"{"last_job_number": 99999999999999999999}"#.to_vec(),
            ),
        ),
        (
            "unknown id",
            Request::get("/api/ccp4i2/jobs/424242/")
                .body(Body::empty())
                .expect("req"),
        ),
        (
            "id overflow",
            Request::get("/api/ccp4i2/projects/99999999999999999999999/")
                .body(Body::empty())
                .expect("req"),
        ),
        (
            "negative id",
            Request::get("/api/ccp4i2/files/-1/download/")
                .body(Body::empty())
                .expect("req"),
        ),
        (
            "oversized body",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "application/json",
                vec![b' '; 101 * 1024 * 1024],
            ),
        ),
        (
            "bad multipart",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "multipart/form-data; boundary=x",
                b"--x\r\nbroken".to_vec(),
            ),
        ),
        (
            "unsupported type",
            raw(
                "POST",
                "/api/ccp4i2/projects/",
                "text/plain",
                b"name=x".to_vec(),
            ),
        ),
        (
            "bad filter",
            Request::get("/api/ccp4i2/files/?job=abc")
                .body(Body::empty())
                .expect("req"),
        ),
        (
            "bad uuid filter",
            Request::get("/api/ccp4i2/projects/?uuid=zzz")
                .body(Body::empty())
                .expect("req"),
        ),
        (
            "bad paging",
            Request::get("/api/ccp4i2/projects/?limit=-5")
                .body(Body::empty())
                .expect("req"),
        ),
    ];
    let traversal = [
        "/api/ccp4i2/projects/1/project_file/?path=../secret.txt",
        "/api/ccp4i2/projects/1/project_file/?path=%2e%2e/secret.txt",
        "/api/ccp4i2/projects/1/project_file/?path=/etc/passwd",
        "/api/ccp4i2/projects/1/project_file/?path=CCP4_JOBS/../../secret.txt",
        "/api/ccp4i2/projects/1/project_file/?path=..%2fsecret.txt",
        "/api/ccp4i2/projects/1/project_file/?path=CCP4_JOBS%00/ok.txt",
        "/api/ccp4i2/projects/1/files_by_path/../secret.txt",
        "/api/ccp4i2/projects/1/files_by_path/%2e%2e/secret.txt",
        "/api/ccp4i2/projects/1/files_by_path/%2e%2e%2fsecret.txt",
        "/api/ccp4i2/projects/1/files_by_path//etc/passwd",
        "/api/ccp4i2/projects/1/files_by_path/CCP4_JOBS/..%2f..%2fsecret.txt",
    ];
    for (what, req) in cases {
        let r = app.request(req).await;
        assert!(
            (400..500).contains(&r.status.as_u16()),
            "{} {what}: got {} {}",
            backend.name(),
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(300)])
        );
    }
    for path in traversal {
        let r = app.get(path).await;
        assert!(
            (400..500).contains(&r.status.as_u16())
                && !String::from_utf8_lossy(&r.body).contains("secret"),
            "{} {path}: got {} {}",
            backend.name(),
            r.status,
            String::from_utf8_lossy(&r.body)
        );
    }
    // The legitimate file is still served.
    let r = app
        .get("/api/ccp4i2/projects/1/project_file/?path=CCP4_JOBS/ok.txt")
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body.as_slice()),
        (200, b"ok".as_slice())
    );
    // Nothing half-written by the refused requests.
    let r = app.get("/api/ccp4i2/jobs/").await;
    assert_eq!(r.json(), json!([]));
    app.finish().await;
}

#[tokio::test]
async fn bad_input_sqlite() {
    check(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_input_postgres() {
    check(Backend::Postgres).await;
}
