//! The schema `i2server migrate` builds equals the one upstream's `migrate` builds, on
//! SQLite and PostgreSQL, and upstream finds nothing left to migrate in ours.

mod common;

use common::*;
use i2_store::{Db, DbTarget, migrate};

fn compare(py: &std::path::Path, mode: &str, a: &str, b: &str) {
    let script = workspace_root().join("tests/schema/compare_schema.py");
    let out = std::process::Command::new(py)
        .arg(script)
        .args([mode, a, b])
        .output()
        .expect("run compare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemas differ ({mode}):\n{text}");
    assert!(
        text.contains("0 differences"),
        "unexpected compare output:\n{text}"
    );
}

fn assert_nothing_to_migrate(py: &std::path::Path, home: &std::path::Path, url: &str) {
    let out = upstream_manage(py, home, url, &["migrate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "upstream migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("No migrations to apply"),
        "upstream wanted to migrate our schema:\n{text}"
    );
}

#[tokio::test]
async fn sqlite_schema_matches_upstream() {
    let Some(py) = upstream_python() else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let ours = dir.path().join("ours.sqlite3");
    let db = Db::connect(&DbTarget::Sqlite(ours.clone()), 1)
        .await
        .expect("connect");
    migrate::migrate(&db).await.expect("migrate");
    db.close().await;

    let theirs = dir.path().join("theirs.sqlite3");
    let out = upstream_manage(
        &py,
        &dir.path().join("home"),
        &format!("sqlite://{}", theirs.display()),
        &["migrate", "-v0"],
    );
    assert!(
        out.status.success(),
        "upstream migrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    compare(
        &py,
        "sqlite",
        &ours.to_string_lossy(),
        &theirs.to_string_lossy(),
    );
    assert_nothing_to_migrate(
        &py,
        &dir.path().join("home2"),
        &format!("sqlite://{}", ours.display()),
    );
}

#[tokio::test]
async fn postgres_schema_matches_upstream() {
    let Some(py) = upstream_python() else { return };
    let Some(admin) = pg_admin_url() else { return };
    let ours = PgDatabase::create(&admin).await;
    let theirs = PgDatabase::create(&admin).await;
    let db = Db::connect(&DbTarget::parse(&ours.url).expect("url"), 1)
        .await
        .expect("connect");
    migrate::migrate(&db).await.expect("migrate");
    db.close().await;

    let dir = tempfile::tempdir().expect("tempdir");
    let out = upstream_manage(
        &py,
        &dir.path().join("home"),
        &with_dummy_password(&theirs.url),
        &["migrate", "-v0"],
    );
    assert!(
        out.status.success(),
        "upstream migrate: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    compare(&py, "postgres", &ours.url, &theirs.url);
    assert_nothing_to_migrate(
        &py,
        &dir.path().join("home2"),
        &with_dummy_password(&ours.url),
    );
    ours.drop_now().await;
    theirs.drop_now().await;
}

#[tokio::test]
async fn migrate_twice_is_a_no_op_and_concurrent_runs_do_not_race() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let (target, pg) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir").keep();
                (DbTarget::Sqlite(dir.join("db.sqlite3")), None)
            }
            Backend::Postgres => {
                let Some(admin) = pg_admin_url() else {
                    continue;
                };
                let pg = PgDatabase::create(&admin).await;
                (DbTarget::parse(&pg.url).expect("url"), Some(pg))
            }
        };
        let a = Db::connect(&target, 2).await.expect("connect");
        let b = Db::connect(&target, 2).await.expect("connect");
        let (ra, rb) = tokio::join!(migrate::migrate(&a), migrate::migrate(&b));
        let (ra, rb) = (ra.expect("first runner"), rb.expect("second runner"));
        // Exactly one of the two runners applied the migrations.
        assert_eq!(
            ra.applied.len() + rb.applied.len(),
            migrate::MIGRATIONS.len(),
            "{}",
            backend.name()
        );
        let again = migrate::migrate(&a).await.expect("third run");
        assert!(
            again.applied.is_empty(),
            "{}: nothing left to apply",
            backend.name()
        );
        assert!(migrate::state(&a).await.expect("state").is_current());
        a.close().await;
        b.close().await;
        if let Some(pg) = pg {
            pg.drop_now().await;
        }
    }
}
