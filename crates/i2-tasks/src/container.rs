//! Container JSON: the encoding of a job's parameter tree that `GET /jobs/{id}/container/` returns.
//!
//! Every node is `{_class, _value, _qualifiers, _CONTENTS_ORDER, _objectPath, _baseClass}` plus
//! `_subItem` (the item template) for lists. Scalars carry their value, lists an array of item nodes,
//! everything else an object of child nodes. A node starts as a fresh object of its class (from
//! [`crate::classes`]) and then receives the def.xml qualifiers and default, as upstream does.

use serde_json::{Map, Value, json};

use crate::classes::{ClassFacts, Classes, Kind};
use crate::defxml::{ContainerDef, ContentDef, Item, TaskDef, py_float};

/// Containers every task has, first in this order.
const STANDARD: [&str; 4] = ["inputData", "outputData", "controlParameters", "guiAdmin"];

impl TaskDef {
    /// Container JSON of a freshly created job of this task; `task_name` roots the object paths.
    pub fn container_json(&self, task_name: &str) -> Value {
        Value::clone(&self.container_json_shared(task_name))
    }

    /// [`TaskDef::container_json`], built once per task name and then shared.
    pub fn container_json_shared(&self, task_name: &str) -> std::sync::Arc<Value> {
        if let Ok(cache) = self.fresh.lock()
            && let Some(v) = cache.get(task_name)
        {
            return v.clone();
        }
        let v = std::sync::Arc::new(self.build_container_json(task_name));
        if let Ok(mut cache) = self.fresh.lock() {
            cache.insert(task_name.to_string(), v.clone());
        }
        v
    }

    fn build_container_json(&self, task_name: &str) -> Value {
        let cl = &self.classes;
        let root_path = format!("{task_name}.container");
        let mut children: Vec<(String, Value)> = Vec::new();
        for item in &self.root.items {
            let path = format!("{root_path}.{}", item.id());
            children.push((item.id().to_string(), item_node(cl, item, &path)));
        }
        for name in STANDARD {
            if !children.iter().any(|(n, _)| n == name) {
                let path = format!("{root_path}.{name}");
                children.push((
                    name.to_string(),
                    container_node(cl, &ContainerDef::default(), &path),
                ));
            }
        }
        if let Some((_, gui)) = children.iter_mut().find(|(n, _)| n == "guiAdmin") {
            add_gui_admin(cl, gui, &format!("{root_path}.guiAdmin"));
        }
        // Standard containers first, then the task's own in declaration order.
        let mut ordered: Vec<(String, Value)> = Vec::new();
        for name in STANDARD {
            if let Some(i) = children.iter().position(|(n, _)| n == name) {
                ordered.push(children.remove(i));
            }
        }
        ordered.extend(children);
        composite("CContainer", "CContainer", Map::new(), ordered, &root_path)
    }
}

fn item_node(cl: &Classes, item: &Item, path: &str) -> Value {
    match item {
        Item::Container(c) => container_node(cl, c, path),
        Item::Content(c) => content_node(cl, c, path),
    }
}

fn container_node(cl: &Classes, c: &ContainerDef, path: &str) -> Value {
    let children = c
        .items
        .iter()
        .map(|i| {
            let p = format!("{path}.{}", i.id());
            (i.id().to_string(), item_node(cl, i, &p))
        })
        .collect();
    let quals = cl
        .get("CContainer")
        .map(|f| f.qualifiers.clone())
        .unwrap_or_default();
    composite("CContainer", "CContainer", quals, children, path)
}

