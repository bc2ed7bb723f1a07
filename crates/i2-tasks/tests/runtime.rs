//! The run-time checks that read files (`run_time_validity`), on real definitions: unit cells
//! of `sameCrystalAs` partners (MTZ files from the ccp4i2 package's test data) and monomer
//! dictionary coverage (a model and a small monomer library written here). The same checks
//! are compared with the reference server in tests/conformance/runcheck.json.

mod common;

use std::path::{Path, PathBuf};

use common::{catalogue, installation};
use i2_tasks::JobParams;
use i2_tasks::validity::{FileContext, Finding, Severity};
use serde_json::Value;

fn object_path(node: &Value) -> &str {
    node.get("_objectPath")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Run-time findings of a fresh job of `task` whose file parameters named in `files` (last
/// path segment -> file) are set.
fn run_time(task: &str, files: &[(&str, PathBuf)], monomers: Option<&Path>) -> Vec<Finding> {
    let cat = catalogue();
    let def = cat.definition(task).expect("definition");
    let params = JobParams::fresh(&def, task);
    let full_path = |n: &Value| {
        let last = object_path(n).rsplit('.').next().unwrap_or("");
        files
            .iter()
            .find(|(name, _)| *name == last)
            .map(|(_, p)| p.to_string_lossy().into_owned())
    };
    let exists = |p: &str| Path::new(p).exists();
    let ctx = FileContext {
        full_path: &full_path,
        exists: &exists,
        monomer_dir: monomers,
    };
    params.run_time_validity(&ctx)
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("i2tasks-runtime-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn package_file(rel: &str) -> PathBuf {
    let (root, _) = installation();
    let p = root.join(rel);
    assert!(
        p.is_file(),
        "{} is missing from the ccp4i2 package",
        p.display()
    );
    p
}

#[test]
fn same_crystal_as_compares_mtz_cells() {
    let rnase_f = package_file("wrappers/freerflag/test_data/rnase25_fsigf.mtz");
    let rnase_free = package_file("wrappers/freerflag/test_data/rnase25_freer.mtz");
    let brap = package_file("wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz");
    let cell_errors =
        |f: &[Finding]| -> Vec<Finding> { f.iter().filter(|x| x.code == 210).cloned().collect() };

    let other = run_time(
        "modelcraft",
        &[("F_SIGF", brap.clone()), ("FREERFLAG", rnase_free.clone())],
        None,
    );
    let fired = cell_errors(&other);
    assert_eq!(fired.len(), 1, "{other:?}");
    assert_eq!(fired[0].class, "modelcraft");
    assert_eq!(fired[0].severity, Severity::Error);
    assert_eq!(
        fired[0].object_path,
        "modelcraft.container.inputData.FREERFLAG"
    );
    assert!(
        fired[0]
            .description
            .starts_with("Incompatible unit cells between FREERFLAG (64.897, 78.323, 38.792, 90.0, 90.0, 90.0) and F_SIGF (81.12,"),
        "{}",
        fired[0].description
    );

    let same = run_time(
        "modelcraft",
        &[
            ("F_SIGF", rnase_f.clone()),
            ("FREERFLAG", rnase_free.clone()),
        ],
        None,
    );
    assert!(cell_errors(&same).is_empty(), "{same:?}");

    // freerflag's FREERFLAG declares sameCrystalLevel (text): upstream skips the pair.
    let level = run_time(
        "freerflag",
        &[("F_SIGF", brap), ("FREERFLAG", rnase_free)],
        None,
    );
    assert!(cell_errors(&level).is_empty(), "{level:?}");
}

const LIST: &str = "data_comp_list\nloop_\n_chem_comp.id\n_chem_comp.three_letter_code\n\
_chem_comp.name\n_chem_comp.group\n_chem_comp.number_atoms_all\n_chem_comp.number_atoms_nh\n\
_chem_comp.desc_level\nHOH HOH water solvent 3 1 .\n\
data_comp_HOH\nloop_\n_chem_comp_atom.comp_id\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\n\
HOH O O\nHOH H1 H\nHOH H2 H\n";

fn monomer(code: &str, atoms: &[(&str, &str)]) -> String {
    let mut s = format!(
        "data_comp_{code}\nloop_\n_chem_comp_atom.comp_id\n_chem_comp_atom.atom_id\n_chem_comp_atom.type_symbol\n"
    );
    for (a, el) in atoms {
        s.push_str(&format!("{code} {a} {el}\n"));
    }
    s
}

fn atom(serial: usize, name: &str, res: &str, seq: i32, het: bool) -> String {
    let rec = if het { "HETATM" } else { "ATOM  " };
    let el = &name[..1];
    format!(
        "{rec}{serial:5}  {name:<3} {res:>3} A{seq:4}    {:8.3}{:8.3}{:8.3}  1.00 20.00          {el:>2}\n",
        serial as f64, 5.0, 5.0
    )
}

#[test]
fn monomer_coverage_names_missing_dictionaries_and_atoms() {
    let dir = TempDir::new("monomers");
    let lib = dir.path().join("monomers");
    std::fs::create_dir_all(lib.join("list")).expect("list dir");
    std::fs::create_dir_all(lib.join("g")).expect("g dir");
    std::fs::write(lib.join("list/mon_lib_list.cif"), LIST).expect("list");
    std::fs::write(
        lib.join("g/GOL.cif"),
        monomer(
            "GOL",
            &[("C1", "C"), ("O1", "O"), ("C2", "C"), ("H11", "H")],
        ),
    )
    .expect("GOL");
    let mut model = String::new();
    for (i, (name, res, seq, het)) in [
        ("N", "ALA", 1, false),
        ("CA", "ALA", 1, false),
        ("C1", "GOL", 101, true),
        ("O1", "GOL", 101, true),
        ("C2", "GOL", 101, true),
        ("H11", "GOL", 101, true),
        ("N9", "GOL", 101, true),
        ("C1", "QQ9", 102, true),
        ("O", "HOH", 201, true),
    ]
    .iter()
    .enumerate()
    {
        model.push_str(&atom(i + 1, name, res, *seq, *het));
    }
    model.push_str("END\n");
    let xyz = dir.path().join("model.pdb");
    std::fs::write(&xyz, &model).expect("model");

    let found = run_time("servalcat_pipe", &[("XYZIN", xyz.clone())], Some(&lib));
    let cov: Vec<&Finding> = found.iter().filter(|f| f.code == 350).collect();
    assert_eq!(cov.len(), 1, "{found:?}");
    assert_eq!(cov[0].class, "servalcat_pipe");
    assert_eq!(cov[0].object_path, "servalcat_pipe.container");
    assert_eq!(
        cov[0].description,
        "Monomer coverage check failed:\nNo dictionary at all for: QQ9\n  \
         definition not found for A/GOL 101: atoms without restraints: N9"
    );

    // A dictionary for QQ9 in DICT_LIST is read first.
    let qq9 = dir.path().join("qq9.cif");
    std::fs::write(&qq9, monomer("QQ9", &[("C1", "C")])).expect("dict");
    let cat = catalogue();
    let def = cat.definition("servalcat_pipe").expect("definition");
    let mut params = JobParams::fresh(&def, "servalcat_pipe");
    params
        .append_item("servalcat_pipe.container.inputData.DICT_LIST")
        .expect("DICT_LIST item");
    let full_path = |n: &Value| {
        let p = object_path(n);
        if p.ends_with(".XYZIN") {
            Some(xyz.to_string_lossy().into_owned())
        } else if p.contains("DICT_LIST[0]") {
            Some(qq9.to_string_lossy().into_owned())
        } else {
            None
        }
    };
    let exists = |p: &str| Path::new(p).exists();
    let ctx = FileContext {
        full_path: &full_path,
        exists: &exists,
        monomer_dir: Some(&lib),
    };
    let with_dict = params.run_time_validity(&ctx);
    let cov: Vec<&Finding> = with_dict.iter().filter(|f| f.code == 350).collect();
    assert_eq!(cov.len(), 1, "{with_dict:?}");
    assert!(
        !cov[0].description.contains("QQ9"),
        "{}",
        cov[0].description
    );

    // No monomer library: nothing is reported (upstream defers to the refinement program).
    let none = run_time("servalcat_pipe", &[("XYZIN", xyz.clone())], None);
    assert!(none.iter().all(|f| f.code != 350), "{none:?}");
    // An earlier error blocks the check (prosmart_refmac without its reflections).
    let blocked = run_time("prosmart_refmac", &[("XYZIN", xyz)], Some(&lib));
    assert!(blocked.iter().any(|f| f.severity == Severity::Error));
    assert!(blocked.iter().all(|f| f.code != 350), "{blocked:?}");
}
