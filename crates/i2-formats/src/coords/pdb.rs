//! PDB format: CRYST1, MODEL/ENDMDL, ATOM/HETATM, TER. Columns are taken by position and
//! short or malformed lines are skipped field by field rather than rejected: CCP4 programs
//! write PDB files that stricter readers refuse (no element column, 4-letter residue names,
//! hybrid-36 serials).

use super::{Atom, Chain, Residue, Structure, assign_entities, residues};
use crate::error::{FormatError, Result};
use crate::mtz::Cell;
use crate::mtz::spacegroup;

pub fn parse(text: &str) -> Result<Structure> {
    let mut s = Structure {
        cell: None,
        spacegroup: None,
        n_models: 0,
        chains: Vec::new(),
    };
    let mut ter_at: Vec<(String, usize)> = Vec::new();
    let mut in_first_model = true;
    let mut saw_model = false;
    let mut any_atom = false;
    for line in text.lines() {
        let rec = field(line, 0, 6);
        match trim_end(rec) {
            "CRYST1" => {
                s.cell = parse_cryst1(line);
                let sg = field(line, 55, 66).trim();
                if !sg.is_empty() {
                    s.spacegroup =
                        spacegroup::resolve_hm(sg, None).or_else(|| Some(sg.to_string()));
                }
            }
            "MODEL" => {
                s.n_models += 1;
                in_first_model = !saw_model;
                saw_model = true;
            }
            "ENDMDL" => in_first_model = false,
            "TER" if in_first_model => {
                if let Some(last) = s.chains.last() {
                    ter_at.push((last.name.clone(), last.residues.len()));
                }
            }
            "ATOM" | "HETATM" => {
                any_atom = true;
                if in_first_model {
                    add_atom(&mut s.chains, line, rec.starts_with("HETATM"));
                }
            }
            _ => {}
        }
    }
    if !any_atom && s.cell.is_none() {
        return Err(FormatError::NotThisFormat(
            "no ATOM, HETATM or CRYST1 records: not a PDB file".into(),
        ));
    }
    if s.n_models == 0 && any_atom {
        s.n_models = 1;
    }
    for chain in &mut s.chains {
        let end = ter_at
            .iter()
            .find(|(n, _)| *n == chain.name)
            .map(|(_, i)| *i);
        assign_entities(chain, end);
    }
    Ok(s)
}

fn add_atom(chains: &mut Vec<Chain>, line: &str, het: bool) {
    // Borrowed fields first: only a new residue or chain allocates its names.
    let res_name = trim(field(line, 17, 21));
    let chain_id = trim(field(line, 21, 22));
    let seqnum = trim(field(line, 22, 26)).parse::<i32>().unwrap_or(0);
    let icode = field(line, 26, 27).chars().next().filter(|c| *c != ' ');
    let element_col = trim(field(line, 76, 78));
    let element = if element_col.is_empty() {
        residues::element_case(&infer_element(field(line, 12, 16)))
    } else {
        residues::element_case(element_col)
    };
    let chain = Chain::find_or_add(chains, chain_id);
    let same = chain
        .residues
        .last()
        .is_some_and(|r| r.seqnum == seqnum && r.icode == icode && r.name == res_name);
    if !same {
        chain.residues.push(Residue {
            name: res_name.to_string(),
            seqnum,
            icode,
            het,
            entity: super::EntityType::Unknown,
            atoms: Vec::with_capacity(8),
        });
    }
    if let Some(r) = chain.residues.last_mut() {
        r.atoms.push(Atom {
            name: trim(field(line, 12, 16)).into(),
            element,
            altloc: field(line, 16, 17).chars().next().filter(|c| *c != ' '),
        });
    }
}

/// Element from an atom name when columns 77-78 are blank: a leading blank or digit means a
/// one-letter element in the second column.
fn infer_element(name4: &str) -> String {
    let b: Vec<char> = name4.chars().collect();
    match b.first() {
        Some(c) if c.is_ascii_alphabetic() => b
            .iter()
            .take(2)
            .filter(|c| c.is_ascii_alphabetic())
            .collect(),
        _ => b
            .get(1)
            .filter(|c| c.is_ascii_alphabetic())
            .map(|c| c.to_string())
            .unwrap_or_default(),
    }
}

fn parse_cryst1(line: &str) -> Option<Cell> {
    let n = |a: usize, b: usize| field(line, a, b).trim().parse::<f64>().ok();
    Some(Cell {
        a: n(6, 15)?,
        b: n(15, 24)?,
        c: n(24, 33)?,
        alpha: n(33, 40)?,
        beta: n(40, 47)?,
        gamma: n(47, 54)?,
    })
}

/// `str::trim_end` with a byte loop for the usual ASCII ends (the per-atom fields of a large
/// file made `trim` a noticeable share of a digest); non-ASCII ends take the general path.
fn trim_end(s: &str) -> &str {
    let b = s.as_bytes();
    let mut end = b.len();
    while end > 0 && is_ascii_space(b[end - 1]) {
        end -= 1;
    }
    let t = s.get(..end).unwrap_or(s);
    if t.as_bytes().last().is_some_and(|c| !c.is_ascii()) {
        t.trim_end()
    } else {
        t
    }
}

/// `str::trim`, fast for ASCII ends as [`trim_end`].
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let mut start = 0;
    while start < b.len() && is_ascii_space(b[start]) {
        start += 1;
    }
    let t = trim_end(s.get(start..).unwrap_or(s));
    if t.as_bytes().first().is_some_and(|c| !c.is_ascii()) {
        t.trim_start()
    } else {
        t
    }
}

/// The ASCII characters `char::is_whitespace` accepts (vertical tab included, unlike
/// `u8::is_ascii_whitespace`).
fn is_ascii_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Columns `a..b` (0-based, end exclusive) of a line, clipped to its length and to char bounds.
fn field(line: &str, a: usize, b: usize) -> &str {
    let end = b.min(line.len());
    if a >= end {
        return "";
    }
    line.get(a..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_odd_lines_do_not_panic() {
        let t = "CRYST1   10\nATOM\nATOM      1  CA  ALA A   1\nHETATM    2 XE    XE W   1      0.0 0.0 0.0\nTER\nÄÖÜ\n";
        let s = parse(t).expect("parses");
        assert_eq!(s.n_atoms(), 3);
        assert!(s.cell.is_none());
    }

    #[test]
    fn fast_trims_match_std() {
        for t in [
            "",
            " ",
            "  CA ",
            "\u{b}N\u{c}",
            "\u{a0}O\u{a0}",
            " \u{2003}SE\u{85} ",
            "Ä",
            " Ü ",
            "\tX\r",
        ] {
            assert_eq!(trim(t), t.trim(), "{t:?}");
            assert_eq!(trim_end(t), t.trim_end(), "{t:?}");
        }
    }
}
