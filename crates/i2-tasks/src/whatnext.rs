//! A plugin's `WHATNEXT` list (the tasks suggested after it), read from the plugin's Python
//! source without running it: the class body's `WHATNEXT = [...]` assignment.

/// The string items of `WHATNEXT` in the body of `class_name` in `source`: `None` when the
/// class does not assign it (upstream then answers `Failed`); non-string items (upstream's
/// `[task, params file]` pairs) are skipped, as upstream skips them.
pub fn whatnext_in_class(source: &str, class_name: &str) -> Option<Vec<String>> {
    let decl = format!("class {class_name}(");
    let decl_colon = format!("class {class_name}:");
    let mut lines = source.lines();
    let class_indent = loop {
        let l = lines.next()?;
        let t = l.trim_start();
        if t.starts_with(&decl) || t.starts_with(&decl_colon) {
            break l.len() - t.len();
        }
    };
    let mut body = String::new();
    for l in lines {
        let t = l.trim_start();
        if !t.is_empty() && !t.starts_with('#') && l.len() - t.len() <= class_indent {
            break;
        }
        body.push_str(l);
        body.push('\n');
    }
    let start = body.lines().map(str::trim_start).position(|t| {
        t.strip_prefix("WHATNEXT")
            .is_some_and(|r| r.trim_start().starts_with('=') && !r.trim_start().starts_with("=="))
    })?;
    let text: String = body.lines().skip(start).collect::<Vec<_>>().join("\n");
    let rhs = text.split_once('=')?.1;
    parse_list(rhs)
}

/// Top-level string literals of a Python list literal at the start of `text`.
fn parse_list(text: &str) -> Option<Vec<String>> {
    let mut chars = text.trim_start().chars().peekable();
    if chars.next()? != '[' {
        return None;
    }
    let mut depth = 1;
    let mut out = Vec::new();
    while let Some(c) = chars.next() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(out);
                }
            }
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '\'' | '"' => {
                let mut s = String::new();
                let mut closed = false;
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                s.push(e);
                            }
                        }
                        d if d == c => {
                            closed = true;
                            break;
                        }
                        '\n' => return None,
                        d => s.push(d),
                    }
                }
                if !closed {
                    return None;
                }
                if depth == 1 {
                    out.push(s);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_class_attribute() {
        let src = "class other(x):\n    WHATNEXT = ['no']\n\nclass refine(CPluginScript):\n    TASKNAME = 'refine'\n    WHATNEXT = [\n        'a', # first\n        [\"b\", 'params.xml'],\n        \"c\",\n    ]\n    def f(self):\n        WHATNEXT = ['inner']\n";
        assert_eq!(
            whatnext_in_class(src, "refine"),
            Some(vec!["a".to_string(), "c".to_string()])
        );
        assert_eq!(whatnext_in_class("class a(b):\n    X = 1\n", "a"), None);
        assert_eq!(
            whatnext_in_class("class a(b):\n    WHATNEXT = ['x'\n", "a"),
            None
        );
        assert_eq!(
            whatnext_in_class("class a(b):\n    WHATNEXT = []\n", "a"),
            Some(vec![])
        );
    }
}
