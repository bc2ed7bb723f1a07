//! Coordinate digest: `composition` (per-chain classification, counts, significant ligands),
//! `sequences` (one-letter polymer sequence per chain) and `ligands` (every residue that is
//! not an amino acid, nucleotide or water, with its Moorhen/Coot CID).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::coords::{EntityType, Structure, residues, summarise};
use crate::error::Result;

/// Upstream counts a non-polymer residue as a ligand from this many atoms.
const MIN_LIGAND_ATOMS: usize = 5;

pub fn digest(path: &Path) -> Result<Value> {
    let s = summarise(path)?;
    Ok(json!({
        "composition": composition(&s),
        "sequences": sequences(&s),
        "ligands": ligands(&s),
    }))
}

fn composition(s: &Structure) -> Value {
    // Borrowed names: the digest allocates per distinct name, not per residue or atom.
    let mut all_names: BTreeSet<&str> = BTreeSet::new();
    // Residue name counts in first-seen order (the order the JSON object keeps).
    let mut counts: Vec<(&str, u64)> = Vec::new();
    let mut count_at: HashMap<&str, usize> = HashMap::new();
    let mut elements: BTreeSet<&str> = BTreeSet::new();
    let mut contains_h = false;
    let (mut peptides, mut nucleics, mut solvent, mut sugars) = (vec![], vec![], vec![], vec![]);
    let (mut chain_info, mut details, mut ligand_list, mut monomers) =
        (vec![], vec![], vec![], vec![]);
    let (mut n_res, mut n_atoms, mut n_solvent) = (0usize, 0usize, 0usize);
    for chain in &s.chains {
        let (mut amino, mut nucleic, mut water, mut sugar, mut alt) =
            (false, false, false, false, false);
        let (mut n_lig, mut chain_atoms, mut chain_solvent) = (0usize, 0usize, 0usize);
        for r in &chain.residues {
            all_names.insert(&r.name);
            let at = *count_at.entry(&r.name).or_insert_with(|| {
                counts.push((&r.name, 0));
                counts.len() - 1
            });
            if let Some((_, n)) = counts.get_mut(at) {
                *n += 1;
            }
            match r.entity {
                EntityType::Polymer if residues::is_nucleic_acid(&r.name) => nucleic = true,
                EntityType::Polymer => amino = true,
                EntityType::Water => {
                    water = true;
                    chain_solvent += 1;
                }
                EntityType::NonPolymer => {
                    let single_metal = r.atoms.len() == 1
                        && r.atoms.iter().all(|a| residues::is_metal(&a.element));
                    if !single_metal && r.atoms.len() >= MIN_LIGAND_ATOMS {
                        monomers.push(format!("{}:{}:{}", chain.name, r.name, r.seqnum));
                        ligand_list.push(json!({"chain": chain.name, "name": r.name,
                                                "seqNum": r.seqnum, "atomCount": r.atoms.len()}));
                        n_lig += 1;
                    }
                    sugar |= residues::is_saccharide(&r.name);
                }
                EntityType::Branched | EntityType::Unknown => {}
            }
            for a in &r.atoms {
                chain_atoms += 1;
                if !matches!(a.element.as_ref(), "C" | "N" | "O") {
                    elements.insert(a.element.as_ref());
                }
                contains_h |= matches!(a.element.as_ref(), "H" | "D");
                alt |= a.altloc.is_some();
            }
        }
        let first = chain
            .residues
            .first()
            .map(|r| r.seqnum.to_string())
            .unwrap_or_default();
        let last = chain
            .residues
            .last()
            .map(|r| r.seqnum.to_string())
            .unwrap_or_default();
        chain_info.push(json!([chain.residues.len(), first, last]));
        n_res += chain.residues.len();
        n_atoms += chain_atoms;
        n_solvent += chain_solvent;
        let name = || json!(chain.name);
        if amino {
            peptides.push(name());
        }
        if nucleic {
            nucleics.push(name());
        }
        if water {
            solvent.push(name());
        }
        if sugar {
            sugars.push(name());
        }
        let kind = if amino {
            "protein"
        } else if nucleic {
            "nucleic"
        } else if water {
            "solvent"
        } else if sugar {
            "saccharide"
        } else {
            "other"
        };
        details.push(json!({
            "id": chain.name, "type": kind, "nResidues": chain.residues.len(), "nAtoms": chain_atoms,
            "firstRes": first, "lastRes": last, "ligandCount": n_lig, "hasAltConf": alt,
        }));
    }
    monomers.sort();
    json!({
        "chains": s.chains.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "monomers": monomers,
        "allResidueNames": all_names.into_iter().collect::<Vec<_>>(),
        "peptides": peptides,
        "nucleics": nucleics,
        "solventChains": solvent,
        "saccharides": sugars,
        "chainInfo": chain_info,
        "nModels": s.n_models,
        "nChains": s.chains.len(),
        "nResidues": n_res,
        "nAtoms": n_atoms,
        "nresSolvent": n_solvent,
        "elements": elements.into_iter().collect::<Vec<_>>(),
        "containsHydrogen": contains_h,
        "ligands": ligand_list,
        "chainDetails": details,
        "residueNameCounts": counts
            .into_iter()
            .map(|(name, n)| (name.to_string(), json!(n)))
            .collect::<Map<_, _>>(),
    })
}

fn sequences(s: &Structure) -> Value {
    let mut m = Map::new();
    for c in &s.chains {
        let seq = c.sequence();
        if !seq.is_empty() {
            m.insert(c.name.clone(), json!(seq));
        }
    }
    Value::Object(m)
}

fn ligands(s: &Structure) -> Value {
    let mut out = Vec::new();
    for c in &s.chains {
        for r in &c.residues {
            if residues::is_amino_acid(&r.name)
                || residues::is_nucleic_acid(&r.name)
                || residues::is_water(&r.name)
            {
                continue;
            }
            out.push(json!({
                "chainId": c.name, "name": r.name, "seqNum": r.seqnum,
                "cid": format!("/1/{}/{}({})", c.name, r.seqnum, r.name), "nAtoms": r.atoms.len(),
            }));
        }
    }
    Value::Array(out)
}
