//! Digest of an mmCIF reflection file: upstream's reflection-file shape (mostly defaults for
//! a CIF) with `format: "mmcif"` and one `rblock_infos` entry per reflection block.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::Result;
use crate::sfcif::{self, BlockInfo, Details, FreerStatus};

/// NaN has no JSON form; upstream would fail to render it, we give null.
fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

fn list(v: &[f64]) -> Value {
    Value::Array(
        v.iter()
            .map(|x| {
                if x.fract() == 0.0 && x.is_finite() {
                    json!(*x as i64)
                } else {
                    num(*x)
                }
            })
            .collect(),
    )
}

/// NumPy's `repr` of a 1-D float64 array of whole numbers (upstream puts the FreeR flag array
/// itself into the digest, which turns it into this text): fixed notation `0.`, right-aligned
/// to a common width, wrapped at 75 columns, and summarised past 1,000 items as NumPy 2 does.
pub fn numpy_repr(v: &[f64]) -> String {
    if v.is_empty() {
        return "array([], dtype=float64)".into();
    }
    let summarise = v.len() > 1000;
    let shown: Vec<f64> = if summarise {
        v[..3].iter().chain(&v[v.len() - 3..]).copied().collect()
    } else {
        v.to_vec()
    };
    let text = |x: f64| format!("{}.", x as i64);
    let width = shown.iter().map(|x| text(*x).len()).max().unwrap_or(1);
    let words: Vec<String> = shown
        .iter()
        .map(|x| format!("{:>width$}", text(*x)))
        .collect();
    let suffix = if summarise {
        format!(", shape=({},))", v.len())
    } else {
        ")".to_string()
    };
    let line_width = 75 - suffix.len();
    let elem_width = line_width - 1;
    let indent = " ".repeat("array([".len());
    let (mut s, mut line) = (String::new(), indent.clone());
    let push = |s: &mut String, line: &mut String, word: &str| {
        if line.len() + word.len() > elem_width && line.len() > indent.len() {
            s.push_str(line.trim_end());
            s.push('\n');
            *line = indent.clone();
        }
        line.push_str(word);
    };
    let mut items: Vec<&str> = words.iter().map(String::as_str).collect();
    if summarise {
        items.insert(3, "...");
    }
    let last = items.len() - 1;
    for (i, w) in items.iter().enumerate() {
        push(&mut s, &mut line, w);
        if i != last {
            line.push_str(", ");
        }
    }
    s.push_str(&line);
    format!("array([{}]{suffix}", &s[indent.len()..])
}

fn repr(b: &BlockInfo) -> String {
    format!(
        "<gemmi.ReflnBlock {} with {} x {} loop>",
        b.name, b.loop_shape.0, b.loop_shape.1
    )
}

fn freer_json(f: &FreerStatus, rblock: &str) -> Value {
    let mut m = Map::new();
    m.insert("OK".into(), json!(f.ok));
    m.insert("rblock".into(), json!(rblock));
    m.insert("statussame".into(), json!(f.statussame));
    m.insert("rfreeflagsame".into(), json!(f.rfreeflagsame));
    m.insert("flagssame".into(), json!(f.flagssame));
    m.insert("freermissing".into(), json!(f.freermissing));
    if f.status_checked {
        m.insert("freerStatusType".into(), json!(f.status_type));
        // A status column of numbers is read like the flag column: a NumPy array too.
        let statuslist = match (f.status_type, f.statuslist.as_deref()) {
            (Some("integer"), Some(l)) => json!(numpy_repr(l)),
            (_, l) => l.map_or(Value::Null, list),
        };
        m.insert("statuslist".into(), statuslist);
    }
    if let Some(l) = &f.freerlist {
        m.insert("freerlist".into(), json!(numpy_repr(l)));
    }
    Value::Object(m)
}

