//! CCP4i2 ASU-contents files (`*.asu.xml`): a list of `CAsuContentSeq` entries under
//! `ccp4i2_body/seqList`, each with sequence, nCopies, polymerType, name and description.
//! A small tag scanner is enough for this fixed shape; no XML library is needed.

use std::path::Path;

use crate::error::{FormatError, Result};

const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsuSeq {
    pub name: String,
    pub description: String,
    pub polymer_type: String,
    pub n_copies: i64,
    /// As written, line breaks included (upstream counts them in `sequenceLength`).
    pub sequence: String,
}

pub fn read(path: &Path) -> Result<Vec<AsuSeq>> {
    let meta = std::fs::metadata(path).map_err(|e| FormatError::io(path, e))?;
    if meta.len() > MAX_BYTES {
        return Err(FormatError::NotThisFormat(
            "too large for an ASU-contents file".into(),
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&String::from_utf8_lossy(&bytes))
}

pub fn parse(xml: &str) -> Result<Vec<AsuSeq>> {
    if !xml.contains("<ccp4i2_body") {
        return Err(FormatError::NotThisFormat(
            "not a CCP4i2 XML file (no ccp4i2_body)".into(),
        ));
    }
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<CAsuContentSeq>") {
        let after = &rest[start + "<CAsuContentSeq>".len()..];
        let end = after
            .find("</CAsuContentSeq>")
            .ok_or_else(|| FormatError::Corrupt("unterminated CAsuContentSeq element".into()))?;
        let item = &after[..end];
        out.push(AsuSeq {
            name: element(item, "name").unwrap_or_default(),
            description: element(item, "description").unwrap_or_default(),
            polymer_type: element(item, "polymerType").unwrap_or_else(|| "PROTEIN".into()),
            n_copies: element(item, "nCopies")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(1),
            sequence: element(item, "sequence").unwrap_or_default(),
        });
        rest = &after[end..];
    }
    Ok(out)
}

/// Text of the first `<tag>…</tag>` in `s`, entities decoded; `<tag/>` gives "".
fn element(s: &str, tag: &str) -> Option<String> {
    if s.contains(&format!("<{tag}/>")) && !s.contains(&format!("<{tag}>")) {
        return Some(String::new());
    }
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = s.find(&open)? + open.len();
    let len = s[start..].find(&close)?;
    Some(unescape(&s[start..start + len]))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_entries_and_rejects_other_xml() {
        let x = "<a><ccp4i2_body><seqList><CAsuContentSeq><sequence>AB\nC</sequence><nCopies>2</nCopies>\
                 <polymerType>PROTEIN</polymerType><name>X &amp; Y</name></CAsuContentSeq></seqList></ccp4i2_body></a>";
        let v = parse(x).expect("asu");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "X & Y");
        assert_eq!(v[0].n_copies, 2);
        assert_eq!(v[0].sequence, "AB\nC");
        assert!(parse("<html/>").is_err());
        assert!(parse("<ccp4i2_body><CAsuContentSeq><name>x").is_err());
    }
}
