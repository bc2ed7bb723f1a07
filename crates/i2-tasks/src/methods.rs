//! The parameter-object methods upstream's web client calls through `object_method/` that need
//! no CCP4 program, computed natively. Every other name is refused: nothing is looked up or
//! called by name.

use serde_json::{Value, json};

use crate::jobparams::{child, py_str};

/// Average residue masses (Da) of amino acids, DNA and RNA nucleotides, as Biopython's
/// `molecular_weight` uses them (upstream computes molecular weights with Biopython).
const PROTEIN: [(char, f64); 22] = [
    ('A', 89.0932),
    ('C', 121.1582),
    ('D', 133.1027),
    ('E', 147.1293),
    ('F', 165.1891),
    ('G', 75.0666),
    ('H', 155.1546),
    ('I', 131.1729),
    ('K', 146.1876),
    ('L', 131.1729),
    ('M', 149.2113),
    ('N', 132.1179),
    ('O', 255.3134),
    ('P', 115.1305),
    ('Q', 146.1445),
    ('R', 174.201),
    ('S', 105.0926),
    ('T', 119.1192),
    ('U', 168.0532),
    ('V', 117.1463),
    ('W', 204.2252),
    ('Y', 181.1885),
];
const DNA: [(char, f64); 4] = [
    ('A', 331.2218),
    ('C', 307.1971),
    ('G', 347.2212),
    ('T', 322.2085),
];
const RNA: [(char, f64); 4] = [
    ('A', 347.2212),
    ('C', 323.1965),
    ('G', 363.2206),
    ('U', 324.1813),
];
/// Average mass of water, lost once per bond.
const WATER: f64 = 18.0153;

/// Methods available, by class, for the error message.
pub const AVAILABLE: &str = "molecularWeight (CAsuContentSeq, CAsuContentSeqList)";

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodError {
    /// Not one of the methods i2server computes.
    Unsupported(String),
    /// The method exists but its arguments or the object's values do not work.
    Invalid(String),
}

impl std::fmt::Display for MethodError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MethodError::Unsupported(m) | MethodError::Invalid(m) => f.write_str(m),
        }
    }
}

/// Calls `method` on the parameter `node` (a container-JSON node).
pub fn call(
    node: &Value,
    method: &str,
    args: &[Value],
    kwargs: &Value,
) -> Result<Value, MethodError> {
    let class = node.get("_class").and_then(Value::as_str).unwrap_or("");
    match (class, method) {
        ("CAsuContentSeq", "molecularWeight") => {
            let polymer = args
                .first()
                .or_else(|| kwargs.get("polymerType"))
                .map(py_str)
                .unwrap_or_else(|| "PROTEIN".into());
            sequence_weight(node, &polymer).map(|w| json!(w))
        }
        ("CAsuContentSeqList", "molecularWeight") => {
            let mut total = 0.0;
            for item in node
                .get("_value")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let polymer = text(item, "polymerType");
                total += sequence_weight(item, &polymer)?;
            }
            Ok(json!(total))
        }
        _ => Err(MethodError::Unsupported(format!(
            "Method '{method}' of {} is not available in i2server; available: {AVAILABLE}",
            if class.is_empty() {
                "this object"
            } else {
                class
            }
        ))),
    }
}

fn text(node: &Value, part: &str) -> String {
    child(node, part)
        .and_then(|c| c.get("_value"))
        .map(py_str)
        .unwrap_or_default()
}

/// Upstream's `CAsuContentSeq.molecularWeight`: residues outside the polymer's alphabet dropped
/// (case-sensitive), Biopython's average weight, times the number of copies.
fn sequence_weight(node: &Value, polymer: &str) -> Result<f64, MethodError> {
    let polymer = if polymer.trim().is_empty() {
        "PROTEIN"
    } else {
        polymer
    };
    let sequence = text(node, "sequence");
    let copies = child(node, "nCopies")
        .and_then(|c| c.get("_value"))
        .and_then(Value::as_f64)
        .ok_or_else(|| MethodError::Invalid("nCopies is not set".into()))?;
    let (keep, table): (&str, &[(char, f64)]) = match polymer {
        "PROTEIN" => ("GALMFWKQESPVICYHRNDT", &PROTEIN),
        "DNA" => ("CAUGT", &DNA),
        "RNA" => ("CAUGT", &RNA),
        other => {
            return Err(MethodError::Invalid(format!(
                "Allowed seq_types are DNA, RNA or protein, not '{other}'"
            )));
        }
    };
    let residues: Vec<char> = sequence.chars().filter(|c| keep.contains(*c)).collect();
    let mut sum = 0.0;
    for r in &residues {
        let w = table
            .iter()
            .find(|(c, _)| c == r)
            .map(|(_, w)| *w)
            .ok_or_else(|| {
                MethodError::Invalid(format!(
                    "'{r}' is not a valid unambiguous letter for {polymer}"
                ))
            })?;
        sum += w;
    }
    let weight = sum - (residues.len() as f64 - 1.0) * WATER;
    Ok(weight * copies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(s: &str, polymer: &str, copies: i64) -> Value {
        json!({"_class": "CAsuContentSeq", "_value": {
            "sequence": {"_class": "CSequenceString", "_value": s},
            "polymerType": {"_class": "CString", "_value": polymer},
            "nCopies": {"_class": "CInt", "_value": copies},
        }})
    }

    #[test]
    fn weights_as_biopython() {
        // Values printed by Biopython 1.88's molecular_weight (average masses).
        let p = call(
            &seq("MKVLAAG", "PROTEIN", 1),
            "molecularWeight",
            &[],
            &json!({}),
        );
        assert_eq!(p, Ok(json!(688.8793000000001)));
        let r = call(
            &seq("ACGU", "RNA", 2),
            "molecularWeight",
            &[json!("RNA")],
            &json!({}),
        );
        assert_eq!(r, Ok(json!(1303.7737 * 2.0)));
        let list = json!({"_class": "CAsuContentSeqList", "_value": [seq("ACGT", "DNA", 1), seq("mkvMKVLAAG", "", 1)]});
        let l = call(&list, "molecularWeight", &[], &json!({}));
        assert_eq!(l, Ok(json!(0.0 + 1253.8026999999997 + 688.8793000000001)));
    }

    #[test]
    fn other_names_are_refused() {
        let e = call(&seq("A", "PROTEIN", 1), "__class__", &[], &json!({}));
        assert!(matches!(e, Err(MethodError::Unsupported(_))));
        let e = call(
            &seq("A", "PROTEIN", 1),
            "molecularWeight",
            &[json!("XNA")],
            &json!({}),
        );
        assert!(matches!(e, Err(MethodError::Invalid(_))));
    }
}
