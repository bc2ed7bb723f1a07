//! Sequence and ASU-contents digests.

use std::path::Path;

use serde_json::{Value, json};

use crate::asu;
use crate::error::{FormatError, Result};
use crate::seq;

/// First sequence of the file, with upstream's fixed `reference`/`referenceDb` defaults.
pub fn digest_seq(path: &Path) -> Result<Value> {
    let f = seq::read(path)?;
    let s = f
        .entries
        .first()
        .ok_or_else(|| FormatError::NotThisFormat("no sequence in file".into()))?;
    Ok(json!({
        "identifier": s.identifier,
        "name": s.identifier,
        "description": s.description,
        "moleculeType": s.molecule_type(),
        "reference": "",
        "referenceDb": "unk",
        "sequence": s.sequence,
    }))
}

/// Entries of an ASU-contents file, all selected (the File row carries no selection).
pub fn digest_asu(path: &Path) -> Result<Value> {
    let entries = asu::read(path)?;
    let sequences: Vec<Value> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let chars: Vec<char> = e.sequence.chars().collect();
            let preview = if chars.len() > 50 {
                chars[..50].iter().collect::<String>() + "..."
            } else {
                e.sequence.clone()
            };
            let name = if e.name.is_empty() {
                format!("Sequence_{i}")
            } else {
                e.name.clone()
            };
            json!({
                "index": i,
                "name": name,
                "polymerType": e.polymer_type,
                "nCopies": e.n_copies,
                "sequenceLength": chars.len(),
                "sequence": e.sequence,
                "sequencePreview": preview,
                "description": e.description,
                "selected": true,
            })
        })
        .collect();
    Ok(json!({"sequenceCount": sequences.len(), "sequences": sequences}))
}

/// Digest of an alignment file: the format BioPython would read it as, and its identifiers.
pub fn digest_alignment(path: &Path) -> Result<Value> {
    let (format, ids) = crate::align::identify(path)?;
    Ok(json!({"format": format, "identifiers": ids}))
}
