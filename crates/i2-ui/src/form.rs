//! The parameter form of a job, generated from its container JSON (the same tree
//! `jobs/{id}/container/` returns). Each input names its `_objectPath`; ui.js sends every
//! change to `set_parameter/` (or `upload_file_param/` for a new file) and shows the API's
//! validation message beside the input.

use std::collections::HashMap;

use maud::{Markup, html};
use serde_json::Value;

use crate::queries::FileRow;

/// What the form needs besides the tree.
pub struct FormContext<'a> {
    /// Parameters can change only while the job is Pending.
    pub editable: bool,
    /// Candidate files from earlier jobs, by MIME type.
    pub files_by_type: &'a HashMap<String, Vec<FileRow>>,
    pub project_uuid: &'a str,
}

fn qualifier<'a>(node: &'a Value, key: &str) -> Option<&'a Value> {
    node.get("_qualifiers")
        .and_then(|q| q.get(key))
        .filter(|v| !v.is_null())
}

fn qualifier_str<'a>(node: &'a Value, key: &str) -> Option<&'a str> {
    qualifier(node, key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && *s != "None")
}

fn class_of(node: &Value) -> &str {
    node.get("_class").and_then(Value::as_str).unwrap_or("")
}

fn base_of(node: &Value) -> &str {
    node.get("_baseClass").and_then(Value::as_str).unwrap_or("")
}

pub fn is_file(node: &Value) -> bool {
    base_of(node) == "CDataFile" || class_of(node).ends_with("DataFile")
}

fn path_of(node: &Value) -> &str {
    node.get("_objectPath")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn label_of(name: &str, node: &Value) -> String {
    qualifier_str(node, "guiLabel")
        .or_else(|| qualifier_str(node, "toolTip"))
        .map(str::to_string)
        .unwrap_or_else(|| name.to_string())
}

/// Children of a container or composite, in the container's order.
fn children(node: &Value) -> Vec<(&str, &Value)> {
    match node.get("_value") {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        _ => vec![],
    }
}

/// Containers shown, in this order; output and admin containers are not inputs.
const HIDDEN: &[&str] = &["outputData", "guiAdmin"];

/// The whole form for a container tree (`data.result` of `container/`).
pub fn render(tree: &Value, ctx: &FormContext) -> Markup {
    let mut sections: Vec<(&str, &Value)> = children(tree)
        .into_iter()
        .filter(|(n, _)| !HIDDEN.contains(n))
        .collect();
    sections.sort_by_key(|(n, _)| if *n == "inputData" { 0 } else { 1 });
    let mut counter = 0usize;
    html! {
        form #params novalidate {
            @for (name, node) in sections {
                fieldset.container {
                    legend { (section_title(name)) }
                    (render_children(node, ctx, &mut counter))
                }
            }
        }
    }
}

fn section_title(name: &str) -> String {
    match name {
        "inputData" => "Input data".into(),
        "controlParameters" => "Options".into(),
        other => other.to_string(),
    }
}

fn render_children(node: &Value, ctx: &FormContext, n: &mut usize) -> Markup {
    html! {
        @for (name, child) in children(node) {
            (render_node(name, child, ctx, n))
        }
    }
}

fn render_node(name: &str, node: &Value, ctx: &FormContext, n: &mut usize) -> Markup {
    *n += 1;
    let id = format!("p{n}");
    if is_file(node) {
        return file_input(name, node, ctx, &id);
    }
    match node.get("_value") {
        Some(Value::Array(items)) => list_input(name, node, items, ctx, n),
        Some(Value::Object(_)) => html! {
            fieldset.composite {
                legend { (label_of(name, node)) }
                (render_children(node, ctx, n))
            }
        },
        Some(v) => scalar_input(name, node, v, ctx, &id),
        None => html! {},
    }
}

/// A list with its items; while the job can change, buttons to add an item and to remove
/// each one (ui.js sends the whole new list to `set_parameter/`, as upstream's `CList.set`
/// takes it). `listMinLength` / `listMaxLength` bound what the buttons offer.
fn list_input(
    name: &str,
    node: &Value,
    items: &[Value],
    ctx: &FormContext,
    n: &mut usize,
) -> Markup {
    let bound = |key| qualifier(node, key).and_then(Value::as_u64);
    let min = bound("listMinLength").unwrap_or(0) as usize;
    let max = bound("listMaxLength").map(|m| m as usize);
    let label = label_of(name, node);
    let can_add = ctx.editable && max.is_none_or(|m| items.len() < m);
    let can_remove = ctx.editable && items.len() > min;
    let msg = format!("p{}-list-msg", *n);
    html! {
        fieldset.list data-path=(path_of(node)) data-count=(items.len()) {
            legend { (label) " (list of " (items.len()) ")" @if label != name { span.pname { " " (name) } } }
            @for (i, item) in items.iter().enumerate() {
                div.list-item data-index=(i) {
                    (render_node(&format!("Item {}", i + 1), item, ctx, n))
                    @if can_remove {
                        button type="button" data-action="list-remove" data-index=(i)
                            aria-label={"Remove item " (i + 1) " of " (label)} aria-describedby=(msg) { "Remove" }
                    }
                }
            }
            @if items.is_empty() { p.sub { "Empty list." } }
            @if can_add {
                button type="button" data-action="list-add" aria-describedby=(msg) { "Add an item" }
            }
            span.msg #(msg) role="alert" {}
        }
    }
}

fn help(node: &Value) -> Option<&str> {
    qualifier_str(node, "toolTip")
}

