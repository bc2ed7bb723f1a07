//! Digests (and downloads) never read a file outside its project directory, whatever a
//! parameter or a file row says (`../`, absolute paths), on both backends.

mod common;

use common::*;
use serde_json::{Value, json};

const SECRET: &str = ">secret\nMKVLAAGIVGLLLAQ\n";

async fn check(backend: Backend) {
    let _ = ccp4i2_root();
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let pid = create_project(&app, "p1").await["id"]
        .as_i64()
        .expect("project");
    let outside = app.root().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    std::fs::write(outside.join("secret.fasta"), SECRET).expect("write");

    create_task(&app, pid, "ProvideSequence").await;

    let leaks = |v: &Value| v.to_string().contains("MKVLAAGIVGLLLAQ");
    for rel in [
        outside.to_string_lossy().into_owned(),
        "../..".to_string(),
        "CCP4_IMPORTED_FILES/../../..".to_string(),
    ] {
        let r = app
            .send_json(
                "POST",
                "/api/ccp4i2/jobs/1/set_parameter/",
                json!({"object_path": "ProvideSequence.inputData.SEQIN",
                       "value": {"baseName": "secret.fasta", "relPath": rel}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        for path in [
            "/api/ccp4i2/jobs/1/digest/?object_path=ProvideSequence.inputData.SEQIN",
            "/api/ccp4i2/jobs/1/digest_param_file/?job_param_name=SEQINx",
        ] {
            let r = app.get(path).await;
            assert!(r.status.as_u16() < 500, "{path}: {}", r.status);
            assert!(!leaks(&r.json()), "{rel}: {path} read outside the project");
        }
    }

    // A file row whose name climbs out of CCP4_IMPORTED_FILES.
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/files/",
            json!({"name": "../../../outside/secret.fasta", "directory": 2,
                   "type": "application/CCP4-seq", "job": 1, "job_param_name": "SEQIN"}),
        )
        .await;
    println!("file row with a climbing name: {}", r.status);
    if r.status == 201 {
        let id = r.json()["id"].as_i64().expect("id");
        let r = app.get(&format!("/api/ccp4i2/files/{id}/digest/")).await;
        assert!(r.status.as_u16() < 500, "{}", r.status);
        assert!(
            !leaks(&r.json()),
            "files/{id}/digest/ read outside the project"
        );
        let r = app
            .get("/api/ccp4i2/jobs/1/digest_param_file/?job_param_name=SEQINx")
            .await;
        assert!(
            !leaks(&r.json()),
            "digest_param_file read outside the project"
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn digests_stay_inside_projects_sqlite() {
    check(Backend::Sqlite).await;
}

#[tokio::test]
async fn digests_stay_inside_projects_postgres() {
    check(Backend::Postgres).await;
}
