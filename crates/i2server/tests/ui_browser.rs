//! The built-in UI end to end in headless Chromium: the real `i2server serve` binary with an
//! embedded worker and the upstream runner, driven by `tests/ui/freerflag.mjs`
//! (playwright-core) over loopback. A scientist creates a project, chooses freerflag,
//! uploads rnase25_fsigf.mtz choosing F/SIGF, runs it, sees Finished arrive without a
//! reload, opens the report and downloads FREEROUT.mtz, whose bytes are checked here. On a
//! later aimless_pipe job it adds, sets and removes items of a list parameter in the form.
//!
//! Needs what scripts/test.sh installs: Debian `chromium` (`I2_CHROMIUM`, default
//! /usr/bin/chromium), npm `playwright-core` under `$I2_CACHE/node` (`I2_NODE_MODULES`
//! overrides), and the upstream peers (`I2_TEST_PYTHON`). `I2_SKIP_BROWSER=1` skips it
//! knowingly; otherwise anything missing fails the test. Screenshots go to
//! `$CARGO_TARGET_DIR/ui-screenshots/` (and to docs/screenshots/ with
//! `I2_UPDATE_SCREENSHOTS=1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use serde_json::Value;

fn browser_tools() -> Option<(PathBuf, PathBuf)> {
    if std::env::var("I2_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!(
            "NOTICE: browser test SKIPPED (I2_SKIP_BROWSER=1); run scripts/test.sh for the full suite"
        );
        return None;
    }
    let chromium =
        PathBuf::from(std::env::var("I2_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()));
    assert!(
        chromium.is_file(),
        "{} not found: install Debian's chromium (scripts/test.sh does), or set I2_SKIP_BROWSER=1 to skip knowingly",
        chromium.display()
    );
    let modules = std::env::var_os("I2_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let cache = std::env::var_os("I2_CACHE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                        .join(".cache/i2server")
                });
            cache.join("node/node_modules")
        });
    assert!(
        modules.join("playwright-core").is_dir(),
        "playwright-core not found under {}: run scripts/test.sh (it installs it), or set I2_SKIP_BROWSER=1 to skip knowingly",
        modules.display()
    );
    Some((chromium, modules))
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn get_json(port: u16, path: &str) -> Value {
    let (status, body) = http_get(port, path).unwrap_or_else(|| panic!("GET {path} failed"));
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: not JSON ({e}): {body}"))
}

