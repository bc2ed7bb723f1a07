//! Expanding `<file><CI2XmlDataFile>` includes in def.xml files, with upstream's merge rules:
//! an included file's `ccp4i2_body` children are appended to the including body (a container whose id
//! already exists there receives the included children); a `content` redeclared by the including file
//! merges its qualifiers into the included one; leaf texts of the including file win over included ones
//! at the same tag-and-id path. Only `project` `CCP4I2_TOP` (the package root) is resolved.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::xml::{Element, parse_file};

/// Includes nest two or three levels in practice; more is a loop or an attack.
pub const MAX_INCLUDE_DEPTH: usize = 16;
/// Total includes read for one definition; stops a file that includes itself many times per level.
pub const MAX_INCLUDES: usize = 256;

fn is(el: &Element, tag: &str) -> bool {
    el.ns.is_none() && el.tag == tag
}

struct Ctx<'a> {
    root: &'a Path,
    depth: usize,
    includes: usize,
}

/// Reads `path` and returns its root element with every include expanded.
pub fn load_expanded(path: &Path, package_root: &Path) -> Result<Element> {
    let src = parse_file(path)?;
    let mut ctx = Ctx {
        root: package_root,
        depth: 0,
        includes: 0,
    };
    expand_new(&src, &mut ctx, path)
}

fn expand_new(src: &Element, ctx: &mut Ctx<'_>, path: &Path) -> Result<Element> {
    let mut dest = Element {
        ns: src.ns.clone(),
        tag: src.tag.clone(),
        ..Element::default()
    };
    expand_into(src, &mut dest, ctx, path)?;
    Ok(dest)
}

fn expand_into(src: &Element, dest: &mut Element, ctx: &mut Ctx<'_>, path: &Path) -> Result<()> {
    for (k, v) in &src.attrs {
        dest.set_attr(k, v);
    }
    if src.text.as_deref().is_some_and(|t| !t.is_empty()) {
        dest.text = src.text.clone();
    }
    if src.tail.as_deref().is_some_and(|t| !t.is_empty()) {
        dest.tail = src.tail.clone();
    }
    if is(src, "file") {
        return include(src, dest, ctx, path);
    }
    for child in &src.children {
        if is(child, "file") {
            include(child, dest, ctx, path)?;
            continue;
        }
        let copy = expand_new(child, ctx, path)?;
        let id = copy.attr("id").unwrap_or("").to_string();
        if is(&copy, "container")
            && !id.is_empty()
            && let Some(existing) = dest
                .children
                .iter_mut()
                .find(|d| is(d, "container") && d.attr("id") == Some(id.as_str()))
        {
            merge_container(existing, copy);
            continue;
        }
        dest.children.push(copy);
    }
    apply_text_overrides(src, dest);
    Ok(())
}

/// A container redeclared by the including file: known contents merge qualifiers, the rest is appended.
fn merge_container(existing: &mut Element, copy: Element) {
    for sub in copy.children {
        let sid = sub.attr("id").unwrap_or("").to_string();
        if is(&sub, "content")
            && !sid.is_empty()
            && let Some(target) = existing
                .children
                .iter_mut()
                .find(|c| is(c, "content") && c.attr("id") == Some(sid.as_str()))
        {
            merge_qualifiers(target, sub);
            continue;
        }
        existing.children.push(sub);
    }
}

fn merge_qualifiers(existing: &mut Element, over: Element) {
    let Some(over_q) = over.children.into_iter().find(|c| is(c, "qualifiers")) else {
        return;
    };
    let Some(q) = existing.children.iter_mut().find(|c| is(c, "qualifiers")) else {
        existing.children.push(over_q);
        return;
    };
    for o in over_q.children {
        match q
            .children
            .iter_mut()
            .find(|c| c.ns == o.ns && c.tag == o.tag)
        {
            Some(e) => e.text = o.text,
            None => q.children.push(o),
        }
    }
}

