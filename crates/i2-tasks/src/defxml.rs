//! Task definitions: the container tree a def.xml declares, after include expansion.
//!
//! Tree rules follow upstream's def.xml reader: the task body is the first `ccp4i2_body` with an `id`
//! (a body directly nested in it replaces it); its `container` children become sub-containers, each
//! holding `content` parameters and nested containers; containers found anywhere else in the document
//! and not yet read are added at the top level. A name declared twice keeps its first declaration.

use std::path::{Path, PathBuf};

use serde_json::{Map, Number, Value};

use crate::classes::Classes;
use crate::error::Result;
use crate::include::load_expanded;
use crate::xml::{self, Element};

/// A parsed task definition.
#[derive(Debug, Clone)]
pub struct TaskDef {
    /// Task name from the body `id` (or `pluginName`, or the file name).
    pub name: String,
    pub path: PathBuf,
    /// The whole document with includes expanded.
    pub expanded: Element,
    /// Root container (the task container).
    pub root: ContainerDef,
    /// Facts about the classes the definition names.
    pub classes: Classes,
    /// Fresh container JSON per rooting task name, built once: the definition never changes and
    /// building it is the bulk of creating a job. Shared by clones of the definition.
    pub(crate) fresh: FreshCache,
    /// The rendered body of a fresh job's `input_params.xml` per task name (see
    /// [`TaskDef::input_params_xml`]).
    pub(crate) fresh_xml: FreshXmlCache,
}

/// See [`TaskDef::fresh_xml`].
pub(crate) type FreshXmlCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<str>>>>;

/// See [`TaskDef::fresh`].
pub(crate) type FreshCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<Value>>>>;

#[derive(Debug, Clone, Default)]
pub struct ContainerDef {
    pub id: String,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub enum Item {
    Container(ContainerDef),
    Content(ContentDef),
}

impl Item {
    pub fn id(&self) -> &str {
        match self {
            Item::Container(c) => &c.id,
            Item::Content(c) => &c.id,
        }
    }
}

/// One `<content>`: a parameter of a CData class with its def.xml qualifiers.
#[derive(Debug, Clone)]
pub struct ContentDef {
    pub id: String,
    pub class_name: String,
    /// Qualifiers as upstream reads them from def.xml (typed, in document order).
    pub qualifiers: Map<String, Value>,
    /// `<subItem>` of a list: item class and its qualifiers.
    pub sub_item: Option<(String, Map<String, Value>)>,
}

impl ContainerDef {
    /// Upstream assigns a redeclared name onto the existing object (a value copy), so the first
    /// declaration's class and qualifiers stay.
    fn put(&mut self, item: Item) {
        if !self.items.iter().any(|i| i.id() == item.id()) {
            self.items.push(item);
        }
    }

    pub fn get(&self, id: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.id() == id)
    }
}

fn is(el: &Element, tag: &str) -> bool {
    el.ns.is_none() && el.tag == tag
}

fn id_of(el: &Element) -> Option<&str> {
    el.attr("id").filter(|s| !s.is_empty())
}

impl TaskDef {
    /// Reads a def.xml file; includes are resolved against `package_root`.
    pub fn load(path: &Path, package_root: &Path, classes: Classes) -> Result<TaskDef> {
        let expanded = load_expanded(path, package_root)?;
        Ok(Self::from_expanded(expanded, path, classes))
    }

    /// Builds the container tree of an already expanded document.
    pub fn from_expanded(expanded: Element, path: &Path, classes: Classes) -> TaskDef {
        let body = first_desc(&expanded, &|e| {
            is(e, "ccp4i2_body") && e.attr("id").is_some()
        });
        let name = body
            .and_then(|b| id_of(b).map(str::to_string))
            .or_else(|| {
                first_desc(&expanded, &|e| e.tag == "pluginName")
                    .map(|e| e.text_str().to_string())
                    .filter(|s| !s.is_empty())
            })
            .unwrap_or_else(|| {
                let stem = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                stem.split(".def").next().unwrap_or(stem).to_string()
            });
        let mut root = ContainerDef {
            id: name.clone(),
            items: Vec::new(),
        };
        let mut processed: Vec<String> = Vec::new();
        if let Some(body) = body {
            read_body(body, &mut root);
            let direct = |b: &Element, out: &mut Vec<String>| {
                for c in &b.children {
                    if is(c, "container")
                        && let Some(id) = id_of(c)
                    {
                        out.push(id.to_string());
                    }
                }
            };
            direct(body, &mut processed);
            let mut nested = Vec::new();
            body.find_all("ccp4i2_body", &mut nested);
            for b in nested {
                direct(b, &mut processed);
            }
        }
        let mut all = Vec::new();
        expanded.find_all("container", &mut all);
        for c in all {
            if is(c, "container")
                && let Some(id) = id_of(c)
                && !processed.iter().any(|p| p == id)
            {
                read_container(c, &mut root);
            }
        }
        TaskDef {
            name,
            path: path.to_path_buf(),
            expanded,
            root,
            classes,
            fresh: FreshCache::default(),
            fresh_xml: FreshXmlCache::default(),
        }
    }

