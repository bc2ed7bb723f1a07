//! The methods upstream's web client calls through `jobs/{id}/object_method/` and
//! `jobs/{id}/plugin_method/`, computed natively where they need no CCP4 program.
//!
//! Upstream looks any name up on the object or plugin and calls it. Here the names are
//! matched against explicit tables ([`OBJECT_METHODS`], [`CONTENT_METHODS`],
//! [`PLUGIN_METHODS`]) and only the functions listed there run; every other name is refused
//! with a message saying what is available. Nothing is ever looked up by name.
//!
//! - [`weight`]: `molecularWeight` of ASU contents.
//! - [`matthews`]: `matthewsCoeff` of an MTZ file's content.
//! - [`atoms`]: `atomCount` of a coordinate file (the simple selections).
//! - [`preview`]: ProvideSequence's `previewSequences`.
//! - [`tls`]: ProvideTLS's `import_tls_from_text`, `import_tls_from_file`, `suggest_tls_groups`.
//! - [`substructure`]: crank2/shelx's `estimate_num_substructure` and
//!   `compute_anomalous_scattering` (the latter by gemmi in the installation's Python,
//!   [`python`]).

mod atoms;
mod matthews;
mod preview;
pub mod python;
mod substructure;
mod tls;
mod weight;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::jobparams::JobParams;

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodError {
    /// Not one of the methods i2server computes, or one it cannot compute natively.
    Unsupported(String),
    /// The method exists but its arguments or the object's values do not work.
    Invalid(String),
    /// Upstream raises a CCP4 error here: its `<errorReportList>` document.
    Report(String),
}

impl std::fmt::Display for MethodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MethodError::Unsupported(m) | MethodError::Invalid(m) | MethodError::Report(m) => {
                f.write_str(m)
            }
        }
    }
}

/// What a method may read besides its object: the job's task and parameters, the installed
/// CCP4i2 package (for reference data it ships) and the on-disk path of a file parameter.
pub struct Env<'a> {
    pub task: &'a str,
    pub ccp4i2_root: &'a Path,
    pub params: &'a JobParams,
    pub file_path: &'a dyn Fn(&Value) -> Option<PathBuf>,
    /// The installation's Python, for the methods only a compiled Python package can
    /// compute (see [`python`]); `None` when no upstream runner is configured.
    pub python: Option<&'a Path>,
}

/// One call: the target node (a container-JSON node; `Null` for a plugin method) and the
/// client's arguments.
pub struct Call<'a> {
    pub node: &'a Value,
    pub args: &'a [Value],
    pub kwargs: &'a Value,
    pub env: &'a Env<'a>,
}

impl Call<'_> {
    /// Python-style argument binding: the `index`th positional argument, else `name` from
    /// the keyword arguments. JSON `null` counts as given (Python's `None`).
    fn arg(&self, index: usize, name: &str) -> Option<&Value> {
        self.args.get(index).or_else(|| self.kwargs.get(name))
    }

    /// A required argument, refused as Python refuses a missing one.
    fn required(&self, index: usize, name: &str, method: &str) -> Result<&Value, MethodError> {
        self.arg(index, name).ok_or_else(|| {
            MethodError::Invalid(format!(
                "{method}() missing 1 required positional argument: '{name}'"
            ))
        })
    }

    /// A parameter of the job's container by path below the task (`inputData.SEQIN`).
    fn param(&self, path: &str) -> Option<&Value> {
        let full = format!("{}.{path}", self.env.task);
        self.env.params.find_node(&full).ok()
    }
}

type Method = fn(&Call) -> Result<Value, MethodError>;

/// Methods of parameter objects: (class, method, function).
const OBJECT_METHODS: &[(&str, &str, Method)] = &[
    ("CAsuContentSeq", "molecularWeight", weight::seq),
    ("CAsuContentSeqList", "molecularWeight", weight::list),
    ("CPdbDataFile", "atomCount", atoms::atom_count),
];

/// MTZ file classes whose `fileContent` is upstream's `CMtzData`.
const MTZ_FILES: &[&str] = &[
    "CMtzDataFile",
    "CObsDataFile",
    "CPhsDataFile",
    "CMapCoeffsDataFile",
    "CFreeRDataFile",
];

/// Methods of a file parameter's content (`<file>.fileContent`): (file classes, method, function).
const CONTENT_METHODS: &[(&[&str], &str, Method)] =
    &[(MTZ_FILES, "matthewsCoeff", matthews::coeff)];

