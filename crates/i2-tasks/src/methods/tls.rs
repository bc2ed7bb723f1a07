//! ProvideTLS's plugin methods: TLS group definitions (`TLS <name>` lines, each followed by
//! `RANGE '<chain><first>.' '<chain><last>.' <selection>` lines) read from the task's text or
//! file into `{groupId, chainId, firstRes, lastRes, selection}` rows, and one group per
//! polymer chain suggested from the coordinate file. Problems with the inputs are answered
//! as upstream answers them: 200 with `{"error": …}`.

use serde_json::{Value, json};

use super::{Call, MethodError, file_of};
use crate::jobparams::py_str;

/// `import_tls_from_text()`: the groups of `controlParameters.TLSTEXT`.
pub(super) fn from_text(call: &Call) -> Result<Value, MethodError> {
    let text = call
        .param("controlParameters.TLSTEXT")
        .and_then(|n| n.get("_value"))
        .filter(|v| !v.is_null())
        .map(py_str)
        .unwrap_or_default();
    Ok(parse(&text))
}

/// `import_tls_from_file()`: the groups of the `inputData.TLSIN` file.
pub(super) fn from_file(call: &Call) -> Result<Value, MethodError> {
    let Some(path) = file_of(call, "inputData.TLSIN") else {
        return Ok(json!({"error": "No TLS file (TLSIN) provided"}));
    };
    if !path.exists() {
        return Ok(json!({"error": format!("TLS file not found: {}", path.display())}));
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| MethodError::Invalid(format!("reading {}: {e}", path.display())))?;
    Ok(parse(&text))
}

/// `suggest_tls_groups()`: one group per protein or nucleic-acid chain of `inputData.XYZIN`,
/// covering its residue range.
pub(super) fn suggest(call: &Call) -> Result<Value, MethodError> {
    let Some(path) = file_of(call, "inputData.XYZIN") else {
        return Ok(json!({"error": "No coordinate file (XYZIN) provided"}));
    };
    if !path.exists() {
        return Ok(json!({"error": format!("Coordinate file not found: {}", path.display())}));
    }
    let digest = match i2_formats::digest::coords::digest(&path) {
        Ok(d) => d,
        Err(e) => return Ok(json!({"error": format!("Failed to read coordinate file: {e}")})),
    };
    let unterminated = unterminated_chains(&path);
    let mut groups = Vec::new();
    for d in digest["composition"]["chainDetails"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let id = d["id"].as_str().unwrap_or("");
        let polymer = match unterminated
            .as_ref()
            .filter(|u| u.0.contains(&id.to_string()))
        {
            // Without TER gemmi leaves the chain's entity unknown; upstream then goes by
            // residue names.
            Some(u) => u.1.iter().any(|(c, named)| c == id && *named),
            None => matches!(d["type"].as_str(), Some("protein" | "nucleic")),
        };
        if !polymer {
            continue;
        }
        let num = |k: &str, default: i64| {
            d[k].as_str()
                .and_then(|s| python_int(s.trim()))
                .unwrap_or(default)
        };
        groups.push(json!({
            "groupId": groups.len() + 1,
            "chainId": d["id"],
            "firstRes": num("firstRes", 1),
            "lastRes": num("lastRes", 999),
            "selection": "ALL",
        }));
    }
    Ok(Value::Array(groups))
}

/// Residue names upstream's selection module calls amino or nucleic acids.
const POLYMER_NAMES: &[&str] = &[
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
    "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "MSE", "SEP", "TPO", "PYL", "SEC", "HYP",
    "PTR", "MLY", "M3L", "CSO", "OCS", "CME", "A", "C", "G", "U", "T", "DA", "DC", "DG", "DT",
    "DU", "+A", "+C", "+G", "+U", "+T", "ADE", "CYT", "GUA", "URA", "THY",
];

/// For a PDB file: the chains no TER record closes (gemmi assigns them no entity), and per
/// chain whether any of its residues has a polymer name. `None` for mmCIF or unreadable files.
#[allow(clippy::type_complexity)]
fn unterminated_chains(path: &std::path::Path) -> Option<(Vec<String>, Vec<(String, bool)>)> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    if text.lines().any(|l| l.starts_with("data_")) {
        return None;
    }
    let mut chains: Vec<(String, bool)> = Vec::new();
    let mut terminated: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with("ENDMDL") {
            break;
        }
        if line.starts_with("ATOM") || line.starts_with("HETATM") {
            let chain = line.get(21..22).unwrap_or("").trim().to_string();
            let name = line.get(17..20).unwrap_or("").trim();
            let named = POLYMER_NAMES.contains(&name);
            match chains.iter_mut().find(|(c, _)| *c == chain) {
                Some(entry) => entry.1 |= named,
                None => chains.push((chain.clone(), named)),
            }
            current = Some(chain);
        } else if line.starts_with("TER")
            && let Some(c) = current.take()
        {
            terminated.push(c);
        }
    }
    let open = chains
        .iter()
        .map(|(c, _)| c.clone())
        .filter(|c| !terminated.contains(c))
        .collect();
    Some((open, chains))
}

