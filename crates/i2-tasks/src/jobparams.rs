//! A job's parameters as the `set_parameter` / `get_parameter` endpoints see them: the container
//! tree of the task with the values of the job's `input_params.xml`, and which parameters are
//! explicitly set (only those are written back outside `inputData`).
//!
//! A handler keeps no state between requests: it reads `input_params.xml`, calls
//! [`JobParams::load`], then [`JobParams::set_parameter`] (which also returns the new file text, to
//! be written back atomically) or [`JobParams::get_parameter`].
//!
//! Behaviour follows the reference server as observed (recordings in `tests/fixtures/parameters/`):
//! - paths: a second segment `container` is dropped; `set` then skips the first segment whatever it
//!   is, looks each segment up among the children and, failing that, anywhere below (depth first);
//!   `get` skips the first segment only when it is the task name and looks up direct children only;
//!   `name[i]` indexes a list;
//! - values are converted as Python's `int()`, `float()`, `str()` and a truthiness test would
//!   (`2.7` becomes 2, `"maybe"` becomes false); enumerators are not enforced; `min`/`max` are;
//! - a float or boolean parameter without a def.xml default that is assigned the value it already
//!   has stays unset (so it is not written); an empty string counts as unset.

use std::collections::HashSet;

use serde_json::{Map, Number, Value, json};

use crate::classes::Kind;
use crate::container::retarget;
use crate::defxml::{ContainerDef, Item, TaskDef, py_float};
use crate::params::ParamsFile;
use crate::paramsxml::{HeaderInfo, Selection, children_of, is_file, py_float_repr, write_params};
use crate::xml::{Element, parse_str};

/// The parameters of one job.
#[derive(Debug, Clone)]
pub struct JobParams {
    task_name: String,
    /// Header fields of the file the parameters were loaded from.
    header: Vec<(String, String)>,
    /// Container JSON with the job's values.
    tree: Value,
    /// Object paths of explicitly set parameters.
    pub(crate) set: HashSet<String>,
    /// Object paths of parameters whose def.xml gives a default.
    pub(crate) defaulted: HashSet<String>,
    /// The definition's classes: a list's new scalar items carry their class's own
    /// qualifiers (upstream builds them from the class alone, not from the list's item
    /// template).
    classes: crate::classes::Classes,
}

/// A successful `set_parameter`: the response `data` and the new `input_params.xml` text.
#[derive(Debug, Clone)]
pub struct SetOutcome {
    /// `{path, value, object_type, updated_item}`; the response body is `{success: true, data}`.
    pub data: Value,
    /// The job's `input_params.xml` after the change.
    pub xml: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamErrorKind {
    /// The path does not lead to a parameter.
    NotFound,
    /// The value was refused (conversion or range).
    Invalid,
    /// A change this implementation does not make natively (file parameters set from a path).
    Unsupported,
}

/// A refused request, with the body upstream answers.
#[derive(Debug, Clone)]
pub struct ParamError {
    pub kind: ParamErrorKind,
    /// HTTP status upstream answers with (400 for all recorded cases).
    pub status: u16,
    pub error: String,
    pub details: Map<String, Value>,
}

impl ParamError {
    /// `{success: false, error, details}`.
    pub fn body(&self) -> Value {
        json!({"success": false, "error": self.error, "details": self.details})
    }
}

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for ParamError {}

/// Why a value was refused: Python's exception type name and message.
struct Refusal {
    error_type: &'static str,
    message: String,
}

impl Refusal {
    fn value(message: String) -> Refusal {
        Refusal {
            error_type: "ValueError",
            message,
        }
    }
    fn type_error(message: String) -> Refusal {
        Refusal {
            error_type: "TypeError",
            message,
        }
    }
}

impl TaskDef {
    /// Container JSON of a job whose parameter file is `params` (values applied as upstream loads
    /// them).
    pub fn container_json_with_values(&self, task_name: &str, params: &ParamsFile) -> Value {
        let mut jp = JobParams::fresh(self, task_name);
        jp.header = params.header.clone();
        jp.import_body(&params.body);
        jp.tree
    }
}

impl JobParams {
    /// Parameters of a fresh job of `task_name` (no file read).
    pub fn fresh(def: &TaskDef, task_name: &str) -> JobParams {
        let tree = def.container_json(task_name);
        let mut defaulted = HashSet::new();
        collect_defaults(&def.root, &format!("{task_name}.container"), &mut defaulted);
        JobParams {
            task_name: task_name.to_string(),
            header: Vec::new(),
            tree,
            set: HashSet::new(),
            defaulted,
            classes: def.classes.clone(),
        }
    }

