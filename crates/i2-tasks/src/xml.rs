//! A small, safe XML element tree in the ElementTree model (element text plus per-element tail text),
//! which is what upstream's def.xml handling and output are built on.
//!
//! Safety limits: files are size-capped before reading, nesting depth and element count are capped,
//! DOCTYPE declarations are refused (so no entity can be declared, let alone expanded), only the five
//! predefined entities and character references are resolved, and non-UTF-8 input is an error.
//! Comments and processing instructions are dropped, as ElementTree does.

use std::io::Read;
use std::path::Path;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{Error, Result};

pub const MAX_DEPTH: usize = 128;
pub const MAX_ELEMENTS: usize = 500_000;
/// Largest def.xml upstream ships is well under 1 MiB.
pub const MAX_FILE_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Element {
    /// Namespace URI of the element name, if it had a prefix or default namespace.
    pub ns: Option<String>,
    /// Local name.
    pub tag: String,
    pub attrs: Vec<(String, String)>,
    pub text: Option<String>,
    pub tail: Option<String>,
    pub children: Vec<Element>,
}

impl Element {
    pub fn new(tag: &str) -> Element {
        Element {
            tag: tag.to_string(),
            ..Element::default()
        }
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn set_attr(&mut self, name: &str, value: &str) {
        match self.attrs.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value.to_string(),
            None => self.attrs.push((name.to_string(), value.to_string())),
        }
    }

    /// First direct child with this (local) tag.
    pub fn child(&self, tag: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.tag == tag)
    }

    pub fn child_mut(&mut self, tag: &str) -> Option<&mut Element> {
        self.children.iter_mut().find(|c| c.tag == tag)
    }

    /// Text content, or "" when there is none.
    pub fn text_str(&self) -> &str {
        self.text.as_deref().unwrap_or("")
    }

    /// Depth-first search, the element itself included.
    pub fn find_all<'a>(&'a self, tag: &str, out: &mut Vec<&'a Element>) {
        for c in &self.children {
            if c.tag == tag {
                out.push(c);
            }
            c.find_all(tag, out);
        }
    }
}

