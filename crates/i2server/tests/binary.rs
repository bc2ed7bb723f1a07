//! The real binary, as a user runs it: `i2server serve` with nothing configured answers
//! health and an empty project list; a wrong setting stops start-up with one clear line.

mod common;

use common::*;
use std::process::{Command, Stdio};

fn bare_command(home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_i2server"));
    // Nothing from the developer's environment leaks in: only HOME and PATH.
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    c
}

#[test]
fn serve_with_nothing_configured_works() {
    let home = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let child = bare_command(home.path())
        .args(["serve", "--port", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn i2server");
    let _guard = Child(child);
    assert!(
        wait_healthy(port, "/api/ccp4i2/health/", 30),
        "i2server did not become healthy"
    );
    let (status, body) = http_get(port, "/api/ccp4i2/projects/").expect("projects");
    assert_eq!((status, body.trim()), (200, "[]"));
    // The defaults were created where upstream puts them.
    assert!(home.path().join(".ccp4i2/db.sqlite3").is_file());
    assert!(home.path().join(".ccp4i2/CCP4X_PROJECTS").is_dir());
}

#[test]
fn wrong_setting_stops_startup_with_one_line() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = bare_command(home.path())
        .env("DATABASE_URL", "mysql://localhost/x")
        .args(["serve", "--port", &free_port().to_string()])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("DATABASE_URL") && err.contains("mysql"),
        "{err}"
    );
}

#[test]
fn version_and_migrate_commands() {
    let home = tempfile::tempdir().expect("tempdir");
    let out = bare_command(home.path())
        .arg("version")
        .output()
        .expect("version");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("i2server "));
    let out = bare_command(home.path())
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bare_command(home.path())
        .arg("migrate")
        .output()
        .expect("migrate again");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("applied []"),
        "second run applies nothing"
    );
}