fn include(file: &Element, dest: &mut Element, ctx: &mut Ctx<'_>, path: &Path) -> Result<()> {
    let Some(spec) = file.child("CI2XmlDataFile").filter(|c| c.ns.is_none()) else {
        return Ok(());
    };
    let field = |n: &str| spec.child(n).map(|c| c.text_str().trim().to_string());
    let (Some(project), Some(base), Some(rel)) =
        (field("project"), field("baseName"), field("relPath"))
    else {
        return Ok(());
    };
    if project != "CCP4I2_TOP" {
        return Ok(());
    }
    // The include must stay inside the package: no absolute paths, no `..`.
    let rel_path = Path::new(&rel).join(&base);
    if rel_path.is_absolute()
        || rel_path.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return Err(Error::xml(
            path,
            format!("include path {rel_path:?} leaves the package"),
        ));
    }
    let target = ctx.root.join(&rel_path);
    if !target.is_file() {
        // Upstream skips a missing include; so do we.
        return Ok(());
    }
    ctx.includes += 1;
    if ctx.depth >= MAX_INCLUDE_DEPTH || ctx.includes > MAX_INCLUDES {
        return Err(Error::IncludeDepth {
            path: target,
            limit: MAX_INCLUDE_DEPTH,
        });
    }
    ctx.depth += 1;
    let result = merge_file(&target, dest, ctx);
    ctx.depth -= 1;
    result
}

fn merge_file(target: &Path, dest: &mut Element, ctx: &mut Ctx<'_>) -> Result<()> {
    let parsed = parse_file(target)?;
    let mut bodies = Vec::new();
    parsed.find_all("ccp4i2_body", &mut bodies);
    let bodies: Vec<&Element> = bodies.into_iter().filter(|b| b.ns.is_none()).collect();
    if bodies.is_empty() {
        return Ok(());
    }
    let body: &mut Element = if is(dest, "ccp4i2_body") || is(dest, "container") {
        dest
    } else {
        find_or_create_body(dest)
    };
    for b in bodies {
        for child in &b.children {
            if is(child, "file") {
                include(child, body, ctx, target)?;
                continue;
            }
            let copy = expand_new(child, ctx, target)?;
            let id = copy.attr("id").unwrap_or("").to_string();
            if is(&copy, "container")
                && !id.is_empty()
                && let Some(existing) = body
                    .children
                    .iter_mut()
                    .find(|d| is(d, "container") && d.attr("id") == Some(id.as_str()))
            {
                existing.children.extend(copy.children);
                continue;
            }
            body.children.push(copy);
        }
    }
    Ok(())
}

fn find_or_create_body(root: &mut Element) -> &mut Element {
    fn path_to_body(el: &Element) -> Option<Vec<usize>> {
        for (i, c) in el.children.iter().enumerate() {
            if is(c, "ccp4i2_body") {
                return Some(vec![i]);
            }
            if let Some(mut p) = path_to_body(c) {
                p.insert(0, i);
                return Some(p);
            }
        }
        None
    }
    match path_to_body(root) {
        Some(path) => {
            let mut el = root;
            for i in path {
                el = &mut el.children[i];
            }
            el
        }
        None => {
            root.children.push(Element::new("ccp4i2_body"));
            let last = root.children.len() - 1;
            &mut root.children[last]
        }
    }
}

fn id_path(parent: &str, el: &Element) -> String {
    let ns = el
        .ns
        .as_deref()
        .map(|n| format!("{{{n}}}"))
        .unwrap_or_default();
    let seg = format!("{ns}{}[@id={}]", el.tag, el.attr("id").unwrap_or(""));
    if parent.is_empty() {
        seg
    } else {
        format!("{parent}/{seg}")
    }
}

/// Leaf elements of `src` (outside `file` nodes) whose text differs from the element at the same
/// tag-and-id path in `dest` overwrite it.
fn apply_text_overrides(src: &Element, dest: &mut Element) {
    fn collect(el: &Element, parent: &str, out: &mut HashMap<String, String>) {
        if is(el, "file") {
            return;
        }
        let p = id_path(parent, el);
        if el.children.is_empty() {
            let t = el.text_str().trim();
            if !t.is_empty() {
                out.insert(p.clone(), t.to_string());
            }
        }
        for c in &el.children {
            collect(c, &p, out);
        }
    }
    fn apply(el: &mut Element, parent: &str, map: &HashMap<String, String>) {
        let p = id_path(parent, el);
        if let Some(t) = map.get(&p)
            && el.text_str().trim() != t
        {
            el.text = Some(t.clone());
        }
        for c in &mut el.children {
            apply(c, &p, map);
        }
    }
    let mut map = HashMap::new();
    collect(src, "", &mut map);
    if !map.is_empty() {
        apply(dest, "", &map);
    }
}
