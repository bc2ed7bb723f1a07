//! A real CCP4i2 task end to end through i2server's API and the upstream runner
//! (`ccp4i2==3.0.1` from PyPI): create project → create `freerflag` → upload
//! `rnase25_fsigf.mtz` choosing F,SIGF → run → Finished → `FREEROUT.mtz` listed under the
//! job's files and downloadable. On SQLite with an embedded worker, and on PostgreSQL with
//! two separate `i2server worker` processes.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{Value, json};

async fn flow(app: &TestApp) {
    let pid = create_project(app, "rnase").await["id"]
        .as_i64()
        .expect("project");
    let job = create_task(app, pid, "freerflag").await;
    assert_eq!(job["status"], 1, "Pending");
    let jid = job["id"].as_i64().expect("job id");

    let mtz = ccp4i2_root().join("wrappers/freerflag/test_data/rnase25_fsigf.mtz");
    let bytes = std::fs::read(&mtz).expect("rnase25_fsigf.mtz from the ccp4i2 package");
    let r = upload_file_param(
        app,
        jid,
        &[
            ("object_path", "freerflag.inputData.F_SIGF"),
            ("column_selector", "/*/*/[F,SIGF]"),
        ],
        "rnase25_fsigf.mtz",
        &bytes,
    )
    .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["data"]["updated_item"]["_class"], "CObsDataFile");

    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), Value::Null)
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], 2, "Queued");
    let status = wait_job_end(app, jid, 180, Duration::from_millis(200)).await["status"]
        .as_i64()
        .expect("status");
    let files = app
        .get(&format!("/api/ccp4i2/files/?job={jid}"))
        .await
        .json();
    let job_dir = app.projects_dir.join("rnase/CCP4_JOBS/job_1");
    assert_eq!(
        status,
        6,
        "Finished; files: {files}{}",
        diagnostics(&job_dir)
    );
    let files = files.as_array().expect("files").clone();
    let input = files
        .iter()
        .find(|f| f["directory"] == 2)
        .expect("the imported input");
    assert_eq!(input["type"], "application/CCP4-mtz-observed");
    assert_eq!(
        (input["content"].clone(), input["sub_type"].clone()),
        (json!(4), json!(1))
    );
    let out = files
        .iter()
        .find(|f| f["job_param_name"] == "FREEROUT")
        .unwrap_or_else(|| panic!("FREEROUT listed: {files:?}"));
    assert_eq!(out["name"], "FREEROUT.mtz");
    assert_eq!(out["type"], "application/CCP4-mtz-freerflag");
    assert!(
        out["annotation"]
            .as_str()
            .is_some_and(|a| a.contains("P 21 21 21")),
        "{out}"
    );

    // The report was built with the task's upstream report class before Finished showed.
    let report = app
        .get(&format!("/api/ccp4i2/jobs/{jid}/report_xml/"))
        .await;
    assert_eq!(report.status, 200);
    let xml = report.json()["data"]["xml"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        xml.contains("<CCP4i2Report") && !xml.contains("No report is available") && xml.len() > 200,
        "a real report: {xml:.300}"
    );

    let fid = out["id"].as_i64().expect("file id");
    let r = app.get(&format!("/api/ccp4i2/files/{fid}/download/")).await;
    assert_eq!(r.status, 200);
    let on_disk = std::fs::read(out["path"].as_str().expect("path")).expect("FREEROUT.mtz on disk");
    assert_eq!(r.body, on_disk, "downloaded bytes are the file's");
    let tmp = app.root().join("downloaded.mtz");
    std::fs::write(&tmp, &r.body).expect("write");
    let header = i2_formats::mtz::MtzHeader::read(&tmp).expect("a readable MTZ");
    let labels: Vec<String> = header.columns.iter().map(|c| c.label.clone()).collect();
    assert!(
        labels.iter().any(|l| l == "FREER"),
        "free-R column present: {labels:?}"
    );
}

#[tokio::test]
async fn freerflag_sqlite_embedded_worker() {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let w = spawn_worker(embedded_upstream_worker(&app, py));
    flow(&app).await;
    w.stop().await;
    app.finish().await;
}

#[tokio::test]
async fn freerflag_postgres_two_worker_processes() {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(Backend::Postgres).await else {
        return;
    };
    let spawn = || worker_process(&app, &[("CCP4I2_PYTHON", py.display().to_string())]);
    let (_a, _b) = (spawn(), spawn());
    flow(&app).await;
    app.finish().await;
}
