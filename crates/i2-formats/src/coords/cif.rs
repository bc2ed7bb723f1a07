//! The first `data_` block of an mmCIF file (tag-value pairs and `loop_` tables, over the
//! shared tokeniser [`cif::tokens`], values borrowed from the text), then the coordinate items.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Atom, Chain, EntityType, Residue, Structure, assign_entities, residues};
use crate::cif;
use crate::error::{FormatError, Result};
use crate::mtz::Cell;
use crate::mtz::spacegroup;

pub fn looks_like_cif(text: &str) -> bool {
    text.lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with("data_"))
}

/// The first data block: single items and loops (column tags → values). Values borrow the
/// text (see [`cif::tokens`]); tags are stored lower-cased.
#[derive(Debug, Default)]
pub struct Block<'a> {
    pub name: String,
    pub items: HashMap<String, Cow<'a, str>>,
    pub loops: Vec<Loop<'a>>,
}

#[derive(Debug, Default)]
pub struct Loop<'a> {
    pub tags: Vec<String>,
    pub values: Vec<Cow<'a, str>>,
}

impl<'a> Loop<'a> {
    pub fn column(&self, tag: &str) -> Option<usize> {
        self.tags.iter().position(|t| t.eq_ignore_ascii_case(tag))
    }

    pub fn rows(&self) -> impl Iterator<Item = &[Cow<'a, str>]> {
        self.values.chunks_exact(self.tags.len().max(1))
    }
}

impl<'a> Block<'a> {
    pub fn find_loop(&self, tag: &str) -> Option<&Loop<'a>> {
        self.loops.iter().find(|l| l.column(tag).is_some())
    }

    /// A value given either as a single item or in a one-row loop; `.`/`?` mean absent.
    pub fn value(&self, tag: &str) -> Option<&str> {
        let v = self
            .items
            .get(&tag.to_ascii_lowercase())
            .map(|v| &**v)
            .or_else(|| {
                let l = self.find_loop(tag)?;
                l.rows().next()?.get(l.column(tag)?).map(|v| &**v)
            })?;
        (v != "." && v != "?").then_some(v)
    }
}

/// Parse the first data block of CIF text. Unlike [`cif::parse`], quoting is not consulted:
/// a quoted value that reads like a keyword (`'_x'`, `'loop_'`) counts as one here.
pub fn first_block(text: &str) -> Result<Block<'_>> {
    let mut it = cif::tokens(text).map(|t| t.text).peekable();
    let mut block = Block::default();
    let mut started = false;
    while let Some(t) = it.next() {
        if let Some(name) = t.strip_prefix("data_") {
            if started {
                break;
            }
            started = true;
            block.name = name.to_string();
        } else if !started {
            continue;
        } else if t.eq_ignore_ascii_case("loop_") {
            let (tags, values) =
                cif::read_loop(&mut it, |t| t.starts_with('_'), |t| is_keyword(t))?;
            let tags = tags.iter().map(|t| t.to_ascii_lowercase()).collect();
            block.loops.push(Loop { tags, values });
        } else if t.starts_with('_') {
            match it.next_if(|v| !is_keyword(v)) {
                Some(v) => {
                    block.items.insert(t.to_ascii_lowercase(), v);
                }
                None => return Err(FormatError::Corrupt(format!("CIF tag {t} has no value"))),
            }
        }
    }
    if !started {
        return Err(FormatError::NotThisFormat(
            "no data_ block: not a CIF file".into(),
        ));
    }
    Ok(block)
}

fn is_keyword(t: &str) -> bool {
    t.starts_with('_')
        || t.starts_with("data_")
        || t.eq_ignore_ascii_case("loop_")
        || t.starts_with("save_")
        || t.eq_ignore_ascii_case("global_")
        || t.eq_ignore_ascii_case("stop_")
}

