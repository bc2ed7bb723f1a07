//! `molecularWeight` of ASU contents (`CAsuContentSeq`, `CAsuContentSeqList`): Biopython's
//! average residue masses, as upstream computes it.

use serde_json::{Value, json};

use super::{Call, MethodError};
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

/// `CAsuContentSeq.molecularWeight(polymerType="PROTEIN")`.
pub(super) fn seq(call: &Call) -> Result<Value, MethodError> {
    let polymer = call
        .arg(0, "polymerType")
        .map(py_str)
        .unwrap_or_else(|| "PROTEIN".into());
    sequence_weight(call.node, &polymer).map(|w| json!(w))
}

/// `CAsuContentSeqList.molecularWeight()`: the sum over the items, each with its own polymer type.
pub(super) fn list(call: &Call) -> Result<Value, MethodError> {
    let mut total = 0.0;
    for item in call
        .node
        .get("_value")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        total += sequence_weight(item, &text(item, "polymerType"))?;
    }
    Ok(json!(total))
}

pub(super) fn text(node: &Value, part: &str) -> String {
    child(node, part)
        .and_then(|c| c.get("_value"))
        .map(py_str)
        .unwrap_or_default()
}

/// Upstream's `CAsuContentSeq.molecularWeight`: residues outside the polymer's alphabet dropped
/// (case-sensitive), Biopython's average weight, times the number of copies.
pub(super) fn sequence_weight(node: &Value, polymer: &str) -> Result<f64, MethodError> {
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

    fn seq_node(s: &str, polymer: &str, copies: i64) -> Value {
        json!({"_class": "CAsuContentSeq", "_value": {
            "sequence": {"_class": "CSequenceString", "_value": s},
            "polymerType": {"_class": "CString", "_value": polymer},
            "nCopies": {"_class": "CInt", "_value": copies},
        }})
    }

    #[test]
    fn weights_as_biopython() {
        // Values printed by Biopython 1.88's molecular_weight (average masses).
        let p = sequence_weight(&seq_node("MKVLAAG", "PROTEIN", 1), "PROTEIN");
        assert_eq!(p, Ok(688.8793000000001));
        let r = sequence_weight(&seq_node("ACGU", "RNA", 2), "RNA");
        assert_eq!(r, Ok(1303.7737 * 2.0));
        let dna = sequence_weight(&seq_node("ACGT", "DNA", 1), "DNA");
        assert_eq!(dna, Ok(1253.8026999999997));
        // lower case and unknown letters are dropped; an empty type is protein
        let mixed = sequence_weight(&seq_node("mkvMKVLAAG", "", 1), "");
        assert_eq!(mixed, Ok(688.8793000000001));
    }

    #[test]
    fn unknown_polymer_is_refused() {
        let e = sequence_weight(&seq_node("A", "PROTEIN", 1), "XNA");
        assert!(matches!(e, Err(MethodError::Invalid(_))));
    }
}
