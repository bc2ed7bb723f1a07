//! Shared helpers of the i2-tasks integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use i2_tasks::Catalogue;
use i2_tasks::paramsxml::HeaderInfo;
use i2_tasks::xml::{Element, parse_str};
use serde_json::Value;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// The upstream package (`I2_CCP4I2_ROOT`) and the Python that has it installed (`I2_TEST_PYTHON`).
/// Both are required: a test run without them fails rather than skipping.
pub fn installation() -> (PathBuf, PathBuf) {
    let get = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                panic!(
                    "{k} is not set. The i2-tasks tests need I2_CCP4I2_ROOT (the ccp4i2 3.0.1 package \
                     directory, e.g. <venv>/lib/python3.11/site-packages/ccp4i2) and I2_TEST_PYTHON (the \
                     Python of that venv, e.g. /tmp/ccp4i2-reference/venv/bin/python)"
                )
            })
    };
    let root = get("I2_CCP4I2_ROOT");
    let python = get("I2_TEST_PYTHON");
    assert!(
        i2_tasks::install::is_installation(&root),
        "I2_CCP4I2_ROOT={} is not a ccp4i2 package directory (no core/tasks.py)",
        root.display()
    );
    (root, python)
}

/// Class-facts cache shared by the test binaries of one run (keyed by the installation fingerprint).
pub fn test_cache_dir() -> PathBuf {
    std::env::temp_dir().join("i2-tasks-test-classes")
}

/// The catalogue of the test installation; the class-facts cache is generated on first use.
pub fn catalogue() -> Catalogue {
    static CAT: OnceLock<Catalogue> = OnceLock::new();
    CAT.get_or_init(|| {
        let (root, python) = installation();
        let dir = test_cache_dir();
        match Catalogue::load(&root, &dir) {
            Ok(c) => c,
            Err(i2_tasks::Error::NoClassCache { .. }) => {
                i2_tasks::classes::generate_cache(&python, &root, &dir)
                    .unwrap_or_else(|e| panic!("generating the class cache: {e}"));
                Catalogue::load(&root, &dir).unwrap_or_else(|e| panic!("{e}"))
            }
            Err(e) => panic!("{e}"),
        }
    })
    .clone()
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Names listed in an allow-list file (one per line, `#` comments).
pub fn allow_list(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// First difference between two JSON values, as a path and both sides (for failure messages).
pub fn first_diff(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_diff(v, w, &format!("{path}/{k}")) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}/{k}: only in ours: {}", short(v))),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{path}/{k}: only in reference: {}", short(&y[k])))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (v, w))| first_diff(v, w, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: ours {} vs reference {}",
            short(a),
            short(b)
        )),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 300 {
        format!(
            "{}…",
            &s[..s.char_indices().nth(300).map_or(s.len(), |c| c.0)]
        )
    } else {
        s
    }
}

/// Header of a recorded params file.
pub fn header_of(text: &str, task: &str) -> HeaderInfo {
    let root = parse_str(text).unwrap_or_else(|e| panic!("{task}: {e}"));
    let h = root.child("ccp4i2_header").expect("header");
    let get = |k: &str| {
        h.child(k)
            .map(|e| e.text_str().to_string())
            .unwrap_or_default()
    };
    HeaderInfo {
        task_name: get("pluginName"),
        user: get("userId"),
        host: get("hostName"),
        creation_time: get("creationTime"),
        ccp4i_version: get("ccp4iVersion"),
        project_name: get("projectName"),
        project_id: get("projectId"),
        job_number: get("jobNumber"),
        job_id: get("jobId"),
    }
}

/// Children of AU-contents files and CImportUnmerged items in name order.
fn sort_set_ordered(el: &mut Element) {
    let asu = el.child("header").is_some() && el.child("selection").is_some();
    if asu || el.tag == "CImportUnmerged" {
        el.children.sort_by(|a, b| a.tag.cmp(&b.tag));
    }
    for c in el.children.iter_mut() {
        sort_set_ordered(c);
    }
}

const STANDARD: [&str; 4] = ["inputData", "outputData", "controlParameters", "guiAdmin"];

/// A params file with the parts upstream orders by set iteration sorted by name, whitespace tails
/// dropped.
pub fn normalised_params(text: &str) -> Option<Element> {
    let mut el = parse_str(text).ok()?;
    strip_tails(&mut el);
    sort_set_ordered(&mut el);
    if let Some(body) = el.child_mut("ccp4i2_body") {
        let split = body
            .children
            .iter()
            .take_while(|c| STANDARD.contains(&c.tag.as_str()))
            .count();
        body.children[split..].sort_by(|a, b| a.tag.cmp(&b.tag));
    }
    Some(el)
}

fn strip_tails(el: &mut Element) {
    if el.text.as_deref().is_some_and(|t| t.trim().is_empty()) && !el.children.is_empty() {
        el.text = None;
    }
    el.tail = None;
    for c in el.children.iter_mut() {
        strip_tails(c);
    }
}

/// Names of the fixture files in `dir` ending in `suffix` (suffix removed), sorted.
pub fn fixture_names(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(suffix))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names
}