/// Reads a whole file as UTF-8 text, refusing files over `limit` bytes.
pub fn read_text(path: &Path, limit: u64) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            limit,
        });
    }
    String::from_utf8(bytes).map_err(|e| Error::Utf8 {
        path: path.to_path_buf(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Reads and parses an XML file.
pub fn parse_file(path: &Path) -> Result<Element> {
    let text = read_text(path, MAX_FILE_BYTES)?;
    parse_str(&text).map_err(|m| Error::xml(path, m))
}

/// Parses a document and returns its root element.
pub fn parse_str(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    // Open elements; the root is kept in `stack[0]` until its end tag.
    let mut stack: Vec<Element> = Vec::new();
    let mut scopes: Vec<Vec<(String, String)>> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    loop {
        let pos = reader.buffer_position();
        let ev = reader
            .read_event()
            .map_err(|e| format!("at byte {pos}: {e}"))?;
        match ev {
            Event::Start(s) | Event::Empty(s) if root.is_some() => {
                let _ = s;
                return Err("content after the root element".into());
            }
            Event::Start(s) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(format!(
                        "nesting deeper than {MAX_DEPTH} or more than {MAX_ELEMENTS} elements"
                    ));
                }
                let (el, scope) = open(&s, &scopes)?;
                stack.push(el);
                scopes.push(scope);
            }
            Event::Empty(s) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(format!(
                        "nesting deeper than {MAX_DEPTH} or more than {MAX_ELEMENTS} elements"
                    ));
                }
                let (el, _) = open(&s, &scopes)?;
                close(el, &mut stack, &mut root);
            }
            Event::End(_) => {
                scopes.pop();
                let el = stack.pop().ok_or("unbalanced end tag")?;
                close(el, &mut stack, &mut root);
            }
            Event::Text(t) => push_text(&mut stack, &root, &t.xml10_content())?,
            Event::CData(t) => push_text(&mut stack, &root, &t.xml10_content())?,
            Event::GeneralRef(r) => {
                let s = if r.is_char_ref() {
                    let c = r
                        .resolve_char_ref()
                        .map_err(|e| format!("bad character reference: {e}"))?
                        .ok_or("bad character reference")?;
                    c.to_string()
                } else {
                    let name = r.xml10_content();
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("undefined entity &{name};"))?
                        .to_string()
                };
                push_text(&mut stack, &root, &s)?;
            }
            Event::DocType(_) => return Err("DOCTYPE declarations are not accepted".into()),
            Event::Comment(_) | Event::PI(_) | Event::Decl(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err("unexpected end of document (unclosed element)".into());
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn close(el: Element, stack: &mut [Element], root: &mut Option<Element>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

/// Appends character data to the open element's text, or to its last child's tail (ElementTree model).
fn push_text(stack: &mut [Element], root: &Option<Element>, s: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(el) => {
            let slot = match el.children.last_mut() {
                Some(last) => &mut last.tail,
                None => &mut el.text,
            };
            slot.get_or_insert_with(String::new).push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None if root.is_some() => Err("text after the root element".into()),
        None => Err("text before the root element".into()),
    }
}

/// Builds an element from a start tag, resolving its namespace prefix against the open scopes.
fn open(
    s: &BytesStart<'_>,
    scopes: &[Vec<(String, String)>],
) -> Result<(Element, Vec<(String, String)>), String> {
    let qname: String = s.name().as_ref().to_string();
    let mut scope = Vec::new();
    let mut attrs = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| format!("bad attribute in <{qname}>: {e}"))?;
        let key: String = a.key.as_ref().to_string();
        let value = a
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value in <{qname}>: {e}"))?
            .into_owned();
        if key == "xmlns" {
            scope.push((String::new(), value));
        } else if let Some(prefix) = key.strip_prefix("xmlns:") {
            scope.push((prefix.to_string(), value));
        } else {
            attrs.push((key, value));
        }
    }
    let (prefix, local) = match qname.split_once(':') {
        Some((p, l)) => (p.to_string(), l.to_string()),
        None => (String::new(), qname.clone()),
    };
    let lookup = |p: &str| {
        scope
            .iter()
            .rev()
            .chain(scopes.iter().rev().flat_map(|s| s.iter().rev()))
            .find(|(k, _)| k == p)
            .map(|(_, v)| v.clone())
    };
    let ns = lookup(&prefix);
    if !prefix.is_empty() && ns.is_none() {
        return Err(format!("undeclared namespace prefix in <{qname}>"));
    }
    let el = Element {
        ns: ns.filter(|u| !u.is_empty()),
        tag: local,
        attrs,
        ..Element::default()
    };
    Ok((el, scope))
}

/// ElementTree's `indent(elem, space)`: whitespace-only text and tails are replaced by newlines and indents.
pub fn indent(el: &mut Element, space: &str) {
    fn children(el: &mut Element, level: usize, space: &str) {
        let child_indent = format!("\n{}", space.repeat(level + 1));
        if el.text.as_deref().is_none_or(|t| t.trim().is_empty()) {
            el.text = Some(child_indent.clone());
        }
        let n = el.children.len();
        for (i, c) in el.children.iter_mut().enumerate() {
            if !c.children.is_empty() {
                children(c, level + 1, space);
            }
            if c.tail.as_deref().is_none_or(|t| t.trim().is_empty()) {
                c.tail = Some(if i + 1 == n {
                    format!("\n{}", space.repeat(level))
                } else {
                    child_indent.clone()
                });
            }
        }
    }
    if !el.children.is_empty() {
        children(el, 0, space);
    }
}

/// ElementTree's `tostring(elem)` (US-ASCII, no declaration): namespaces get `ns0`, `ns1`… prefixes
/// declared on the root, non-ASCII characters become character references.
pub fn to_string(el: &Element) -> String {
    let mut namespaces: Vec<String> = Vec::new();
    collect_ns(el, &mut namespaces);
    let mut out = String::new();
    write_el(el, &namespaces, true, &mut out);
    out
}

fn collect_ns(el: &Element, out: &mut Vec<String>) {
    if let Some(ns) = &el.ns
        && !out.contains(ns)
    {
        out.push(ns.clone());
    }
    for c in &el.children {
        collect_ns(c, out);
    }
}

fn write_el(el: &Element, namespaces: &[String], is_root: bool, out: &mut String) {
    let name = match &el.ns {
        Some(ns) => {
            let i = namespaces.iter().position(|n| n == ns).unwrap_or(0);
            format!("ns{i}:{}", el.tag)
        }
        None => el.tag.clone(),
    };
    out.push('<');
    out.push_str(&name);
    // ElementTree sorts namespace declarations by prefix... ns0, ns1 sort as written here.
    if is_root {
        for (i, ns) in namespaces.iter().enumerate() {
            out.push_str(&format!(" xmlns:ns{i}=\""));
            escape(ns, true, out);
            out.push('"');
        }
    }
    for (k, v) in &el.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        escape(v, true, out);
        out.push('"');
    }
    if el.text.as_deref().is_none_or(str::is_empty) && el.children.is_empty() {
        out.push_str(" />");
    } else {
        out.push('>');
        if let Some(t) = &el.text {
            escape(t, false, out);
        }
        for c in &el.children {
            write_el(c, namespaces, false, out);
        }
        out.push_str("</");
        out.push_str(&name);
        out.push('>');
    }
    if let Some(t) = &el.tail {
        escape(t, false, out);
    }
}

fn escape(s: &str, attr: bool, out: &mut String) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attr => out.push_str("&quot;"),
            '\n' if attr => out.push_str("&#10;"),
            '\r' if attr => out.push_str("&#13;"),
            '\t' if attr => out.push_str("&#09;"),
            c if (c as u32) > 127 => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_tail_and_namespace() {
        let el = parse_str("<?xml version='1.0'?><!-- c --><a:r xmlns:a='urn:x'><b id=\"1\">t&amp;&#233;</b>tail<c/></a:r>")
            .expect("parses");
        assert_eq!(el.ns.as_deref(), Some("urn:x"));
        assert_eq!(el.children[0].text.as_deref(), Some("t&é"));
        assert_eq!(el.children[0].tail.as_deref(), Some("tail"));
        assert_eq!(
            to_string(&el),
            "<ns0:r xmlns:ns0=\"urn:x\"><b id=\"1\">t&amp;&#233;</b>tail<c /></ns0:r>"
        );
    }

    #[test]
    fn hostile_documents_are_refused() {
        let bomb = "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;\">]><r>&b;</r>";
        assert!(parse_str(bomb).is_err());
        assert!(parse_str("<r>&ext;</r>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse_str(&deep).is_err());
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "<a/><b/>",
            "text",
            "<p:a/>",
            "<a x='&#0;'/>",
        ] {
            assert!(parse_str(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn indent_matches_elementtree() {
        let mut el = parse_str("<a><b><c>x</c></b><d/></a>").expect("parses");
        indent(&mut el, " ");
        assert_eq!(to_string(&el), "<a>\n <b>\n  <c>x</c>\n </b>\n <d />\n</a>");
    }
}
