//! The crank2/shelx plugin methods of the experimental-phasing form.
//!
//! `estimate_num_substructure(atom_type)` estimates the number of anomalous scatterers from
//! the task's sequence: Met + Sec for Se, Met + Cys for S, one per 20 residues (at least 2)
//! for I and Br, one per 200 (at least 2) otherwise; times `MONOMERS_ASYM` when set.
//!
//! `compute_anomalous_scattering(atom_type, wavelength)` gives f′ and f″ of an element at a
//! wavelength from gemmi's Cromer–Liberman routine, whose orbital tables (about 270 kB of
//! data) are compiled into gemmi and nowhere else: the installation's Python computes them
//! ([`super::python`]), with the same conversions of the arguments as upstream (`str()` of
//! the element, `float()` of the wavelength) and the same `{"error": …}` answers.

use std::path::Path;

use serde_json::{Value, json};

use super::{Call, MethodError, file_of};
use crate::jobparams::py_str;

/// f′ and f″ by gemmi in the installation's Python; argv[1] holds `atom_type` and
/// `wavelength` as JSON, so they reach Python as the upstream method would receive them.
const CROMER_LIBERMAN: &str = r#"
import json, sys
request = json.loads(sys.argv[1])
atom, wavelength = request["atom_type"], request["wavelength"]
import gemmi

def answer(value):
    print(json.dumps(value))
    sys.exit(0)

z = gemmi.Element(str(atom)).atomic_number
if not z:
    answer({"error": "Unknown element: {}".format(atom)})
try:
    lam = float(wavelength)
except (TypeError, ValueError):
    answer({"error": "Invalid wavelength: {}".format(wavelength)})
if lam <= 0.0:
    answer({"error": "Invalid wavelength: {}".format(wavelength)})
# Photon energy in eV from the wavelength in Angstrom (gemmi.hc is h*c in eV*A).
fprime = gemmi.cromer_liberman(z=z, energy=gemmi.hc / lam)
if fprime is None:
    answer({"error": "No Cromer-Liberman data for {} at {} A".format(atom, wavelength)})
answer({"fp": float(fprime[0]), "fpp": float(fprime[1])})
"#;

pub(super) fn anomalous_scattering(call: &Call) -> Result<Value, MethodError> {
    const METHOD: &str = "crank2.compute_anomalous_scattering";
    let atom = call.required(0, "atom_type", METHOD)?;
    let wavelength = call.required(1, "wavelength", METHOD)?;
    let Some(python) = call.env.python else {
        return Err(MethodError::Unsupported(
            "compute_anomalous_scattering needs the installation's Python (gemmi's \
             Cromer-Liberman tables), and this server has no runner configured; enter FPRIME \
             and FDPRIME by hand"
                .into(),
        ));
    };
    let input = json!({"atom_type": atom, "wavelength": wavelength});
    super::python::call(python, CROMER_LIBERMAN, &input)
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
