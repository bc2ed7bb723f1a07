//! Hostile or broken installations: errors with context, never a panic or a hang.

use std::path::{Path, PathBuf};

use i2_tasks::classes::Classes;
use i2_tasks::{Catalogue, Error};

/// A throw-away package directory with a registry of one task `t` whose def.xml is `def`.
fn package(name: &str, def: &[u8]) -> PathBuf {
    let root = std::env::temp_dir().join(format!("i2tasks-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let script = root.join("wrappers/t/script");
    std::fs::create_dir_all(root.join("core")).expect("mkdir");
    std::fs::create_dir_all(&script).expect("mkdir");
    std::fs::write(
        root.join("core/tasks.py"),
        "TASKS = {\n  \"t\": Task(title=\"T\", defXmlPath=\"wrappers/t/script/t.def.xml\"),\n}\n",
    )
    .expect("write");
    std::fs::write(script.join("t.def.xml"), def).expect("write");
    root
}

fn include(rel: &str, base: &str) -> String {
    format!(
        "<file><CI2XmlDataFile><project>CCP4I2_TOP</project><relPath>{rel}</relPath><baseName>{base}</baseName></CI2XmlDataFile></file>"
    )
}

/// A hand-written class table with just the classes these tests name.
const SMALL_TABLE: &str = r#"{
  "CString": {"module": "m", "base": "CData", "kind": "string", "mro": ["CString", "CData"], "value": ""},
  "CInt": {"module": "m", "base": "CData", "kind": "int", "mro": ["CInt", "CData"], "value": 0},
  "CList": {"module": "m", "base": "CData", "kind": "list", "mro": ["CList", "CData"], "value": [],
            "item": {"class": "CString"}},
  "CContainer": {"module": "m", "base": "CContainer", "kind": "data", "mro": ["CContainer", "CData"]}
}"#;

fn definition(root: &Path) -> Result<i2_tasks::TaskDef, Error> {
    let table = root.join("classes.json");
    std::fs::write(&table, SMALL_TABLE).expect("write");
    Catalogue::with_classes(root, Classes::load(&table).expect("small table loads"))
        .expect("registry loads")
        .definition("t")
}

#[test]
fn include_loop_stops_at_the_depth_limit() {
    let def = format!(
        "<ccp4i2><ccp4i2_body id=\"t\">{}</ccp4i2_body></ccp4i2>",
        include("wrappers/t/script", "t.def.xml")
    );
    let root = package("loop", def.as_bytes());
    assert!(matches!(definition(&root), Err(Error::IncludeDepth { .. })));
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn include_fan_out_is_bounded() {
    let inc = include("wrappers/t/script", "t.def.xml");
    let def = format!("<ccp4i2><ccp4i2_body id=\"t\">{inc}{inc}{inc}</ccp4i2_body></ccp4i2>");
    let root = package("fanout", def.as_bytes());
    let t = std::time::Instant::now();
    assert!(matches!(definition(&root), Err(Error::IncludeDepth { .. })));
    assert!(t.elapsed().as_secs() < 5);
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn include_outside_the_package_is_refused() {
    let def = format!(
        "<ccp4i2><ccp4i2_body id=\"t\">{}</ccp4i2_body></ccp4i2>",
        include("../../etc", "passwd")
    );
    let root = package("escape", def.as_bytes());
    let err = definition(&root).expect_err("refused");
    assert!(err.to_string().contains("leaves the package"), "{err}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn entities_and_bad_bytes_are_errors() {
    let cases: [(&str, &[u8]); 3] = [
        (
            "doctype",
            b"<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>",
        ),
        (
            "utf8",
            b"<ccp4i2><ccp4i2_body id=\"t\">\xff\xfe</ccp4i2_body></ccp4i2>",
        ),
        (
            "truncated",
            b"<ccp4i2><ccp4i2_body id=\"t\"><container id=\"inputData\">",
        ),
    ];
    for (name, def) in cases {
        let root = package(name, def);
        let err = definition(&root).expect_err(name);
        // The message names the file.
        assert!(err.to_string().contains("t.def.xml"), "{name}: {err}");
        let _ = std::fs::remove_dir_all(root);
    }
}

#[test]
fn unknown_class_and_missing_pieces_still_give_a_container() {
    let def = "<ccp4i2><ccp4i2_body id=\"t\"><container id=\"inputData\">\
        <content id=\"A\"><className>CNoSuchClass</className><qualifiers><default>x</default></qualifiers></content>\
        <content id=\"B\"><className>CList</className><qualifiers><listMinLength>99999999999</listMinLength></qualifiers>\
        <subItem><className>CInt</className></subItem></content>\
        <content><className>CInt</className></content></container></ccp4i2_body></ccp4i2>";
    let root = package("unknown", def.as_bytes());
    let json = definition(&root).expect("parses").container_json("t");
    let input = &json["_value"]["inputData"]["_value"];
    assert_eq!(input["A"]["_class"], "CString");
    assert_eq!(input["A"]["_value"], "x");
    assert!(
        input["B"]["_value"]
            .as_array()
            .is_some_and(|a| a.len() <= 1000)
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn missing_class_cache_says_how_to_create_it() {
    let root = package("nocache", b"<ccp4i2/>");
    let cache = root.join("cache");
    let err = Catalogue::load(&root, &cache).expect_err("no cache yet");
    assert!(matches!(err, Error::NoClassCache { .. }), "{err}");
    assert!(err.to_string().contains("--refresh"), "{err}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn broken_class_cache_is_an_error_naming_the_file() {
    let root = package("badcache", b"<ccp4i2/>");
    let cache = root.join("cache");
    std::fs::create_dir_all(&cache).expect("mkdir");
    let path = i2_tasks::classes::cache_path(&root, &cache).expect("fingerprint");
    for bad in ["{not json", "{}", "[1,2]"] {
        std::fs::write(&path, bad).expect("write");
        let err = Catalogue::load(&root, &cache).expect_err("broken cache");
        assert!(err.to_string().contains("cdata_classes-"), "{err}");
    }
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn extraction_with_a_missing_python_fails_cleanly() {
    let root = package("nopython", b"<ccp4i2/>");
    let err = i2_tasks::classes::generate_cache(
        Path::new("/nonexistent/python3"),
        &root,
        &root.join("cache"),
    )
    .expect_err("no python");
    assert!(matches!(err, Error::Extract { .. }), "{err}");
    let _ = std::fs::remove_dir_all(root);
}