/// The groups of a TLS text: a line starting `TLS` (any case) opens the next group; each
/// RANGE line is one row of the current group (group 1 before any `TLS` line).
pub(super) fn parse(text: &str) -> Value {
    let mut rows = Vec::new();
    let mut group = 0;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.to_uppercase().starts_with("TLS") {
            group += 1;
            continue;
        }
        let Some(r) = range(line) else {
            continue;
        };
        let res =
            |s: &str, default: i64| python_int(s.trim().trim_end_matches('.')).unwrap_or(default);
        rows.push(json!({
            "groupId": group.max(1),
            "chainId": r.0.to_string(),
            "firstRes": res(&r.1, 0),
            "lastRes": res(&r.3, 999),
            "selection": r.4.to_uppercase(),
        }));
    }
    Value::Array(rows)
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `RANGE '<c><rest>' '<c><rest>' <word>` at the start of `line` (keyword in any case):
/// (chain 1, residue text 1, chain 2, residue text 2, selection word).
fn range(line: &str) -> Option<(char, String, char, String, String)> {
    let head = line.get(..5)?;
    if !head.eq_ignore_ascii_case("RANGE") {
        return None;
    }
    let rest = spaces(&line[5..], 1)?;
    let (c1, r1, rest) = quoted(rest)?;
    let rest = spaces(rest, 1)?;
    let (c2, r2, rest) = quoted(rest)?;
    let rest = spaces(rest, 1)?;
    let word: String = rest.chars().take_while(|c| is_word(*c)).collect();
    if word.is_empty() {
        return None;
    }
    Some((c1, r1, c2, r2, word))
}

/// At least `min` whitespace characters, skipped.
fn spaces(s: &str, min: usize) -> Option<&str> {
    let t = s.trim_start();
    (s.chars().count() - t.chars().count() >= min).then_some(t)
}

/// `'<word char><at least one non-quote>'`: the word character and the text after it.
fn quoted(s: &str) -> Option<(char, String, &str)> {
    let s = s.strip_prefix('\'')?;
    let mut chars = s.chars();
    let c = chars.next().filter(|c| is_word(*c))?;
    let after = chars.as_str();
    let end = after.find('\'')?;
    if end == 0 {
        return None;
    }
    Some((c, after[..end].to_string(), &after[end + 1..]))
}

/// Python's `int()` of a string: optional sign, decimal digits (underscores between them).
fn python_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if neg { -n } else { n })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_groups_and_ranges() {
        let text = "TLS    Group 1\nRANGE  'A   1.' 'A  50.' ALL\nrange 'A 60.' 'A 80.' main\n\
                    TLS second\nRANGE  'B   2.' 'B 100.' ALL\nnoise\nRANGE 'C x.' 'C  .' ALL\n";
        let v = parse(text);
        assert_eq!(
            v,
            json!([
                {"groupId": 1, "chainId": "A", "firstRes": 1, "lastRes": 50, "selection": "ALL"},
                {"groupId": 1, "chainId": "A", "firstRes": 60, "lastRes": 80, "selection": "MAIN"},
                {"groupId": 2, "chainId": "B", "firstRes": 2, "lastRes": 100, "selection": "ALL"},
                {"groupId": 2, "chainId": "C", "firstRes": 0, "lastRes": 999, "selection": "ALL"},
            ])
        );
    }

    #[test]
    fn ranges_before_any_group_are_group_one() {
        let v = parse("RANGE 'A 5.' 'A 9.' ALL");
        assert_eq!(v[0]["groupId"], 1);
        assert_eq!(parse("RANGE 'A' 'A 9.' ALL"), json!([]));
        assert_eq!(parse("RANGE'A 1.' 'A 9.' ALL"), json!([]));
    }

    #[test]
    fn python_ints() {
        assert_eq!(python_int("12"), Some(12));
        assert_eq!(python_int("-3"), Some(-3));
        assert_eq!(python_int("1_0"), Some(10));
        assert_eq!(python_int("12A"), None);
        assert_eq!(python_int(""), None);
    }
}
