//! Parameter validation (`GET /jobs/{id}/validation/` and `run_time_validation/`): the generic
//! qualifier checks upstream's parameter classes make, over a job's [`JobParams`], and the
//! `<errorReportList>` document upstream answers with.
//!
//! Rules, as the reference server applies them (recordings in `tests/fixtures/validation/`):
//! - scalars (`CInt`, `CFloat`, `CString`, `CBoolean` and their subclasses): with
//!   `allowUndefined` false and no value (neither set nor defaulted), code 100 "Required value not
//!   set"; an optional unset scalar is not checked further; otherwise `min`/`max` (101/102),
//!   `minLength`/`maxLength` for strings (101/102) and, with `onlyEnumerators`, the enumerators
//!   (103). The class reported is the base class;
//! - files: `allowUndefined` false and no file, 101; `mustExist` and a file missing on disk, 102;
//!   `requiredContentFlag` not met (also through the conversions `CObsDataFile` allows), 104;
//!   a file's parts are not checked;
//! - lists: `listMinLength`/`listMaxLength` (101/102), then each item;
//! - other composites check their parts; when the composite is optional and nothing in it is
//!   explicitly set, its parts' errors become warnings. An optional cell with no edge or angle
//!   set is not checked at all; ASU sequences, rigid-body ranges and MR ensemble items have
//!   their own checks; SMILES strings get upstream's "RDKit not available" warning;
//! - findings under `.outputData.` are dropped (outputs are set when the job runs);
//! - a few tasks add their own rules (`task_rules`): the refinement pipelines' free-R warning,
//!   `phaser_simple`, `phaser_rnp_pipeline`, `mrbump_basic`, `aimless_pipe`, `shelx` and
//!   `dm_multidomain` (the parts that need no file read).
//!
//! Upstream's order of findings follows Python sets and changes between server processes;
//! here it is the container order.

use serde_json::Value;

use crate::jobparams::{JobParams, NodeKind, child, node_kind, path_of, py_repr, py_str};
use crate::paramsxml::{children_of, is_file, py_float_repr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        }
    }
}

/// One `<errorReport>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub class: String,
    pub code: u32,
    pub description: String,
    pub severity: Severity,
    /// `<objectPath>`, omitted when empty.
    pub object_path: String,
}

/// Where files are: the full path of a file parameter (`None` when no file is set), whether
/// a path exists, and the monomer library directory (`$CLIBD_MON`) for the run-time checks.
pub struct FileContext<'a> {
    pub full_path: &'a dyn Fn(&Value) -> Option<String>,
    pub exists: &'a dyn Fn(&str) -> bool,
    pub monomer_dir: Option<&'a std::path::Path>,
}

impl JobParams {
    /// The findings of upstream's `validity()` for this job.
    pub fn validity(&self, files: &FileContext) -> Vec<Finding> {
        let walker = Walker {
            params: self,
            files,
        };
        let mut out = Vec::new();
        for (_, c) in children_of(self.container_json()) {
            out.extend(walker.node(c));
        }
        out.retain(|f| !f.object_path.contains(".outputData."));
        task_rules(self, out)
    }

    /// `runTimeValidity()`: [`JobParams::validity`] plus the pre-flight checks that read the
    /// job's files (unit cells of `sameCrystalAs` partners, monomer dictionary coverage; see
    /// [`crate::runtime`]).
    pub fn run_time_validity(&self, files: &FileContext) -> Vec<Finding> {
        crate::runtime::run_time_findings(self, files, self.validity(files))
    }

    /// Is the scalar at `node` set (explicitly or by a default)?
    fn scalar_is_set(&self, node: &Value) -> bool {
        let p = path_of(node);
        if node.get("_value").is_none_or(Value::is_null) {
            return false;
        }
        self.set.contains(p)
            || self.defaulted.contains(p)
            || node
                .get("_qualifiers")
                .and_then(|q| q.get("default"))
                .is_some_and(|d| !d.is_null())
    }

    /// Is anything below `node` explicitly set (upstream's `isSet(allowDefault=False)`)?
    fn explicitly_set(&self, node: &Value) -> bool {
        if is_file(node) {
            return file_is_set(node);
        }
        match node_kind(node) {
            NodeKind::Scalar(_) => {
                self.set.contains(path_of(node)) && !node.get("_value").is_none_or(Value::is_null)
            }
            NodeKind::List => node
                .get("_value")
                .and_then(Value::as_array)
                .is_some_and(|items| items.iter().any(|i| self.explicitly_set(i))),
            _ => children_of(node)
                .into_iter()
                .any(|(_, c)| self.explicitly_set(c)),
        }
    }
}

