//! `i2server doctor` reports each seeded fault with its fix and fails (exit 1); a healthy
//! installation passes (exit 0).

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn doctor(home: &Path, env: &[(&str, String)]) -> (i32, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_i2server"));
    c.env_clear()
        .env("HOME", home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("CCP4I2_HOME", home.join("i2home"))
        .arg("doctor");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run doctor");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// A stand-in Python that answers the probe with `json`.
fn fake_python(dir: &Path, json: &str) -> String {
    let p = dir.join("python");
    std::fs::write(&p, format!("#!/bin/sh\necho '{json}'\n")).expect("write");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    p.display().to_string()
}

fn migrated_sqlite(home: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_i2server"))
        .env_clear()
        .env("HOME", home)
        .env("CCP4I2_HOME", home.join("i2home"))
        .arg("migrate")
        .output()
        .expect("migrate");
    assert!(out.status.success());
    home.join("i2home/db.sqlite3").display().to_string()
}

#[test]
fn healthy_installation_passes() {
    let Some(py) = upstream_python() else { return };
    let home = tempfile::tempdir().expect("tempdir");
    migrated_sqlite(home.path());
    let (code, out) = doctor(home.path(), &[("CCP4I2_PYTHON", py.display().to_string())]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ok   database") && out.contains("ok   ccp4i2: version 3.0.1"),
        "{out}"
    );
}

#[test]
fn each_seeded_fault_is_reported_with_its_fix() {
    let home = tempfile::tempdir().expect("tempdir");
    migrated_sqlite(home.path());
    let good = r#"{"python": "3.11.7", "executable": "/x/python", "ccp4i2": "3.0.1", "numpy": "1.26.4", "django": "5.2", "pathlib": "/usr/lib/python3.11/pathlib.py", "pathlib_backport": false}"#;
    let ok_python = fake_python(home.path(), good);
    let (code, out) = doctor(home.path(), &[("CCP4I2_PYTHON", ok_python.clone())]);
    assert_eq!(code, 0, "the fake healthy runner passes: {out}");

    // NumPy 2 under a CCP4 installation.
    let ccp4 = home.path().join("ccp4");
    std::fs::create_dir_all(ccp4.join("bin")).expect("mkdir");
    std::fs::write(ccp4.join("bin/cad"), "").expect("cad");
    let dir = tempfile::tempdir().expect("tempdir");
    let numpy2 = fake_python(dir.path(), &good.replace("1.26.4", "2.1.0"));
    let (code, out) = doctor(
        home.path(),
        &[
            ("CCP4I2_PYTHON", numpy2),
            ("CCP4", ccp4.display().to_string()),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL numpy") && out.contains("pip install 'numpy<2'"),
        "{out}"
    );

    // A pathlib backport on the runner's path.
    let dir = tempfile::tempdir().expect("tempdir");
    let backport = fake_python(
        dir.path(),
        &good
            .replace(
                "/usr/lib/python3.11/pathlib.py",
                "/venv/lib/python3.11/site-packages/pathlib.py",
            )
            .replace("\"pathlib_backport\": false", "\"pathlib_backport\": true"),
    );
    let (code, out) = doctor(home.path(), &[("CCP4I2_PYTHON", backport)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL pathlib") && out.contains("pip uninstall pathlib"),
        "{out}"
    );

    // An unreachable database.
    let (code, out) = doctor(
        home.path(),
        &[
            ("CCP4I2_PYTHON", ok_python.clone()),
            (
                "DATABASE_URL",
                "postgresql://nobody:secret@127.0.0.1:1/none?sslmode=disable".into(),
            ),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL database") && out.contains("fix: check DATABASE_URL"),
        "{out}"
    );
    assert!(!out.contains("secret"), "the password is masked: {out}");

    // An unwritable projects directory.
    let (code, out) = doctor(
        home.path(),
        &[
            ("CCP4I2_PYTHON", ok_python.clone()),
            ("CCP4I2_PROJECTS_DIR", "/proc/i2server-doctor".into()),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL projects directory") && out.contains("CCP4I2_PROJECTS_DIR"),
        "{out}"
    );
}

#[tokio::test]
async fn schema_behind_is_reported() {
    let home = tempfile::tempdir().expect("tempdir");
    let db_file = migrated_sqlite(home.path());
    let db = i2_store::Db::connect(&i2_store::DbTarget::Sqlite(db_file.into()), 1)
        .await
        .expect("connect");
    use i2_store::Conn;
    let mut c = db.clone();
    c.execute("DELETE FROM i2_schema_migrations WHERE version = 3", vec![])
        .await
        .expect("roll back a version");
    db.close().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let py = fake_python(
        dir.path(),
        r#"{"python": "3.11", "ccp4i2": "3.0.1", "numpy": "1.26", "pathlib_backport": false}"#,
    );
    let (code, out) = doctor(home.path(), &[("CCP4I2_PYTHON", py)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL database") && out.contains("run `i2server migrate`"),
        "{out}"
    );
}