#[test]
fn freerflag_in_the_browser() {
    let Some(py) = upstream_python() else { return };
    let Some((chromium, modules)) = browser_tools() else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let _server = serve_for_browser(home.path(), port, &py, &[], http_get);

    let shots = target_dir().join("ui-screenshots");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let download = home.path().join("FREEROUT.downloaded.mtz");
    let mtz = ccp4i2_root().join("wrappers/freerflag/test_data/rnase25_fsigf.mtz");
    assert!(mtz.is_file(), "{} is missing", mtz.display());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/freerflag.mjs");
    let out = Command::new("node")
        .arg(&script)
        .env("I2_UI_BASE", format!("http://127.0.0.1:{port}"))
        .env("I2_UI_MTZ", &mtz)
        .env("I2_UI_DOWNLOAD", &download)
        .env("I2_UI_SHOTS", &shots)
        .env("I2_NODE_MODULES", &modules)
        .env("I2_CHROMIUM", &chromium)
        .stdin(Stdio::null())
        .output()
        .expect("run node (is Node.js installed?)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let job_dir = home.path().join("CCP4X_PROJECTS/rnase_ui/CCP4_JOBS/job_1");
    assert!(
        out.status.success(),
        "the browser script failed:\n{stderr}\n--- server log:\n{}{}",
        tail(&home.path().join("server.log")),
        diagnostics(&job_dir)
    );
    let r: Value = serde_json::from_str(stdout.trim().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("script output is not JSON ({e}): {stdout}\n{stderr}"));

    // What the scientist saw.
    assert_eq!(
        r["seen"].as_array().and_then(|s| s.last()),
        Some(&Value::from("Finished")),
        "{r}"
    );
    assert!(
        r["seen"].as_array().is_some_and(|s| s.len() >= 2),
        "the status changed on the page (not only after a reload): {r}"
    );
    assert_eq!(r["sameDocument"], true, "no page reload: {r}");
    assert_eq!(
        r["projectLive"], true,
        "the project page showed Finished without a reload: {r}"
    );
    assert!(
        r["current"]
            .as_str()
            .is_some_and(|c| c.contains("rnase25_fsigf.mtz") && c.contains("F,SIGF")),
        "{r}"
    );
    assert!(
        r["fracText"]
            .as_str()
            .is_some_and(|t| !t.is_empty() && t != "saved"),
        "an out-of-range value shows the API's message: {r}"
    );
    assert!(
        r["reportText"].as_str().is_some_and(|t| t.len() > 50),
        "a report was shown: {r}"
    );
    assert!(r["jobRows"].as_i64().is_some_and(|n| n >= 5), "{r}");
    assert_eq!(r["finishedRow"], "Finished", "{r}");
    assert!(r["projectRows"].as_i64().is_some_and(|n| n >= 4), "{r}");
    assert_eq!(r["tagged"], 1, "the project's tag is listed: {r}");
    assert_eq!(
        r["cloneStatus"], "Pending",
        "the clone is a new pending job: {r}"
    );
    assert!(
        r["dialogText"]
            .as_str()
            .is_some_and(|t| t.contains("cannot be undone")),
        "deleting asks first, saying what goes: {r}"
    );
    assert_eq!(r["deletedGone"], true, "{r}");
    assert_eq!(
        r["listEdits"],
        serde_json::json!([["2"], ["2", "3"], ["3"]]),
        "list items added, set and removed (renumbered) in the form: {r}"
    );
    assert_eq!(
        r["problems"],
        Value::Array(vec![]),
        "no script errors in the page: {r}"
    );

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

    // The downloaded file is FREEROUT.mtz, byte for byte, and a real free-R MTZ.
    let jid = r["jobId"].as_i64().expect("job id");
    let files = get_json(port, &format!("/api/ccp4i2/files/?job={jid}"));
    let out_file = files
        .as_array()
        .and_then(|f| f.iter().find(|f| f["job_param_name"] == "FREEROUT"))
        .unwrap_or_else(|| panic!("FREEROUT listed: {files}"));
    let input = files
        .as_array()
        .and_then(|f| f.iter().find(|f| f["directory"] == 2))
        .unwrap_or_else(|| panic!("the uploaded input listed: {files}"));
    assert_eq!(input["type"], "application/CCP4-mtz-observed", "{input}");
    assert!(
        input["annotation"]
            .as_str()
            .is_some_and(|a| a.contains("Columns: F, SIGF")),
        "the chosen columns were imported: {input}"
    );
    let on_disk =
        std::fs::read(out_file["path"].as_str().expect("path")).expect("FREEROUT.mtz on disk");
    let got = std::fs::read(&download).expect("the downloaded file");
    assert_eq!(got.len(), on_disk.len(), "downloaded size");
    assert!(got == on_disk, "downloaded bytes are FREEROUT.mtz's");
    let header = i2_formats::mtz::MtzHeader::read(&download).expect("a readable MTZ");
    assert!(
        header.columns.iter().any(|c| c.label == "FREER"),
        "free-R column present"
    );

    for name in [
        "projects.png",
        "project.png",
        "job-form.png",
        "job-report.png",
        "job-list.png",
    ] {
        let p = shots.join(name);
        let len = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{} saved", p.display());
        if std::env::var("I2_UPDATE_SCREENSHOTS").is_ok_and(|v| v == "1") {
            let dest = workspace_root().join("docs/screenshots");
            std::fs::create_dir_all(&dest).expect("docs/screenshots");
            std::fs::copy(&p, dest.join(name)).expect("copy screenshot");
        }
    }
}
