//! Truncated, oversized and mislabelled files through `upload_file_param/` and the digest
//! routes: a clear 4xx, and nothing half-written — no `File`/`FileImport` rows, nothing in
//! `CCP4_IMPORTED_FILES`, no temporary upload left in `CCP4_TMP`, the job's parameters
//! unchanged; the only file kept is upstream's downloaded copy, byte for byte what was sent.
//! On both backends.

mod common;

use std::path::Path;

use axum::body::Body;
use axum::http::Request;
use common::*;
use serde_json::Value;

const F_SIGF: &str = "freerflag.inputData.F_SIGF";

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// What a refused upload must not change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    files: Value,
    imports: Value,
    imported: Vec<String>,
    tmp: Vec<String>,
    params: String,
}

async fn snapshot(app: &TestApp, pdir: &Path) -> Snapshot {
    let files = app.get("/api/ccp4i2/files/").await.json();
    let imports = app.get("/api/ccp4i2/fileimports/").await.json();
    let params = app
        .get("/api/ccp4i2/jobs/1/params_xml/")
        .await
        .body
        .into_iter()
        .map(char::from)
        .collect();
    Snapshot {
        files,
        imports,
        imported: listing(&pdir.join("CCP4_IMPORTED_FILES")),
        tmp: listing(&pdir.join("CCP4_TMP")),
        params,
    }
}

/// Upload `bytes` as `name`; `chunked` sends the body as a stream of unknown length (as a
/// client without Content-Length does), so a size limit can only cut it off mid-file.
async fn upload(
    router: &axum::Router,
    name: &str,
    bytes: &[u8],
    selector: Option<&str>,
    chunked: bool,
) -> (u16, String) {
    use tower::ServiceExt;
    let mut fields = vec![("object_path", F_SIGF)];
    if let Some(s) = selector {
        fields.push(("column_selector", s));
    }
    let (ct, body) = multipart(&fields, Some(("file", name, bytes)));
    let body = if chunked {
        let parts: Vec<Result<Vec<u8>, std::io::Error>> =
            body.chunks(8192).map(|c| Ok(c.to_vec())).collect();
        Body::from_stream(futures_util::stream::iter(parts))
    } else {
        Body::from(body)
    };
    let req = Request::post("/api/ccp4i2/jobs/1/upload_file_param/")
        .header("content-type", ct)
        .body(body)
        .expect("request");
    let resp = router.clone().oneshot(req).await.expect("infallible");
    let status = resp.status().as_u16();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&body).into_owned())
}

async fn check(backend: Backend) {
    let data = ccp4i2_root().join("wrappers/freerflag/test_data");
    let mtz = std::fs::read(data.join("rnase25_fsigf.mtz")).expect("test MTZ");
    let pdb = std::fs::read(ccp4i2_root().join("wrappers/chainsaw/test_data/1a80_A.pdb"))
        .expect("test PDB");
    let Some(app) = TestApp::start(backend).await else {
        return;
    };
    let pid = create_project(&app, "p1").await["id"]
        .as_i64()
        .expect("project");
    create_task(&app, pid, "freerflag").await;
    let pdir = app.projects_dir.join("p1");
    let before = snapshot(&app, &pdir).await;

    // A second router on the same database with a 64 KiB body limit, for the oversized case.
    let mut config = i2_api::ApiConfig::for_projects_dir(app.projects_dir.clone());
    config.max_body_bytes = 64 * 1024;
    let mut state = i2_api::AppState::new(app.db.clone(), config);
    if let Some(cat) = test_catalogue() {
        state = state.with_tasks(cat);
    }
    let small = i2_api::router(state);

    let sel = Some("/*/*/[F,SIGF]");
    let mut random = vec![0u8; 3000];
    let mut x: u32 = 12345;
    for b in random.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = (x >> 16) as u8;
    }
    let mut bad_header = mtz.clone();
    bad_header[4..8].copy_from_slice(&u32::MAX.to_le_bytes()); // header offset past the end
    let cases: Vec<(&str, &axum::Router, &str, Vec<u8>, bool)> = vec![
        (
            "truncated MTZ",
            &app.router,
            "rnase25_fsigf.mtz",
            mtz[..4000].to_vec(),
            false,
        ),
        (
            "MTZ without its tail",
            &app.router,
            "cut.mtz",
            mtz[..mtz.len() - 700].to_vec(),
            false,
        ),
        (
            "MTZ header offset past the end",
            &app.router,
            "offset.mtz",
            bad_header,
            false,
        ),
        ("empty file", &app.router, "empty.mtz", Vec::new(), false),
        (
            "PDB named .mtz",
            &app.router,
            "model.mtz",
            pdb.clone(),
            false,
        ),
        (
            "PDB into an MTZ parameter",
            &app.router,
            "model.pdb",
            pdb,
            false,
        ),
        ("random bytes", &app.router, "noise.mtz", random, false),
        ("oversized", &small, "rnase25_fsigf.mtz", mtz.clone(), false),
        (
            "oversized, streamed",
            &small,
            "rnase25_fsigf.mtz",
            mtz.clone(),
            true,
        ),
    ];
    for (what, router, name, bytes, chunked) in cases {
        let (status, body) = upload(router, name, &bytes, sel, chunked).await;
        if what.starts_with("oversized") {
            assert!(body.contains("too large"), "{what}: unclear answer {body}");
        }
        assert!(
            (400..500).contains(&status),
            "{} {what}: {status} {body}",
            backend.name()
        );
        assert!(
            !body.is_empty() && !body.contains("panicked"),
            "{what}: unclear answer {body}"
        );
        eprintln!("{what}: {status} {}", &body[..body.len().min(160)]);
        let after = snapshot(&app, &pdir).await;
        assert_eq!(
            after,
            before,
            "{} {what}: something was left behind",
            backend.name()
        );
        // Upstream keeps the downloaded copy; it must be exactly what was sent.
        let kept = pdir.join("CCP4_DOWNLOADED_FILES").join(name);
        if let Ok(k) = std::fs::read(&kept) {
            assert_eq!(k, bytes, "{what}: downloaded copy differs from the upload");
        }
    }

    // The good file is still accepted afterwards, and digested.
    let (status, body) = upload(&app.router, "rnase25_fsigf.mtz", &mtz, sel, true).await;
    assert_eq!(status, 200, "{body}");
    let files = app.get("/api/ccp4i2/files/?job=1").await.json();
    let id = files[0]["id"].as_i64().expect("file id");
    let name = files[0]["name"].as_str().expect("file name").to_string();
    let r = app.get(&format!("/api/ccp4i2/files/{id}/digest/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["data"]["spaceGroup"], "P 21 21 21");

    // Truncated on disk afterwards: the digest routes refuse it clearly.
    let imported = pdir.join("CCP4_IMPORTED_FILES").join(&name);
    let full = std::fs::read(&imported).expect("imported file");
    std::fs::write(&imported, &full[..full.len() / 2]).expect("truncate");
    let r = app.get(&format!("/api/ccp4i2/files/{id}/digest/")).await;
    assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
    let msg = r.json()["error"].as_str().unwrap_or("").to_string();
    assert!(msg.contains("digest"), "unclear: {msg}");
    let r = app
        .get(&format!("/api/ccp4i2/jobs/1/digest/?object_path={F_SIGF}"))
        .await;
    assert_eq!(r.json()["data"]["status"], "Failed");
    app.finish().await;
}

#[tokio::test]
async fn bad_uploads_leave_nothing_sqlite() {
    check(Backend::Sqlite).await;
}

#[tokio::test]
async fn bad_uploads_leave_nothing_postgres() {
    check(Backend::Postgres).await;
}