fn text_of<'a>(node: &'a Value, part: &str) -> &'a str {
    child(node, part)
        .and_then(|c| c.get("_value"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A file parameter is set when its `baseName` or `dbFileId` is.
fn file_is_set(node: &Value) -> bool {
    !text_of(node, "baseName").trim().is_empty() || !text_of(node, "dbFileId").trim().is_empty()
}

fn class_of(node: &Value) -> &str {
    node.get("_class").and_then(Value::as_str).unwrap_or("")
}

fn qualifier<'a>(node: &'a Value, q: &str) -> Option<&'a Value> {
    node.get("_qualifiers")
        .and_then(|m| m.get(q))
        .filter(|v| !v.is_null())
}

/// `allowUndefined` false (explicitly): the value is required.
fn required(node: &Value) -> bool {
    qualifier(node, "allowUndefined").is_some_and(|v| v == &Value::Bool(false))
}

/// The last segment of an object path (upstream's `objectName()`).
fn object_name(node: &Value) -> String {
    path_of(node).rsplit('.').next().unwrap_or("").to_string()
}

/// Python's `str()` of a number held in JSON (ints as ints, floats with their repr).
fn py_num(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => n.as_f64().map(py_float_repr).unwrap_or_default(),
        other => py_str(other),
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

struct Walker<'a> {
    params: &'a JobParams,
    files: &'a FileContext<'a>,
}

