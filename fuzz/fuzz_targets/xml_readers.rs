//! Any bytes through the readers that take client or installation XML: the XML tree parser,
//! the params-file reader, the def.xml container builder, and a job's parameters loaded from
//! a params file (then validated and written back). None of them may panic or hang.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use i2_tasks::classes::Classes;
use i2_tasks::params::ParamsFile;
use i2_tasks::validity::FileContext;
use i2_tasks::xml::parse_str;
use i2_tasks::{JobParams, TaskDef};
use libfuzzer_sys::fuzz_target;

/// A small definition with every kind of parameter the readers handle.
const DEF: &str = r#"<?xml version="1.0"?>
<ccp4:ccp4i2 xmlns:ccp4="http://www.ccp4.ac.uk/ccp4ns">
 <ccp4i2_header><pluginName>fuzz</pluginName></ccp4i2_header>
 <ccp4i2_body id="fuzz">
  <container id="inputData">
   <content id="N"><className>CInt</className><qualifiers><min>1</min><max>9</max><allowUndefined>False</allowUndefined></qualifiers></content>
   <content id="X"><className>CFloat</className><qualifiers><default>0.5</default></qualifiers></content>
   <content id="S"><className>CString</className><qualifiers><onlyEnumerators>True</onlyEnumerators><enumerators>a,b</enumerators></qualifiers></content>
   <content id="B"><className>CBoolean</className></content>
   <content id="L"><className>CList</className><qualifiers><listMinLength>1</listMinLength></qualifiers><subItem><className>CString</className></subItem></content>
  </container>
  <container id="controlParameters"/>
 </ccp4i2_body>
</ccp4:ccp4i2>"#;

fn def() -> &'static TaskDef {
    static D: OnceLock<TaskDef> = OnceLock::new();
    D.get_or_init(|| {
        let root = parse_str(DEF).expect("the built-in definition parses");
        TaskDef::from_expanded(root, Path::new("fuzz.def.xml"), Classes::default())
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(root) = parse_str(text) {
        let _ = ParamsFile::from_root(root.clone());
        let d = TaskDef::from_expanded(root, Path::new("x.def.xml"), Classes::default());
        let _ = d.container_json("x");
        let _ = d.expanded_def_xml();
    }
    if let Ok(params) = JobParams::load(def(), text) {
        let none = |_: &serde_json::Value| None;
        let exists = |_: &str| false;
        let files = FileContext {
            full_path: &none,
            exists: &exists,
        };
        let _ = params.validity(&files);
        let _ = params.to_xml(&params.header_info());
        let _ = params.get_parameter("fuzz.inputData.N");
    }
});