    /// Loads a job's `input_params.xml` text. The task name is the file's `pluginName` (else the
    /// definition's name).
    pub fn load(def: &TaskDef, input_params_xml: &str) -> Result<JobParams, String> {
        let root = parse_str(input_params_xml)?;
        let file = ParamsFile::from_root(root)?;
        let task = file
            .header("pluginName")
            .filter(|s| !s.is_empty())
            .unwrap_or(&def.name)
            .to_string();
        let mut jp = JobParams::fresh(def, &task);
        jp.header = file.header.clone();
        jp.import_body(&file.body);
        Ok(jp)
    }

    pub fn task_name(&self) -> &str {
        &self.task_name
    }

    /// The container JSON with the job's values (`GET /jobs/{id}/container/` `data.result`).
    pub fn container_json(&self) -> &Value {
        &self.tree
    }

    /// Header of the loaded file as [`HeaderInfo`] (the caller may refresh `creation_time` etc.
    /// before writing: upstream writes a new header on every save).
    pub fn header_info(&self) -> HeaderInfo {
        let h = |k: &str| {
            self.header
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        HeaderInfo {
            task_name: if h("pluginName").is_empty() {
                self.task_name.clone()
            } else {
                h("pluginName")
            },
            user: h("userId"),
            host: h("hostName"),
            creation_time: h("creationTime"),
            ccp4i_version: h("ccp4iVersion"),
            project_name: h("projectName"),
            project_id: h("projectId"),
            job_number: h("jobNumber"),
            job_id: h("jobId"),
        }
    }

    /// The parameter file upstream writes for these parameters.
    pub fn to_xml(&self, header: &HeaderInfo) -> String {
        self.write(header, false)
    }

    /// The parameter file upstream writes when it creates a job: every `inputData` parameter
    /// (with the values given so far), elsewhere only what is set.
    pub fn to_fresh_xml(&self, header: &HeaderInfo) -> String {
        self.write(header, true)
    }

    fn write(&self, header: &HeaderInfo, fresh: bool) -> String {
        let is_set = |n: &Value| {
            if is_file(n) {
                // A file counts as set when its baseName is.
                return child(n, "baseName").is_some_and(|b| {
                    self.set.contains(path_of(b))
                        && b.get("_value")
                            .and_then(Value::as_str)
                            .is_some_and(|s| !s.trim().is_empty())
                });
            }
            self.set.contains(path_of(n)) && n.get("_value").and_then(Value::as_str) != Some("")
        };
        write_params(
            header,
            &self.tree,
            Selection {
                is_set: &is_set,
                fresh,
            },
        )
    }

    /// After an upload upstream's file parameter holds only the seven parts of a plain data file
    /// (`selection` of a model, `header` and `selection` of an ASU file are gone): drop the rest.
    pub fn keep_plain_file_parts(&mut self, object_path: &str) -> Result<(), String> {
        const PLAIN: [&str; 7] = [
            "annotation",
            "baseName",
            "contentFlag",
            "dbFileId",
            "project",
            "relPath",
            "subType",
        ];
        let normalized = normalize(object_path);
        let search = search_segments(&normalized);
        let route = find_route(&self.tree, &search, &normalized)?;
        let Some(node) = node_at_mut(&mut self.tree, &route) else {
            return Err(format!("Element not found in path '{normalized}'"));
        };
        if let Some(parts) = node.get_mut("_value").and_then(Value::as_object_mut) {
            parts.retain(|k, _| PLAIN.contains(&k.as_str()));
        }
        if let Some(order) = node
            .get_mut("_CONTENTS_ORDER")
            .and_then(Value::as_array_mut)
        {
            order.retain(|k| k.as_str().is_some_and(|k| PLAIN.contains(&k)));
        }
        Ok(())
    }

    /// Names the job's output files as upstream does when it clones a job: each file parameter
    /// directly under `outputData` gets the absolute path
    /// `<job_dir>/<job number>_<project>_<name in lower case>_<task>.<first file extension>`
    /// as its `baseName` (`relPath` stays empty). Returns how many were named.
    pub fn name_outputs(&mut self, job_dir: &str, job_number: &str, project_name: &str) -> usize {
        let task = self.task_name.clone();
        let Some(outputs) = child(&self.tree, "outputData") else {
            return 0;
        };
        let named: Vec<(String, String)> = children_of(outputs)
            .into_iter()
            .filter(|(_, node)| is_file(node))
            .filter_map(|(name, node)| {
                // A model file flagged as mmCIF (contentFlag 2) is named `.cif`; otherwise the
                // class's first extension.
                let mmcif = node.get("_class").and_then(Value::as_str) == Some("CPdbDataFile")
                    && child(node, "contentFlag")
                        .and_then(|f| f.get("_value"))
                        .and_then(Value::as_i64)
                        == Some(2);
                let ext = if mmcif {
                    "cif"
                } else {
                    node.get("_qualifiers")
                        .and_then(|q| q.get("fileExtensions"))
                        .and_then(Value::as_array)
                        .and_then(|a| a.first())
                        .and_then(Value::as_str)?
                };
                let file = format!(
                    "{job_number}_{project_name}_{}_{task}.{ext}",
                    name.to_lowercase()
                );
                let full = std::path::Path::new(job_dir).join(file);
                Some((
                    path_of(node).to_string(),
                    full.to_string_lossy().into_owned(),
                ))
            })
            .collect();
        let mut count = 0;
        for (path, full) in named {
            let mut parts = Map::new();
            parts.insert("baseName".into(), Value::String(full));
            if self.set_parts(&path, &parts).is_ok() {
                count += 1;
            }
        }
        count
    }

    /// The parameter file with every parameter and its current value, as upstream writes it
    /// after a file upload (it saves the whole container, defaults included).
    pub fn to_full_xml(&self, header: &HeaderInfo) -> String {
        crate::paramsxml::write_all_params(header, &self.tree)
    }

    fn job_id(&self) -> String {
        self.header
            .iter()
            .find(|(k, _)| k == "jobId")
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The container node an object path names (`task.inputData.X`, `task.container.inputData.X`,
    /// `inputData.X`), searched as upstream's `find_by_path(…, skip_first=True)`: each segment a
    /// child or, failing that, the first descendant of that name. The error is upstream's text.
    pub fn find_node(&self, object_path: &str) -> Result<&Value, String> {
        let normalized = normalize(object_path);
        let search = search_segments(&normalized);
        if let Some(empty) = search.iter().find(|s| s.is_empty()) {
            return Err(format!(
                "Element '{empty}' not found in path '{normalized}' (searching from {})",
                path_of(&self.tree)
            ));
        }
        let route = find_route(&self.tree, &search, &normalized)?;
        let mut node = &self.tree;
        for s in &route {
            let next = match s {
                Step::Child(c) => child(node, c),
                Step::Index(i) => node
                    .get("_value")
                    .and_then(Value::as_array)
                    .and_then(|a| a.get(*i)),
            };
            node = next.ok_or_else(|| format!("Element not found in path '{normalized}'"))?;
        }
        Ok(node)
    }

    /// Appends a fresh item (a copy of the list's `_subItem`) to the list at `list_path` and
    /// returns the new item's object path.
    pub fn append_item(&mut self, list_path: &str) -> Result<String, String> {
        let normalized = normalize(list_path);
        let search = search_segments(&normalized);
        let route = find_route(&self.tree, &search, &normalized)?;
        let node = node_at_mut(&mut self.tree, &route)
            .ok_or_else(|| format!("Element not found in path '{normalized}'"))?;
        let list_path = path_of(node).to_string();
        let template = node
            .get("_subItem")
            .cloned()
            .ok_or_else(|| format!("'{normalized}' is not a list"))?;
        let Some(Value::Array(items)) = node.get_mut("_value") else {
            return Err(format!("'{normalized}' is not a list"));
        };
        let i = items.len();
        let item_path = format!("{list_path}[{i}]");
        items.push(retarget(&template, &format!("{list_path}[?]"), &item_path));
        let order: Vec<Value> = (0..=i).map(|k| Value::String(k.to_string())).collect();
        if let Some(m) = node.as_object_mut() {
            m.insert("_CONTENTS_ORDER".into(), Value::Array(order));
        }
        Ok(item_path)
    }

    /// For a path ending in `LIST[n]` where the list has exactly `n` items, appends the item
    /// (upstream's `upload_file_param` into the next free list position extends the list).
    /// Any other path is left alone.
    pub fn extend_list_to(&mut self, object_path: &str) -> Result<(), String> {
        let Some((list, rest)) = object_path.rsplit_once('[') else {
            return Ok(());
        };
        let Some(n) = rest.strip_suffix(']').and_then(|d| d.parse::<usize>().ok()) else {
            return Ok(());
        };
        let len = match self.find_node(list) {
            Ok(node) => match node.get("_value") {
                Some(Value::Array(items)) if node.get("_subItem").is_some() => items.len(),
                _ => return Ok(()),
            },
            Err(_) => return Ok(()),
        };
        if n == len {
            self.append_item(list)?;
        }
        Ok(())
    }

    /// Assigns the parts of a file parameter (or any composite) from a dict, as upstream's
    /// `set(dict)` does; parts not in `parts` keep their values.
    pub fn set_parts(
        &mut self,
        object_path: &str,
        parts: &Map<String, Value>,
    ) -> Result<(), String> {
        let normalized = normalize(object_path);
        let search = search_segments(&normalized);
        let route = find_route(&self.tree, &search, &normalized)?;
        let defaulted = &self.defaulted;
        let set = &mut self.set;
        let node = node_at_mut(&mut self.tree, &route)
            .ok_or_else(|| format!("Element not found in path '{normalized}'"))?;
        update(node, parts, set, defaulted).map_err(|r| r.message)
    }

    /// `POST /jobs/{id}/set_parameter/` with `{object_path, value}`; `header` is written into the
    /// returned file.
    pub fn set_parameter(
        &mut self,
        object_path: &str,
        value: &Value,
        header: &HeaderInfo,
    ) -> Result<SetOutcome, ParamError> {
        let normalized = normalize(object_path);
        let mut details = Map::new();
        details.insert("job_id".into(), Value::String(self.job_id()));
        details.insert("task_name".into(), Value::String(self.task_name.clone()));
        details.insert("object_path".into(), Value::String(object_path.to_string()));
        details.insert("normalized_path".into(), Value::String(normalized.clone()));
        let search = search_segments(&normalized);
        let route = match find_route(&self.tree, &search, &normalized) {
            Ok(r) => r,
            Err(e) => {
                details.insert("error".into(), Value::String(e));
                return Err(ParamError {
                    kind: ParamErrorKind::NotFound,
                    status: 400,
                    error: format!("Parameter path '{normalized}' not found"),
                    details,
                });
            }
        };
        let refuse = |r: Refusal, kind: ParamErrorKind, mut details: Map<String, Value>| {
            details.insert("value".into(), value.clone());
            details.insert("error_type".into(), Value::String(r.error_type.into()));
            ParamError {
                kind,
                status: 400,
                error: format!("Error setting parameter: {}", r.message),
                details,
            }
        };
        let defaulted = &self.defaulted;
        let classes = &self.classes;
        let set = &mut self.set;
        let Some(node) = node_at_mut(&mut self.tree, &route) else {
            return Err(refuse(
                Refusal::value("internal: path vanished".into()),
                ParamErrorKind::NotFound,
                details,
            ));
        };
        match node_kind(node) {
            NodeKind::Scalar(kind) => {
                assign(node, kind, value, set, defaulted, true)
                    .map_err(|r| refuse(r, ParamErrorKind::Invalid, details.clone()))?;
            }
            // A list takes a list: its items are replaced, as upstream's `CList.set(list)`
            // does (how a client adds or removes items).
            NodeKind::List if value.is_array() => {
                replace_items(node, value, set, defaulted, classes)
                    .map_err(|r| refuse(r, ParamErrorKind::Invalid, details.clone()))?
            }
            // One plain value makes a list of one item, as upstream's `CList.set` does.
            NodeKind::List if !value.is_object() && !value.is_null() && item_is_scalar(node) => {
                let one = Value::Array(vec![value.clone()]);
                replace_items(node, &one, set, defaulted, classes)
                    .map_err(|r| refuse(r, ParamErrorKind::Invalid, details.clone()))?
            }
            NodeKind::List | NodeKind::Composite | NodeKind::Container => match value {
                // A file parameter takes its parts as a dict (project, baseName, relPath,
                // annotation, dbFileId, subType, contentFlag): how uploads bind a file.
                Value::Object(m) => update(node, m, set, defaulted)
                    .map_err(|r| refuse(r, ParamErrorKind::Invalid, details.clone()))?,
                // `set(None)` empties the object: every part unset, scalars None.
                Value::Null if !is_file(node) => clear(node, set),
                _ if is_file(node) => {
                    return Err(refuse(
                        Refusal::type_error(
                            "setting a file parameter is not supported natively".into(),
                        ),
                        ParamErrorKind::Unsupported,
                        details,
                    ));
                }
                other => {
                    return Err(refuse(
                        Refusal::type_error(format!(
                            "set() expects dict or CData, got {}",
                            py_type(other)
                        )),
                        ParamErrorKind::Invalid,
                        details,
                    ));
                }
            },
        }
        let updated = node.clone();
        let object_type = updated
            .get("_class")
            .cloned()
            .unwrap_or(Value::String("Unknown".into()));
        let data = json!({
            "path": object_path,
            "value": value,
            "object_type": object_type,
            "updated_item": updated,
        });
        Ok(SetOutcome {
            data,
            xml: self.to_xml(header),
        })
    }

    /// `GET /jobs/{id}/get_parameter/?object_path=`: the response `data` (`{path, object_type,
    /// value}`), or the 400 error.
    pub fn get_parameter(&self, object_path: &str) -> Result<Value, ParamError> {
        let normalized = normalize(object_path);
        let mut parts: Vec<&str> = normalized.split('.').collect();
        if parts.first() == Some(&self.task_name.as_str()) {
            parts.remove(0);
        }
        let mut node = &self.tree;
        for part in parts {
            match child(node, part) {
                Some(c) => node = c,
                None => {
                    let mut details = Map::new();
                    details.insert("job_id".into(), Value::String(self.job_id()));
                    details.insert("task_name".into(), Value::String(self.task_name.clone()));
                    details.insert("object_path".into(), Value::String(object_path.to_string()));
                    details.insert("missing_part".into(), Value::String(part.to_string()));
                    return Err(ParamError {
                        kind: ParamErrorKind::NotFound,
                        status: 400,
                        error: format!(
                            "Parameter path '{object_path}' not found - missing attribute '{part}'"
                        ),
                        details,
                    });
                }
            }
        }
        Ok(json!({
            "path": object_path,
            "object_type": node.get("_class").cloned().unwrap_or(Value::Null),
            "value": plain_value(node),
        }))
    }

    /// Applies a parameter file body as upstream's loader does.
    fn import_body(&mut self, body: &Element) {
        let defaulted = &self.defaulted;
        let set = &mut self.set;
        import_container(&mut self.tree, body, set, defaulted);
    }
}

/// Drops a second path segment `container`.
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('.').collect();
    if parts.len() >= 2 && parts[1] == "container" {
        parts.remove(1);
    }
    parts.join(".")
}

/// Object paths of parameters with a def.xml default (upstream marks them as defaulted, not unset).
fn collect_defaults(c: &ContainerDef, path: &str, out: &mut HashSet<String>) {
    for item in &c.items {
        let p = format!("{path}.{}", item.id());
        match item {
            Item::Container(sub) => collect_defaults(sub, &p, out),
            Item::Content(content) => match content.qualifiers.get("default") {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s == "None" => {}
                // A number parameter whose default is not a number (`Auto`) stays unset.
                Some(Value::String(s))
                    if matches!(content.class_name.as_str(), "CInt" | "CFloat")
                        && py_float(s).is_none() => {}
                Some(Value::Object(d)) => {
                    for k in d.keys() {
                        out.insert(format!("{p}.{k}"));
                    }
                }
                Some(_) => {
                    out.insert(p);
                }
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Scalar(Kind),
    List,
    Composite,
    Container,
}

pub(crate) fn node_kind(node: &Value) -> NodeKind {
    if node.get("_class").and_then(Value::as_str) == Some("CContainer") {
        return NodeKind::Container;
    }
    match node.get("_value") {
        Some(Value::Array(_)) => NodeKind::List,
        Some(Value::Object(_)) => NodeKind::Composite,
        _ => match node.get("_baseClass").and_then(Value::as_str) {
            Some("CInt") => NodeKind::Scalar(Kind::Int),
            Some("CFloat") => NodeKind::Scalar(Kind::Float),
            Some("CBoolean") => NodeKind::Scalar(Kind::Bool),
            _ => NodeKind::Scalar(Kind::String),
        },
    }
}

pub(crate) fn path_of(node: &Value) -> &str {
    node.get("_objectPath")
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(crate) fn child<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    node.get("_value")?.as_object()?.get(name)
}

/// A step from a node to one of its children.
#[derive(Debug, Clone)]
enum Step {
    Child(String),
    Index(usize),
}

/// `name[i]` or `[i]`.
fn indexed(segment: &str) -> Option<(&str, usize)> {
    let (name, rest) = segment.split_once('[')?;
    let digits = rest.strip_suffix(']')?;
    if digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !name.chars().all(|c| c.is_alphanumeric() || c == '_')
    {
        return None;
    }
    Some((name, digits.parse().ok()?))
}

/// Route to `segments` from `root`: each name a child or, failing that, a descendant found depth
/// first.
/// The segments of a normalised object path that are searched for: all but the first (the
/// task's or container's own name), as upstream's `find_by_path(…, skip_first=True)`.
fn search_segments(normalized: &str) -> Vec<&str> {
    let segments: Vec<&str> = normalized.split('.').collect();
    if segments.len() > 1 {
        segments[1..].to_vec()
    } else {
        segments
    }
}

fn find_route(root: &Value, segments: &[&str], path: &str) -> Result<Vec<Step>, String> {
    let mut route = Vec::new();
    let mut node = root;
    for seg in segments {
        let (name, index) = match indexed(seg) {
            Some((n, i)) => (n, Some(i)),
            None => (*seg, None),
        };
        if !name.is_empty() {
            let mut steps = Vec::new();
            if !descend(node, name, &mut steps) {
                return Err(format!(
                    "Element '{name}' not found in path '{path}' (searching from {})",
                    path_of(node)
                ));
            }
            for s in steps {
                if let Step::Child(c) = &s
                    && let Some(next) = child(node, c)
                {
                    node = next;
                }
                route.push(s);
            }
        }
        if let Some(i) = index {
            match node.get("_value") {
                Some(Value::Array(items)) if i < items.len() => {
                    node = &items[i];
                    route.push(Step::Index(i));
                }
                Some(Value::Array(_)) => {
                    return Err(format!(
                        "Index [{i}] not valid in path '{path}' (searching from {}): list index out of range",
                        path_of(node)
                    ));
                }
                _ => {
                    return Err(format!(
                        "Index [{i}] not valid in path '{path}' (searching from {}): Index {i} out of range",
                        path_of(node)
                    ));
                }
            }
        }
    }
    Ok(route)
}

/// Steps from `node` to its child `name`, else to the first descendant of that name.
fn descend(node: &Value, name: &str, steps: &mut Vec<Step>) -> bool {
    if child(node, name).is_some() {
        steps.push(Step::Child(name.to_string()));
        return true;
    }
    for (k, c) in children_of(node) {
        steps.push(Step::Child(k.to_string()));
        if descend(c, name, steps) {
            return true;
        }
        steps.pop();
    }
    false
}

fn node_at_mut<'a>(root: &'a mut Value, route: &[Step]) -> Option<&'a mut Value> {
    let mut node = root;
    for s in route {
        node = match s {
            Step::Child(c) => node.get_mut("_value")?.as_object_mut()?.get_mut(c)?,
            Step::Index(i) => node.get_mut("_value")?.as_array_mut()?.get_mut(*i)?,
        };
    }
    Some(node)
}

/// Python's `type(x).__name__` for a JSON value.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python's `repr(str)`.
fn py_repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str()` of a JSON value as `json.loads` gives it.
pub(crate) fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => py_repr(other),
    }
}

pub(crate) fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) => py_float_repr(f),
            _ => n.to_string(),
        },
        Value::String(s) => py_repr_str(s),
        Value::Array(a) => format!("[{}]", a.iter().map(py_repr).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, x)| format!("{}: {}", py_repr_str(k), py_repr(x)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python's `int(text)` for a string: whitespace around, a sign, `_` between digits.
fn py_int_str(s: &str) -> Option<i64> {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.is_empty()
        || body.starts_with('_')
        || body.ends_with('_')
        || body.contains("__")
        || !body.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    cleaned.parse().ok()
}

fn to_int(v: &Value) -> Result<i64, Refusal> {
    match v {
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Ok(i),
            (None, Some(f)) if f.is_finite() && f.abs() < 9.2e18 => Ok(f.trunc() as i64),
            _ => Err(Refusal::value(format!(
                "integer {} is out of the supported range",
                py_repr(v)
            ))),
        },
        Value::String(s) => py_int_str(s).ok_or_else(|| {
            Refusal::value(format!(
                "invalid literal for int() with base 10: {}",
                py_repr_str(s)
            ))
        }),
        other => Err(Refusal::type_error(format!(
            "int() argument must be a string, a bytes-like object or a real number, not '{}'",
            py_type(other)
        ))),
    }
}

fn to_float(v: &Value) -> Result<f64, Refusal> {
    match v {
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| Refusal::value("number out of range".into())),
        Value::String(s) => py_float(s).ok_or_else(|| {
            Refusal::value(format!(
                "could not convert string to float: {}",
                py_repr_str(s)
            ))
        }),
        other => Err(Refusal::type_error(format!(
            "float() argument must be a string or a real number, not '{}'",
            py_type(other)
        ))),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(s.to_lowercase().as_str(), "true" | "1" | "yes"),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// A qualifier bound as upstream reads it (`int()` / `float()` of the qualifier), if usable.
fn bound(q: Option<&Value>, int: bool) -> Option<f64> {
    let q = q?;
    if int {
        match q {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
            Value::String(s) => py_int_str(s),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
        .map(|i| i as f64)
    } else {
        match q {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => py_float(s),
            Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            _ => None,
        }
    }
}

fn show_num(x: f64, int: bool) -> String {
    if int {
        format!("{}", x as i64)
    } else {
        py_float_repr(x)
    }
}

fn check_range(node: &Value, x: f64, int: bool) -> Result<(), Refusal> {
    let q = node.get("_qualifiers");
    let min = bound(q.and_then(|q| q.get("min")), int);
    let max = bound(q.and_then(|q| q.get("max")), int);
    if let Some(m) = min
        && x < m
    {
        return Err(Refusal::value(format!(
            "Value {} is below minimum {}",
            show_num(x, int),
            show_num(m, int)
        )));
    }
    if let Some(m) = max
        && x > m
    {
        return Err(Refusal::value(format!(
            "Value {} is above maximum {}",
            show_num(x, int),
            show_num(m, int)
        )));
    }
    Ok(())
}

fn float_value(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Assigns `value` to a scalar node as the class's value setter does (`validate`: min/max checked),
/// updating the set state.
fn assign(
    node: &mut Value,
    kind: Kind,
    value: &Value,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
    validate: bool,
) -> Result<(), Refusal> {
    let new = match kind {
        Kind::Int => {
            let i = to_int(value)?;
            if validate {
                check_range(node, i as f64, true)?;
            }
            Value::from(i)
        }
        Kind::Float => {
            let f = to_float(value)?;
            if validate {
                check_range(node, f, false)?;
            }
            float_value(f)
        }
        Kind::Bool => Value::Bool(truthy(value)),
        _ => Value::String(match value {
            Value::Null => String::new(),
            v => py_str(v),
        }),
    };
    let path = path_of(node).to_string();
    let old = node.get("_value").cloned().unwrap_or(Value::Null);
    let same = match (&old, &new) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    };
    let keeps_unset = matches!(kind, Kind::Float | Kind::Bool)
        && same
        && !set.contains(&path)
        && !defaulted.contains(&path);
    if !keeps_unset {
        set.insert(path);
    }
    if let Some(m) = node.as_object_mut() {
        m.insert("_value".into(), new);
    }
    Ok(())
}

/// A dict assigned to a composite: only the named parts change.
fn update(
    node: &mut Value,
    values: &Map<String, Value>,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
) -> Result<(), Refusal> {
    for (k, v) in values {
        let Some(c) = node
            .get_mut("_value")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.get_mut(k))
        else {
            continue;
        };
        match (node_kind(c), v) {
            (NodeKind::Scalar(kind), v) => assign(c, kind, v, set, defaulted, true)?,
            (NodeKind::Composite | NodeKind::Container, Value::Object(m)) => {
                update(c, m, set, defaulted)?
            }
            _ => {}
        }
    }
    Ok(())
}

/// A list's items replaced by fresh copies of its `_subItem`, each given one value of
/// `values` (a scalar for scalar items, a dict of parts for composites and files, `null` for
/// an item left unset).
fn replace_items(
    node: &mut Value,
    values: &Value,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
    classes: &crate::classes::Classes,
) -> Result<(), Refusal> {
    let Some(values) = values.as_array() else {
        return Err(Refusal::type_error("a list needs a list of values".into()));
    };
    let list_path = path_of(node).to_string();
    let template = node
        .get("_subItem")
        .cloned()
        .ok_or_else(|| Refusal::type_error(format!("'{list_path}' has no item type")))?;
    // Items are renumbered: what was set under the old numbering no longer applies.
    let prefix = format!("{list_path}[");
    set.retain(|p| !p.starts_with(&prefix));
    let mut items = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let mut item = retarget(
            &template,
            &format!("{list_path}[?]"),
            &format!("{list_path}[{i}]"),
        );
        match (node_kind(&item), v) {
            (_, Value::Null) => {}
            (NodeKind::Scalar(kind), v) => {
                bare_qualifiers(&mut item, classes);
                assign(&mut item, kind, v, set, defaulted, true)?
            }
            (NodeKind::Composite | NodeKind::Container, Value::Object(m)) => {
                update(&mut item, m, set, defaulted)?;
                // A part given its class's default value counts as not set (it is left out
                // of the parameters file), as upstream treats a new item's parts.
                unset_class_defaults(&item, set);
            }
            (_, other) => {
                return Err(Refusal::type_error(format!(
                    "item {i} of '{list_path}' expects dict, got {}",
                    py_type(other)
                )));
            }
        }
        items.push(item);
    }
    let order: Vec<Value> = (0..items.len())
        .map(|k| Value::String(k.to_string()))
        .collect();
    if let Some(m) = node.as_object_mut() {
        m.insert("_value".into(), Value::Array(items));
        m.insert("_CONTENTS_ORDER".into(), Value::Array(order));
    }
    Ok(())
}

/// Whether a list's items are plain values.
fn item_is_scalar(list: &Value) -> bool {
    list.get("_subItem")
        .is_some_and(|t| matches!(node_kind(t), NodeKind::Scalar(_)))
}

/// A scalar item's qualifiers replaced by its class's own.
fn bare_qualifiers(item: &mut Value, classes: &crate::classes::Classes) {
    let Some(class) = item
        .get("_class")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let bare = crate::container::fresh(classes, &class, "");
    if let (Some(q), Some(m)) = (bare.get("_qualifiers"), item.as_object_mut()) {
        m.insert("_qualifiers".into(), q.clone());
    }
}

/// Unmark the scalar parts of `node` whose value is their `default` qualifier.
fn unset_class_defaults(node: &Value, set: &mut HashSet<String>) {
    match node.get("_value") {
        Some(Value::Object(m)) => {
            for c in m.values() {
                unset_class_defaults(c, set);
            }
        }
        Some(v) if matches!(node_kind(node), NodeKind::Scalar(_)) => {
            let default = node.get("_qualifiers").and_then(|q| q.get("default"));
            let equal = match (default, v) {
                (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
                (Some(d), v) => !d.is_null() && d == v,
                (None, _) => false,
            };
            if equal {
                set.remove(path_of(node));
            }
        }
        _ => {}
    }
}

/// Every part of `node` unset, scalar values `None`.
fn clear(node: &mut Value, set: &mut HashSet<String>) {
    set.remove(path_of(node));
    match node.get_mut("_value") {
        Some(Value::Object(m)) => {
            for c in m.values_mut() {
                clear(c, set);
            }
        }
        Some(Value::Array(_)) => {}
        Some(v) => *v = Value::Null,
        None => {}
    }
}

/// The plain value `get_parameter` reports: scalars as they are, composites as a dict of their
/// parts, lists as their items' values.
fn plain_value(node: &Value) -> Value {
    match node.get("_value") {
        Some(Value::Object(_)) => Value::Object(
            children_of(node)
                .into_iter()
                .map(|(k, v)| (k.to_string(), plain_value(v)))
                .collect(),
        ),
        // Upstream answers a list with `{}` whatever it holds (checked against the reference
        // with lists of strings, of ASU sequences and of files, empty and filled); clients
        // read a list's items from `container/`.
        Some(Value::Array(_)) => Value::Object(Map::new()),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

fn elem_text(el: &Element) -> Option<&str> {
    el.text.as_deref()
}

/// Values of a container element onto a container (or list item) node.
fn import_container(
    node: &mut Value,
    el: &Element,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
) {
    if node_kind(node) == NodeKind::List {
        import_list(node, el, set, defaulted);
        return;
    }
    for c in &el.children {
        let Some(target) = node
            .get_mut("_value")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.get_mut(&c.tag))
        else {
            continue;
        };
        match node_kind(target) {
            NodeKind::List | NodeKind::Container => import_container(target, c, set, defaulted),
            _ => import_value(target, c, set, defaulted),
        }
    }
}

/// A scalar's text, or a composite's parts.
fn import_value(
    node: &mut Value,
    el: &Element,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
) {
    if el.children.is_empty() {
        let Some(text) = elem_text(el) else { return };
        let text = text.trim();
        if let NodeKind::Scalar(kind) = node_kind(node) {
            // A value outside min/max is refused by upstream's setter when the file is read:
            // the parameter stays unset (a fresh file holds 0 for unset numbers).
            let v = Value::String(text.to_string());
            let _ = assign(node, kind, &v, set, defaulted, true);
        }
        return;
    }
    import_structured(node, el, set, defaulted);
}

fn import_structured(
    node: &mut Value,
    el: &Element,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
) {
    for c in &el.children {
        let Some(target) = node
            .get_mut("_value")
            .and_then(Value::as_object_mut)
            .and_then(|m| m.get_mut(&c.tag))
        else {
            continue;
        };
        match node_kind(target) {
            NodeKind::List => {
                import_list(target, c, set, defaulted);
                continue;
            }
            NodeKind::Composite | NodeKind::Container => {
                if !c.children.is_empty() {
                    import_structured(target, c, set, defaulted);
                }
                continue;
            }
            NodeKind::Scalar(kind) => {
                if !c.children.is_empty() {
                    continue;
                }
                let Some(text) = elem_text(c) else { continue };
                let text = text.trim();
                // A zero contentFlag does not replace a non-zero one from the definition.
                if c.tag == "contentFlag"
                    && text == "0"
                    && target
                        .get("_value")
                        .and_then(Value::as_f64)
                        .is_some_and(|f| f != 0.0)
                {
                    continue;
                }
                let _ = assign(
                    target,
                    kind,
                    &Value::String(text.to_string()),
                    set,
                    defaulted,
                    false,
                );
            }
        }
    }
}

/// List items from their elements (each named after its class), replacing the list's items.
fn import_list(
    node: &mut Value,
    el: &Element,
    set: &mut HashSet<String>,
    defaulted: &HashSet<String>,
) {
    let list_path = path_of(node).to_string();
    let template = node.get("_subItem").cloned().unwrap_or(Value::Null);
    let mut items = Vec::new();
    for (i, c) in el.children.iter().enumerate() {
        let mut item = retarget(
            &template,
            &format!("{list_path}[?]"),
            &format!("{list_path}[{i}]"),
        );
        match node_kind(&item) {
            NodeKind::Scalar(_) => import_value(&mut item, c, set, defaulted),
            _ => import_container(&mut item, c, set, defaulted),
        }
        items.push(item);
    }
    let order: Vec<Value> = (0..items.len())
        .map(|i| Value::String(i.to_string()))
        .collect();
    if let Some(m) = node.as_object_mut() {
        m.insert("_value".into(), Value::Array(items));
        m.insert("_CONTENTS_ORDER".into(), Value::Array(order));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_conversions() {
        assert_eq!(py_int_str(" 1_000 "), Some(1000));
        assert_eq!(py_int_str("2.7"), None);
        assert_eq!(py_int_str("_1"), None);
        assert_eq!(py_repr_str("abc"), "'abc'");
        assert_eq!(py_repr_str("it's"), "\"it's\"");
        assert_eq!(
            py_repr(&json!({"a": [1, 2.5, null]})),
            "{'a': [1, 2.5, None]}"
        );
        assert!(to_int(&json!(2.7)).is_ok_and(|i| i == 2));
        assert!(!truthy(&json!("maybe")));
        assert!(truthy(&json!("YES")));
    }

    #[test]
    fn normalisation() {
        assert_eq!(normalize("t.container.a.b"), "t.a.b");
        assert_eq!(normalize("t.a.container"), "t.a.container");
        assert_eq!(indexed("X[3]"), Some(("X", 3)));
        assert_eq!(indexed("[0]"), Some(("", 0)));
        assert_eq!(indexed("X[a]"), None);
    }
}
