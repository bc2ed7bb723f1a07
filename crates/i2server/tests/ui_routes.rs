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

/// List parameters: the job form offers to add and remove items, and ui.js does it with the
/// API's `set_parameter/` (the whole new list, as upstream's `CList.set`) — so the API's
/// validation and status rules apply: a bad item is refused, and once the job has been
/// run the list can no longer change (and the form offers no buttons).
async fn list_items_are_added_and_removed(backend: Backend) {
    let Some(Ok(_)) = test_catalogue() else {
        panic!(
            "the task catalogue is needed: run the suite with scripts/test.sh (I2_CCP4I2_ROOT, I2_TEST_PYTHON)"
        );
    };
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let r = app
        .send_json(
            "POST",
            "/api/ccp4i2/projects/",
            json!({"name": "lists", "directory": "__default__"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let pid = r.json()["id"].as_i64().expect("project");
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/projects/{pid}/create_task/"),
            json!({"task_name": "aimless_pipe"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let jid = r.json()["data"]["new_job"]["id"].as_i64().expect("job id");
    let list = "aimless_pipe.container.inputData.NUMBER_OF_DATASETS";
    let page = || async {
        let r = app.get(&format!("/ui/jobs/{jid}/")).await;
        assert_eq!(r.status, 200);
        String::from_utf8_lossy(&r.body).into_owned()
    };
    let fieldset = |html: &str| -> String {
        let start = html
            .find(&format!("data-path=\"{list}\""))
            .unwrap_or_else(|| panic!("the list {list} is in the form"));
        let end = html[start..]
            .find("</fieldset>")
            .map_or(html.len(), |e| start + e);
        html[start..end].to_string()
    };
    let items = |html: &str| fieldset(html).matches("class=\"list-item\"").count();
    let set_path = format!("/api/ccp4i2/jobs/{jid}/set_parameter/");
    let set = |value: serde_json::Value| {
        app.send_json(
            "POST",
            &set_path,
            json!({"object_path": list, "value": value}),
        )
    };
    // The list's items as container/ shows them (get_parameter/ answers `{}` for lists).
    let get = || list_items(&app, jid, "NUMBER_OF_DATASETS");

    let empty = page().await;
    assert_eq!(items(&empty), 0, "{}", fieldset(&empty));
    assert!(fieldset(&empty).contains("data-action=\"list-add\""));

    // Add: the items so far plus an unset one; then give it a value.
    let r = set(json!([3, null])).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let two = page().await;
    assert_eq!(items(&two), 2, "{}", fieldset(&two));
    assert_eq!(
        fieldset(&two)
            .matches("data-action=\"list-remove\"")
            .count(),
        2
    );
    assert!(fieldset(&two).contains(&format!("data-path=\"{list}[1]\"")));
    let r = app
        .send_json(
            "POST",
            &format!("/api/ccp4i2/jobs/{jid}/set_parameter/"),
            json!({"object_path": format!("{list}[1]"), "value": 5}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(get().await, json!([3, 5]));

    // Remove the first: the rest is renumbered, and saved in the job's parameter file.
    let r = set(json!([5])).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(get().await, json!([5]));
    let one = page().await;
    assert_eq!(items(&one), 1);
    assert!(fieldset(&one).contains("value=\"5\""), "{}", fieldset(&one));

    // A value the item type refuses is refused as a whole; nothing changes.
    let r = set(json!([5, "many"])).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert!(
        r.json()["error"]
            .as_str()
            .is_some_and(|e| e.contains("many")),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    assert_eq!(get().await, json!([5]));

    // Once run, the list is the job's record: refused by the API, no buttons in the form.
    let r = app
        .send_json("POST", &format!("/api/ccp4i2/jobs/{jid}/run/"), json!(null))
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let r = set(json!([5, 6])).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(get().await, json!([5]));
    let ran = page().await;
    assert!(
        !ran.contains("data-action=\"list-add\"") && !ran.contains("data-action=\"list-remove\""),
        "{}",
        fieldset(&ran)
    );
    app.finish().await;
}

#[tokio::test]
async fn list_items_are_added_and_removed_sqlite() {
    list_items_are_added_and_removed(Backend::Sqlite).await;
}

#[tokio::test]
async fn list_items_are_added_and_removed_postgres() {
    list_items_are_added_and_removed(Backend::Postgres).await;
}

/// With the desktop session token, a browser signs in once on `/ui/login/`: a wrong token is
/// refused, the right one gives a cookie (HttpOnly, SameSite=Strict) with which the pages,
/// the API and downloads answer; a change needs the server's own Origin too; signing out
/// deletes the cookie. Bearer tokens keep working as before.
async fn sign_in_with_the_session_token(backend: Backend, entra_too: bool) {
    let token = "desk-t0ken-42";
    let Some(app) = TestApp::start_with(backend, |c| {
        c.auth = if entra_too {
            // Entra ID with a session token besides: the sign-in takes the session token.
            i2_api::auth::AuthConfig::EntraAndLocalToken {
                entra: dead_entra(),
                token: token.into(),
                email: "me@lab.invalid".into(),
            }
        } else {
            i2_api::auth::AuthConfig::LocalToken {
                token: token.into(),
                email: "me@lab.invalid".into(),
            }
        }
    })
    .await
    else {
        return;
    };
    let send = |method: &str, path: &str, headers: &[(&str, &str)], body: String| {
        let mut b = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        app.request(b.body(Body::from(body)).expect("request"))
    };
    let form = "application/x-www-form-urlencoded";
    let html = "text/html,application/xhtml+xml";

    // Without credentials: a browser is sent to sign in (and back), a script gets the 401.
    let r = send("GET", "/ui/projects/", &[("accept", html)], String::new()).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/ui/login/?next=%2Fui%2Fprojects%2F")
    );
    assert_eq!(app.get("/ui/projects/").await.status, 401);
    let r = send("GET", "/ui/login/?next=/ui/projects/", &[], String::new()).await;
    assert_eq!(r.status, 200);
    let page = String::from_utf8_lossy(&r.body).into_owned();
    assert!(page.contains("type=\"password\"") && page.contains("value=\"/ui/projects/\""));
    assert_eq!(
        app.get("/ui/static/ui.css").await.status,
        200,
        "the page's styles load"
    );

    // A wrong token: refused, no cookie.
    let r = send(
        "POST",
        "/ui/login/",
        &[("content-type", form)],
        "token=desk-t0ken-4&next=%2Fui%2Fprojects%2F".into(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.headers.get("set-cookie").is_none());
    assert!(String::from_utf8_lossy(&r.body).contains("not this server"));

    // The right one: a cookie, and back where the browser was going (never off-site).
    let r = send(
        "POST",
        "/ui/login/",
        &[("content-type", form)],
        format!("token={token}&next=%2Fui%2Fprojects%2F"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/ui/projects/")
    );
    let set = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    assert!(!set.contains(token), "the cookie is not the token: {set}");
    let cookie = set.split(';').next().expect("name=value").to_string();
    let r = send(
        "POST",
        "/ui/login/",
        &[("content-type", form)],
        format!("token={token}&next=https%3A%2F%2Fevil.example%2F"),
    )
    .await;
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/ui/projects/")
    );

    // Signed in: pages, the API and the events stream's project check answer.
    let with = [("cookie", cookie.as_str()), ("accept", html)];
    let r = send("GET", "/ui/projects/", &with, String::new()).await;
    assert_eq!(r.status, 200);
    let r = send("GET", "/ui/login/", &with, String::new()).await;
    assert!(String::from_utf8_lossy(&r.body).contains("You are signed in"));
    let r = send("GET", "/api/ccp4i2/projects/", &with, String::new()).await;
    assert_eq!(r.status, 200);
    // A change on the cookie alone must come from this server's pages.
    let create = |origin: &'static str| {
        let cookie = cookie.clone();
        async move {
            let mut h = vec![
                ("cookie", cookie.clone()),
                ("content-type", "application/json".to_string()),
                ("host", "127.0.0.1:8000".to_string()),
            ];
            if !origin.is_empty() {
                h.push(("origin", origin.to_string()));
            }
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            send(
                "POST",
                "/api/ccp4i2/projects/",
                &h,
                json!({"name": "from_ui", "directory": "__default__"}).to_string(),
            )
            .await
        }
    };
    assert_eq!(create("").await.status, 401, "no Origin");
    assert_eq!(
        create("http://127.0.0.1:3000").await.status,
        401,
        "another local server"
    );
    assert_eq!(create("http://127.0.0.1:8000").await.status, 201);
    // Bearer tokens are unchanged.
    let bearer = format!("Bearer {token}");
    let r = send(
        "GET",
        "/api/ccp4i2/projects/",
        &[("authorization", &bearer)],
        String::new(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().map(Vec::len), Some(1));
    // A forged or stale cookie is no credential.
    let forged = format!("{}x", cookie);
    let r = send(
        "GET",
        "/api/ccp4i2/projects/",
        &[("cookie", &forged)],
        String::new(),
    )
    .await;
    assert_eq!(r.status, 401);

    // Signing out deletes the cookie; the browser is then asked to sign in again.
    let r = send(
        "POST",
        "/ui/login/",
        &[("content-type", form), ("cookie", &cookie)],
        "logout=1".into(),
    )
    .await;
    assert_eq!(r.status, 303);
    let cleared = r
        .headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        cleared.starts_with("i2server_ui=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let r = send("GET", "/ui/login/?out=1", &[], String::new()).await;
    assert!(String::from_utf8_lossy(&r.body).contains("You are signed out"));
    let r = send("GET", "/ui/projects/", &[("accept", html)], String::new()).await;
    assert_eq!(r.status, 303);
    app.finish().await;
}

/// Entra settings whose key endpoint answers nothing (no Entra token can pass here).
fn dead_entra() -> i2_api::auth::EntraConfig {
    let mut e = i2_api::auth::EntraConfig::for_tenant("test-tenant", "client-app-1");
    e.jwks_url = format!("http://127.0.0.1:{}/keys", free_port());
    e.jwks_timeout = std::time::Duration::from_secs(2);
    e
}

#[tokio::test]
async fn sign_in_with_the_session_token_sqlite() {
    sign_in_with_the_session_token(Backend::Sqlite, false).await;
    sign_in_with_the_session_token(Backend::Sqlite, true).await;
}

#[tokio::test]
async fn sign_in_with_the_session_token_postgres() {
    sign_in_with_the_session_token(Backend::Postgres, false).await;
    sign_in_with_the_session_token(Backend::Postgres, true).await;
}

/// With Entra ID alone there is no token to type: the page says so, and a posted token
/// gets nothing.
#[tokio::test]
async fn sign_in_page_with_entra_only() {
    let Some(app) = TestApp::start_with(Backend::Sqlite, |c| {
        c.auth = i2_api::auth::AuthConfig::Entra(dead_entra())
    })
    .await
    else {
        return;
    };
    let r = app.get("/ui/login/").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("Microsoft Entra ID sign-in only"));
    let r = app
        .request(
            Request::post("/ui/login/")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("token=anything"))
                .expect("request"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(r.headers.get("set-cookie").is_none());
    app.finish().await;
}

/// In development mode the sign-in page says none is needed; pages answer without it.
#[tokio::test]
async fn sign_in_page_in_development_mode() {
    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let r = app.get("/ui/login/").await;
    assert_eq!(r.status, 200);
    assert!(String::from_utf8_lossy(&r.body).contains("needs no sign-in"));
    assert_eq!(app.get("/ui/projects/").await.status, 200);
    app.finish().await;
}
