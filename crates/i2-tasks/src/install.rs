//! Finding the CCP4i2 package directory (the one holding `core/tasks.py`, `wrappers/`, `pipelines/`)
//! without running Python: environment variables and the usual site-packages layouts.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// True if `dir` looks like the `ccp4i2` package root.
pub fn is_installation(dir: &Path) -> bool {
    dir.join("core").join("tasks.py").is_file()
}

/// Looks in order at `$CCP4I2_ROOT`, `$VIRTUAL_ENV/lib/python*/site-packages/ccp4i2`, the system
/// site-packages directories, and `$CCP4/lib/python*/site-packages/ccp4i2`.
pub fn find_installation() -> Result<PathBuf> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(root) = env("CCP4I2_ROOT") {
        // An explicit setting that is wrong is reported, not silently replaced by a guess.
        return if is_installation(&root) {
            Ok(root)
        } else {
            Err(Error::NotInstalled)
        };
    }
    let mut prefixes: Vec<PathBuf> = Vec::new();
    prefixes.extend(env("VIRTUAL_ENV"));
    prefixes.extend(["/usr/local", "/usr", "/opt/conda"].map(PathBuf::from));
    if let Some(home) = env("HOME") {
        prefixes.push(home.join(".local"));
    }
    prefixes.extend(env("CCP4"));
    for prefix in prefixes {
        for candidate in site_packages(&prefix) {
            let dir = candidate.join("ccp4i2");
            if is_installation(&dir) {
                return Ok(dir);
            }
        }
    }
    Err(Error::NotInstalled)
}

/// `<prefix>/lib/python3.*/{site,dist}-packages`, newest Python first.
fn site_packages(prefix: &Path) -> Vec<PathBuf> {
    let lib = prefix.join("lib");
    let Ok(entries) = std::fs::read_dir(&lib) else {
        return Vec::new();
    };
    let mut pythons: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("python"))
        })
        .collect();
    pythons.sort_by(|a, b| b.cmp(a));
    pythons
        .into_iter()
        .flat_map(|p| [p.join("site-packages"), p.join("dist-packages")])
        .collect()
}
