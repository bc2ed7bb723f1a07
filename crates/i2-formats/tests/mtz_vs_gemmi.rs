//! MTZ header reading compared with gemmi: live when `I2_TEST_PYTHON` names a python with
//! gemmi (every MTZ of the ccp4i2 package and ../shared), otherwise against the committed
//! `fixtures/mtz_expected.json` (generated from gemmi for the files shipped in ccp4i2).

mod common;

use std::path::Path;
use std::process::Command;

use i2_formats::mtz::{MtzHeader, resolution_range};
use serde_json::Value;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol || (a.is_nan() && b.is_nan())
}

/// Differences between our reading of `path` and gemmi's facts (empty when they agree).
fn compare(path: &Path, want: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let h = match MtzHeader::read(path) {
        Ok(h) => h,
        Err(e) => return vec![format!("read failed: {e}")],
    };
    let cell = h.cell.unwrap_or_default();
    let got_cell = [cell.a, cell.b, cell.c, cell.alpha, cell.beta, cell.gamma];
    for (i, g) in got_cell.iter().enumerate() {
        let w = want["cell"][i].as_f64().unwrap_or(f64::NAN);
        if !close(*g, w, 1e-3) {
            diffs.push(format!("cell[{i}] {g} != {w}"));
        }
    }
    if want["spacegroup"].as_str() != h.spacegroup_hm.as_deref() {
        diffs.push(format!(
            "spacegroup {:?} != {}",
            h.spacegroup_hm, want["spacegroup"]
        ));
    }
    if want["nreflections"].as_u64() != Some(h.nreflections as u64) {
        diffs.push(format!(
            "nreflections {} != {}",
            h.nreflections, want["nreflections"]
        ));
    }
    if want["merged"].as_bool() != Some(h.is_merged()) {
        diffs.push(format!("merged {} != {}", h.is_merged(), want["merged"]));
    }
    let cols: Vec<Value> = h
        .columns
        .iter()
        .map(|c| serde_json::json!([c.label, c.kind, c.dataset_id]))
        .collect();
    if want["columns"].as_array() != Some(&cols) {
        diffs.push(format!("columns {cols:?} != {}", want["columns"]));
    }
    let ds: Vec<(i64, String, String, String)> = h
        .datasets
        .iter()
        .map(|d| {
            (
                d.id as i64,
                d.project.clone(),
                d.crystal.clone(),
                d.dataset.clone(),
            )
        })
        .collect();
    let want_ds: Vec<(i64, String, String, String)> = want["datasets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let s = |i: usize| d[i].as_str().unwrap_or("").to_string();
            (d[0].as_i64().unwrap_or(-1), s(1), s(2), s(3))
        })
        .collect();
    if ds != want_ds {
        diffs.push(format!("datasets {ds:?} != {want_ds:?}"));
    }
    match resolution_range(path, &h) {
        Ok(Some((lo, hi))) => {
            let (wl, wh) = (
                want["resolution"][0].as_f64(),
                want["resolution"][1].as_f64(),
            );
            if !close(lo, wl.unwrap_or(f64::NAN), 1e-3) || !close(hi, wh.unwrap_or(f64::NAN), 1e-3)
            {
                diffs.push(format!("resolution ({lo}, {hi}) != {}", want["resolution"]));
            }
        }
        other => diffs.push(format!("resolution {other:?}")),
    }
    diffs
}

