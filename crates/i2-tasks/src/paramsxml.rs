//! Writing parameter files: the `input_params.xml` of a freshly created job, laid out the way upstream
//! writes it (UTF-8 declaration, `ns0` root, two-space indentation, header fields in a fixed order).
//!
//! Which parameters a fresh job's file holds (observed on the reference server over 171 tasks):
//! - `inputData` (and any container of that name deeper down): every parameter, with its current value (files with all their parts, lists with their
//!   items, each item element named after its class);
//! - `guiAdmin`: only `jobStatus`;
//! - every other container: only parameters set explicitly; for a fresh job that is the lists which
//!   start with items (`listMinLength`). Containers themselves are always written, empty or not.

use serde_json::Value;

use crate::defxml::TaskDef;

/// Namespace of the root element.
pub const CCP4_NS: &str = "http://www.ccp4.ac.uk/ccp4ns";

/// Header facts of a parameter file; the caller supplies what only the server knows.
#[derive(Debug, Clone, Default)]
pub struct HeaderInfo {
    /// `pluginName`: the registry name of the task.
    pub task_name: String,
    /// `userId` (upstream: `$USER`, else `unknown`).
    pub user: String,
    /// `hostName`.
    pub host: String,
    /// `creationTime`, already formatted as `%H:%M %d/%b/%y` (see [`format_creation_time`]).
    pub creation_time: String,
    /// `ccp4iVersion` (see [`crate::classes::package_version`]).
    pub ccp4i_version: String,
    /// `projectName`.
    pub project_name: String,
    /// `projectId`: the project UUID in hyphenated form.
    pub project_id: String,
    /// `jobNumber` (`"12"`, `"12.3"`).
    pub job_number: String,
    /// `jobId`: the job UUID in hyphenated form.
    pub job_id: String,
}

/// `OS` as Python's `platform.system()` names the running system.
pub fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "Darwin",
        "windows" => "Windows",
        "freebsd" => "FreeBSD",
        other => other,
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `%H:%M %d/%b/%y` of a Unix time (seconds) already shifted to local time by the caller.
pub fn format_creation_time(local_unix_secs: i64) -> String {
    let days = local_unix_secs.div_euclid(86_400);
    let secs = local_unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let month = MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .copied()
        .unwrap_or("Jan");
    format!(
        "{:02}:{:02} {:02}/{}/{:02}",
        secs / 3600,
        (secs % 3600) / 60,
        d,
        month,
        y.rem_euclid(100)
    )
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
pub fn py_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{f}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// A node to write: tag, text, children.
struct Node {
    tag: String,
    text: Option<String>,
    children: Vec<Node>,
}

impl TaskDef {
    /// The `input_params.xml` upstream writes when a job of this task is created.
    pub fn input_params_xml(&self, header: &HeaderInfo) -> String {
        assemble(header, &self.fresh_body_xml(&header.task_name))
    }

    /// The `<ccp4i2_body>` of a fresh job's file: the same for every job of a task, so it is
    /// rendered once per task name and shared (only the header differs between jobs).
    fn fresh_body_xml(&self, task_name: &str) -> std::sync::Arc<str> {
        if let Ok(cache) = self.fresh_xml.lock()
            && let Some(b) = cache.get(task_name)
        {
            return b.clone();
        }
        let container = self.container_json_shared(task_name);
        let body: std::sync::Arc<str> = body_xml(
            &container,
            Selection {
                is_set: &|_| false,
                fresh: true,
            },
        )
        .into();
        if let Ok(mut cache) = self.fresh_xml.lock() {
            cache.insert(task_name.to_string(), body.clone());
        }
        body
    }
}

/// Which parameters a file holds.
#[derive(Clone, Copy)]
pub(crate) struct Selection<'a> {
    /// Whether a scalar (or a file, by its `baseName`) is explicitly set.
    pub is_set: &'a dyn Fn(&Value) -> bool,
    /// The file of a freshly created job: every `inputData` parameter with all its parts, list
    /// items whole, composites outside `inputData` left out.
    pub fresh: bool,
}

/// A parameter file for a container tree. Fresh jobs: `inputData` with everything, elsewhere only
/// lists with items. After a change: in every container the set parameters (composites with their
/// set parts, files when their `baseName` is set, lists with items). `guiAdmin.jobStatus` always.
pub(crate) fn write_params(header: &HeaderInfo, container: &Value, sel: Selection) -> String {
    assemble(header, &body_xml(container, sel))
}

