//! Monomer dictionary coverage of a refinement job's model (upstream's pre-flight check of
//! `prosmart_refmac`, `servalcat_pipe`, `refmac` and `servalcat`): every residue of the
//! model's first model needs a restraint dictionary, from the job's `DICT_LIST` files first,
//! then the monomer library (`$CLIBD_MON`, else `$CCP4/lib/data/monomers`), and every atom of
//! a residue with a dictionary needs to be named in it.
//!
//! Facts observed on upstream (gemmi's topology preparation, which it runs):
//! - without a monomer library directory, or when the model cannot be read, nothing is
//!   reported (the refinement program reports its own error later);
//! - standard amino acids, nucleotides and water never need a dictionary;
//! - the library is the list file `list/mon_lib_list.cif` (it defines some monomers, ions
//!   among them) plus one file per code, `<first letter lower-cased>/<CODE>.cif`;
//! - atoms are named `chain/RES seq[icode]/ATOM[.altloc]`, and each residue's line keeps
//!   gemmi's "definition not found for" prefix in front of the residue;
//! - upstream also means to flag likely code collisions (a dictionary naming atoms the
//!   residue lacks), but its residue keys carry that prefix and never match the missing
//!   atoms', so it never reports one; neither does this;
//! - one error, code 350, class the task, object path `<task>.container`.
//!
//! Not modelled: gemmi's link and modification rules beyond a C-terminal `OXT` (amino acids)
//! and a 5' `OP3` (nucleotides); hydrogens that only a modification names are reported here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use i2_formats::coords::{self, residues};
use i2_formats::dict::{self, Monomer};
use serde_json::Value;

use crate::jobparams::{JobParams, child};
use crate::validity::{FileContext, Finding, Severity};

/// The tasks whose plugins make this check.
pub(crate) const TASKS: &[&str] = &["prosmart_refmac", "servalcat_pipe", "refmac", "servalcat"];

/// Residues gemmi tabulates as standard (polymer building blocks).
const STANDARD: &[&str] = &[
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
    "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "UNK", "SEC", "PYL", "ASX", "GLX", "A", "C",
    "G", "U", "I", "N", "DA", "DC", "DG", "DT", "DI", "DU",
];

fn builtin(code: &str) -> bool {
    STANDARD.contains(&code) || residues::is_water(code)
}

/// Names Windows reserves get a doubled file name in the monomer library (`CON_CON.cif`).
fn library_file(dir: &Path, code: &str) -> Option<PathBuf> {
    let first = code.chars().next()?.to_ascii_lowercase();
    let reserved = ["CON", "PRN", "AUX", "NUL"].contains(&code)
        || (code.len() == 4
            && (code.starts_with("COM") || code.starts_with("LPT"))
            && code.as_bytes()[3].is_ascii_digit());
    let name = if reserved {
        format!("{code}_{code}.cif")
    } else {
        format!("{code}.cif")
    };
    Some(dir.join(first.to_string()).join(name))
}

/// Monomers defined by a dictionary file, the first definition of a code winning.
fn add_monomers(path: &Path, into: &mut HashMap<String, Monomer>) {
    if let Ok(d) = dict::read(path) {
        for m in d.monomers {
            into.entry(m.code.clone()).or_insert(m);
        }
    }
}

/// The path of the file parameter `node` when it is set.
fn set_path(files: &FileContext, node: Option<&Value>) -> Option<String> {
    node.and_then(|n| (files.full_path)(n))
}

/// Atoms a polymer residue may carry without its dictionary naming them (terminal groups).
fn terminal_atom(code: &str, atom: &str) -> bool {
    (residues::is_amino_acid(code) && atom == "OXT")
        || (residues::is_nucleic_acid(code) && atom == "OP3")
}

pub(crate) fn check(params: &JobParams, files: &FileContext) -> Vec<Finding> {
    let tree = params.container_json();
    let Some(input) = child(tree, "inputData") else {
        return Vec::new();
    };
    let Some(xyzin) = set_path(files, child(input, "XYZIN")) else {
        return Vec::new();
    };
    let Some(dir) = files.monomer_dir.filter(|d| d.is_dir()) else {
        return Vec::new();
    };
    let Ok(st) = coords::summarise(Path::new(&xyzin)) else {
        return Vec::new();
    };
    if st.chains.is_empty() {
        return Vec::new();
    }
    let codes: BTreeSet<&str> = st
        .chains
        .iter()
        .flat_map(|c| &c.residues)
        .map(|r| r.name.as_str())
        .collect();
    let mut library = HashMap::new();
    let dicts = child(input, "DICT_LIST")
        .and_then(|l| l.get("_value"))
        .and_then(Value::as_array);
    for item in dicts.into_iter().flatten() {
        if let Some(p) = set_path(files, Some(item)) {
            add_monomers(Path::new(&p), &mut library);
        }
    }
    if codes.iter().any(|c| !library.contains_key(*c)) {
        add_monomers(&dir.join("list").join("mon_lib_list.cif"), &mut library);
        for code in &codes {
            if !library.contains_key(*code)
                && let Some(f) = library_file(dir, code).filter(|f| f.is_file())
            {
                add_monomers(&f, &mut library);
            }
        }
    }
    let mut lines = Vec::new();
    let no_dict: Vec<&str> = codes
        .iter()
        .copied()
        .filter(|c| !library.contains_key(*c) && !builtin(c))
        .collect();
    if !no_dict.is_empty() {
        lines.push(format!("No dictionary at all for: {}", no_dict.join(", ")));
    }
    // Residue key -> atoms without restraints.
    let mut unrestrained: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for chain in &st.chains {
        for res in &chain.residues {
            let Some(m) = library.get(&res.name) else {
                continue;
            };
            let icode = res.icode.map(String::from).unwrap_or_default();
            let key = format!("{}/{} {}{icode}", chain.name, res.name, res.seqnum);
            for atom in &res.atoms {
                let name = atom.name.as_str();
                let known = m.atoms.iter().chain(&m.hydrogens).any(|a| a == name);
                if !known && !terminal_atom(&res.name, name) {
                    let shown = match atom.altloc {
                        Some(alt) => format!("{name}.{alt}"),
                        None => name.to_string(),
                    };
                    unrestrained.entry(key.clone()).or_default().push(shown);
                }
            }
        }
    }
    for (key, atoms) in &unrestrained {
        // Upstream keeps gemmi's message prefix in the residue key.
        lines.push(format!(
            "  definition not found for {key}: atoms without restraints: {}",
            atoms.join(", ")
        ));
    }
    if lines.is_empty() {
        return Vec::new();
    }
    let task = params.task_name();
    vec![Finding {
        class: task.to_string(),
        code: 350,
        description: format!("Monomer coverage check failed:\n{}", lines.join("\n")),
        severity: Severity::Error,
        object_path: format!("{task}.container"),
    }]
}
