//! `i2server doctor`: checks an installation the way an operator would, and says how to fix
//! each problem. Exit status 0 when nothing is wrong (warnings allowed), 1 otherwise — usable
//! as a start-up check.
//!
//! Checks: configuration (echoed, secrets masked), database reachable and schema current,
//! projects directory writable (and not suspiciously slow), the runner's Python (found,
//! `ccp4i2` importable and its version, NumPy major version, a stray `pathlib` backport),
//! and the CCP4 suite (`$CCP4`, its programs).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use i2_store::migrate;

use crate::config::Settings;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fail,
}

/// One finding: what was checked, what was found, and (for problems) the fix.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub what: &'static str,
    pub detail: String,
    pub fix: Option<String>,
}

impl Finding {
    fn ok(what: &'static str, detail: impl Into<String>) -> Self {
        Finding {
            level: Level::Ok,
            what,
            detail: detail.into(),
            fix: None,
        }
    }
    fn warn(what: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            level: Level::Warn,
            what,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }
    fn fail(what: &'static str, detail: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            level: Level::Fail,
            what,
            detail: detail.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn line(&self) -> String {
        let tag = match self.level {
            Level::Ok => "ok  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        match &self.fix {
            Some(f) => format!("{tag} {}: {} — fix: {f}", self.what, self.detail),
            None => format!("{tag} {}: {}", self.what, self.detail),
        }
    }
}

/// Run every check.
pub async fn run(settings: &Settings, python: &Path) -> Vec<Finding> {
    let mut out = vec![Finding::ok(
        "configuration",
        format!(
            "database {:?}, projects {}, home {}, authentication {}",
            settings.database,
            settings.api.projects_dir.display(),
            settings.home.display(),
            settings.api.auth.mode_name()
        ),
    )];
    out.push(database(settings).await);
    out.push(projects_dir(&settings.api.projects_dir));
    out.extend(runner(python));
    out.push(ccp4_suite());
    out
}

async fn database(settings: &Settings) -> Finding {
    let connect = i2_store::Db::connect(&settings.database, 1);
    let db = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => {
            return Finding::fail(
                "database",
                format!("cannot connect to {:?}: {e}", settings.database),
                "check DATABASE_URL (or DB_HOST, DB_PORT, DB_USER, DB_PASSWORD, DB_NAME) and that the server accepts connections",
            );
        }
        Err(_) => {
            return Finding::fail(
                "database",
                format!("no answer from {:?} within 5 s", settings.database),
                "check DATABASE_URL (or DB_HOST, DB_PORT), that the database server is running, and the network path to it",
            );
        }
    };
    let f = match migrate::state(&db).await {
        Ok(s) if s.is_current() => Finding::ok("database", format!("reachable; {}", s.explain())),
        Ok(migrate::SchemaState::Empty) => Finding::warn(
            "database",
            "reachable, no schema yet",
            "run `i2server migrate` (or start `i2server serve`, which creates an empty database's schema)",
        ),
        Ok(s) => Finding::fail(
            "database",
            format!("reachable, but {}", s.explain()),
            "run `i2server migrate`",
        ),
        Err(e) => Finding::fail(
            "database",
            format!("cannot read the schema: {e}"),
            "check the database user's rights",
        ),
    };
    db.close().await;
    f
}

fn projects_dir(dir: &Path) -> Finding {
    if let Err(e) = std::fs::create_dir_all(dir) {
        return Finding::fail(
            "projects directory",
            format!("{} cannot be created: {e}", dir.display()),
            "set CCP4I2_PROJECTS_DIR to a writable directory (on Azure, the mounted projects share)",
        );
    }
    let probe = dir.join(format!(".i2server-doctor-{}", std::process::id()));
    let t0 = Instant::now();
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        use std::io::Write;
        f.write_all(&[0u8; 64 * 1024])?;
        f.sync_all()
    });
    let took = t0.elapsed();
    let _ = std::fs::remove_file(&probe);
    match written {
        Err(e) => Finding::fail(
            "projects directory",
            format!("{} is not writable: {e}", dir.display()),
            "give the server's user write access, or set CCP4I2_PROJECTS_DIR elsewhere",
        ),
        Ok(()) if took > Duration::from_secs(1) => Finding::warn(
            "projects directory",
            format!(
                "{} is writable but slow ({} ms to write and sync 64 KiB)",
                dir.display(),
                took.as_millis()
            ),
            "check the file share (Azure Files tier, mount options); jobs write many files",
        ),
        Ok(()) => Finding::ok(
            "projects directory",
            format!(
                "{} writable ({} ms for 64 KiB with sync)",
                dir.display(),
                took.as_millis()
            ),
        ),
    }
}