/// `jobTitle` and `jobStatus`, which upstream adds to `guiAdmin` when the def.xml does not declare them.
fn add_gui_admin(cl: &Classes, gui: &mut Value, path: &str) {
    let Some(obj) = gui.as_object_mut() else {
        return;
    };
    let mut add = |name: &str, class_name: &str, value: Option<Value>| {
        let exists = obj
            .get("_value")
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(name));
        if exists {
            return;
        }
        let mut n = fresh(cl, class_name, &format!("{path}.{name}"));
        if let (Some(v), Some(m)) = (value, n.as_object_mut()) {
            m.insert("_value".into(), v);
        }
        if let Some(Value::Object(m)) = obj.get_mut("_value") {
            m.insert(name.to_string(), n);
        }
        if let Some(Value::Array(order)) = obj.get_mut("_CONTENTS_ORDER") {
            order.push(Value::String(name.to_string()));
        }
    };
    add("jobTitle", "CString", None);
    add("jobStatus", "CInt", Some(json!(0)));
}

fn composite(
    class_name: &str,
    base: &str,
    quals: Map<String, Value>,
    children: Vec<(String, Value)>,
    path: &str,
) -> Value {
    let order: Vec<Value> = children
        .iter()
        .map(|(n, _)| Value::String(n.clone()))
        .collect();
    let value: Map<String, Value> = children.into_iter().collect();
    json!({
        "_class": class_name,
        "_value": value,
        "_qualifiers": quals,
        "_CONTENTS_ORDER": order,
        "_objectPath": path,
        "_baseClass": base,
    })
}

/// Facts for a def.xml class name; unknown classes fall back to `CString` as upstream does.
fn facts<'a>(cl: &'a Classes, name: &'a str) -> (&'a str, Option<&'a ClassFacts>) {
    match cl.get(name) {
        Some(f) => (
            f.mro.first().map(String::as_str).unwrap_or("CString"),
            Some(f),
        ),
        None => ("CString", cl.get("CString")),
    }
}

/// A fresh object of class `name` at `path`.
pub fn fresh(cl: &Classes, name: &str, path: &str) -> Value {
    let (class_name, f) = facts(cl, name);
    let Some(f) = f else {
        return json!({"_class": class_name, "_value": null, "_qualifiers": {}, "_CONTENTS_ORDER": [],
                      "_objectPath": path, "_baseClass": "CData"});
    };
    let quals = f.qualifiers.clone();
    match f.kind {
        k if k.is_scalar() => json!({
            "_class": class_name,
            "_value": f.value.clone(),
            "_qualifiers": quals,
            "_CONTENTS_ORDER": [],
            "_objectPath": path,
            "_baseClass": f.base,
        }),
        Kind::List => {
            let sub = match &f.item {
                Some(item) => {
                    let mut s = fresh(cl, &item.class, &format!("{path}[?]"));
                    set_quals(&mut s, item.qualifiers.clone());
                    s
                }
                None => fresh(cl, "CString", &format!("{path}[?]")),
            };
            json!({
                "_class": class_name,
                "_value": [],
                "_qualifiers": quals,
                "_CONTENTS_ORDER": [],
                "_objectPath": path,
                "_baseClass": f.base,
                "_subItem": sub,
            })
        }
        _ => {
            let children = f
                .children
                .iter()
                .map(|c| {
                    let mut n = fresh(cl, &c.class, &format!("{path}.{}", c.name));
                    if let Some(Value::Object(q)) = n.get_mut("_qualifiers") {
                        for r in &c.removed {
                            q.shift_remove(r);
                        }
                        for (k, v) in &c.qualifiers {
                            q.insert(k.clone(), v.clone());
                        }
                    }
                    if let (Some(v), Some(m)) = (&c.value, n.as_object_mut()) {
                        m.insert("_value".into(), v.clone());
                    }
                    if let (Some(item), Some(m)) = (&c.item, n.as_object_mut()) {
                        let child_path = format!("{path}.{}[?]", c.name);
                        let mut s = fresh(cl, &item.class, &child_path);
                        set_quals(&mut s, item.qualifiers.clone());
                        m.insert("_subItem".into(), s);
                    }
                    (c.name.clone(), n)
                })
                .collect();
            composite(class_name, &f.base, quals, children, path)
        }
    }
}

