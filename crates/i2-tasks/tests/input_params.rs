//! input_params.xml of fresh jobs against the reference recordings in fixtures/input_params/.
//! Header values come from each recording, so the whole file is compared. Upstream orders a few things
//! by iterating a Python set, so their order changes between server processes or even objects: the parts
//! of an AU-contents file (CAsuDataFile), the parts of a CImportUnmerged item, and the task's own
//! top-level containers after the four standard ones. Those are compared sorted by name. Prints how many tasks match; fails if a task not in
//! input_params_failing.txt differs. Set I2TASKS_DIFF=<task> to print that task's first difference.

mod common;

use common::{allow_list, catalogue, fixtures, header_of, normalised_params};
use i2_tasks::paramsxml::HeaderInfo;
use i2_tasks::xml::parse_str;

fn first_line_diff(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: ours {x:?} vs reference {y:?}", i + 1);
        }
    }
    format!(
        "lengths {} vs {} lines",
        a.lines().count(),
        b.lines().count()
    )
}

#[test]
fn input_params_match_reference() {
    let cat = catalogue();
    let dir = fixtures().join("input_params");
    let allowed = allow_list(&fixtures().join("input_params_failing.txt"));
    let names = common::fixture_names(&dir, ".xml");
    let show = std::env::var("I2TASKS_DIFF").unwrap_or_default();
    let (mut ok, mut exact, mut bad) = (Vec::new(), 0, Vec::new());
    for name in &names {
        let reference = std::fs::read_to_string(dir.join(format!("{name}.xml"))).expect("read");
        let header = header_of(&reference, name);
        let ours = match cat.definition(name) {
            Ok(def) => def.input_params_xml(&header),
            Err(e) => e.to_string(),
        };
        if let Ok(dump) = std::env::var("I2TASKS_DUMP") {
            let _ = std::fs::write(
                std::path::Path::new(&dump).join(format!("{name}.xml")),
                &ours,
            );
        }
        if ours == reference {
            exact += 1;
            ok.push(name.clone());
        } else if normalised_params(&ours).is_some()
            && normalised_params(&ours) == normalised_params(&reference)
        {
            ok.push(name.clone());
        } else {
            if show == *name || show == "all" {
                println!("{name}: {}", first_line_diff(&ours, &reference));
            }
            bad.push(name.clone());
        }
    }
    println!(
        "input_params: {} of {} match the reference ({exact} byte for byte)",
        ok.len(),
        names.len()
    );
    let regressed: Vec<_> = bad.iter().filter(|n| !allowed.contains(n)).collect();
    let fixed: Vec<_> = ok.iter().filter(|n| allowed.contains(n)).collect();
    if !fixed.is_empty() {
        println!("now matching, remove from input_params_failing.txt: {fixed:?}");
    }
    assert!(
        regressed.is_empty(),
        "input_params.xml differs for {regressed:?}"
    );
}

#[test]
fn header_fields_in_upstream_order() {
    let cat = catalogue();
    let def = cat.definition("freerflag").expect("freerflag");
    let h = HeaderInfo {
        task_name: "freerflag".into(),
        user: "u".into(),
        host: "h".into(),
        creation_time: i2_tasks::paramsxml::format_creation_time(0),
        ccp4i_version: "3.0.1".into(),
        project_name: "p".into(),
        project_id: "0d442491-934f-4e4d-b2ae-8f78a1f4ec6b".into(),
        job_number: "1".into(),
        job_id: "db806c7b-dc16-4f68-b178-a6acd05d15c8".into(),
    };
    let xml = def.input_params_xml(&h);
    let p = i2_tasks::params::ParamsFile::from_root(parse_str(&xml).expect("parses"))
        .expect("params file");
    let keys: Vec<&str> = p.header.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "function",
            "userId",
            "hostName",
            "creationTime",
            "ccp4iVersion",
            "pluginName",
            "OS",
            "projectName",
            "projectId",
            "jobNumber",
            "jobId"
        ]
    );
    assert_eq!(p.header("creationTime"), Some("00:00 01/Jan/70"));
}