#[test]
fn committed_gemmi_facts_match_for_ccp4i2_test_data() {
    let root = common::ccp4i2_root();
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(common::fixture("mtz_expected.json")).expect("fixture"),
    )
    .expect("fixture is JSON");
    let map = expected.as_object().expect("object");
    assert!(!map.is_empty());
    let mut failures = Vec::new();
    for (rel, want) in map {
        let path = root.join(rel);
        assert!(
            path.is_file(),
            "{} missing from the ccp4i2 package",
            path.display()
        );
        let d = compare(&path, want);
        if !d.is_empty() {
            failures.push(format!("{rel}: {}", d.join("; ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        map.len(),
        failures.join("\n")
    );
}

#[test]
fn live_gemmi_comparison_when_python_is_available() {
    let Ok(python) = std::env::var("I2_TEST_PYTHON") else {
        eprintln!(
            "I2_TEST_PYTHON not set: live gemmi comparison skipped (committed facts still checked)"
        );
        return;
    };
    let mut files = common::files_with_ext(&common::ccp4i2_root(), "mtz");
    match common::shared_demo_data() {
        Some(shared) => files.extend(common::files_with_ext(&shared, "mtz")),
        None => eprintln!("../shared/fixtures not found: its MTZ files skipped"),
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gemmi_mtz_facts.py");
    let out = Command::new(&python)
        .arg(&script)
        .args(&files)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "gemmi script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts: Value = serde_json::from_slice(&out.stdout).expect("gemmi JSON");
    let mut failures = Vec::new();
    for f in &files {
        let want = &facts[f.to_string_lossy().as_ref()];
        let d = compare(f, want);
        if !d.is_empty() {
            failures.push(format!("{}: {}", f.display(), d.join("; ")));
        }
    }
    eprintln!("compared {} MTZ files with gemmi", files.len());
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

/// Mini-MTZ files as upload_file_param needs them: F,SIGF and FREER split out of the freerflag
/// test data, read back by us (and by gemmi when available) with identical values.
#[test]
fn mini_mtz_round_trip() {
    use i2_formats::mtz::{read_columns, write_columns};
    let data = common::ccp4i2_root().join("wrappers/freerflag/test_data");
    let tmp = std::env::temp_dir().join(format!("i2-formats-mini-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let cases = [
        ("rnase25_fsigf.mtz", vec![("F", "F"), ("SIGF", "SIGF")]),
        ("rnase25_freer.mtz", vec![("FREER", "FREER")]),
        ("rnase25.mtz", vec![("FNAT", "F"), ("SIGFNAT", "SIGF")]),
    ];
    for (file, pairs) in cases {
        let src = data.join(file);
        let dst = tmp.join(format!("mini_{file}"));
        let out = write_columns(&src, &dst, &pairs).expect("write mini-MTZ");
        let sh = MtzHeader::read(&src).expect("source header");
        assert_eq!(out.nreflections, sh.nreflections);
        assert_eq!(out.cell, sh.cell);
        assert_eq!(out.spacegroup_hm, sh.spacegroup_hm);
        let labels: Vec<&str> = out.columns.iter().map(|c| c.label.as_str()).collect();
        let want: Vec<&str> = ["H", "K", "L"]
            .into_iter()
            .chain(pairs.iter().map(|p| p.1))
            .collect();
        assert_eq!(labels, want);
        let src_idx: Vec<usize> = ["H", "K", "L"]
            .into_iter()
            .chain(pairs.iter().map(|p| p.0))
            .map(|l| sh.column_index(l).expect("label"))
            .collect();
        let a = read_columns(&src, &sh, &src_idx).expect("source data");
        let b =
            read_columns(&dst, &out, &(0..src_idx.len()).collect::<Vec<_>>()).expect("mini data");
        for (x, y) in a.iter().zip(&b) {
            assert!(
                x.iter()
                    .zip(y)
                    .all(|(p, q)| p.to_bits() == q.to_bits() || (p.is_nan() && q.is_nan()))
            );
        }
        if let Ok(python) = std::env::var("I2_TEST_PYTHON") {
            let script = "import gemmi,sys,math\nm=gemmi.read_mtz_file(sys.argv[1]);s=gemmi.read_mtz_file(sys.argv[2])\n\
                for new,old in zip(sys.argv[3::2],sys.argv[4::2]):\n\
                \x20a=m.column_with_label(new).array;b=s.column_with_label(old).array\n\
                \x20assert len(a)==len(b) and all(x==y or (math.isnan(x) and math.isnan(y)) for x,y in zip(a,b)),new\n\
                print(m.spacegroup.hm, m.nreflections)";
            let mut cmd = Command::new(&python);
            cmd.arg("-c").arg(script).arg(&dst).arg(&src);
            for (old, new) in &pairs {
                cmd.arg(new).arg(old);
            }
            let o = cmd.output().expect("python");
            assert!(
                o.status.success(),
                "gemmi disagrees on {file}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
