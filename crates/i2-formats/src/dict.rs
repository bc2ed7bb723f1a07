//! Ligand restraint dictionaries (CIF, as written by AceDRG, eLBOW, the monomer library): the
//! `comp_list` summary and, per `comp_*` block, the non-hydrogen atoms and the bonds between
//! them. Rules follow upstream's reading of these files with gemmi (facts observed on it):
//! summary values keep their quotes except `name`; bond types are read by prefix and an
//! unknown one discards the whole monomer.

use std::path::Path;

use crate::cif::{self, Block, CifValue};
use crate::error::{FormatError, Result};

/// One `_chem_comp` row of the `comp_list` block (or a bare `comp_X` block name).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CompSummary {
    pub id: Option<String>,
    pub three_letter_code: Option<String>,
    pub name: Option<String>,
    pub group: Option<String>,
    pub number_atoms_all: Option<i64>,
    pub number_atoms_nh: Option<i64>,
    pub desc_level: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bond {
    pub atom1: String,
    pub atom2: String,
    /// `single`, `double`, `triple`, `aromatic`, `deloc`, `metal` or `Unspec`.
    pub kind: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Monomer {
    pub code: String,
    /// Non-hydrogen atom names, in file order.
    pub atoms: Vec<String>,
    /// Hydrogen atom names (a model's hydrogens are restrained only when named here).
    pub hydrogens: Vec<String>,
    pub bonds: Vec<Bond>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dictionary {
    pub summary: Vec<CompSummary>,
    pub monomers: Vec<Monomer>,
}

pub fn read(path: &Path) -> Result<Dictionary> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    parse(&text)
}

pub fn parse(text: &str) -> Result<Dictionary> {
    let blocks = cif::parse(text)?;
    let summary = match blocks.iter().find(|b| b.name == "comp_list") {
        Some(b) => summary_rows(b),
        None => blocks
            .iter()
            .filter_map(|b| b.name.strip_prefix("comp_"))
            .map(|code| CompSummary {
                id: Some(code.to_string()),
                three_letter_code: Some(code.to_string()),
                ..CompSummary::default()
            })
            .collect(),
    };
    let mut monomers: Vec<Monomer> = blocks
        .iter()
        .filter(|b| b.name != "comp_list")
        .filter_map(|b| Some((b.name.strip_prefix("comp_")?, b)))
        .filter_map(|(code, b)| monomer(code, b))
        .collect();
    if monomers.is_empty()
        && let Some(last) = blocks.last().filter(|b| b.name != "comp_list")
    {
        monomers.extend(monomer(&last.name, last));
    }
    Ok(Dictionary { summary, monomers })
}

/// The monomer upstream's `monomer-info/` reads from a library file: the first `comp_*` block
/// other than `comp_list`, else the last block; `None` when the text is not CIF or that block
/// holds no monomer gemmi reads (upstream then answers no atoms and no bonds).
pub fn first_monomer(text: &str) -> Option<Monomer> {
    let blocks = cif::parse(text).ok()?;
    let block = blocks
        .iter()
        .find(|b| b.name.starts_with("comp_") && b.name != "comp_list")
        .or_else(|| blocks.last())?;
    monomer(&block.name, block)
}

/// Raw text of a value as upstream sees it: quotes kept; empty or `.` means absent.
fn raw(v: &CifValue) -> Option<String> {
    let r = v.raw();
    (!(r.is_empty() || r == ".")).then_some(r)
}

fn summary_rows(b: &Block) -> Vec<CompSummary> {
    let tags = [
        "id",
        "three_letter_code",
        "name",
        "group",
        "number_atoms_all",
        "number_atoms_nh",
        "desc_level",
    ];
    b.table("_chem_comp.", &tags)
        .into_iter()
        .map(|r| {
            let get = |i: usize| r.get(i).and_then(|v| raw(v));
            let int = |i: usize| get(i).and_then(|s| s.trim().parse::<i64>().ok());
            CompSummary {
                id: get(0),
                three_letter_code: get(1),
                name: get(2).map(|s| s.trim_matches(['\'', '"']).to_string()),
                group: get(3),
                number_atoms_all: int(4),
                number_atoms_nh: int(5),
                desc_level: get(6),
            }
        })
        .collect()
}

/// Bond order names by prefix; `Err` for one gemmi would refuse.
fn bond_kind(v: Option<&CifValue>) -> std::result::Result<&'static str, ()> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok("Unspec");
    };
    let s = v.text.to_ascii_lowercase();
    let kinds = [
        ("sing", "single"),
        ("doub", "double"),
        ("trip", "triple"),
        ("arom", "aromatic"),
        ("delo", "deloc"),
        ("metal", "metal"),
        ("coval", "Unspec"),
    ];
    if s == "1.5" {
        return Ok("deloc");
    }
    kinds
        .iter()
        .find(|(p, _)| s.starts_with(p))
        .map(|(_, k)| *k)
        .ok_or(())
}

