//! The built-in UI end to end in headless Firefox (Debian `firefox-esr`), driven through
//! geckodriver's W3C WebDriver API on loopback (`tests/ui/webdriver.rs`): the same main flow
//! as the Chromium test — create a project, choose freerflag, upload rnase25_fsigf.mtz
//! choosing F/SIGF, run, see Finished arrive without a reload (SSE), open the report (its
//! graphs drawn as SVG), download FREEROUT.mtz and compare its bytes with the file on disk.
//! The server runs with a desktop session token here (the Chromium test runs without one):
//! the browser is sent to the sign-in page, a wrong token is refused, the right one signs it
//! in, everything above then works on the sign-in cookie alone (pages, API calls, the event
//! stream, the upload and the download), and signing out sends it back to the sign-in page.
//!
//! Needs what scripts/test.sh installs: `I2_FIREFOX` (default /usr/bin/firefox-esr),
//! `I2_GECKODRIVER` (default `$I2_CACHE/geckodriver/bin/geckodriver`) and the upstream peers
//! (`I2_TEST_PYTHON`). `I2_SKIP_BROWSER=1` skips it knowingly; otherwise anything missing
//! fails the test. The server, geckodriver and Firefox are ended when the test ends (the
//! session is deleted, which closes Firefox; then the processes started here, by PID).

mod common;
#[path = "ui/webdriver.rs"]
mod webdriver;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use webdriver::{ENTER, Session};

fn cache_dir() -> PathBuf {
    std::env::var_os("I2_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/i2server")
        })
}

fn firefox_tools() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("I2_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!(
            "NOTICE: Firefox browser test SKIPPED (I2_SKIP_BROWSER=1); run scripts/test.sh for the full suite"
        );
        return None;
    }
    let firefox = PathBuf::from(
        std::env::var("I2_FIREFOX").unwrap_or_else(|_| "/usr/bin/firefox-esr".into()),
    );
    assert!(
        firefox.is_file(),
        "{} not found: install Debian's firefox-esr (scripts/test.sh does), or set I2_SKIP_BROWSER=1 to skip knowingly",
        firefox.display()
    );
    let gecko = std::env::var_os("I2_GECKODRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("geckodriver/bin/geckodriver"));
    assert!(
        gecko.is_file(),
        "geckodriver not found at {}: run scripts/test.sh (it installs it with cargo install), or set I2_SKIP_BROWSER=1 to skip knowingly",
        gecko.display()
    );
    Some((firefox, gecko))
}

const TOKEN: &str = "firefox-desk-token-7d3e";

/// `GET path` with the session token (the test's own checks, outside the browser).
fn api_get(port: u16, path: &str) -> Option<(u16, String)> {
    let auth = format!("Authorization: Bearer {TOKEN}\r\nAccept-Encoding: identity\r\n");
    http_get_with(port, path, &auth, Duration::from_secs(30))
}

/// Sign in on the page the browser was sent to: a wrong token first (refused), then the
/// right one. Returns what the refusal said.
fn sign_in(s: &Session, base: &str) -> Result<String, String> {
    s.goto(&format!("{base}/"))?;
    s.wait_url("the sign-in page", |u| u.contains("/ui/login/"), 30)?;
    let field = s.find("#token", 15)?;
    s.type_text(&field, &format!("not-the-token{ENTER}"))?;
    let refused = s.wait_for(
        "the refusal",
        "const n = document.querySelector('.notice.error'); return n ? n.textContent : '';",
        30,
    )?;
    let field = s.find("#token", 15)?;
    s.type_text(&field, &format!("{TOKEN}{ENTER}"))?;
    s.wait_url("the projects page", |u| u.ends_with("/ui/projects/"), 30)?;
    Ok(refused.as_str().unwrap_or("").to_string())
}

/// Sign out from the sign-in page; then a page sends the browser back to sign in.
fn sign_out(s: &Session, base: &str) -> Result<bool, String> {
    s.goto(&format!("{base}/ui/login/"))?;
    let out = s.find("#logout button", 15)?;
    s.click(&out)?;
    s.wait_url("signed out", |u| u.contains("out=1"), 30)?;
    s.goto(&format!("{base}/ui/projects/"))?;
    let u = s.wait_url("the sign-in page again", |u| u.contains("/ui/login/"), 30)?;
    Ok(u.contains("next="))
}

fn number_after(url: &str, key: &str) -> Result<i64, String> {
    url.split(key)
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("no {key}<id> in {url}"))
}

