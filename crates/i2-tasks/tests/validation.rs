//! Validation of fresh jobs against the reference recordings in fixtures/validation_fresh.json
//! (`GET jobs/{id}/validation/` and `run_time_validation/` right after `create_task`).
//! Upstream's order of findings changes between server processes, so the findings are compared
//! as a sorted list. Prints how many tasks match; fails if a task not in validation_failing.txt
//! differs. Re-record with tests/record_validation.py.

mod common;

use std::path::Path;

use common::{allow_list, catalogue, fixtures, read_json};
use i2_tasks::JobParams;
use i2_tasks::validity::{FileContext, report_xml};
use i2_tasks::xml::parse_str;
use serde_json::Value;

/// The `<errorReport>` entries of a report, each as its fields in document order, sorted.
fn findings(xml: &str) -> Vec<Vec<(String, String)>> {
    let root = parse_str(xml).unwrap_or_else(|e| panic!("report does not parse: {e}\n{xml}"));
    assert_eq!(root.tag, "errorReportList");
    let mut out: Vec<Vec<(String, String)>> = root
        .children
        .iter()
        .map(|r| {
            r.children
                .iter()
                .map(|f| (f.tag.clone(), f.text.clone().unwrap_or_default()))
                .collect()
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fresh_job_validation_matches_reference() {
    let cat = catalogue();
    let rec = read_json(&fixtures().join("validation_fresh.json"));
    let allowed = allow_list(&fixtures().join("validation_failing.txt"));
    let show = std::env::var("I2TASKS_DIFF").unwrap_or_default();
    let no_path = |_: &Value| None;
    let exists = |p: &str| Path::new(p).exists();
    let ctx = FileContext {
        full_path: &no_path,
        exists: &exists,
        monomer_dir: None,
    };
    let tasks = rec["tasks"].as_object().expect("tasks");
    let (mut ok, mut bad) = (Vec::new(), Vec::new());
    for (task, want) in tasks {
        let Ok(def) = cat.definition(task) else {
            bad.push(task.clone());
            continue;
        };
        let params = JobParams::fresh(&def, task);
        let mut same = true;
        for (key, ours) in [
            ("validation", params.validity(&ctx)),
            ("run_time_validation", params.run_time_validity(&ctx)),
        ] {
            let got = findings(&report_xml(&ours));
            let expected = findings(want[key].as_str().expect("xml"));
            if got != expected {
                same = false;
                if show == *task || show == "all" {
                    println!("{task} {key}:\n  ours: {got:?}\n  want: {expected:?}");
                }
            }
        }
        if same {
            ok.push(task.clone());
        } else {
            bad.push(task.clone());
        }
    }
    println!(
        "validation of fresh jobs: {} of {} tasks match the reference",
        ok.len(),
        tasks.len()
    );
    let regressed: Vec<_> = bad.iter().filter(|n| !allowed.contains(n)).collect();
    let fixed: Vec<_> = ok.iter().filter(|n| allowed.contains(n)).collect();
    if !fixed.is_empty() {
        println!("now matching, remove from validation_failing.txt: {fixed:?}");
    }
    assert!(regressed.is_empty(), "validation differs for {regressed:?}");
}

#[test]
fn report_document_shape() {
    assert_eq!(report_xml(&[]), "<errorReportList />");
    let f = i2_tasks::validity::Finding {
        class: "CInt".into(),
        code: 101,
        description: "a < b & c".into(),
        severity: i2_tasks::validity::Severity::Error,
        object_path: String::new(),
    };
    assert_eq!(
        report_xml(&[f]),
        "<errorReportList>\n <errorReport>\n  <className>CInt</className>\n  <code>101</code>\n  \
         <description>a &lt; b &amp; c</description>\n  <severity>ERROR</severity>\n \
         </errorReport>\n</errorReportList>"
    );
}
