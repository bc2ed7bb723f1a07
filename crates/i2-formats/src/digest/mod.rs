//! File digests with the JSON shape of upstream `GET /files/{id}/digest/` (the `data` member
//! of its `{"success": true, "data": …}` envelope), chosen by the File row's MIME type.
//!
//! - [`mtz`]: reflection files (merged, unmerged, mini-MTZ of every content kind).
//! - [`coords`]: PDB and mmCIF coordinates (composition, sequences, ligands).
//! - [`seq`]: sequence files, alignments and ASU-contents files.
//! - [`refl_cif`]: mmCIF reflection files (structure factors).
//! - [`dict`]: ligand restraint dictionaries.
//! - [`scalepack`]: unmerged `*.sca`/`*.hkl` files (upstream's header sniff only).
//!
//! Other types (maps, XDS files not named `.hkl`, …) are [`FormatError::Unsupported`].

pub mod coords;
pub mod dict;
pub mod mtz;
pub mod refl_cif;
pub mod scalepack;
pub mod seq;

use std::path::Path;

use serde_json::Value;

use crate::error::{FormatError, Result};

/// The digest of the file at `path`, stored under MIME type `file_type`.
pub fn digest_for(file_type: &str, path: &Path) -> Result<Value> {
    match file_type {
        "application/CCP4-mtz"
        | "application/CCP4-mtz-unmerged"
        | "application/CCP4-unmerged-mtz"
        | "application/CCP4-mtz-freerflag"
        | "application/CCP4-mtz-observed"
        | "application/CCP4-mtz-phases"
        | "application/CCP4-mtz-map"
        | "application/CCP4-mtz-mini" => mtz::digest(path),
        "application/CCP4-unmerged-experimental"
        | "application/CCP4-generic-reflections"
        | "Unknown"
            if is_mtz(path) =>
        {
            mtz::digest(path)
        }
        "application/CCP4-unmerged-experimental" if has_extension(path, &["sca", "hkl"]) => {
            scalepack::digest(path)
        }
        // Upstream decides by extension: these are read as mmCIF reflection files.
        "application/CCP4-unmerged-experimental" | "application/CCP4-generic-reflections"
            if has_extension(path, &["cif", "mmcif", "ent"]) =>
        {
            refl_cif::digest(path)
        }
        "chemical/x-pdb" | "chemical/x-pdb-ensemble" | "MultiPDB" => coords::digest(path),
        "application/CCP4-seq" => seq::digest_seq(path),
        "application/CCP4-asu-content" => seq::digest_asu(path),
        "application/CCP4-seqalign" => seq::digest_alignment(path),
        "application/refmac-dictionary" => dict::digest(path),
        other => Err(FormatError::Unsupported(other.to_string())),
    }
}

fn is_mtz(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"MTZ "
}

fn has_extension(path: &Path, exts: &[&str]) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| exts.iter().any(|x| e.eq_ignore_ascii_case(x)))
}