fn set_quals(node: &mut Value, quals: Map<String, Value>) {
    if let Some(m) = node.as_object_mut() {
        m.insert("_qualifiers".into(), Value::Object(quals));
    }
}

fn update_quals(node: &mut Value, quals: &Map<String, Value>) {
    if let Some(Value::Object(q)) = node.get_mut("_qualifiers") {
        for (k, v) in quals {
            q.insert(k.clone(), v.clone());
        }
    }
}

fn content_node(cl: &Classes, c: &ContentDef, path: &str) -> Value {
    let mut n = fresh(cl, &c.class_name, path);
    let (class_name, f) = facts(cl, &c.class_name);
    apply_qualifiers(cl, &mut n, &c.qualifiers, class_name, f);
    if let (Some((sub_class, sub_quals)), Some(f)) = (&c.sub_item, f)
        && f.kind == Kind::List
    {
        if let Some(sf) = cl.get(sub_class) {
            let full = format!(
                "{}.{}",
                sf.module,
                sf.mro.first().map(String::as_str).unwrap_or(sub_class)
            );
            if let Some(Value::Object(q)) = n.get_mut("_qualifiers") {
                q.insert(
                    "subItem".into(),
                    json!({"class": full, "qualifiers": sub_quals}),
                );
            }
            let mut s = fresh(cl, sub_class, &format!("{path}[?]"));
            update_quals(&mut s, sub_quals);
            if let Some(m) = n.as_object_mut() {
                m.insert("_subItem".into(), s);
            }
        }
        let min = n
            .get("_qualifiers")
            .and_then(|q| q.get("listMinLength"))
            .and_then(|v| match v {
                Value::Number(x) => x.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .unwrap_or(0);
        if min >= 1 {
            let template = n.get("_subItem").cloned().unwrap_or(Value::Null);
            let mut items = Vec::new();
            let mut order = Vec::new();
            for i in 0..min.min(1000) {
                items.push(retarget(
                    &template,
                    &format!("{path}[?]"),
                    &format!("{path}[{i}]"),
                ));
                order.push(Value::String(i.to_string()));
            }
            if let Some(m) = n.as_object_mut() {
                m.insert("_value".into(), Value::Array(items));
                m.insert("_CONTENTS_ORDER".into(), Value::Array(order));
            }
        }
    }
    number_template(cl, &mut n);
    n
}

/// The item template of a numbered list is labelled for the next free position.
fn number_template(cl: &Classes, n: &mut Value) {
    let Some(class_name) = n.get("_class").and_then(Value::as_str).map(str::to_string) else {
        return;
    };
    let len = n
        .get("_value")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    if let Some(sub) = n.get_mut("_subItem") {
        number_item(cl, &class_name, sub, len);
    }
}

/// List classes whose `makeItem` names each new item after its index (`label` = `Ensemble_<n>`).
const NUMBERED_ITEMS: [(&str, &str, &str); 1] = [("CEnsembleList", "label", "Ensemble_")];

/// Gives an item of a numbered list its label for position `index`.
fn number_item(cl: &Classes, list_class: &str, item: &mut Value, index: usize) {
    let Some(f) = cl.get(list_class) else { return };
    for (cls, child, prefix) in NUMBERED_ITEMS {
        if f.isa(cls)
            && let Some(Value::Object(children)) = item.get_mut("_value")
            && let Some(Value::Object(label)) = children.get_mut(child)
            && label.get("_value").is_none_or(|v| v.as_str() == Some(""))
        {
            label.insert("_value".into(), Value::String(format!("{prefix}{index}")));
        }
    }
}

/// Copy of a node with object paths under `from` moved under `to`.
pub(crate) fn retarget(node: &Value, from: &str, to: &str) -> Value {
    match node {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        ("_objectPath", Value::String(p)) if p.starts_with(from) => {
                            Value::String(format!("{to}{}", &p[from.len()..]))
                        }
                        ("_qualifiers", _) => v.clone(),
                        _ => retarget(v, from, to),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| retarget(x, from, to)).collect()),
        other => other.clone(),
    }
}

