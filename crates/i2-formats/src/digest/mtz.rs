//! MTZ digest. Field meanings follow upstream 3.0.1 (facts observed on its answers):
//! `datasetName`/`crystalName`/`wavelength` come from the first dataset other than HKL_base;
//! `merged` is always true; `numberLattices` and `batchs` are only filled when a column is
//! labelled `BATCH`; `hasFreeR`/`freerValid` follow the first FreeR column group.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::mtz::groups::{GroupColumn, column_groups, data_columns};
use crate::mtz::{MtzHeader, resolution_range};

pub fn digest(path: &Path) -> Result<Value> {
    let h = MtzHeader::read(path)?;
    let (low, high) = resolution_range(path, &h)?.unwrap_or((0.0, 0.0));
    let first_real = h.datasets.iter().find(|d| d.dataset != "HKL_base");
    let has_batch = h.columns.iter().any(|c| c.label == "BATCH");
    let mut d = Map::new();
    d.insert("format".into(), json!("mtz"));
    d.insert("merged".into(), json!(true));
    d.insert("cell".into(), h.cell.unwrap_or_default().to_json());
    d.insert(
        "spaceGroup".into(),
        json!(h.spacegroup_hm.clone().unwrap_or_default()),
    );
    d.insert("lowRes".into(), json!(low));
    d.insert("highRes".into(), json!(high));
    d.insert(
        "datasetName".into(),
        json!(first_real.map_or("", |x| x.dataset.as_str())),
    );
    d.insert(
        "crystalName".into(),
        json!(first_real.map_or("", |x| x.crystal.as_str())),
    );
    d.insert(
        "wavelength".into(),
        json!(first_real.map_or(0.0, |x| x.wavelength)),
    );
    d.insert("numberofdatasets".into(), json!(h.datasets.len()));
    d.insert(
        "numberLattices".into(),
        json!(if has_batch { h.batches.len() } else { 0 }),
    );
    d.insert(
        "batchs".into(),
        json!(if has_batch {
            compact_ranges(&h.batches)
        } else {
            String::new()
        }),
    );
    // Upstream stops filling the digest at the first column whose dataset id is not declared
    // (its own mini-MTZ files can have such columns); reproduce that shape.
    let broken = h
        .columns
        .iter()
        .any(|c| c.kind != "H" && h.dataset(c.dataset_id).is_none());
    let cols = if broken { Vec::new() } else { data_columns(&h) };
    d.insert(
        "listOfColumns".into(),
        Value::Array(cols.iter().map(column_json).collect()),
    );
    let list = |f: &dyn Fn(&crate::mtz::Dataset) -> Value| -> Value {
        if broken {
            json!([])
        } else {
            Value::Array(h.datasets.iter().map(f).collect())
        }
    };
    d.insert("datasets".into(), list(&|x| json!(x.dataset)));
    d.insert("crystalNames".into(), list(&|x| json!(x.crystal)));
    d.insert("wavelengths".into(), list(&|x| json!(x.wavelength)));
    d.insert("knowncell".into(), json!(!broken));
    d.insert("knownwavelength".into(), json!(!broken));
    let groups = column_groups(&cols);
    let freer = groups
        .iter()
        .find(|g| g.kind == crate::mtz::groups::GroupKind::FreeR);
    d.insert("hasFreeR".into(), json!(freer.is_some()));
    d.insert("freerValid".into(), json!(freer.is_some()));
    d.insert("freerWarnings".into(), json!([]));
    if let Some(g) = freer {
        d.insert(
            "freerColumnLabel".into(),
            json!(g.columns.first().map(|c| c.label.clone())),
        );
    }
    let groups_json = groups
        .iter()
        .map(|g| {
            json!({
                "columnGroupType": g.kind.name(),
                "contentFlag": g.content_flag,
                "dataset": g.dataset,
                "selected": false,
                "columnList": g.columns.iter().map(column_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    d.insert("columnGroups".into(), Value::Array(groups_json));
    Ok(Value::Object(d))
}

fn column_json(c: &GroupColumn) -> Value {
    json!({"columnLabel": c.label, "columnType": c.kind, "dataset": c.dataset, "groupIndex": c.dataset_id})
}

/// Sorted batch numbers as runs: `1-5, 302-305`, a lone number on its own.
pub fn compact_ranges(batches: &[i32]) -> String {
    let mut v = batches.to_vec();
    v.sort_unstable();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let start = v[i];
        let mut end = start;
        while i + 1 < v.len() && v[i + 1] == end.saturating_add(1) {
            i += 1;
            end = v[i];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::compact_ranges;

    #[test]
    fn batch_ranges() {
        assert_eq!(compact_ranges(&[3, 1, 2, 5, 302, 303]), "1-3, 5, 302-303");
        assert_eq!(compact_ranges(&[]), "");
    }
}