/// Tasks whose plugin is upstream's crank2 class or a subclass of it.
const CRANK2: &[&str] = &[
    "crank2",
    "shelx",
    "crank2_comb_phdmmb",
    "crank2_mbref",
    "crank2_handdet",
    "crank2_substrdet",
    "crank2_phas",
    "crank2_faest",
    "crank2_ref",
    "crank2_dmfull",
    "crank2_refatompick",
    "crank2_phdmmb",
];

/// Methods of task plugins: (tasks, method, function).
const PLUGIN_METHODS: &[(&[&str], &str, Method)] = &[
    (
        CRANK2,
        "compute_anomalous_scattering",
        substructure::anomalous_scattering,
    ),
    (CRANK2, "estimate_num_substructure", substructure::estimate),
    (&["ProvideTLS"], "import_tls_from_text", tls::from_text),
    (&["ProvideTLS"], "import_tls_from_file", tls::from_file),
    (&["ProvideTLS"], "suggest_tls_groups", tls::suggest),
    (&["ProvideSequence"], "previewSequences", preview::preview),
];

/// What can be called, for the refusal message.
pub fn available() -> String {
    let mut names: Vec<String> = OBJECT_METHODS
        .iter()
        .map(|(c, m, _)| format!("{m} ({c})"))
        .collect();
    names.extend(
        CONTENT_METHODS
            .iter()
            .map(|(_, m, _)| format!("{m} (an MTZ file's fileContent)")),
    );
    names.extend(
        PLUGIN_METHODS
            .iter()
            .map(|(t, m, _)| format!("{m} ({} plugin)", t[0])),
    );
    names.join(", ")
}

/// `object_method/`: `object_path` names a parameter (`task.inputData.X`), a file's content
/// (`task.inputData.X.fileContent`) or, with no dot, the task's plugin.
pub fn object_method(
    env: &Env,
    object_path: &str,
    method: &str,
    args: &[Value],
    kwargs: &Value,
) -> Result<Value, MethodError> {
    let path = object_path.trim();
    if !path.contains('.') {
        return plugin_method(env, method, args, kwargs);
    }
    let (path, content) = match path.strip_suffix(".fileContent") {
        Some(p) => (p, true),
        None => (path, false),
    };
    let node = env.params.find_node(path).map_err(MethodError::Invalid)?;
    let class = node.get("_class").and_then(Value::as_str).unwrap_or("");
    let found = if content {
        CONTENT_METHODS
            .iter()
            .find(|(classes, m, _)| *m == method && classes.contains(&class))
            .map(|(_, _, f)| *f)
    } else {
        OBJECT_METHODS
            .iter()
            .find(|(c, m, _)| *m == method && *c == class)
            .map(|(_, _, f)| *f)
    };
    let Some(f) = found else {
        let what = if class.is_empty() {
            "this object"
        } else {
            class
        };
        let of = if content { " content" } else { "" };
        return Err(MethodError::Unsupported(format!(
            "Method '{method}' of {what}{of} is not available in i2server; available: {}",
            available()
        )));
    };
    f(&Call {
        node,
        args,
        kwargs,
        env,
    })
}

/// `plugin_method/`: a method of the job's task plugin.
pub fn plugin_method(
    env: &Env,
    method: &str,
    args: &[Value],
    kwargs: &Value,
) -> Result<Value, MethodError> {
    let found = PLUGIN_METHODS
        .iter()
        .find(|(tasks, m, _)| *m == method && tasks.contains(&env.task));
    let Some((_, _, f)) = found else {
        return Err(MethodError::Unsupported(format!(
            "Plugin '{}' has no method '{method}' available in i2server; available: {}",
            env.task,
            available()
        )));
    };
    f(&Call {
        node: &Value::Null,
        args,
        kwargs,
        env,
    })
}

/// The on-disk path of the file parameter at `path` (below the task), when set and present.
fn file_of(call: &Call, path: &str) -> Option<PathBuf> {
    let node = call.param(path)?;
    (call.env.file_path)(node)
}

/// A CCP4 error as upstream's `<errorReportList>` (one report; indented by one space per
/// level as `ET.indent(…, " ")` writes it).
fn report(class: &str, code: u32, description: &str) -> MethodError {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let d = esc(description);
    MethodError::Report(format!(
        "<errorReportList>\n <errorReport>\n  <className>{class}</className>\n  <code>{code}</code>\n  <description>{d}</description>\n  <severity>ERROR</severity>\n  <details>{d}</details>\n </errorReport>\n</errorReportList>"
    ))
}
