//! Reading parameter files (`input_params.xml`, `params.xml`, `*.params.xml`): the header fields and
//! the body's values by object path. Values stay text; typing them is the container's business.

use std::path::Path;

use crate::error::{Error, Result};
use crate::xml::{Element, parse_file};

#[derive(Debug, Clone)]
pub struct ParamsFile {
    /// `ccp4i2_header` children in document order (`function`, `pluginName`, `jobId`, ...).
    pub header: Vec<(String, String)>,
    /// The `ccp4i2_body` element (sub-containers such as `inputData`).
    pub body: Element,
}

impl ParamsFile {
    pub fn read(path: &Path) -> Result<ParamsFile> {
        let root = parse_file(path)?;
        Self::from_root(root).map_err(|m| Error::xml(path, m))
    }

    pub fn from_root(root: Element) -> Result<ParamsFile, String> {
        let header = root
            .child("ccp4i2_header")
            .map(|h| {
                h.children
                    .iter()
                    .map(|c| (c.tag.clone(), c.text_str().trim().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let body = root
            .children
            .iter()
            .find(|c| c.tag == "ccp4i2_body")
            .cloned()
            .ok_or("no ccp4i2_body element")?;
        Ok(ParamsFile { header, body })
    }

    pub fn header(&self, key: &str) -> Option<&str> {
        self.header
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Leaf values as (`container.PARAM.sub`, text). Repeated elements (list items) get `[i]`.
    pub fn values(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for c in &self.body.children {
            walk(c, &c.tag, &mut out);
        }
        out
    }
}

fn walk(el: &Element, path: &str, out: &mut Vec<(String, String)>) {
    if el.children.is_empty() {
        out.push((path.to_string(), el.text_str().trim().to_string()));
        return;
    }
    for (i, c) in el.children.iter().enumerate() {
        let repeated = el.children.iter().filter(|x| x.tag == c.tag).count() > 1;
        let p = if repeated {
            let index = el.children[..i].iter().filter(|x| x.tag == c.tag).count();
            format!("{path}[{index}]")
        } else {
            format!("{path}.{}", c.tag)
        };
        walk(c, &p, out);
    }
}