/// The monomer of one block; `None` when it has no atoms or gemmi would refuse it.
fn monomer(code: &str, b: &Block) -> Option<Monomer> {
    let rows = b.table("_chem_comp_atom.", &["atom_id", "type_symbol"]);
    let mut atoms = Vec::new();
    let mut hydrogens = Vec::new();
    for r in &rows {
        let (id, el) = (r.first()?, r.get(1)?);
        if el.text.trim().eq_ignore_ascii_case("h") {
            hydrogens.push(id.text.clone());
        } else {
            atoms.push(id.text.clone());
        }
    }
    if atoms.is_empty() {
        return None;
    }
    let mut bonds = Vec::new();
    if let Some(l) = b.find_loop("_chem_comp_bond.atom_id_1") {
        let a1 = l.column("_chem_comp_bond.atom_id_1")?;
        let a2 = l.column("_chem_comp_bond.atom_id_2")?;
        let kind = l
            .column("_chem_comp_bond.type")
            .or_else(|| l.column("_chem_comp_bond.value_order"));
        for r in l.rows() {
            let k = bond_kind(kind.and_then(|i| r.get(i))).ok()?;
            let (x, y) = (r.get(a1)?.text.clone(), r.get(a2)?.text.clone());
            if atoms.contains(&x) && atoms.contains(&y) {
                bonds.push(Bond {
                    atom1: x,
                    atom2: y,
                    kind: k,
                });
            }
        }
    }
    Some(Monomer {
        code: code.to_string(),
        atoms,
        hydrogens,
        bonds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_quotes_and_bond_rules() {
        let d = parse(
            "data_comp_list\nloop_\n_chem_comp.id\n_chem_comp.three_letter_code\n_chem_comp.name\n\
             _chem_comp.group\n_chem_comp.number_atoms_all\n_chem_comp.number_atoms_nh\n\
             _chem_comp.desc_level\n'AB1' AB1 \"some name\" non-polymer ? 3 .\n\
             data_comp_AB1\nloop_\n_chem_comp_atom.comp_id\n_chem_comp_atom.atom_id\n\
             _chem_comp_atom.type_symbol\nAB1 \"O5'\" O\nAB1 C1 c\nAB1 H1 h\n\
             loop_\n_chem_comp_bond.atom_id_1\n_chem_comp_bond.atom_id_2\n_chem_comp_bond.type\n\
             \"O5'\" C1 sing\nC1 H1 single\nC1 O5' 1.5\n",
        )
        .expect("dict");
        let s = &d.summary[0];
        assert_eq!(s.id.as_deref(), Some("'AB1'"));
        assert_eq!(s.name.as_deref(), Some("some name"));
        assert_eq!(s.number_atoms_all, None);
        assert_eq!(s.number_atoms_nh, Some(3));
        assert_eq!(s.desc_level, None);
        let m = &d.monomers[0];
        assert_eq!(m.atoms, vec!["O5'", "C1"]);
        assert_eq!(m.hydrogens, vec!["H1"]);
        assert_eq!(m.bonds.len(), 2);
        assert_eq!(m.bonds[1].kind, "deloc");
        let bad = parse(
            "data_comp_X\nloop_\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\nA C\nB C\n\
             loop_\n_chem_comp_bond.atom_id_1\n_chem_comp_bond.atom_id_2\n_chem_comp_bond.type\nA B hydrog\n",
        )
        .expect("dict");
        assert!(bad.monomers.is_empty());
        assert_eq!(bad.summary[0].id.as_deref(), Some("X"));
    }
}
