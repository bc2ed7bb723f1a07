//! Facts about the CData classes of the installation being served, extracted from it once by our own
//! script (`extract_classes.py`, compiled in) run with the installation's Python, and cached as
//! `cdata_classes-<fingerprint>.json` ([`generate_cache`]). The fingerprint covers the ccp4i2 version
//! and the sizes and modification times of the class sources, so a changed installation needs a new
//! cache ([`cache_path`] names the one that fits).
//!
//! Per class: the JSON base class (`_baseClass`), its module (upstream prints list item classes as
//! `module.Class`), its kind (scalar, list, composite), the qualifiers a fresh object carries, a fresh
//! scalar's value, a list's item class and item qualifiers, and a composite's children in order with
//! the qualifier changes and values they get from their parent class.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Our extraction script, run by the installation's Python.
pub const EXTRACT_SCRIPT: &str = include_str!("extract_classes.py");

/// The class table of one installation is about 1 MB.
const MAX_CACHE_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Int,
    Float,
    String,
    Bool,
    List,
    Data,
}

impl Kind {
    pub fn is_scalar(self) -> bool {
        matches!(self, Kind::Int | Kind::Float | Kind::String | Kind::Bool)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ClassFacts {
    pub module: String,
    /// `_baseClass` in container JSON.
    pub base: String,
    pub kind: Kind,
    /// Class names from the class itself up to `CData`.
    #[serde(default)]
    pub mro: Vec<String>,
    #[serde(default)]
    pub qualifiers: Map<String, Value>,
    /// Value of a fresh scalar.
    #[serde(default)]
    pub value: Value,
    /// Item template of a list class.
    #[serde(default)]
    pub item: Option<ItemFacts>,
    /// Children of a composite class, in serialisation order.
    #[serde(default)]
    pub children: Vec<ChildFacts>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ItemFacts {
    pub class: String,
    #[serde(default)]
    pub qualifiers: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ChildFacts {
    pub name: String,
    pub class: String,
    /// Qualifiers added or changed relative to a fresh object of `class`.
    #[serde(default)]
    pub qualifiers: Map<String, Value>,
    /// Qualifiers of a fresh `class` object that this child does not have.
    #[serde(default)]
    pub removed: Vec<String>,
    /// Value, for scalar children.
    #[serde(default)]
    pub value: Option<Value>,
    /// Item template, for list children (their parent may give them an item class of their own).
    #[serde(default)]
    pub item: Option<ItemFacts>,
}

impl ClassFacts {
    /// True if the class is `name` or derives from it.
    pub fn isa(&self, name: &str) -> bool {
        self.mro
            .iter()
            .any(|m| m == name || m.strip_suffix("Stub") == Some(name))
    }
}

pub type ClassTable = HashMap<String, ClassFacts>;

/// A shared, read-only class table (cheap to clone).
#[derive(Clone, Default)]
pub struct Classes(Arc<ClassTable>);

impl std::fmt::Debug for Classes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Classes({} classes)", self.0.len())
    }
}

impl Classes {
    pub fn new(table: ClassTable) -> Classes {
        Classes(Arc::new(table))
    }

    /// Reads a class-facts file ([`load_table`]).
    pub fn load(path: &Path) -> Result<Classes> {
        load_table(path).map(Classes::new)
    }

    pub fn get(&self, name: &str) -> Option<&ClassFacts> {
        self.0.get(name)
    }

    pub fn table(&self) -> &ClassTable {
        &self.0
    }
}

/// Parses a class-facts file. Entries that could not be extracted (recorded with an `error`) are left
/// out; a file with no usable entry is rejected.
pub fn load_table(path: &Path) -> Result<ClassTable> {
    let text = crate::xml::read_text(path, MAX_CACHE_BYTES)?;
    let table = parse(&text).map_err(|e| Error::Classes {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if !table.contains_key("CString") || !table.contains_key("CContainer") {
        return Err(Error::Classes {
            path: path.to_path_buf(),
            message: "no facts for CString/CContainer (not a class-facts file?)".into(),
        });
    }
    Ok(table)
}

fn parse(text: &str) -> Result<ClassTable, serde_json::Error> {
    let raw: HashMap<String, Value> = serde_json::from_str(text)?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| serde_json::from_value::<ClassFacts>(v).ok().map(|f| (k, f)))
        .collect())
}

/// The ccp4i2 version of the package at `root`, from `MAJOR`/`MINOR`/`PATCH` in its `__init__.py`.
pub fn package_version(root: &Path) -> Option<String> {
    let text = crate::xml::read_text(&root.join("__init__.py"), 1 << 20).ok()?;
    let part = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let parts = [part("MAJOR")?, part("MINOR")?, part("PATCH")?];
    parts
        .iter()
        .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .then(|| parts.join("."))
}

/// Directories whose Python files define the classes (and their JSON encoding).
const SOURCE_DIRS: [&str; 2] = ["core", "lib/utils/containers"];
/// Bound on the files visited, against a pathological tree.
const MAX_SOURCE_FILES: usize = 20_000;

/// `<version>-<16 hex digits>`: the version and a hash of the relative path, size and modification
/// time of each class source file (and of `__init__.py`).
pub fn fingerprint(root: &Path) -> Result<String> {
    let version = package_version(root).unwrap_or_else(|| "unknown".into());
    let mut files: Vec<PathBuf> = vec![root.join("__init__.py")];
    files.retain(|f| f.is_file());
    for dir in SOURCE_DIRS {
        collect_py(&root.join(dir), &mut files, 0);
    }
    files.sort();
    let mut hash = Fnv::new();
    hash.write(version.as_bytes());
    for f in &files {
        let meta = std::fs::metadata(f).map_err(|e| Error::io(f, e))?;
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let rel = f.strip_prefix(root).unwrap_or(f);
        hash.write(rel.to_string_lossy().as_bytes());
        hash.write(&[0]);
        hash.write(&meta.len().to_le_bytes());
        hash.write(&mtime.to_le_bytes());
    }
    Ok(format!("{version}-{:016x}", hash.0))
}

fn collect_py(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    if depth > 16 || out.len() >= MAX_SOURCE_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(ft) = e.file_type() else { continue };
        let p = e.path();
        if ft.is_dir() {
            if p.file_name().is_some_and(|n| n != "__pycache__") {
                collect_py(&p, out, depth + 1);
            }
        } else if ft.is_file() && p.extension().is_some_and(|x| x == "py") {
            out.push(p);
            if out.len() >= MAX_SOURCE_FILES {
                return;
            }
        }
    }
}

/// FNV-1a, 64 bit: stable across Rust releases, unlike the standard hasher.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Where the class-facts cache of the installation at `root` lives in `cache_dir` (whether or not it
/// exists yet).
pub fn cache_path(root: &Path, cache_dir: &Path) -> Result<PathBuf> {
    Ok(cache_dir.join(format!("cdata_classes-{}.json", fingerprint(root)?)))
}

/// Runs the extraction script with `python` (which must import `ccp4i2` from `root`; the package's
/// parent directory is put first on `PYTHONPATH`) and writes the cache file into `cache_dir`, created
/// if needed. Returns the file's path. The file appears atomically (written aside, then renamed).
pub fn generate_cache(python: &Path, root: &Path, cache_dir: &Path) -> Result<PathBuf> {
    let target = cache_path(root, cache_dir)?;
    std::fs::create_dir_all(cache_dir).map_err(|e| Error::io(cache_dir, e))?;
    // Unique per call: two threads (or processes) may build the same cache at once.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let partial = cache_dir.join(format!(
        ".{}.{}.{}.partial",
        target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id(),
        CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let parent = root.parent().unwrap_or(root);
    let python_path = match std::env::var_os("PYTHONPATH").filter(|v| !v.is_empty()) {
        Some(old) => {
            let mut paths = vec![parent.to_path_buf()];
            paths.extend(std::env::split_paths(&old));
            std::env::join_paths(paths).map_err(|e| Error::Extract {
                python: python.to_path_buf(),
                message: format!("PYTHONPATH: {e}"),
            })?
        }
        None => parent.as_os_str().to_owned(),
    };
    let fail = |message: String| Error::Extract {
        python: python.to_path_buf(),
        message,
    };
    let mut child = Command::new(python)
        .arg("-")
        .arg(&partial)
        .arg(root)
        .env("PYTHONPATH", python_path)
        // Some upstream classes list children from a set; a fixed seed keeps the order stable.
        .env("PYTHONHASHSEED", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("cannot start: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(EXTRACT_SCRIPT.as_bytes())
            .map_err(|e| fail(format!("writing the script: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("waiting: {e}")))?;
    if !out.status.success() {
        let _ = std::fs::remove_file(&partial);
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(fail(format!("{}: {}", out.status, tail.join("\n"))));
    }
    if let Err(e) = load_table(&partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, &target).map_err(|e| Error::io(&target, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_drops_failed_entries() {
        let t = parse(
            r#"{"CString": {"module": "m", "base": "CData", "kind": "string"},
                          "CBad": {"error": "cannot build"}}"#,
        )
        .unwrap_or_default();
        assert!(t.contains_key("CString"));
        assert!(!t.contains_key("CBad"));
    }

    #[test]
    fn fnv_is_the_published_function() {
        let mut h = Fnv::new();
        h.write(b"a");
        assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
    }
}
