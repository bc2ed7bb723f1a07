//! Finding the CCP4i2 installation and loading its task catalogue.
//!
//! The catalogue is read natively (task registry, def.xml files). The facts about upstream's
//! parameter classes are extracted once from the installed package with its Python and
//! cached under `$CCP4I2_HOME/cache` (keyed by the installation's version and files, so an
//! upgrade is noticed); after that no Python is needed to answer.

use std::path::{Path, PathBuf};

use i2_tasks::Catalogue;

/// The Python that belongs to the installation: `CCP4I2_PYTHON`, else `ccp4-python`,
/// else `python3` (only used to build the class cache).
pub fn installation_python() -> PathBuf {
    match i2_jobs::Runner::upstream_from_env() {
        i2_jobs::Runner::Upstream { python } => python,
        i2_jobs::Runner::Command { .. } => PathBuf::from("python3"),
    }
}

/// Load the catalogue, building the class cache first when it is missing and `python`
/// is given. The error explains what to set or run.
pub fn load(
    root: Option<&Path>,
    cache_dir: &Path,
    python: Option<&Path>,
) -> Result<Catalogue, String> {
    let root = match root {
        Some(r) => r.to_path_buf(),
        None => match i2_tasks::find_installation() {
            Ok(r) => r,
            Err(e) => python
                .and_then(package_beside)
                .ok_or_else(|| e.to_string())?,
        },
    };
    match Catalogue::load(&root, cache_dir) {
        Ok(c) => Ok(c),
        Err(first) => {
            let Some(py) = python else {
                return Err(first.to_string());
            };
            tracing::info!(root = %root.display(), python = %py.display(), "building the task class cache (once per installation)");
            i2_tasks::classes::generate_cache(py, &root, cache_dir).map_err(|e| {
                format!(
                    "{first}; building the class cache with {} failed: {e}",
                    py.display()
                )
            })?;
            Catalogue::load(&root, cache_dir).map_err(|e| e.to_string())
        }
    }
}

/// The `ccp4i2` package in the environment a Python belongs to (`<env>/lib/python3.*/site-packages`).
fn package_beside(python: &Path) -> Option<PathBuf> {
    let python = if python.is_absolute() {
        python.to_path_buf()
    } else {
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join(python))
            .find(|p| p.is_file())?
    };
    let env = python.parent()?.parent()?;
    std::fs::read_dir(env.join("lib"))
        .ok()?
        .filter_map(Result::ok)
        .map(|d| d.path().join("site-packages/ccp4i2"))
        .find(|p| p.join("core").is_dir())
}