    /// The document as `GET /jobs/{id}/def_xml/` returns it: includes expanded, re-indented by one space.
    pub fn expanded_def_xml(&self) -> String {
        let mut el = self.expanded.clone();
        xml::indent(&mut el, " ");
        xml::to_string(&el)
    }

    /// A top-level container by id (`inputData`, `outputData`, `controlParameters`, ...).
    pub fn container(&self, id: &str) -> Option<&ContainerDef> {
        match self.root.get(id) {
            Some(Item::Container(c)) => Some(c),
            _ => None,
        }
    }
}

fn first_desc<'a>(el: &'a Element, pred: &dyn Fn(&Element) -> bool) -> Option<&'a Element> {
    for c in &el.children {
        if pred(c) {
            return Some(c);
        }
        if let Some(f) = first_desc(c, pred) {
            return Some(f);
        }
    }
    None
}

fn read_body(body: &Element, parent: &mut ContainerDef) {
    if let Some(nested) = body.children.iter().find(|c| is(c, "ccp4i2_body")) {
        read_body(nested, parent);
        return;
    }
    for c in &body.children {
        if is(c, "container") && id_of(c).is_some() {
            read_container(c, parent);
        }
    }
}

fn read_container(el: &Element, parent: &mut ContainerDef) {
    let Some(id) = id_of(el) else { return };
    let mut c = ContainerDef {
        id: id.to_string(),
        items: Vec::new(),
    };
    for content in el.children.iter().filter(|x| is(x, "content")) {
        if let Some(def) = read_content(content) {
            c.put(Item::Content(def));
        }
    }
    for nested in el.children.iter().filter(|x| is(x, "container")) {
        read_container(nested, &mut c);
    }
    for body in el.children.iter().filter(|x| is(x, "ccp4i2_body")) {
        read_body(body, &mut c);
    }
    parent.put(Item::Container(c));
}

fn read_content(el: &Element) -> Option<ContentDef> {
    let id = id_of(el)?;
    let class_name = el.child("className")?.text.clone()?;
    if class_name.is_empty() {
        return None;
    }
    let qualifiers = parse_qualifiers(el.child("qualifiers"));
    let sub_item = el.child("subItem").and_then(|s| {
        let class = s.child("className")?.text.clone()?;
        Some((class, parse_qualifiers(s.child("qualifiers"))))
    });
    Some(ContentDef {
        id: id.to_string(),
        class_name,
        qualifiers,
        sub_item,
    })
}

/// Qualifier values typed as upstream types them: booleans, comma lists for `enumerators`,
/// `menuText`, `fileExtensions`, numbers for `min`/`max`/`default`/list lengths, otherwise raw text;
/// a `<default>` with child elements becomes an object.
pub fn parse_qualifiers(el: Option<&Element>) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(el) = el else { return out };
    for c in &el.children {
        let key = c.tag.clone();
        let v = match &c.text {
            None => Value::Null,
            Some(t) if t.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some(t) if t.eq_ignore_ascii_case("false") => Value::Bool(false),
            Some(t) if matches!(key.as_str(), "enumerators" | "menuText" | "fileExtensions") => {
                Value::Array(
                    t.split(',')
                        .map(|s| Value::String(s.trim().to_string()))
                        .collect(),
                )
            }
            Some(t)
                if matches!(
                    key.as_str(),
                    "min" | "max" | "default" | "listMinLength" | "listMaxLength"
                ) && py_float(t).is_some() =>
            {
                py_number(t)
            }
            Some(t) => Value::String(t.clone()),
        };
        out.insert(key, v);
    }
    if let Some(d) = el.child("default") {
        let mut dict = Map::new();
        for c in &d.children {
            if let Some(t) = &c.text {
                let v = if py_float(t).is_some() {
                    py_number(t)
                } else {
                    Value::String(t.clone())
                };
                dict.insert(c.tag.clone(), v);
            }
        }
        if !dict.is_empty() {
            out.insert("default".into(), Value::Object(dict));
        }
    }
    out
}

/// Python's `float(text)`: surrounding whitespace, `_` between digits, inf/nan.
pub fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.starts_with('_') || t.ends_with('_') || t.contains("__") {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if matches!(body, "inf" | "infinity" | "nan") {
        return lower.parse::<f64>().ok().or(Some(f64::NAN));
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'))
    {
        return None;
    }
    cleaned.parse::<f64>().ok()
}

/// Python's `int(text)` when the text has no `.`, else `float(text)`; the text itself if neither works.
pub fn py_number(text: &str) -> Value {
    if text.contains('.') {
        return match py_float(text).and_then(Number::from_f64) {
            Some(n) => Value::Number(n),
            None => Value::String(text.to_string()),
        };
    }
    let t = text.trim();
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    let digits = cleaned.trim_start_matches(['+', '-']);
    if !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && !t.starts_with('_')
        && let Ok(i) = cleaned.parse::<i64>()
    {
        return Value::Number(i.into());
    }
    Value::String(text.to_string())
}