/// The `<ccp4i2_body>` element of [`write_params`], indented one level.
fn body_xml(container: &Value, sel: Selection) -> String {
    let mut body = Vec::new();
    for (name, node) in children_of(container) {
        body.push(match name {
            "inputData" if sel.fresh => everything(name, node),
            "guiAdmin" => {
                let always = |n: &Value| {
                    (sel.is_set)(n)
                        || n.get("_objectPath")
                            .and_then(Value::as_str)
                            .is_some_and(|p| p.ends_with(".guiAdmin.jobStatus"))
                };
                explicit_only(
                    name,
                    node,
                    Selection {
                        is_set: &always,
                        fresh: sel.fresh,
                    },
                )
            }
            _ => explicit_only(name, node, sel),
        });
    }
    if !sel.fresh {
        // After a change upstream leaves out containers with nothing set.
        body.retain(|n| !n.children.is_empty());
    }
    render_body(body)
}

fn render_body(children: Vec<Node>) -> String {
    let body = Node {
        tag: "ccp4i2_body".into(),
        text: None,
        children,
    };
    let mut out = String::new();
    write_node(&body, 1, &mut out);
    out
}

/// A parameter file with every parameter of every container and its current value (what
/// upstream writes after `upload_file_param`, which saves the whole container).
pub(crate) fn write_all_params(header: &HeaderInfo, container: &Value) -> String {
    let body = children_of(container)
        .into_iter()
        .map(|(name, node)| everything(name, node))
        .collect();
    assemble(header, &render_body(body))
}

/// A whole parameter file: declaration, root, the header from `h`, then `body_xml`.
fn assemble(h: &HeaderInfo, body_xml: &str) -> String {
    let fields = [
        ("function", "PARAMS"),
        ("userId", h.user.as_str()),
        ("hostName", h.host.as_str()),
        ("creationTime", h.creation_time.as_str()),
        ("ccp4iVersion", h.ccp4i_version.as_str()),
        ("pluginName", h.task_name.as_str()),
        ("OS", os_name()),
        ("projectName", h.project_name.as_str()),
        ("projectId", h.project_id.as_str()),
        ("jobNumber", h.job_number.as_str()),
        ("jobId", h.job_id.as_str()),
    ];
    let header = Node {
        tag: "ccp4i2_header".into(),
        text: None,
        children: fields
            .iter()
            .map(|(k, v)| leaf(k, Some((*v).to_string())))
            .collect(),
    };
    let mut out = String::with_capacity(body_xml.len() + 1024);
    out.push_str("<?xml version='1.0' encoding='utf-8'?>\n");
    out.push_str(&format!(
        "<ns0:ccp4i2 xmlns:ns0=\"{CCP4_NS}\" xmlns:ccp4=\"{CCP4_NS}\">\n"
    ));
    write_node(&header, 1, &mut out);
    out.push_str(body_xml);
    out.push_str("</ns0:ccp4i2>\n");
    out
}

fn leaf(tag: &str, text: Option<String>) -> Node {
    Node {
        tag: tag.to_string(),
        text,
        children: Vec::new(),
    }
}

/// Named children of a composite node in `_CONTENTS_ORDER`.
pub(crate) fn children_of(node: &Value) -> Vec<(&str, &Value)> {
    let Some(values) = node.get("_value").and_then(Value::as_object) else {
        return Vec::new();
    };
    let order: Vec<&str> = node
        .get("_CONTENTS_ORDER")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| values.keys().map(String::as_str).collect());
    order
        .into_iter()
        .filter_map(|k| values.get_key_value(k).map(|(k, v)| (k.as_str(), v)))
        .collect()
}

fn is_container(node: &Value) -> bool {
    node.get("_class").and_then(Value::as_str) == Some("CContainer")
}

/// A node with all its parts and current values.
fn everything(name: &str, node: &Value) -> Node {
    match node.get("_value") {
        Some(Value::Object(_)) => Node {
            tag: name.to_string(),
            text: None,
            children: children_of(node)
                .into_iter()
                .map(|(k, v)| everything(k, v))
                .collect(),
        },
        Some(Value::Array(items)) => Node {
            tag: name.to_string(),
            text: None,
            children: items
                .iter()
                .map(|item| {
                    let tag = item.get("_class").and_then(Value::as_str).unwrap_or("item");
                    everything(tag, item)
                })
                .collect(),
        },
        Some(v) => leaf(name, scalar_text(node, v)),
        None => leaf(name, None),
    }
}