fn scalar_input(name: &str, node: &Value, value: &Value, ctx: &FormContext, id: &str) -> Markup {
    let path = path_of(node);
    let label = label_of(name, node);
    let base = base_of(node);
    let enums: Vec<&Value> = qualifier(node, "enumerators")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let menu: Vec<String> = qualifier(node, "menuText")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let shown = match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let msg = format!("{id}-msg");
    let min = qualifier(node, "min").map(Value::to_string);
    let max = qualifier(node, "max").map(Value::to_string);
    html! {
        div.field {
            @if base == "CBoolean" || class_of(node) == "CBoolean" {
                label.check for=(id) {
                    input #(id) type="checkbox" data-path=(path) data-kind="bool" checked[value.as_bool() == Some(true)]
                        disabled[!ctx.editable] aria-describedby=(msg);
                    " " (label)
                }
            } @else {
                label for=(id) { (label) @if label != name { span.pname { " " (name) } } }
                @if !enums.is_empty() {
                    select #(id) data-path=(path) data-kind=(kind_of(base)) disabled[!ctx.editable] aria-describedby=(msg) {
                        @if value.is_null() { option value="" { "—" } }
                        @for (i, e) in enums.iter().enumerate() {
                            @let ev = match e { Value::String(s) => s.clone(), other => other.to_string() };
                            @let text = menu.get(i).filter(|m| !m.is_empty()).cloned().unwrap_or_else(|| ev.clone());
                            option value=(ev) selected[ev == shown] { (text) }
                        }
                    }
                } @else if base == "CInt" || base == "CFloat" {
                    input #(id) type="number" step=(if base == "CInt" { "1" } else { "any" })
                        min=[min] max=[max] value=(shown) data-path=(path) data-kind=(kind_of(base))
                        disabled[!ctx.editable] aria-describedby=(msg);
                } @else {
                    input #(id) type="text" value=(shown) data-path=(path) data-kind="string"
                        disabled[!ctx.editable] aria-describedby=(msg);
                }
            }
            @if let Some(h) = help(node) { @if h != label { div.help { (h) } } }
            span.msg #(msg) role="alert" {}
        }
    }
}

fn kind_of(base: &str) -> &'static str {
    match base {
        "CInt" => "int",
        "CFloat" => "float",
        _ => "string",
    }
}

fn part<'a>(node: &'a Value, key: &str) -> &'a str {
    node.get("_value")
        .and_then(|v| v.get(key))
        .and_then(|v| v.get("_value"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn file_input(name: &str, node: &Value, ctx: &FormContext, id: &str) -> Markup {
    let path = path_of(node);
    let mime = qualifier_str(node, "mimeTypeName")
        .or_else(|| {
            node.get("_value")
                .and_then(|v| v.get("baseName"))
                .and_then(|b| qualifier_str(b, "mimeTypeName"))
        })
        .unwrap_or("");
    let exts: Vec<String> = node
        .get("_value")
        .and_then(|v| v.get("baseName"))
        .and_then(|b| qualifier(b, "fileExtensions"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|e| format!(".{e}"))
                .collect()
        })
        .unwrap_or_default();
    let current = part(node, "baseName");
    let candidates = ctx
        .files_by_type
        .get(mime)
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    let mtz = mime.starts_with("application/CCP4-mtz");
    let msg = format!("{id}-msg");
    html! {
        fieldset.file data-path=(path) data-class=(class_of(node)) data-mime=(mime) data-project-uuid=(ctx.project_uuid) data-mtz=(mtz) {
            @let label = label_of(name, node);
            legend { (label) @if label != name { span.pname { " " (name) } } }
            p.current { "Current file: " strong.current-name { @if current.is_empty() { "none" } @else { (current) } } }
            @if ctx.editable {
                div.field {
                    label for={(id) "-pick"} { "Use a file from this project" }
                    select #{(id) "-pick"} data-action="pick-file" aria-describedby=(msg) {
                        option value="" { @if candidates.is_empty() { "(no earlier file of this type)" } @else { "choose…" } }
                        @for f in candidates {
                            option value=(f.uuid) data-name=(f.name) data-rel=(rel_dir(f)) data-file-id=(f.id)
                                data-sub-type=[f.sub_type] data-content=[f.content] {
                                (f.name) " — job " (f.job_number) @if !f.annotation.is_empty() { " — " (f.annotation) }
                            }
                        }
                    }
                }
                div.field {
                    label for={(id) "-upload"} { "or upload a file from this computer" }
                    input #{(id) "-upload"} type="file" data-action="choose-upload" accept=(exts.join(","));
                }
                div.columns hidden {
                    p { "Choose the columns to use (for example F and SIGF):" }
                    div.column-list {}
                }
                button type="button" data-action="upload-file" hidden { "Upload" }
                progress max="100" value="0" hidden {}
            }
            span.msg #(msg) role="alert" {}
        }
    }
}

/// Where a file lives relative to the project directory (the file's `relPath`).
fn rel_dir(f: &FileRow) -> String {
    if f.directory == 2 {
        return "CCP4_IMPORTED_FILES".into();
    }
    i2_core::job_number::JobNumber::parse(&f.job_number)
        .map(|n| n.rel_dir().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// MIME types of every file input in the tree, for fetching candidates.
pub fn file_types(tree: &Value, out: &mut Vec<String>) {
    if is_file(tree) {
        if let Some(m) = qualifier_str(tree, "mimeTypeName").or_else(|| {
            tree.get("_value")
                .and_then(|v| v.get("baseName"))
                .and_then(|b| qualifier_str(b, "mimeTypeName"))
        }) && !out.iter().any(|o| o == m)
        {
            out.push(m.to_string());
        }
        return;
    }
    match tree.get("_value") {
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if k != "outputData" {
                    file_types(v, out);
                }
            }
        }
        Some(Value::Array(a)) => a.iter().for_each(|v| file_types(v, out)),
        _ => {}
    }
}
