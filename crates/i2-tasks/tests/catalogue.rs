//! The catalogue against upstream: task_lookup and expanded def.xml texts recorded from the reference.

mod common;

use common::{allow_list, catalogue, fixtures, read_json};

#[test]
fn task_lookup_matches_reference() {
    let cat = catalogue();
    let expected = read_json(&fixtures().join("task_lookup.json"));
    let ours = cat.task_lookup();
    assert_eq!(
        ours.as_object().map(|m| m.len()),
        expected.as_object().map(|m| m.len())
    );
    assert_eq!(ours, expected);
    // Same key order as upstream (registry order).
    let a: Vec<_> = ours
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .collect();
    let b: Vec<_> = expected
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .collect();
    assert_eq!(a, b);
}

#[test]
fn every_definition_parses() {
    let cat = catalogue();
    let mut failed = Vec::new();
    for t in cat.tasks() {
        if t.def_xml_path.is_none() {
            continue;
        }
        if let Err(e) = cat.definition(&t.name) {
            failed.push(format!("{}: {e}", t.name));
        }
    }
    // Some registry entries point at def.xml files the package does not ship.
    for f in &failed {
        eprintln!("definition: {f}");
    }
    assert!(failed.iter().all(|f| f.contains("reading")), "{failed:#?}");
}

#[test]
fn expanded_def_xml_matches_reference() {
    let cat = catalogue();
    let dir = fixtures().join("def_xml");
    let allowed = allow_list(&fixtures().join("def_xml_failing.txt"));
    let names = common::fixture_names(&dir, ".xml");
    let (mut ok, mut bad) = (0, Vec::new());
    for name in &names {
        let expected = std::fs::read_to_string(dir.join(format!("{name}.xml"))).expect("fixture");
        let ours = cat.definition(name).map(|d| d.expanded_def_xml());
        if ours.as_deref().ok() == Some(expected.as_str()) {
            ok += 1;
        } else {
            if std::env::var("I2TASKS_DIFF").as_deref() == Ok(name) {
                let _ = std::fs::write(
                    format!("/tmp/{name}.ours.xml"),
                    ours.unwrap_or_else(|e| e.to_string()),
                );
            }
            bad.push(name.clone());
        }
    }
    println!(
        "def_xml: {ok} of {} match the reference exactly",
        names.len()
    );
    let regressed: Vec<_> = bad.iter().filter(|n| !allowed.contains(n)).collect();
    assert!(regressed.is_empty(), "def_xml differs for {regressed:?}");
}

#[test]
fn params_files_read() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/ccp4i2-formats/mrbump_basic.test1.params.xml");
    if shared.exists() {
        let p = i2_tasks::params::ParamsFile::read(&shared).expect("reads");
        assert_eq!(p.header("function"), Some("PARAMS"));
        assert_eq!(p.header("pluginName"), Some("mrbump_basic"));
        let v = p.values();
        assert!(
            v.contains(&("inputData.F_SIGF.FP".into(), "FTOXD3".into())),
            "{v:?}"
        );
    }
    let dir = fixtures().join("input_params");
    let mut n = 0;
    for e in std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| e.ok())
    {
        let p = i2_tasks::params::ParamsFile::read(&e.path()).expect("reads");
        assert_eq!(p.header("function"), Some("PARAMS"));
        assert!(
            p.values()
                .iter()
                .any(|(k, v)| k == "guiAdmin.jobStatus" && v == "0")
        );
        n += 1;
    }
    assert!(n > 100);
    for e in glob_params(catalogue().root()) {
        i2_tasks::params::ParamsFile::read(&e).unwrap_or_else(|err| panic!("{err}"));
    }
}

/// `wrappers/*/test_data/*.params.xml` of the installation.
fn glob_params(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for w in std::fs::read_dir(root.join("wrappers"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for f in std::fs::read_dir(w.path().join("test_data"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if f.file_name()
                .to_str()
                .is_some_and(|n| n.ends_with(".params.xml"))
            {
                out.push(f.path());
            }
        }
    }
    out
}

/// The extraction runs with the installation's Python, names the cache after the installation's
/// fingerprint, and yields the facts the containers are built from.
#[test]
fn class_cache_is_generated_from_the_installation() {
    let (root, python) = common::installation();
    let dir = std::env::temp_dir().join(format!("i2-tasks-gen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path =
        i2_tasks::classes::generate_cache(&python, &root, &dir).unwrap_or_else(|e| panic!("{e}"));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    assert!(name.starts_with("cdata_classes-3.0.1-"), "{name}");
    assert_eq!(
        Some(path.clone()),
        i2_tasks::classes::cache_path(&root, &dir).ok()
    );
    let t = i2_tasks::classes::Classes::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(t.table().len() > 300, "{}", t.table().len());
    for name in [
        "CInt",
        "CString",
        "CList",
        "CPdbDataFile",
        "CCell",
        "CAsuContentSeqList",
    ] {
        assert!(t.get(name).is_some(), "{name}");
    }
    let obs = t.get("CObsDataFile").expect("CObsDataFile");
    assert_eq!(obs.base, "CDataFile");
    assert!(obs.isa("CDataFile"));
    // Two extractions know the same classes. (Upstream orders some children from a set filled in an
    // order that depends on garbage collection, so child order is not compared.)
    let again = catalogue();
    for (k, v) in t.table() {
        let w = again.classes().get(k).expect("same classes");
        assert_eq!((&v.base, v.kind, &v.mro), (&w.base, w.kind, &w.mro), "{k}");
    }
    assert!(
        !i2_tasks::classes::package_version(&root)
            .unwrap_or_default()
            .is_empty()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// `what_next/` of every task against the reference (fixtures/what_next.json): the plugin's
/// `WHATNEXT`, read from its source.
#[test]
fn what_next_matches_reference() {
    let cat = common::catalogue();
    let rec = common::read_json(&common::fixtures().join("what_next.json"));
    let tasks = rec["tasks"].as_object().expect("tasks");
    let mut bad = Vec::new();
    for (task, want) in tasks {
        let ours = match cat.what_next(task) {
            Some(list) => serde_json::json!({
                "Status": "Success",
                "result": list.iter().map(|t| {
                    let title = cat.task(t).and_then(|i| i.short_title.clone().or_else(|| i.title.clone()));
                    serde_json::json!({"taskName": t, "shortTitle": t, "title": title})
                }).collect::<Vec<_>>(),
            }),
            None => serde_json::json!({"Status": "Failed", "result": []}),
        };
        if &ours != want {
            bad.push(format!("{task}: ours {ours}, want {want}"));
        }
    }
    println!(
        "what_next: {} of {} tasks match",
        tasks.len() - bad.len(),
        tasks.len()
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
