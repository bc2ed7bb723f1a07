//! Coordinate files (PDB and mmCIF) reduced to what summaries and digests need: the first
//! model's chains, residues and atoms (element, alternate location), with entity types
//! assigned as gemmi would (polymer, non-polymer, water), plus cell and space group.
//!
//! - [`pdb`]: fixed-column PDB records, tolerant of short lines and missing element columns.
//! - [`cif`]: a CIF tokenizer and the `_atom_site` / `_entity` / `_cell` / `_symmetry` items.
//! - [`residues`]: residue and element tables.
//! - [`name`]: atom names stored inline.

pub mod cif;
pub mod name;
pub mod pdb;
pub mod residues;

pub use name::AtomName;

use std::path::Path;

use crate::error::{FormatError, Result};
use crate::mtz::Cell;

/// Files larger than this are refused (the largest deposited structures are a few hundred MB).
pub const MAX_BYTES: u64 = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityType {
    Unknown,
    Polymer,
    NonPolymer,
    Branched,
    Water,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Atom {
    /// Inline for the usual short names: one allocation per atom was most of a digest's cost.
    pub name: AtomName,
    /// Element symbol in element case (`C`, `Se`; `X` when unknown); common ones borrowed.
    pub element: std::borrow::Cow<'static, str>,
    pub altloc: Option<char>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Residue {
    pub name: String,
    pub seqnum: i32,
    pub icode: Option<char>,
    pub het: bool,
    pub entity: EntityType,
    pub atoms: Vec<Atom>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub name: String,
    pub residues: Vec<Residue>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Structure {
    pub cell: Option<Cell>,
    pub spacegroup: Option<String>,
    pub n_models: usize,
    /// Chains of the first model.
    pub chains: Vec<Chain>,
}

impl Structure {
    pub fn n_atoms(&self) -> usize {
        self.chains
            .iter()
            .flat_map(|c| &c.residues)
            .map(|r| r.atoms.len())
            .sum()
    }

    pub fn n_residues(&self) -> usize {
        self.chains.iter().map(|c| c.residues.len()).sum()
    }
}

impl Chain {
    /// Residues of the polymer part of the chain.
    pub fn polymer(&self) -> impl Iterator<Item = &Residue> {
        self.residues
            .iter()
            .filter(|r| r.entity == EntityType::Polymer)
    }

    /// One-letter sequence of the polymer part.
    pub fn sequence(&self) -> String {
        self.polymer()
            .map(|r| residues::one_letter(&r.name))
            .collect()
    }

    /// Find or append the chain called `name` (a chain id that reappears, e.g. for waters
    /// after TER, continues the same chain).
    pub(crate) fn find_or_add<'a>(chains: &'a mut Vec<Chain>, name: &str) -> &'a mut Chain {
        let idx = match chains.iter().rposition(|c| c.name == name) {
            Some(i) => i,
            None => {
                chains.push(Chain {
                    name: name.to_string(),
                    residues: Vec::new(),
                });
                chains.len() - 1
            }
        };
        &mut chains[idx]
    }
}

/// Assign entity types where the file gave none: the polymer is the leading run of amino or
/// nucleic acid residues (ATOM or HETATM alike: CCP4 files write sulphates as ATOM) (ended early by `polymer_end`, the TER position, when known); after
/// it, waters are water and everything else non-polymer.
pub(crate) fn assign_entities(chain: &mut Chain, polymer_end: Option<usize>) {
    let has_polymer_residue = chain
        .residues
        .iter()
        .any(|r| residues::is_amino_acid(&r.name) || residues::is_nucleic_acid(&r.name));
    let mut in_polymer = has_polymer_residue;
    for (i, r) in chain.residues.iter_mut().enumerate() {
        if r.entity != EntityType::Unknown {
            continue;
        }
        if polymer_end.is_some_and(|end| i >= end) {
            in_polymer = false;
        }
        let polymer_like = residues::is_amino_acid(&r.name) || residues::is_nucleic_acid(&r.name);
        if in_polymer && polymer_like && !residues::is_water(&r.name) {
            r.entity = EntityType::Polymer;
            continue;
        }
        in_polymer = false;
        r.entity = if residues::is_water(&r.name) {
            EntityType::Water
        } else {
            EntityType::NonPolymer
        };
    }
}

/// Read a PDB or mmCIF file, deciding by content (a `data_` block means CIF).
pub fn summarise(path: &Path) -> Result<Structure> {
    let meta = std::fs::metadata(path).map_err(|e| FormatError::io(path, e))?;
    if meta.len() > MAX_BYTES {
        return Err(FormatError::NotThisFormat(format!(
            "{} is too large for a coordinate file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    if bytes.contains(&0) {
        return Err(FormatError::NotThisFormat(
            "binary data is not a coordinate file".into(),
        ));
    }
    // Validate as UTF-8 first (fast); only a file with bad bytes pays for the lossy copy.
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => String::from_utf8_lossy(&bytes),
    };
    if cif::looks_like_cif(&text) {
        cif::read_structure(&text)
    } else {
        pdb::parse(&text)
    }
}