impl Walker<'_> {
    fn node(&self, node: &Value) -> Vec<Finding> {
        if is_file(node) {
            return self.file(node);
        }
        match node_kind(node) {
            NodeKind::Scalar(_) => self.scalar(node),
            NodeKind::List => self.list(node),
            NodeKind::Container => self.parts(node),
            NodeKind::Composite => self.composite(node),
        }
    }

    fn parts(&self, node: &Value) -> Vec<Finding> {
        children_of(node)
            .into_iter()
            .flat_map(|(_, c)| self.node(c))
            .collect()
    }

    fn composite(&self, node: &Value) -> Vec<Finding> {
        let optional = !required(node);
        match class_of(node) {
            "CCell" => {
                let any = ["a", "b", "c", "alpha", "beta", "gamma"]
                    .iter()
                    .any(|p| child(node, p).is_some_and(|c| self.params.scalar_is_set(c)));
                if optional && !any {
                    return Vec::new();
                }
            }
            "CAsuContentSeq" => return self.asu_sequence(node),
            "CAtomRefmacSelection" => return self.rigid_range(node),
            "CPdbEnsembleItem" => return self.ensemble_item(node),
            _ => {}
        }
        let mut out = self.parts(node);
        if optional && !self.params.explicitly_set(node) {
            for f in &mut out {
                f.severity = Severity::Warning;
            }
        }
        out
    }

    fn list(&self, node: &Value) -> Vec<Finding> {
        let items: &[Value] = node
            .get("_value")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let n = items.len();
        let mut out = Vec::new();
        let bound = |q: &str| qualifier(node, q).and_then(as_number);
        if let Some(min) = bound("listMinLength")
            && (n as f64) < min
        {
            out.push(Finding {
                class: class_of(node).into(),
                code: 101,
                description: format!(
                    "List must have at least {} item(s), has {n}",
                    py_num(qualifier(node, "listMinLength").unwrap_or(&Value::Null))
                ),
                severity: Severity::Error,
                object_path: path_of(node).into(),
            });
        }
        if let Some(max) = bound("listMaxLength")
            && (n as f64) > max
        {
            out.push(Finding {
                class: class_of(node).into(),
                code: 102,
                description: format!(
                    "List must have at most {} item(s), has {n}",
                    py_num(qualifier(node, "listMaxLength").unwrap_or(&Value::Null))
                ),
                severity: Severity::Error,
                object_path: path_of(node).into(),
            });
        }
        for item in items {
            out.extend(self.node(item));
        }
        out
    }

    fn scalar(&self, node: &Value) -> Vec<Finding> {
        let base = node
            .get("_baseClass")
            .and_then(Value::as_str)
            .unwrap_or("CString");
        let base = match base {
            "CInt" | "CFloat" | "CBoolean" => base,
            _ => "CString",
        };
        let class = class_of(node);
        if class == "CRangeSelection" {
            // Upstream's CRangeSelection.validity takes an argument; called without one it
            // fails and its parent ignores the failure: nothing is reported.
            return Vec::new();
        }
        let is_set = self.params.scalar_is_set(node);
        let finding = |code: u32, description: String, object_path: String| Finding {
            class: base.into(),
            code,
            description,
            severity: Severity::Error,
            object_path,
        };
        if required(node) && !is_set {
            let p = path_of(node).to_string();
            return vec![finding(100, format!("Required value not set: {p}"), p)];
        }
        if base == "CBoolean" || !is_set {
            return Vec::new();
        }
        let value = node.get("_value").unwrap_or(&Value::Null);
        let mut out = Vec::new();
        let name = object_name(node);
        if base == "CString" {
            let s = py_str(value);
            let len = s.chars().count();
            if let Some(min) = qualifier(node, "minLength")
                && as_number(min).is_some_and(|m| (len as f64) < m)
            {
                out.push(finding(
                    101,
                    format!("String length {len} below minimum {}", py_num(min)),
                    name.clone(),
                ));
            }
            if let Some(max) = qualifier(node, "maxLength")
                && as_number(max).is_some_and(|m| (len as f64) > m)
            {
                out.push(finding(
                    102,
                    format!("String length {len} above maximum {}", py_num(max)),
                    name.clone(),
                ));
            }
            if let Some(en) = self.limited_enumerators(node)
                && !en.iter().any(|e| e.as_str() == Some(s.as_str()))
            {
                out.push(finding(
                    103,
                    format!(
                        "Value {} not in allowed values {}",
                        py_repr(value),
                        py_repr(&Value::Array(en.to_vec()))
                    ),
                    name.clone(),
                ));
            }
            if class == "CSMILESString" && out.is_empty() && !s.is_empty() {
                out.push(Finding {
                    class: "CSMILESString".into(),
                    code: 202,
                    description:
                        "RDKit not available - SMILES validation limited to character pattern only"
                            .into(),
                    severity: Severity::Warning,
                    object_path: path_of(node).into(),
                });
            }
            return out;
        }
        let Some(x) = as_number(value) else {
            return out;
        };
        let shown = py_num(value);
        if let Some(min) = qualifier(node, "min")
            && as_number(min).is_some_and(|m| x < m)
        {
            out.push(finding(
                101,
                format!("Value {shown} is below minimum {}", py_num(min)),
                name.clone(),
            ));
        }
        if let Some(max) = qualifier(node, "max")
            && as_number(max).is_some_and(|m| x > m)
        {
            out.push(finding(
                102,
                format!("Value {shown} is above maximum {}", py_num(max)),
                name.clone(),
            ));
        }
        if let Some(en) = self.limited_enumerators(node) {
            let allowed = en.iter().any(|e| {
                let n = match e {
                    Value::String(s) => s.trim().parse::<f64>().ok(),
                    other => as_number(other),
                };
                n == Some(x)
            });
            if !allowed {
                out.push(finding(
                    103,
                    format!(
                        "Value {shown} not in allowed values {}",
                        py_repr(&Value::Array(en.to_vec()))
                    ),
                    name,
                ));
            }
        }
        out
    }

    /// The enumerators when `onlyEnumerators` is on and there are some.
    fn limited_enumerators<'n>(&self, node: &'n Value) -> Option<&'n [Value]> {
        let only = qualifier(node, "onlyEnumerators").is_some_and(|v| match v {
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty() && s != "False" && s != "false",
            Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => false,
        });
        let en = qualifier(node, "enumerators")?.as_array()?;
        (only && !en.is_empty()).then_some(en.as_slice())
    }

    fn file(&self, node: &Value) -> Vec<Finding> {
        let class = class_of(node).to_string();
        let p = path_of(node).to_string();
        let full = (self.files.full_path)(node).filter(|s| !s.trim().is_empty());
        let mut out = Vec::new();
        let finding = |code: u32, description: String| Finding {
            class: class.clone(),
            code,
            description,
            severity: Severity::Error,
            object_path: p.clone(),
        };
        if required(node) && full.is_none() {
            out.push(finding(101, format!("Required input file not set: {p}")));
        }
        let must_exist = qualifier(node, "mustExist").is_some_and(|v| v == &Value::Bool(true));
        if let Some(f) = &full {
            if must_exist && !(self.files.exists)(f) {
                out.push(finding(102, format!("File does not exist: {f}")));
            }
            if let Some(req) = qualifier(node, "requiredContentFlag") {
                let req: Vec<i64> = match req {
                    Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
                    other => other.as_i64().into_iter().collect(),
                };
                let actual = child(node, "contentFlag")
                    .filter(|c| self.params.set.contains(path_of(c)))
                    .and_then(|c| c.get("_value"))
                    .and_then(Value::as_i64);
                if let Some(actual) = actual
                    && !req.is_empty()
                    && !req.contains(&actual)
                    && !(class == "CObsDataFile"
                        && req.iter().any(|r| obs_converts(actual).contains(r)))
                {
                    let label = |f: i64| match f {
                        1 => "IPAIR (I+/I-)".to_string(),
                        2 => "FPAIR (F+/F-)".to_string(),
                        3 => "IMEAN".to_string(),
                        4 => "FMEAN".to_string(),
                        other => other.to_string(),
                    };
                    let wanted: Vec<String> = req.iter().map(|f| label(*f)).collect();
                    out.push(finding(
                        104,
                        format!(
                            "File content type mismatch for {p}: got {}, requires one of: {}",
                            label(actual),
                            wanted.join(", ")
                        ),
                    ));
                }
            }
        }
        out
    }

    fn asu_sequence(&self, node: &Value) -> Vec<Finding> {
        let base = path_of(node).to_string();
        let class = class_of(node).to_string();
        let finding = |code: u32, description: String, field: &str| Finding {
            class: class.clone(),
            code,
            description,
            severity: Severity::Error,
            object_path: format!("{base}.{field}"),
        };
        let mut out = Vec::new();
        let copies = child(node, "nCopies")
            .filter(|c| self.params.scalar_is_set(c))
            .and_then(|c| c.get("_value"))
            .and_then(as_number)
            .unwrap_or(0.0);
        if copies < 1.0 {
            out.push(finding(101, "nCopies must be >= 1".into(), "nCopies"));
        }
        let polymer = text_of(node, "polymerType").trim().to_uppercase();
        if !["PROTEIN", "DNA", "RNA"].contains(&polymer.as_str()) {
            out.push(finding(
                102,
                format!(
                    "Invalid or missing polymer type (must be PROTEIN, DNA, or RNA, got \"{polymer}\")"
                ),
                "polymerType",
            ));
        }
        if text_of(node, "name").trim().is_empty() {
            out.push(finding(103, "Name is required".into(), "name"));
        }
        out
    }

    fn rigid_range(&self, node: &Value) -> Vec<Finding> {
        let base = path_of(node).to_string();
        [
            ("groupId", "Group ID"),
            ("chainId", "Chain"),
            ("firstRes", "From residue"),
            ("lastRes", "To residue"),
        ]
        .iter()
        .filter(|(f, _)| !child(node, f).is_some_and(|c| self.params.scalar_is_set(c)))
        .map(|(f, label)| Finding {
            class: class_of(node).into(),
            code: 2,
            description: format!("{label} is not defined"),
            severity: Severity::Error,
            object_path: format!("{base}.{f}"),
        })
        .collect()
    }

    fn ensemble_item(&self, node: &Value) -> Vec<Finding> {
        let mut out = child(node, "structure")
            .map(|s| self.node(s))
            .unwrap_or_default();
        let metric = |f: &str| {
            child(node, f)
                .and_then(|c| c.get("_value"))
                .and_then(as_number)
                .unwrap_or(0.0)
        };
        if metric("identity_to_target") == 0.0 && metric("rms_to_target") == 0.0 {
            out.push(Finding {
                class: class_of(node).into(),
                code: 100,
                description: "Ensemble item requires either Identity or RMS to be set (non-zero)"
                    .into(),
                severity: Severity::Error,
                object_path: path_of(node).into(),
            });
        }
        out
    }
}

