//! The crank2/shelx plugin methods of the experimental-phasing form.
//!
//! `estimate_num_substructure(atom_type)` estimates the number of anomalous scatterers from
//! the task's sequence: Met + Sec for Se, Met + Cys for S, one per 20 residues (at least 2)
//! for I and Br, one per 200 (at least 2) otherwise; times `MONOMERS_ASYM` when set.
//!
//! `compute_anomalous_scattering(atom_type, wavelength)` is refused: upstream computes f′ and
//! f″ with gemmi's Cromer–Liberman routine, whose orbital tables (about 270 kB of data) are
//! compiled into gemmi. That needs no CCP4 program, but i2server does not carry those tables.

use std::path::Path;

use serde_json::{Value, json};

use super::{Call, MethodError, file_of};
use crate::jobparams::py_str;

pub(super) fn anomalous_scattering(_call: &Call) -> Result<Value, MethodError> {
    Err(MethodError::Unsupported(
        "compute_anomalous_scattering is not available in i2server: upstream computes f' and f'' \
         with gemmi's Cromer-Liberman tables (compiled into gemmi, not part of CCP4i2), which \
         i2server does not carry; enter FPRIME and FDPRIME by hand"
            .into(),
    ))
}

pub(super) fn estimate(call: &Call) -> Result<Value, MethodError> {
    let atom = call.required(0, "atom_type", "crank2.estimate_num_substructure")?;
    let Some(path) = file_of(call, "inputData.SEQIN") else {
        return Ok(json!({"error": "No sequence file set"}));
    };
    let sequence = match residues(&path) {
        Ok(s) => s,
        Err(e) => return Ok(json!({"error": format!("Could not load sequence file: {e}")})),
    };
    if sequence.is_empty() {
        return Ok(json!({"error": "Sequence file contains no residues"}));
    }
    let seq = sequence.to_uppercase();
    let count_of = |letters: &[char]| seq.chars().filter(|c| letters.contains(c)).count();
    let len = seq.chars().count();
    let count = match py_str(atom).trim().to_uppercase().as_str() {
        "SE" => count_of(&['M', 'U']),
        "S" => count_of(&['M', 'C']),
        "I" | "BR" => (len / 20).max(2),
        _ => (len / 200).max(2),
    };
    let copies = call
        .param("inputData.MONOMERS_ASYM")
        .and_then(|n| n.get("_value"))
        .and_then(|v| match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .filter(|n| *n >= 1)
        .unwrap_or(1);
    Ok(json!({"estimate": count as i64 * copies}))
}

/// Every sequence of the file, concatenated: an ASU-contents file or a sequence file.
fn residues(path: &Path) -> Result<String, String> {
    if let Ok(seqs) = i2_formats::asu::read(path) {
        return Ok(seqs
            .iter()
            .flat_map(|s| s.sequence.chars())
            .filter(|c| !c.is_whitespace())
            .collect());
    }
    let file = i2_formats::seq::read(path).map_err(|e| e.to_string())?;
    Ok(file.entries.into_iter().map(|s| s.sequence).collect())
}