/// Coordinates from an mmCIF block (first model, chains named by `auth_asym_id`).
pub fn read_structure(text: &str) -> Result<Structure> {
    let block = first_block(text)?;
    let cell = (|| {
        let n = |t: &str| block.value(t)?.parse::<f64>().ok();
        Some(Cell {
            a: n("_cell.length_a")?,
            b: n("_cell.length_b")?,
            c: n("_cell.length_c")?,
            alpha: n("_cell.angle_alpha")?,
            beta: n("_cell.angle_beta")?,
            gamma: n("_cell.angle_gamma")?,
        })
    })();
    let spacegroup = block
        .value("_symmetry.space_group_name_H-M")
        .or_else(|| block.value("_space_group.name_H-M_alt"))
        .map(|n| spacegroup::resolve_hm(n, None).unwrap_or_else(|| n.to_string()));
    let entity_types: HashMap<String, EntityType> = block
        .find_loop("_entity.type")
        .map(|l| {
            let (Some(id), Some(ty)) = (l.column("_entity.id"), l.column("_entity.type")) else {
                return HashMap::new();
            };
            l.rows()
                .filter_map(|r| Some((r.get(id)?.to_string(), entity_type(r.get(ty)?))))
                .collect()
        })
        .or_else(|| {
            let id = block.value("_entity.id")?;
            Some(HashMap::from([(
                id.to_string(),
                entity_type(block.value("_entity.type")?),
            )]))
        })
        .unwrap_or_default();
    let atoms = block
        .find_loop("_atom_site.id")
        .or_else(|| block.find_loop("_atom_site.label_atom_id"))
        .ok_or_else(|| {
            FormatError::NotThisFormat("no _atom_site loop: not a coordinate mmCIF".into())
        })?;
    let col = |t: &str| atoms.column(t);
    let c_group = col("_atom_site.group_pdb");
    let c_elem = col("_atom_site.type_symbol");
    let c_name = col("_atom_site.auth_atom_id").or(col("_atom_site.label_atom_id"));
    let c_alt = col("_atom_site.label_alt_id");
    let c_comp = col("_atom_site.auth_comp_id").or(col("_atom_site.label_comp_id"));
    let c_chain = col("_atom_site.auth_asym_id").or(col("_atom_site.label_asym_id"));
    let c_seq = col("_atom_site.auth_seq_id").or(col("_atom_site.label_seq_id"));
    let c_icode = col("_atom_site.pdbx_pdb_ins_code");
    let c_model = col("_atom_site.pdbx_pdb_model_num");
    let c_entity = col("_atom_site.label_entity_id");
    let mut s = Structure {
        cell,
        spacegroup,
        n_models: 0,
        chains: Vec::new(),
    };
    // Model numbers and residue names borrow the text: no allocation per atom.
    let mut models: Vec<&str> = Vec::new();
    for row in atoms.rows() {
        let get = |c: Option<usize>| c.and_then(|i| row.get(i)).map(|v| &**v).unwrap_or("");
        let model = get(c_model);
        if !models.contains(&model) {
            models.push(model);
        }
        if models.first() != Some(&model) {
            continue;
        }
        let res_name = get(c_comp);
        let seqnum = get(c_seq).parse::<i32>().unwrap_or(0);
        let icode = get(c_icode)
            .chars()
            .next()
            .filter(|c| !matches!(c, '?' | '.'));
        let entity = entity_types
            .get(get(c_entity))
            .copied()
            .unwrap_or(EntityType::Unknown);
        let chain = Chain::find_or_add(&mut s.chains, get(c_chain));
        let same = chain
            .residues
            .last()
            .is_some_and(|r| r.seqnum == seqnum && r.icode == icode && r.name == res_name);
        if !same {
            chain.residues.push(Residue {
                name: res_name.to_string(),
                seqnum,
                icode,
                het: get(c_group) == "HETATM",
                entity,
                atoms: Vec::new(),
            });
        }
        if let Some(r) = chain.residues.last_mut() {
            r.atoms.push(Atom {
                name: get(c_name).into(),
                element: residues::element_case(get(c_elem)),
                altloc: get(c_alt)
                    .chars()
                    .next()
                    .filter(|c| !matches!(c, '.' | '?')),
            });
        }
    }
    s.n_models = models.len();
    for chain in &mut s.chains {
        assign_entities(chain, None);
    }
    Ok(s)
}

fn entity_type(t: &str) -> EntityType {
    match t.to_ascii_lowercase().as_str() {
        "polymer" => EntityType::Polymer,
        "non-polymer" => EntityType::NonPolymer,
        "water" => EntityType::Water,
        "branched" => EntityType::Branched,
        _ => EntityType::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_quotes_and_text_fields() {
        let b = first_block(
            "data_x\n_a 'it''s here' \n_b\n;line1\nline2\n;\nloop_\n_c.x _c.y\n1 2 3 4\n",
        )
        .expect("block");
        assert_eq!(b.items["_a"], "it''s here");
        assert_eq!(b.items["_b"], "line1\nline2");
        assert_eq!(b.find_loop("_c.x").map(|l| l.values.len()), Some(4));
        assert!(first_block("loop_\n_a\n").is_err());
        assert!(first_block("data_x\nloop_\n_a _b\n1\n").is_err());
    }
}
