//! Project export and import through upstream's own commands, run by i2server with the
//! upstream Python: a project with an uploaded reflection file is exported (the record
//! goes pending → completed, the archive is named as upstream names it and downloads as a
//! zip holding the project's database description and the file), then imported into a
//! second, empty server, where the project, its job and its file appear. Plus the refusals.
//! Both backends: the commands write the same database the server reads.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::Value;

/// The names in a zip archive, read by the upstream Python's `zipfile`.
fn zip_names(py: &std::path::Path, bytes: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("a.zip");
    std::fs::write(&path, bytes).expect("write zip");
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(
            "import json, sys, zipfile; print(json.dumps(zipfile.ZipFile(sys.argv[1]).namelist()))",
        )
        .arg(&path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "not a zip archive: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("names")
}

async fn export_and_import(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let pid = create_project(&app, "Export_Me").await["id"]
        .as_i64()
        .expect("project id");
    let job = create_task(&app, pid, "freerflag").await;
    let jid = job["id"].as_i64().expect("job id");
    let mtz = std::fs::read(ccp4i2_root().join("wrappers/freerflag/test_data/rnase25_fsigf.mtz"))
        .expect("test data");
    let r = upload_file_param(
        &app,
        jid,
        &[
            ("object_path", "freerflag.inputData.F_SIGF"),
            ("column_selector", "/*/*/[F,SIGF]"),
        ],
        "rnase25_fsigf.mtz",
        &mtz,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());

    // Refusals first.
    let r = app
        .send_json("POST", "/api/ccp4i2/projects/9999/export/", Value::Null)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = app.get("/api/ccp4i2/projectexports/9999/download/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/projects/{pid}/export/"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    let started = r.json();
    assert_eq!(started["status"], "Success");
    let name = started["export_file_name"]
        .as_str()
        .expect("file name")
        .to_string();
    assert!(
        name.starts_with("export_me_export_") && name.ends_with(".ccp4_project.zip"),
        "upstream's naming: {name}"
    );
    assert_eq!(
        started["log_file_name"],
        name.replace(".ccp4_project.zip", ".export.log")
    );
    assert!(started["process_id"].as_i64().is_some_and(|p| p > 1));

    // The record goes to completed (the command moves it through running).
    let mut export = Value::Null;
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let list = app
            .get(&format!("/api/ccp4i2/projects/{pid}/exports/"))
            .await
            .json();
        export = list
            .as_array()
            .and_then(|l| l.first())
            .cloned()
            .unwrap_or(export);
        match export["status"].as_str() {
            Some("completed") => break,
            Some("failed") => {
                let log = app
                    .projects_dir
                    .join("Export_Me/CCP4_EXPORT_FILES")
                    .join(name.replace(".ccp4_project.zip", ".export.log"));
                panic!("export failed: {}", tail(&log));
            }
            _ => {}
        }
        assert!(
            std::time::Instant::now() < deadline,
            "export never completed: {export}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let eid = export["id"].as_i64().expect("export id");
    let r = app
        .get(&format!("/api/ccp4i2/projectexports/{eid}/download/"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers["content-type"], "application/zip");
    assert_eq!(
        r.headers["content-disposition"],
        format!("attachment; filename=\"{name}\"").as_str()
    );
    let names = zip_names(&py, &r.body);
    for entry in [
        "DATABASE.db.xml",
        "CCP4_IMPORTED_FILES/rnase25_fsigf.mtz",
        "CCP4_JOBS/job_1/input_params.xml",
    ] {
        assert!(
            names.iter().any(|n| n == entry),
            "{entry} is in the archive: {names:?}"
        );
    }
    let archive = r.body.clone();
    app.finish().await;

    // Import into an empty server.
    let Some(other) = TestApp::start(backend).await else {
        return;
    };
    let (ct, body) = multipart(&[], Some(("files", "notes.txt", b"not an archive")));
    let r = other
        .request(
            Request::post("/api/ccp4i2/projects/import_project/")
                .header("content-type", ct)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "Invalid file type");
    let (ct, body) = multipart(&[("other", "x")], None);
    let r = other
        .request(
            Request::post("/api/ccp4i2/projects/import_project/")
                .header("content-type", ct)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "No file provided");

    let (ct, body) = multipart(&[], Some(("files", &name, &archive)));
    let r = other
        .request(
            Request::post("/api/ccp4i2/projects/import_project/")
                .header("content-type", ct)
                .body(Body::from(body))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json());
    assert_eq!(r.json()["data"]["imported"], true);
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    let project = loop {
        let list = other.get("/api/ccp4i2/projects/").await.json();
        if let Some(p) = list
            .as_array()
            .and_then(|l| l.iter().find(|p| p["name"] == "Export_Me"))
        {
            break p.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the import never showed the project"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let new_pid = project["id"].as_i64().expect("imported project id");
    // The job and its file arrive with the project (the import may still be finishing).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let jobs = other
            .get(&format!("/api/ccp4i2/jobs/?project={new_pid}"))
            .await
            .json();
        let files = other
            .get(&format!("/api/ccp4i2/files/?project={new_pid}"))
            .await
            .json();
        if jobs.as_array().map(Vec::len) == Some(1) && files.as_array().map(Vec::len) == Some(1) {
            assert_eq!(jobs[0]["task_name"], "freerflag");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "imported job and file: {jobs} {files}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    other.finish().await;
}

#[tokio::test]
async fn export_and_import_sqlite() {
    export_and_import(Backend::Sqlite).await;
}

#[tokio::test]
async fn export_and_import_postgres() {
    export_and_import(Backend::Postgres).await;
}
