//! Task routes over the real catalogue of the installed upstream package: every task can be
//! created through the API; its `container/` after the round trip through the
//! `input_params.xml` i2server wrote equals the container of a fresh job (which the
//! i2-tasks tests compare with the reference server's for every task); `def_xml/`,
//! `params_xml/` and `task_lookup/` answer; parameter changes are refused once a job left
//! Pending.

mod common;

use common::*;
use serde_json::{Value, json};

async fn all_tasks(backend: Backend) {
    let Some(Ok(cat)) = test_catalogue() else {
        panic!(
            "the task catalogue is needed: run the suite with scripts/test.sh (I2_CCP4I2_ROOT, I2_TEST_PYTHON)"
        );
    };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let lookup = app.get("/api/ccp4i2/task_lookup/").await;
    assert_eq!(lookup.status, 200);
    assert_eq!(lookup.json(), cat.task_lookup());
    let pid = create_project(&app, "all_tasks").await["id"]
        .as_i64()
        .expect("project");
    let mut created = 0;
    let mut problems = Vec::new();
    for t in cat.tasks() {
        let Ok(def) = cat.definition(&t.name) else {
            continue;
        };
        let r = app
            .send_json(
                "POST",
                &format!("/api/ccp4i2/projects/{pid}/create_task/"),
                json!({"task_name": t.name}),
            )
            .await;
        if r.status != 200 {
            problems.push(format!(
                "{}: create_task {} {}",
                t.name,
                r.status,
                String::from_utf8_lossy(&r.body)
            ));
            continue;
        }
        created += 1;
        let jid = r.json()["data"]["new_job"]["id"].as_i64().expect("job id");
        let c = app.get(&format!("/api/ccp4i2/jobs/{jid}/container/")).await;
        if c.status != 200 || c.json()["data"]["result"] != def.container_json(&t.name) {
            problems.push(format!(
                "{}: container differs after the input_params.xml round trip",
                t.name
            ));
        }
        let d = app.get(&format!("/api/ccp4i2/jobs/{jid}/def_xml/")).await;
        if d.json()["data"]["xml"].as_str() != Some(def.expanded_def_xml().as_str()) {
            problems.push(format!("{}: def_xml differs", t.name));
        }
        let p = app
            .get(&format!("/api/ccp4i2/jobs/{jid}/params_xml/"))
            .await;
        if !p.json()["data"]["xml"]
            .as_str()
            .is_some_and(|x| x.contains("<ccp4i2_body"))
        {
            problems.push(format!("{}: params_xml missing", t.name));
        }
    }
    println!(
        "{}: {created} tasks created through the API",
        backend.name()
    );
    assert!(created >= 170, "only {created} tasks could be created");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    app.finish().await;
}

#[tokio::test]
async fn every_task_through_the_api_sqlite() {
    all_tasks(Backend::Sqlite).await;
}

#[tokio::test]
async fn every_task_through_the_api_postgres() {
    all_tasks(Backend::Postgres).await;
}

#[tokio::test]
async fn parameters_only_change_while_pending() {
    let Some(Ok(_)) = test_catalogue() else {
        panic!("the task catalogue is needed: run the suite with scripts/test.sh");
    };
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let pid = create_project(&app, "p").await["id"]
        .as_i64()
        .expect("project");
    create_task(&app, pid, "ctruncate").await;
    let set = |v: Value| {
        app.send_json(
            "POST",
            "/api/ccp4i2/jobs/1/set_parameter/",
            json!({"object_path": "ctruncate.container.controlParameters.NRES", "value": v}),
        )
    };
    let r = set(json!(100)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["data"]["value"], 100);
    let g = app
        .get("/api/ccp4i2/jobs/1/get_parameter/?object_path=ctruncate.controlParameters.NRES")
        .await;
    assert_eq!(g.json()["data"]["value"], 100);
    let params = app.get("/api/ccp4i2/jobs/1/params_xml/").await.json();
    assert!(
        params["data"]["xml"]
            .as_str()
            .is_some_and(|x| x.contains("<NRES>100</NRES>")),
        "{params}"
    );
    // Once the job is no longer Pending, parameters are frozen.
    let r = app
        .send_json("PATCH", "/api/ccp4i2/jobs/1/", json!({"status": 6}))
        .await;
    assert_eq!(r.status, 200);
    let r = set(json!(50)).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["success"], false);
    app.finish().await;
}

/// Clone: a new Pending job with the source's parameters, numbered after the last one,
/// `finish_time` at the epoch as upstream; the source is untouched.
async fn clone_job(backend: Backend) {
    let Some(Ok(_)) = test_catalogue() else {
        panic!("the task catalogue is needed: run the suite with scripts/test.sh");
    };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    create_project(&app, "c").await;
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/projects/1/create_task/",
            json!({"task_name": "ctruncate", "title": "mine"}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/jobs/1/set_parameter/",
            json!({"object_path": "ctruncate.container.controlParameters.NRES", "value": 123}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = app
        .send_json("POST", "/api/ccp4i2/jobs/1/clone/", Value::Null)
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let j = r.json();
    assert_eq!(
        (j["number"].clone(), j["status"].clone(), j["title"].clone()),
        (json!("2"), json!(1), json!("mine"))
    );
    assert_eq!(j["finish_time"], "1970-01-01T00:00:00Z");
    let g = app
        .get("/api/ccp4i2/jobs/2/get_parameter/?object_path=ctruncate.controlParameters.NRES")
        .await;
    assert_eq!(g.json()["data"]["value"], 123, "parameters carried over");
    let r = app
        .send_json("POST", "/api/ccp4i2/jobs/99/clone/", Value::Null)
        .await;
    assert_eq!(r.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn clone_sqlite() {
    clone_job(Backend::Sqlite).await;
}

#[tokio::test]
async fn clone_postgres() {
    clone_job(Backend::Postgres).await;
}

/// A list set through `set_parameter/` keeps its items (container/ shows them), but
/// `get_parameter/` answers a list with `{}` whatever it holds, as the reference does (probed
/// with lists of strings and of ASU sequences, empty and filled).
async fn list_values(backend: Backend) {
    if test_catalogue().is_none() {
        panic!("the task catalogue is needed: run the suite with scripts/test.sh");
    }
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let pid = create_project(&app, "p").await["id"]
        .as_i64()
        .expect("project");
    create_task(&app, pid, "prosmart_refmac").await;
    let path = "prosmart_refmac.inputData.AMINOACID_CHAINS";
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/jobs/1/set_parameter/",
            json!({"object_path": path, "value": ["A", "B"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["data"]["value"], json!(["A", "B"]));
    let g = app
        .get(&format!(
            "/api/ccp4i2/jobs/1/get_parameter/?object_path={path}"
        ))
        .await;
    assert_eq!(g.status, 200);
    assert_eq!(g.json()["data"]["object_type"], "CList");
    assert_eq!(g.json()["data"]["value"], json!({}));
    assert_eq!(
        list_items(&app, 1, "AMINOACID_CHAINS").await,
        json!(["A", "B"]),
        "the list keeps its items"
    );
    app.finish().await;
}

#[tokio::test]
async fn list_values_sqlite() {
    list_values(Backend::Sqlite).await;
}

#[tokio::test]
async fn list_values_postgres() {
    list_values(Backend::Postgres).await;
}