/// Asks the runner's Python about itself; prints one JSON object.
const PROBE: &str = r#"
import json, sys, importlib.util
out = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import importlib.metadata as md
except Exception:
    md = None
for mod in ("ccp4i2", "numpy", "django"):
    spec = importlib.util.find_spec(mod)
    if spec is None:
        out[mod] = None
        continue
    version = None
    if md is not None:
        try:
            version = md.version(mod if mod != "django" else "Django")
        except Exception:
            version = None
    if version is None:
        try:
            version = getattr(__import__(mod), "__version__", "unknown")
        except Exception as e:
            version = "import failed: %s" % e
    out[mod] = version
spec = importlib.util.find_spec("pathlib")
origin = getattr(spec, "origin", "") or ""
out["pathlib"] = origin
out["pathlib_backport"] = ("site-packages" in origin) or ("dist-packages" in origin)
print(json.dumps(out))
"#;

fn runner(python: &Path) -> Vec<Finding> {
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(PROBE)
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            return vec![Finding::fail(
                "runner python",
                format!(
                    "{} failed: {}",
                    python.display(),
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
                "set CCP4I2_PYTHON to a working Python that has ccp4i2 installed",
            )];
        }
        Err(e) => {
            return vec![Finding::fail(
                "runner python",
                format!("{} cannot be run: {e}", python.display()),
                "install CCP4 (ccp4-python) or `pip install ccp4i2==3.0.1` into a venv, and set CCP4I2_PYTHON to its python",
            )];
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let Some(info) = text
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str::<serde_json::Value>(l.trim()).ok())
    else {
        return vec![Finding::fail(
            "runner python",
            format!("{} gave no answer to the probe", python.display()),
            "set CCP4I2_PYTHON to a CPython 3 interpreter",
        )];
    };
    let s = |k: &str| info.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let mut f = vec![Finding::ok(
        "runner python",
        format!(
            "{} (Python {})",
            s("executable").unwrap_or_else(|| python.display().to_string()),
            s("python").unwrap_or_default()
        ),
    )];
    f.push(match s("ccp4i2") {
        Some(v) if v.starts_with("3.") => Finding::ok("ccp4i2", format!("version {v}")),
        Some(v) => Finding::warn(
            "ccp4i2",
            format!("version {v}; i2server is tested with 3.0.1"),
            "pip install ccp4i2==3.0.1",
        ),
        None => Finding::fail(
            "ccp4i2",
            "not importable by the runner's Python",
            "pip install ccp4i2==3.0.1 into that Python's environment",
        ),
    });
    let ccp4 = std::env::var_os("CCP4").filter(|v| !v.is_empty()).is_some();
    f.push(match s("numpy") {
        None => Finding::fail(
            "numpy",
            "not installed",
            "pip install 'numpy<2' (CCP4 builds) or numpy",
        ),
        Some(v)
            if v.split('.')
                .next()
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(0)
                >= 2 =>
        {
            let detail =
                format!("version {v}: CCP4's compiled Python modules are built against NumPy 1.x");
            let fix = "pip install 'numpy<2' into the runner's environment";
            if ccp4 {
                Finding::fail("numpy", detail, fix)
            } else {
                Finding::warn(
                    "numpy",
                    detail + " (no CCP4 suite configured, so only CCP4-free tasks run)",
                    fix,
                )
            }
        }
        Some(v) => Finding::ok("numpy", format!("version {v}")),
    });
    if info.get("pathlib_backport").and_then(|v| v.as_bool()) == Some(true) {
        f.push(Finding::fail(
            "pathlib",
            format!(
                "a PyPI `pathlib` backport shadows the standard library ({})",
                s("pathlib").unwrap_or_default()
            ),
            "pip uninstall pathlib",
        ));
    } else {
        f.push(Finding::ok("pathlib", "standard library"));
    }
    f
}

fn ccp4_suite() -> Finding {
    let Some(root) = std::env::var_os("CCP4")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
    else {
        return Finding::warn(
            "CCP4 suite",
            "CCP4 is not set: only the CCP4-free tasks (freerflag, mtzheader, splitMtz, coordinate_selector, ProvideAsuContents) and tasks whose programs are on PATH can run",
            "install CCP4 and source its ccp4.setup-sh (or set CCP4) for the server's workers",
        );
    };
    let cad = root.join("bin").join("cad");
    if cad.is_file() {
        Finding::ok("CCP4 suite", format!("{} (cad found)", root.display()))
    } else {
        Finding::fail(
            "CCP4 suite",
            format!("CCP4={} but {} is missing", root.display(), cad.display()),
            "point CCP4 at the installation root (the directory holding bin/ and lib/)",
        )
    }
}
