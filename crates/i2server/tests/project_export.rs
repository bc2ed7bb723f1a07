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

/// `POST projects/import_project/` of a multipart form.
async fn import(
    app: &TestApp,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Reply {
    let (ct, body) = multipart(fields, file);
    app.request(
        Request::post("/api/ccp4i2/projects/import_project/")
            .header("content-type", ct)
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

async fn export_and_import(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let created = create_project(&app, "Export_Me").await;
    let pid = created["id"].as_i64().expect("project id");
    let project_dir = std::path::PathBuf::from(created["directory"].as_str().expect("directory"));
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

    // One job's archive, made on request.
    let r = app
        .get(&format!("/api/ccp4i2/jobs/{jid}/export_job/"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(r.headers["content-type"], "application/zip");
    assert_eq!(
        r.headers["content-disposition"],
        "attachment; filename=\"Export_Me_job_1_FreeRFlag.zip\""
    );
    let info: Value =
        serde_json::from_slice(r.headers["x-export-info"].as_bytes()).expect("export info");
    assert_eq!(info["job_number"], "1");
    assert_eq!(info["export_type"], "job_selection");
    let names = zip_names(&py, &r.body);
    assert!(
        names
            .iter()
            .any(|n| n == "CCP4_JOBS/job_1/input_params.xml"),
        "the job is in its archive: {names:?}"
    );
    let r = app.get("/api/ccp4i2/jobs/9999/export_job/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "Job matching query does not exist.");

    // Viewers are not opened on the server; a MolBlock needs a ligand dictionary.
    for path in [
        format!("/api/ccp4i2/jobs/{jid}/preview/"),
        "/api/ccp4i2/files/1/preview/".into(),
    ] {
        let r = app
            .send_json("POST", &path, serde_json::json!({"viewer": "coot"}))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(r.json()["success"], false);
    }
    let r = app.get("/api/ccp4i2/files/1/molblock/").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("File type must be application/refmac-dictionary, got ")),
        "{}",
        r.json()
    );
    // A ligand dictionary: its MolBlock needs RDKit, which the test installation lacks, so
    // the converter (run by the upstream Python) says it is unavailable.
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/files/",
            serde_json::json!({"name": "LIG.cif", "directory": 1, "type": "application/refmac-dictionary", "job": jid}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json());
    let dict_id = r.json()["id"].as_i64().expect("file id");
    let r = app
        .get(&format!("/api/ccp4i2/files/{dict_id}/molblock/"))
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "not on disk yet: {}",
        r.json()
    );
    assert_eq!(r.json()["error"], "File not found on disk");
    let job_dir = project_dir.join("CCP4_JOBS/job_1");
    std::fs::create_dir_all(&job_dir).expect("job dir");
    std::fs::write(
        job_dir.join("LIG.cif"),
        "data_comp_list\nloop_\n_chem_comp.id\n_chem_comp.three_letter_code\nLIG LIG\n\
         data_comp_LIG\nloop_\n_chem_comp_atom.comp_id\n_chem_comp_atom.atom_id\n\
         _chem_comp_atom.type_symbol\nLIG C1 C\nLIG O1 O\n",
    )
    .expect("dictionary");
    let r = app
        .get(&format!("/api/ccp4i2/files/{dict_id}/molblock/"))
        .await;
    let has_rdkit = std::process::Command::new(&py)
        .args(["-c", "import rdkit"])
        .status()
        .is_ok_and(|s| s.success());
    if has_rdkit {
        assert_eq!(r.status, StatusCode::OK, "{}", r.json());
        assert_eq!(r.json()["data"]["ligand_code"], "LIG");
    } else {
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.json());
        assert_eq!(
            r.json()["error"],
            "MolBlock conversion not available (missing RDKit/gemmi)"
        );
    }
    let r = app.get("/api/ccp4i2/files/9999/molblock/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "File not found");
    app.finish().await;

    // Import into an empty server, whose body limit is far below the archive's size: an
    // archive streams to disk whatever the limit for forms.
    assert!(
        archive.len() > 64 * 1024,
        "the archive is larger than the limit"
    );
    let Some(other) = TestApp::start_with(backend, |c| c.max_body_bytes = 64 * 1024).await else {
        return;
    };
    let r = import(&other, &[], Some(("files", "notes.txt", b"not an archive"))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "Invalid file type");
    let r = import(&other, &[("other", "x")], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"], "No file provided");

    let r = import(&other, &[], Some(("files", &name, &archive))).await;
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