fn block_json(b: &BlockInfo) -> Value {
    let rblock = repr(b);
    let sets: Vec<Value> = b
        .column_sets
        .iter()
        .map(|s| {
            json!({"columnlabels": s.labels, "flagpresent": s.present, "text": s.text,
                   "typecode": s.typecode, "OK": s.ok()})
        })
        .collect();
    let names: Map<String, Value> = b
        .column_sets
        .iter()
        .map(|s| (s.text.clone(), json!(s.labels)))
        .collect();
    let details = match &b.details {
        Details::NoCategory | Details::Unknown => Value::Null,
        Details::Inapplicable => json!(false),
        Details::Text(t) => json!(t),
    };
    let freer = b.freer.as_ref();
    json!({
        "OK": true,
        "rblock": rblock,
        "bname": b.name,
        "entry_id": b.entry_id,
        "unmerged": b.unmerged,
        "cell": b.cell.iter().map(|x| num(*x)).collect::<Vec<_>>(),
        "spacegroup_name_file": b.spacegroup_name_file,
        "spacegroup_name": b.spacegroup_name,
        "wavelength": num(b.wavelength),
        "havecolumnlabels": true,
        "columnlabels": b.columnlabels,
        "resolutionrange": [num(b.resolution.0), num(b.resolution.1)],
        "highres": num(b.resolution.1),
        "categories": b.categories,
        "reflnlooptype": b.refln_loop,
        "details": details,
        "labelsets": {"OK": b.labelsets_ok(), "columnsets": sets},
        "info": b.info(),
        "columnnames": names,
        "hklstatus": {
            "merged": b.hkl.merged, "oneasu": b.hkl.oneasu, "standardasu": b.hkl.standardasu,
            "anomlinepairs": b.hkl.anomlinepairs, "maxmultiplicity": b.hkl.maxmultiplicity,
        },
        "hklcheckformat": b.hkl.describe(),
        "nunique": b.nunique,
        "freerStatus": freer.map_or(Value::Null, |f| freer_json(f, &rblock)),
        "freerMissing": freer.map(|f| f.freermissing),
        "hasFreeR": b.has_freer(),
        "freerValid": freer.is_some_and(FreerStatus::valid),
        "freerWarnings": freer.map(FreerStatus::warnings).unwrap_or_default(),
        "typeCodes": b.column_sets.iter().map(|s| s.typecode).collect::<Vec<_>>(),
        "columnSetsText": b.column_sets.iter().map(|s| s.text.clone()).collect::<Vec<_>>(),
        "suitableForMerging": b.suitable_for_merging(),
    })
}

pub fn digest(path: &Path) -> Result<Value> {
    let f = sfcif::read(path)?;
    let mut d = Map::new();
    d.insert("format".into(), json!("mmcif"));
    d.insert("merged".into(), json!(true));
    d.insert("cell".into(), f.head.cell.unwrap_or_default().to_json());
    d.insert("knowncell".into(), json!(f.head.cell.is_some()));
    d.insert(
        "spaceGroup".into(),
        json!(f.head.spacegroup.clone().unwrap_or_default()),
    );
    d.insert("wavelength".into(), num(f.head.wavelength.unwrap_or(0.0)));
    d.insert("knownwavelength".into(), json!(f.head.wavelength.is_some()));
    for (k, v) in [
        ("batchs", json!("")),
        ("columnGroups", json!([])),
        ("crystalName", json!("")),
        ("crystalNames", json!([])),
        ("datasetName", json!("")),
        ("datasets", json!([])),
        ("listOfColumns", json!([])),
        ("wavelengths", json!([])),
        ("lowRes", json!(0.0)),
        ("highRes", json!(0.0)),
        ("numberLattices", json!(0)),
        ("numberofdatasets", json!(0)),
    ] {
        d.insert(k.into(), v);
    }
    let first_freer = f.blocks.iter().find(|b| b.has_freer());
    d.insert("hasFreeR".into(), json!(first_freer.is_some()));
    d.insert(
        "freerValid".into(),
        json!(
            first_freer
                .and_then(|b| b.freer.as_ref())
                .is_some_and(FreerStatus::valid)
        ),
    );
    d.insert(
        "freerWarnings".into(),
        json!(
            first_freer
                .and_then(|b| b.freer.as_ref())
                .map(FreerStatus::warnings)
                .unwrap_or_default()
        ),
    );
    d.insert(
        "rblock_infos".into(),
        Value::Array(f.blocks.iter().map(block_json).collect()),
    );
    Ok(Value::Object(d))
}

#[cfg(test)]
mod tests {
    use super::numpy_repr;

    #[test]
    fn numpy_reprs() {
        assert_eq!(numpy_repr(&[0.0, 1.0, 12.0]), "array([ 0.,  1., 12.])");
        assert_eq!(numpy_repr(&[]), "array([], dtype=float64)");
        let v: Vec<f64> = (0..40).map(|i| f64::from(i % 3 - 1)).collect();
        assert_eq!(
            numpy_repr(&v),
            "array([-1.,  0.,  1., -1.,  0.,  1., -1.,  0.,  1., -1.,  0.,  1., -1.,\n        \
             0.,  1., -1.,  0.,  1., -1.,  0.,  1., -1.,  0.,  1., -1.,  0.,\n        \
             1., -1.,  0.,  1., -1.,  0.,  1., -1.,  0.,  1., -1.,  0.,  1.,\n       -1.])"
        );
    }
}