/// Content flags an observed-data file converts to (IPAIR to anything, FPAIR and IMEAN to FMEAN).
fn obs_converts(flag: i64) -> &'static [i64] {
    match flag {
        1 => &[1, 2, 3, 4],
        2 => &[2, 4],
        3 => &[3, 4],
        4 => &[4],
        _ => &[],
    }
}

/// The rules some tasks add to the generic checks (their plugin's own `validity()`).
fn task_rules(params: &JobParams, mut out: Vec<Finding>) -> Vec<Finding> {
    let task = params.task_name().to_string();
    let tree = params.container_json();
    let input = |name: &str| child(tree, "inputData").and_then(|i| child(i, name));
    let control = |name: &str| child(tree, "controlParameters").and_then(|i| child(i, name));
    let set_text = |node: Option<&Value>| -> String {
        node.filter(|n| params.scalar_is_set(n))
            .map(|n| py_str(n.get("_value").unwrap_or(&Value::Null)))
            .unwrap_or_default()
    };
    match task.as_str() {
        "prosmart_refmac" | "servalcat_pipe" | "molrep_pipe" => {
            // The pipeline fills its metal-coordination step's model from its own.
            out.retain(|f| {
                !(f.code == 101
                    && f.object_path
                        .ends_with(".metalCoordWrapper.inputData.XYZIN"))
            });
            if !input("FREERFLAG").is_some_and(file_is_set) {
                out.push(Finding {
                    class: task.clone(),
                    code: 200,
                    description: "Free R flag is strongly recommended for refinement".into(),
                    severity: Severity::Warning,
                    object_path: format!("{task}.container.inputData.FREERFLAG"),
                });
            }
        }
        "mrbump_basic" | "phaser_rnp_pipeline" => {
            // ENSEMBLES is unused (mrbump) or built when the job runs.
            out.retain(|f| !(f.code == 101 && f.object_path.contains("ENSEMBLES")));
        }
        "shelx" => {
            if input("ATOM_TYPE").is_some() && set_text(input("ATOM_TYPE")).trim().is_empty() {
                out.push(Finding {
                    class: task.clone(),
                    code: 200,
                    description: "Heavy atom element type is required".into(),
                    severity: Severity::Error,
                    object_path: format!("{task}.container.inputData.ATOM_TYPE"),
                });
            }
            if input("SEQIN").is_some_and(|n| !file_is_set(n)) {
                out.push(Finding {
                    class: task.clone(),
                    code: 201,
                    description: "Providing sequence information is strongly recommended".into(),
                    severity: Severity::Warning,
                    object_path: format!("{task}.container.inputData.SEQIN"),
                });
            }
        }
        "dm_multidomain" => {
            let source = set_text(control("PHASE_SOURCE"));
            let source = if source.is_empty() {
                "input".to_string()
            } else {
                source
            };
            if source == "input" && !input("ABCD").is_some_and(file_is_set) {
                out.push(Finding {
                    class: task.clone(),
                    code: 201,
                    description: "Starting phases (ABCD) are required unless phases are \
                                  calculated from the model"
                        .into(),
                    severity: Severity::Error,
                    object_path: format!("{task}.container.inputData.ABCD"),
                });
            }
        }
        "phaser_simple" => {
            // ENSEMBLES is filled when the job runs.
            out.retain(|f| !(f.code == 101 && f.object_path.contains("ENSEMBLES")));
            if set_text(input("COMP_BY")) == "ASU" && !input("ASUFILE").is_some_and(file_is_set) {
                out.push(Finding {
                    class: "phaser_simple".into(),
                    code: 200,
                    description:
                        "ASU content file is required when specifying scattering content by ASU file"
                            .into(),
                    severity: Severity::Error,
                    object_path: "phaser_simple.container.inputData.ASUFILE".into(),
                });
            }
        }
        "aimless_pipe" => {
            // The cell is read from the unmerged files when the job runs.
            out.retain(|f| !f.object_path.contains("controlParameters.CELL."));
            if set_text(control("MODE")) == "MATCH"
                && set_text(control("REFERENCE_DATASET")) == "HKL"
                && !input("HKLIN_REF").is_some_and(file_is_set)
            {
                out.push(Finding {
                    class: "CObsDataFile".into(),
                    code: 200,
                    description: "Reference reflection file must be set when mode is \"Match to \
                                  reference\" and reference data type is \"Reflection list\""
                        .into(),
                    severity: Severity::Error,
                    object_path: "aimless_pipe.container.inputData.HKLIN_REF".into(),
                });
            }
        }
        _ => {}
    }
    out
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The `<errorReportList>` document (indented by one space per level, as upstream's
/// `ET.indent(…, " ")` writes it).
pub fn report_xml(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "<errorReportList />".into();
    }
    let mut s = String::from("<errorReportList>\n");
    for f in findings {
        s.push_str(" <errorReport>\n");
        let mut field = |tag: &str, text: &str| {
            if text.is_empty() {
                s.push_str(&format!("  <{tag} />\n"));
            } else {
                s.push_str(&format!("  <{tag}>{}</{tag}>\n", escape_text(text)));
            }
        };
        field("className", &f.class);
        field("code", &f.code.to_string());
        field("description", &f.description);
        field("severity", f.severity.label());
        if !f.object_path.is_empty() {
            field("objectPath", &f.object_path);
        }
        s.push_str(" </errorReport>\n");
    }
    s.push_str("</errorReportList>");
    s
}
