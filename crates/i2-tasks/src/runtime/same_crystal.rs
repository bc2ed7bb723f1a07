//! `sameCrystalAs`: an input reflection file that names a partner (`<sameCrystalAs>F_SIGF`)
//! must have a unit cell compatible with the partner's, when both are set (code 210, an
//! error, class the task name). As upstream: the files are the data-file descendants of
//! `inputData` (through lists and nested containers) named by their last path segment; a
//! pair is checked once; only MTZ files have a comparable content (their header `CELL`); the
//! tolerance is 1 Å. A declaring file with a `sameCrystalLevel` qualifier (text, from the
//! def.xml) is not checked: upstream's comparison fails on the text and skips the pair. A file
//! that cannot be read skips the check silently.

use std::collections::HashSet;

use i2_formats::mtz::{Cell, MtzHeader};
use serde_json::Value;

use super::cells::same_cell;
use crate::jobparams::{JobParams, child, path_of};
use crate::paramsxml::{children_of, is_file, py_float_repr};
use crate::validity::{FileContext, Finding, Severity};

/// File classes whose content upstream compares (its `CMtzData` family).
const MTZ_CLASSES: &[&str] = &[
    "CMtzDataFile",
    "CObsDataFile",
    "CPhsDataFile",
    "CMapCoeffsDataFile",
    "CFreeRDataFile",
    "CMiniMtzDataFile",
    "CUnmergedMtzDataFile",
    "CUnmergedDataFile",
];

/// `(name, node)` of every data file under `node`, in container order.
fn data_files<'a>(node: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    for (name, c) in children_of(node) {
        if is_file(c) {
            out.push((name.to_string(), c));
        } else if let Some(items) = c.get("_value").and_then(Value::as_array) {
            for (i, item) in items.iter().enumerate() {
                if is_file(item) {
                    let last = path_of(item).rsplit('.').next().unwrap_or("");
                    let n = if last.is_empty() {
                        format!("{name}[{i}]")
                    } else {
                        last.to_string()
                    };
                    out.push((n, item));
                } else {
                    data_files(item, out);
                }
            }
        } else {
            data_files(c, out);
        }
    }
}

fn qualifier<'a>(node: &'a Value, q: &str) -> Option<&'a Value> {
    node.get("_qualifiers")
        .and_then(|m| m.get(q))
        .filter(|v| !v.is_null())
}

/// The header cell of an MTZ file parameter, when it is one and can be read.
fn mtz_cell(node: &Value, path: &str) -> Option<Cell> {
    let class = node.get("_class").and_then(Value::as_str).unwrap_or("");
    if !MTZ_CLASSES.contains(&class) {
        return None;
    }
    MtzHeader::read(std::path::Path::new(path)).ok()?.cell
}

/// The cell as upstream prints it: `(a, b, c, alpha, beta, gamma)` with Python float reprs.
fn cell_text(c: &Cell) -> String {
    let parts = [c.a, c.b, c.c, c.alpha, c.beta, c.gamma].map(py_float_repr);
    format!("({})", parts.join(", "))
}

pub(crate) fn check(params: &JobParams, files: &FileContext) -> Vec<Finding> {
    let Some(input) = child(params.container_json(), "inputData") else {
        return Vec::new();
    };
    let mut all = Vec::new();
    data_files(input, &mut all);
    let mut checked = HashSet::new();
    let mut out = Vec::new();
    for (name, node) in &all {
        let Some(partner_name) = qualifier(node, "sameCrystalAs")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty())
        else {
            continue;
        };
        let mut key = [name.as_str(), partner_name];
        key.sort_unstable();
        if !checked.insert(key.map(str::to_string)) {
            continue;
        }
        let Some(path) = (files.full_path)(node) else {
            continue;
        };
        let partner = all
            .iter()
            .find(|(n, _)| n == partner_name)
            .map(|(_, p)| *p)
            .or_else(|| child(input, partner_name).filter(|p| is_file(p)));
        let Some(partner) = partner else { continue };
        let Some(partner_path) = (files.full_path)(partner) else {
            continue;
        };
        let (Some(cell), Some(partner_cell)) =
            (mtz_cell(node, &path), mtz_cell(partner, &partner_path))
        else {
            continue;
        };
        // A `sameCrystalLevel` from a def.xml is text; upstream's arithmetic on it fails and
        // the failure skips the check (observed: freerflag never reports 210).
        let tolerance = match qualifier(node, "sameCrystalLevel") {
            Some(Value::String(t)) if !t.is_empty() => continue,
            Some(v) => v.as_f64().filter(|t| *t != 0.0).unwrap_or(1.0),
            None => 1.0,
        };
        if same_cell(&cell, &partner_cell, tolerance) == Some(false) {
            out.push(Finding {
                class: params.task_name().to_string(),
                code: 210,
                description: format!(
                    "Incompatible unit cells between {name} {} and {partner_name} {}",
                    cell_text(&cell),
                    cell_text(&partner_cell)
                ),
                severity: Severity::Error,
                object_path: path_of(node).to_string(),
            });
        }
    }
    out
}
