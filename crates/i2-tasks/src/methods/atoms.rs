//! `atomCount(selection_string)` of a coordinate file parameter: how many atoms a selection
//! picks. Upstream evaluates its own mmdb-style selection language (CIDs, residue ranges,
//! atom names, categories, and/or/not). The forms evaluated here are the whole structure
//! (an empty selection or `all`) and whole chains (`A/`, `A,B/`, `*/`, joined with `or`,
//! optionally in braces); any other selection is refused with a 400 rather than counted
//! differently. As upstream, a file that is not set or cannot be read counts -1.

use serde_json::{Value, json};

use super::{Call, MethodError};
use crate::jobparams::py_str;

pub(super) fn atom_count(call: &Call) -> Result<Value, MethodError> {
    let selection = call.required(0, "selection_string", "CPdbDataFile.atomCount")?;
    let selection = match selection {
        Value::String(s) => s.clone(),
        other => py_str(other),
    };
    let chains = parse(&selection).ok_or_else(|| {
        MethodError::Unsupported(format!(
            "atomCount of selection '{selection}' is not evaluated natively: i2server counts the \
             whole structure ('' or 'all') and whole chains ('A/', 'A,B/', 'A/ or B/')"
        ))
    })?;
    let Some(path) = (call.env.file_path)(call.node) else {
        return Ok(json!(-1));
    };
    let Ok(structure) = i2_formats::coords::summarise(&path) else {
        return Ok(json!(-1));
    };
    if structure.n_models > 1 {
        return Err(MethodError::Unsupported(
            "atomCount of a file with several models is not evaluated natively".into(),
        ));
    }
    let n: usize = structure
        .chains
        .iter()
        .filter(|c| {
            chains
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == "*" || *n == c.name))
        })
        .map(|c| c.residues.iter().map(|r| r.atoms.len()).sum::<usize>())
        .sum();
    Ok(json!(n))
}

/// `None` (not understood), `Some(None)` (everything) or `Some(Some(chain names))`.
#[allow(clippy::option_option)]
fn parse(selection: &str) -> Option<Option<Vec<String>>> {
    let s = selection.trim();
    if s.is_empty() || s == "all" {
        return Some(None);
    }
    let s = s
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(s)
        .trim();
    let mut names = Vec::new();
    for part in s.split(" or ") {
        let chain = part.trim().strip_suffix('/')?;
        for name in chain.split(',') {
            let name = name.trim();
            let simple =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '*');
            if !simple || (name.contains('*') && name != "*") {
                return None;
            }
            names.push(name.to_string());
        }
    }
    Some(Some(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_selections() {
        assert_eq!(parse(""), Some(None));
        assert_eq!(parse(" all "), Some(None));
        assert_eq!(parse("A/"), Some(Some(vec!["A".into()])));
        assert_eq!(
            parse("{A/ or B/}"),
            Some(Some(vec!["A".into(), "B".into()]))
        );
        assert_eq!(parse("A,B/"), Some(Some(vec!["A".into(), "B".into()])));
        assert_eq!(parse("*/"), Some(Some(vec!["*".into()])));
    }

    #[test]
    fn other_selections_are_not_guessed() {
        for s in [
            "A/10-20",
            "(ALA)",
            "protein",
            "A",
            "not A/",
            "A/ and B/",
            "/1/A/",
            "A*/",
        ] {
            assert_eq!(parse(s), None, "{s}");
        }
    }
}
