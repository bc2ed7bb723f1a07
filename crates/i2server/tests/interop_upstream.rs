//! Both directions of database compatibility, with upstream's real code:
//! the upstream server lists projects that i2server created in a database i2server
//! migrated, and i2server adopts and serves a database that upstream created.

mod common;

use common::*;
use i2_store::{DbTarget, migrate};
use serde_json::{Value, json};

async fn create_projects_with_i2server(app: &TestApp, names: &[&str]) {
    for n in names {
        let r = app
            .send_json(
                "POST",
                "/api/ccp4i2/projects/",
                json!({"name": n, "directory": "__default__", "description": "made by i2server"}),
            )
            .await;
        assert_eq!(
            r.status,
            201,
            "create {n}: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
}

fn names_of(v: &Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .expect("list")
        .iter()
        .map(|p| p["name"].as_str().expect("name").to_string())
        .collect();
    n.sort();
    n
}

async fn upstream_lists_i2server_projects(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    create_projects_with_i2server(&app, &["made_here_1", "made_here_2"]).await;
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", app.root().join("db.sqlite3").display()),
        Backend::Postgres => with_dummy_password(&pg_url_of(&app)),
    };
    let port = free_port();
    let home = app.root().join("upstream_home");
    let server = start_upstream_server(&py, &home, &url, port);
    assert!(
        wait_healthy(port, "/api/ccp4i2/health/", 60),
        "upstream server did not start: {}",
        std::fs::read_to_string(home.join("server.log")).unwrap_or_default()
    );
    let (status, body) = http_get(port, "/api/ccp4i2/projects/").expect("upstream answers");
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(names_of(&listed), ["made_here_1", "made_here_2"]);
    // Upstream reads every field i2server wrote.
    let (status, body) = http_get(port, "/api/ccp4i2/projects/1/").expect("detail");
    assert_eq!(status, 200, "{body}");
    let detail: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(detail["description"], "made by i2server");
    assert!(
        detail["directory"]
            .as_str()
            .expect("dir")
            .ends_with("/made_here_1")
    );
    drop(server);
    app.finish().await;
}

fn pg_url_of(app: &TestApp) -> String {
    match &app.db {
        i2_store::Db::Postgres(_) => app.pg_url().expect("pg url"),
        _ => unreachable!("postgres app"),
    }
}

#[tokio::test]
async fn upstream_server_reads_i2server_database_postgres() {
    upstream_lists_i2server_projects(Backend::Postgres).await;
}

#[tokio::test]
async fn upstream_server_reads_i2server_database_sqlite() {
    upstream_lists_i2server_projects(Backend::Sqlite).await;
}

async fn i2server_serves_upstream_database(backend: Backend) {
    let Some(py) = upstream_python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, pg) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("up.sqlite3").display()),
            None,
        ),
        Backend::Postgres => {
            let Some(admin) = pg_admin_url() else { return };
            let pg = PgDatabase::create(&admin).await;
            (pg.url.clone(), Some(pg))
        }
    };
    let home = dir.path().join("home");
    let upstream_url = with_dummy_password(&url);
    for args in [
        vec!["migrate", "-v0"],
        vec!["create_project", "made_upstream", "-d", "by upstream"],
    ] {
        let out = upstream_manage(&py, &home, &upstream_url, &args);
        assert!(
            out.status.success(),
            "upstream {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let target = DbTarget::parse(&url).expect("url");
    // Serving refuses a database it has not adopted yet, and says what to run.
    let err = i2server::app::open_database(&target, true)
        .await
        .expect_err("not adopted yet");
    assert!(format!("{err:#}").contains("i2server migrate"), "{err:#}");
    let db = i2_store::Db::connect(&target, 2).await.expect("connect");
    let report = migrate::migrate(&db).await.expect("adopt");
    assert_eq!(report.adopted, vec![1, 2], "baseline adopted, not re-run");
    db.close().await;

    let db = i2server::app::open_database(&target, false)
        .await
        .expect("now current");
    let router = i2_api::router(i2_api::AppState::new(
        db.clone(),
        i2_api::ApiConfig::for_projects_dir(home.join("projects")),
    ));
    use tower::ServiceExt;
    let resp = router
        .oneshot(
            axum::http::Request::get("/api/ccp4i2/projects/")
                .body(axum::body::Body::empty())
                .expect("req"),
        )
        .await
        .expect("router");
    assert_eq!(resp.status(), 200);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let listed: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(names_of(&listed), ["made_upstream"]);
    assert!(
        listed[0]["uuid"].as_str().is_some_and(|u| u.len() == 36),
        "uuid decoded: {listed}"
    );
    db.close().await;
    if let Some(pg) = pg {
        pg.drop_now().await;
    }
}

#[tokio::test]
async fn i2server_serves_upstream_database_sqlite() {
    i2server_serves_upstream_database(Backend::Sqlite).await;
}

#[tokio::test]
async fn i2server_serves_upstream_database_postgres() {
    i2server_serves_upstream_database(Backend::Postgres).await;
}
