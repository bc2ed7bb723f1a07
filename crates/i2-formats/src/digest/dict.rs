//! Digest of a ligand restraint dictionary: `ligands` (the `comp_list` summary), `monomers`
//! (non-hydrogen atoms and bonds per monomer) and `molblocks`. Upstream draws 2-D molblocks
//! only where RDKit is installed; the reference installation has none and answers `{}`, as here.

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::dict;
use crate::error::Result;

pub fn digest(path: &Path) -> Result<Value> {
    let d = dict::read(path)?;
    let ligands: Vec<Value> = d
        .summary
        .iter()
        .map(|s| {
            json!({"id": s.id, "three_letter_code": s.three_letter_code, "name": s.name,
                   "group": s.group, "number_atoms_all": s.number_atoms_all,
                   "number_atoms_nh": s.number_atoms_nh, "desc_level": s.desc_level})
        })
        .collect();
    let mut monomers = Map::new();
    for m in &d.monomers {
        let bonds: Vec<Value> = m
            .bonds
            .iter()
            .map(|b| json!({"atom1": b.atom1, "atom2": b.atom2, "type": b.kind}))
            .collect();
        monomers.insert(m.code.clone(), json!({"atoms": m.atoms, "bonds": bonds}));
    }
    Ok(json!({"ligands": ligands, "monomers": monomers, "molblocks": {}}))
}