/// def.xml qualifiers onto a fresh node: `default` sets the value, a few qualifiers are coerced, the
/// rest are stored as given.
fn apply_qualifiers(
    cl: &Classes,

    n: &mut Value,
    quals: &Map<String, Value>,
    class_name: &str,
    f: Option<&ClassFacts>,
) {
    let kind = f.map(|f| f.kind);
    for (k, v) in quals {
        let v = match k.as_str() {
            "default" => {
                if v.as_str() == Some("None") {
                    continue;
                }
                match v {
                    Value::Object(d) => {
                        for (attr, val) in d {
                            if let Some(Value::Object(children)) = n.get_mut("_value")
                                && let Some(child) = children.get_mut(attr)
                            {
                                set_scalar(cl, child, val);
                            }
                        }
                    }
                    _ if kind.is_some_and(Kind::is_scalar) => set_scalar(cl, n, v),
                    _ => {}
                }
                continue;
            }
            "enumerators" if matches!(class_name, "CInt" | "CFloat") => match v {
                Value::Array(items) => Value::Array(
                    items
                        .iter()
                        .map(|it| match it {
                            Value::String(s) => {
                                coerce_num(s, class_name == "CInt").unwrap_or_else(|| it.clone())
                            }
                            other => other.clone(),
                        })
                        .collect(),
                ),
                other => other.clone(),
            },
            "requiredSubType" | "requiredContentFlag" => match v {
                Value::String(s) if s.contains(',') => {
                    let ints: Option<Vec<Value>> = s
                        .split(',')
                        .map(|x| x.trim().parse::<i64>().ok().map(Value::from))
                        .collect();
                    ints.map(Value::Array).unwrap_or_else(|| v.clone())
                }
                Value::String(s) => s
                    .trim()
                    .parse::<i64>()
                    .map(|i| json!([i]))
                    .unwrap_or_else(|_| v.clone()),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        if let Some(Value::Object(q)) = n.get_mut("_qualifiers") {
            q.insert(k.clone(), v);
        }
    }
}

fn coerce_num(s: &str, int: bool) -> Option<Value> {
    if int {
        let t = s.trim().replace('_', "");
        t.parse::<i64>().ok().map(Value::from)
    } else {
        py_float(s)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
    }
}

/// Sets a scalar node's value the way the CData value setters convert it.
fn set_scalar(cl: &Classes, n: &mut Value, v: &Value) {
    let class_name = n.get("_class").and_then(Value::as_str).unwrap_or("");
    let kind = cl.get(class_name).map(|f| f.kind);
    let converted = match (kind, v) {
        (Some(Kind::Int), Value::Number(x)) => x
            .as_i64()
            .map(Value::from)
            .or_else(|| x.as_f64().map(|f| Value::from(f.trunc() as i64))),
        (Some(Kind::Int), Value::Bool(b)) => Some(Value::from(*b as i64)),
        (Some(Kind::Int), Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (Some(Kind::Float), Value::Number(x)) => x
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (Some(Kind::Float), Value::String(s)) => py_float(s)
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        (Some(Kind::Bool), Value::Bool(b)) => Some(Value::Bool(*b)),
        (Some(Kind::Bool), Value::String(s)) => Some(Value::Bool(matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes"
        ))),
        (Some(Kind::Bool), Value::Number(x)) => Some(Value::Bool(x.as_f64() != Some(0.0))),
        (Some(Kind::String), Value::String(s)) => Some(Value::String(s.clone())),
        (Some(Kind::String), Value::Number(x)) => Some(Value::String(x.to_string())),
        (Some(Kind::String), Value::Bool(b)) => {
            Some(Value::String(if *b { "True" } else { "False" }.into()))
        }
        _ => None,
    };
    if let (Some(c), Some(m)) = (converted, n.as_object_mut()) {
        m.insert("_value".into(), c);
    }
}