/// A container with only explicitly set parameters (for a fresh job: lists that start with items).
fn explicit_only(name: &str, node: &Value, sel: Selection) -> Node {
    let mut out = leaf(name, None);
    for (k, v) in children_of(node) {
        if is_container(v) && k == "inputData" && sel.fresh {
            // In a fresh job's file every container named inputData, however deep, has everything.
            out.children.push(everything(k, v));
        } else if is_container(v) {
            let c = explicit_only(k, v, sel);
            if sel.fresh || !c.children.is_empty() {
                out.children.push(c);
            }
        } else if let Some(n) = set_parts(k, v, sel) {
            out.children.push(n);
        }
    }
    out
}

/// A parameter as upstream writes it: lists with their items, set scalars with their value, files
/// (when set) and composites with their set parts; `None` when nothing of it is set.
fn set_parts(name: &str, node: &Value, sel: Selection) -> Option<Node> {
    match node.get("_value") {
        Some(Value::Array(a)) if sel.fresh => (!a.is_empty()).then(|| everything(name, node)),
        Some(Value::Array(items)) => (!items.is_empty()).then(|| Node {
            tag: name.to_string(),
            text: None,
            children: items
                .iter()
                .map(|item| {
                    let tag = item.get("_class").and_then(Value::as_str).unwrap_or("item");
                    set_parts(tag, item, sel).unwrap_or_else(|| leaf(tag, None))
                })
                .collect(),
        }),
        Some(Value::Object(_)) if sel.fresh => None,
        Some(Value::Object(_)) => {
            if is_file(node) && !(sel.is_set)(node) {
                return None;
            }
            let children: Vec<Node> = children_of(node)
                .into_iter()
                .filter_map(|(k, v)| set_parts(k, v, sel))
                .collect();
            (!children.is_empty()).then(|| Node {
                tag: name.to_string(),
                text: None,
                children,
            })
        }
        Some(v) if (sel.is_set)(node) => {
            let text = scalar_text(node, v);
            text.is_some().then(|| leaf(name, text))
        }
        _ => None,
    }
}

/// A data file node (it has `baseName` and `relPath` parts).
pub(crate) fn is_file(node: &Value) -> bool {
    node.get("_value")
        .and_then(Value::as_object)
        .is_some_and(|m| m.contains_key("baseName") && m.contains_key("relPath"))
}

/// Text of a scalar value as Python's `str()` prints it; empty text is no text.
fn scalar_text(node: &Value, v: &Value) -> Option<String> {
    let float = node.get("_baseClass").and_then(Value::as_str) == Some("CFloat");
    let s = match v {
        Value::Null => return None,
        Value::Bool(b) => if *b { "True" } else { "False" }.to_string(),
        Value::Number(n) if float => n.as_f64().map(py_float_repr)?,
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => py_float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    (!s.is_empty()).then_some(s)
}

/// ElementTree output after the classic two-space indent: a leaf on one line, children one level deeper.
fn write_node(n: &Node, level: usize, out: &mut String) {
    let pad = "  ".repeat(level);
    out.push_str(&pad);
    out.push('<');
    out.push_str(&n.tag);
    match (&n.text, n.children.is_empty()) {
        (None, true) => out.push_str(" />"),
        (Some(t), true) => {
            out.push('>');
            escape_text(t, out);
            out.push_str("</");
            out.push_str(&n.tag);
            out.push('>');
        }
        (text, false) => {
            out.push('>');
            match text.as_deref() {
                Some(t) if !t.trim().is_empty() => escape_text(t, out),
                _ => {}
            }
            out.push('\n');
            for c in &n.children {
                write_node(c, level + 1, out);
            }
            out.push_str(&pad);
            out.push_str("</");
            out.push_str(&n.tag);
            out.push('>');
        }
    }
    out.push('\n');
}

/// ElementTree's text escaping with a UTF-8 target: only `&`, `<` and `>`.
fn escape_text(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_repr_matches_python() {
        for (f, s) in [
            (0.0, "0.0"),
            (1.5418, "1.5418"),
            (1e-6, "1e-06"),
            (0.0001, "0.0001"),
            (5000.0, "5000.0"),
            (1e16, "1e+16"),
            (-2.5, "-2.5"),
            (123456789012345.0, "123456789012345.0"),
        ] {
            assert_eq!(py_float_repr(f), s);
        }
    }

    #[test]
    fn creation_time_format() {
        // 2026-11-27 15:02:00 UTC
        assert_eq!(format_creation_time(1_795_791_720), "15:02 27/Nov/26");
        assert_eq!(format_creation_time(0), "00:00 01/Jan/70");
        assert_eq!(format_creation_time(951_782_400), "00:00 29/Feb/00");
    }
}