/// The scientist's flow; what was seen, as JSON, or where it stopped.
fn flow(
    s: &Session,
    base: &str,
    mtz: &Path,
    downloads: &Path,
    shots: &Path,
) -> Result<Value, String> {
    let refused = sign_in(s, base)?;
    let name = s.find("#new-project-name", 15)?;
    s.type_text(&name, &format!("rnase_firefox{ENTER}"))?;
    let u = s.wait_url(
        "the new project's page",
        |u| u.contains("/ui/projects/") && !u.ends_with("/ui/projects/"),
        30,
    )?;
    let project = number_after(&u, "/ui/projects/")?;

    s.goto(&format!("{base}/ui/projects/{project}/tasks/"))?;
    let search = s.find("#task-search", 15)?;
    s.type_text(&search, "freerflag")?;
    let choose = s.find(r#"button[data-task="freerflag"]"#, 15)?;
    s.click(&choose)?;
    let u = s.wait_url("the job page", |u| u.contains("/ui/jobs/"), 30)?;
    let job = number_after(&u, "/ui/jobs/")?;

    let fs = r#"fieldset.file[data-path$=".F_SIGF"]"#;
    let file = s.find(&format!(r#"{fs} input[type="file"]"#), 15)?;
    s.type_text(&file, &mtz.to_string_lossy())?;
    for col in ["F", "SIGF"] {
        let cb = s.find(&format!(r#"{fs} .column-list input[value="{col}"]"#), 15)?;
        s.click(&cb)?;
    }
    let upload = s.find(&format!(r#"{fs} button[data-action="upload-file"]"#), 5)?;
    s.click(&upload)?;
    s.wait_for(
        "the upload",
        &format!(r#"return document.querySelector('{fs} .msg').textContent.includes('uploaded');"#),
        90,
    )?;
    let current = s.text(&s.find(&format!("{fs} .current-name"), 5)?)?;

    // Run, and watch the status change on this very page (no reload: the marker survives).
    s.run("window.__sameDocument = 'yes';", json!([]))?;
    let run = s.find(r#"button[data-action="run-job"]"#, 5)?;
    s.click(&run)?;
    let mut seen: Vec<String> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let status = s
            .run(
                "const b = document.querySelector('#job-status .badge'); return b ? b.textContent.trim() : '';",
                json!([]),
            )?
            .as_str()
            .unwrap_or("")
            .to_string();
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if ["Finished", "Failed", "Interrupted", "Unsatisfactory"].contains(&status.as_str()) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("no final status in time; saw {seen:?}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let same_document = s.run("return window.__sameDocument === 'yes';", json!([]))?;

    s.wait_for(
        "the report",
        "return !!document.querySelector('#report .report');",
        60,
    )?;
    let report_text = s.run(
        "return document.querySelector('#report').innerText.slice(0, 2000);",
        json!([]),
    )?;
    // Points of every plotted line of the report's graphs (server-drawn SVG).
    let graph_points = s.run(
        "return [...document.querySelectorAll('#report svg.graph polyline')].map((p) => (p.getAttribute('points') || '').trim().split(/\\s+/).filter(Boolean).length);",
        json!([]),
    )?;
    std::fs::write(shots.join("firefox-job-report.png"), s.screenshot()?)
        .map_err(|e| format!("saving the screenshot: {e}"))?;

    let link = s.find(r#"#outputs a[data-param="FREEROUT"]"#, 15)?;
    s.click(&link)?;
    let target = downloads.join("FREEROUT.mtz");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let partial = std::fs::read_dir(downloads)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".part"))
            })
            .unwrap_or(false);
        if target.is_file() && !partial {
            break;
        }
        if Instant::now() > deadline {
            let listing: Vec<String> = std::fs::read_dir(downloads)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            return Err(format!(
                "FREEROUT.mtz was not downloaded; the download directory holds {listing:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let back_to_sign_in = sign_out(s, base)?;
    Ok(json!({
        "refused": refused, "backToSignIn": back_to_sign_in,
        "project": project, "job": job, "current": current, "seen": seen,
        "sameDocument": same_document, "reportText": report_text,
        "graphPoints": graph_points,
    }))
}

#[test]
fn freerflag_in_firefox() {
    let Some(py) = upstream_python() else { return };
    let Some((firefox, gecko)) = firefox_tools() else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _server = serve_for_browser(
        home.path(),
        port,
        &py,
        &[("CCP4I2_LOCAL_SESSION_TOKEN", TOKEN)],
        api_get,
    );

    // geckodriver and Firefox get a home and profile directory of their own, in the tempdir.
    let fox_home = home.path().join("firefox-home");
    let downloads = home.path().join("downloads");
    std::fs::create_dir_all(&fox_home).expect("firefox home");
    std::fs::create_dir_all(&downloads).expect("download dir");
    let gport = free_port();
    let glog = std::fs::File::create(home.path().join("geckodriver.log")).expect("log");
    let driver = Command::new(&gecko)
        .args([
            "--host",
            "127.0.0.1",
            "--port",
            &gport.to_string(),
            "--log",
            "warn",
        ])
        .arg("--profile-root")
        .arg(&fox_home)
        .env("HOME", &fox_home)
        .env("MOZ_HEADLESS", "1")
        .stdin(Stdio::null())
        .stdout(glog.try_clone().expect("log"))
        .stderr(glog)
        .spawn()
        .expect("spawn geckodriver");
    let _driver = Child(driver);
    assert!(
        webdriver::wait_ready(gport, 30),
        "geckodriver did not start: {}",
        tail(&home.path().join("geckodriver.log"))
    );
    let caps = json!({
        "browserName": "firefox",
        "pageLoadStrategy": "normal",
        "timeouts": {"implicit": 0, "pageLoad": 60000, "script": 30000},
        "moz:firefoxOptions": {
            "binary": firefox,
            "args": ["-headless", "-width", "1366", "-height", "900"],
            "prefs": {
                // Downloads go, without asking, to the test's directory.
                "browser.download.folderList": 2,
                "browser.download.dir": downloads,
                "browser.download.useDownloadDir": true,
                "browser.download.always_ask_before_handling_new_types": false,
                "browser.download.start_downloads_in_tmp_dir": false,
                "browser.helperApps.neverAsk.saveToDisk": "application/octet-stream",
                "browser.download.panel.shown": true,
            }
        }
    });
    let session = Session::new(gport, caps).unwrap_or_else(|e| {
        panic!(
            "Firefox did not start through geckodriver: {e}\n{}",
            tail(&home.path().join("geckodriver.log"))
        )
    });
    let mtz = ccp4i2_root().join("wrappers/freerflag/test_data/rnase25_fsigf.mtz");
    assert!(mtz.is_file(), "{} is missing", mtz.display());
    let shots = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("ui-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let result = flow(
        &session,
        &format!("http://127.0.0.1:{port}"),
        &mtz,
        &downloads,
        &shots,
    );
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            if let Ok(png) = session.screenshot() {
                let _ = std::fs::write(shots.join("firefox-failure.png"), png);
            }
            drop(session);
            panic!(
                "the Firefox flow stopped: {e}\n--- server log:\n{}\n--- geckodriver log:\n{}",
                tail(&home.path().join("server.log")),
                tail(&home.path().join("geckodriver.log"))
            );
        }
    };
    drop(session);

    // Signed in with the token only after a wrong one was refused; signed out at the end.
    assert!(
        r["refused"]
            .as_str()
            .is_some_and(|t| t.contains("not this server's session token")),
        "a wrong token is refused in words: {}",
        r["refused"]
    );
    assert_eq!(
        r["backToSignIn"], true,
        "signed out: pages ask to sign in again"
    );
    assert_eq!(
        http_get(port, "/api/ccp4i2/projects/").map(|r| r.0),
        Some(401),
        "the API still refuses requests without credentials"
    );

    // What the scientist saw.
    let seen = r["seen"].as_array().cloned().unwrap_or_default();
    assert_eq!(seen.last(), Some(&Value::from("Finished")), "{seen:?}");
    assert!(seen.len() >= 2, "the status changed on the page: {seen:?}");
    assert_eq!(r["sameDocument"], true, "no page reload");
    assert!(
        r["current"]
            .as_str()
            .is_some_and(|c| c.contains("rnase25_fsigf.mtz") && c.contains("F,SIGF")),
        "{}",
        r["current"]
    );
    assert!(
        r["reportText"].as_str().is_some_and(|t| t.len() > 50),
        "a report was shown: {}",
        r["reportText"]
    );

    let job_dir = home
        .path()
        .join("CCP4X_PROJECTS/rnase_firefox/CCP4_JOBS/job_1");
    // Every plotted line of the report's graphs (its `<plotline>`s) is drawn as an SVG line
    // with points. (freerflag's report has no graphs today: then there must be none drawn.)
    let report_xml =
        std::fs::read_to_string(job_dir.join("report_xml.xml")).expect("report_xml.xml");
    let lines = report_xml.matches("<plotline").count();
    let drawn = r["graphPoints"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        drawn.len(),
        lines,
        "one SVG line per plotted line: {drawn:?}"
    );
    assert!(
        drawn.iter().all(|n| n.as_u64().is_some_and(|n| n > 0)),
        "every drawn line has points: {drawn:?}"
    );
    eprintln!("report graphs: {lines} plotted line(s), points drawn {drawn:?}");

    // The downloaded file is FREEROUT.mtz, byte for byte.
    let job = r["job"].as_i64().expect("job id");
    let (status, body) = api_get(port, &format!("/api/ccp4i2/files/?job={job}")).expect("files");
    assert_eq!(status, 200, "{body}");
    let files: Value = serde_json::from_str(&body).expect("files JSON");
    let out = files
        .as_array()
        .and_then(|f| f.iter().find(|f| f["job_param_name"] == "FREEROUT"))
        .unwrap_or_else(|| panic!("FREEROUT listed: {files}"));
    let on_disk = std::fs::read(out["path"].as_str().expect("path")).expect("FREEROUT.mtz on disk");
    let got = std::fs::read(downloads.join("FREEROUT.mtz")).expect("the downloaded file");
    assert_eq!(got.len(), on_disk.len(), "downloaded size");
    assert!(got == on_disk, "downloaded bytes are FREEROUT.mtz's");
}
