//! Deterministic mutation test (cargo-fuzz needs nightly): every reader is fed truncations of
//! small real files at many offsets, byte flips, huge length fields and garbage. None may
//! panic; errors are fine. Runs in a few seconds.

mod common;

use std::path::{Path, PathBuf};

use i2_formats::digest::digest_for;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("i2-formats-mut-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join(name)
}

/// Run the readers for this kind of file (all of them for `.bin`); a panic fails the test.
fn exercise(path: &Path) {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let types: &[&str] = match ext {
        "mtz" => &["application/CCP4-mtz"],
        "pdb" => &["chemical/x-pdb"],
        "cif" => &[
            "chemical/x-pdb",
            "application/refmac-dictionary",
            "application/CCP4-generic-reflections",
        ],
        "pir" | "seq" | "aln" => &["application/CCP4-seq", "application/CCP4-seqalign"],
        "xml" => &["application/CCP4-asu-content"],
        "hkl" => &["application/CCP4-unmerged-experimental"],
        _ => &[
            "application/CCP4-mtz",
            "chemical/x-pdb",
            "application/CCP4-seq",
            "application/CCP4-seqalign",
            "application/CCP4-asu-content",
            "application/refmac-dictionary",
        ],
    };
    for t in types {
        let _ = digest_for(t, path);
    }
    if let Ok(h) = i2_formats::mtz::MtzHeader::read(path) {
        let _ = i2_formats::mtz::resolution_range(path, &h);
    }
}

/// Simple LCG so the byte flips are the same on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn mutate(name: &str, original: &[u8], step: usize) {
    let path = scratch(name);
    // Truncations.
    let mut cut = 0;
    while cut < original.len() {
        std::fs::write(&path, &original[..cut]).expect("write");
        exercise(&path);
        cut += step.max(1);
    }
    // Byte flips.
    let mut rng = Lcg(42);
    for _ in 0..100 {
        let mut m = original.to_vec();
        for _ in 0..4 {
            let i = (rng.next() as usize) % m.len().max(1);
            if let Some(b) = m.get_mut(i) {
                *b = rng.next() as u8;
            }
        }
        std::fs::write(&path, &m).expect("write");
        exercise(&path);
    }
}

#[test]
fn mtz_survives_truncation_flips_and_huge_fields() {
    let src = common::ccp4i2_root().join("wrappers/pointless/test_data/brap_pk_6A_scaled2.mtz");
    let original = std::fs::read(&src).expect("read small MTZ");
    // Every offset of the preamble and of the header region; every 997th byte of the data.
    let header_at = original.len().saturating_sub(6000);
    let path = scratch("cut.mtz");
    for cut in (0..200)
        .chain((200..header_at).step_by(997))
        .chain((header_at..original.len()).step_by(7))
    {
        std::fs::write(&path, &original[..cut]).expect("write");
        exercise(&path);
    }
    mutate("flip.mtz", &original, original.len() / 50);
    // Header position far outside the file, -1 with a huge 64-bit position, and huge counts.
    for word in [i32::MAX, -1, 0, 1, 21] {
        let mut m = original.clone();
        m[4..8].copy_from_slice(&word.to_le_bytes());
        m[12..20].copy_from_slice(&i64::MAX.to_le_bytes());
        std::fs::write(&path, &m).expect("write");
        exercise(&path);
    }
    for (from, to) in [
        ("NCOL        9         1356", "NCOL 999999999 99999999999"),
        ("MTZHIST", "MTZHIST 99999999 "),
    ] {
        let found = original
            .windows(from.len())
            .position(|w| w == from.as_bytes());
        if let Some(i) = found {
            let mut m = original.clone();
            let repl = format!("{to:<width$}", width = from.len());
            m[i..i + from.len()].copy_from_slice(&repl.as_bytes()[..from.len()]);
            std::fs::write(&path, &m).expect("write");
            exercise(&path);
        }
    }
}

#[test]
fn text_formats_survive_truncation_and_flips() {
    let root = common::ccp4i2_root();
    let pdb = std::fs::read(root.join("wrappers/chainsaw/test_data/1a80_A.pdb")).expect("pdb");
    let small_pdb = &pdb[..pdb.len().min(8_000)];
    mutate("m.pdb", small_pdb, 97);
    mutate(
        "m.pir",
        &std::fs::read(root.join("wrappers/chainsaw/test_data/1mzr_1a80.pir")).expect("pir"),
        1,
    );
    let cif = b"data_x\n_cell.length_a 10\nloop_\n_entity.id\n_entity.type\n1 polymer\n2 water\nloop_\n\
_atom_site.group_PDB\n_atom_site.id\n_atom_site.type_symbol\n_atom_site.label_atom_id\n_atom_site.label_comp_id\n\
_atom_site.auth_asym_id\n_atom_site.auth_seq_id\n_atom_site.label_entity_id\n_atom_site.pdbx_PDB_model_num\n\
ATOM 1 C CA ALA A 1 1 1\nHETATM 2 O O HOH A 2 2 1\n_x 'quoted' ;\n;text\n;\n";
    mutate("m.cif", cif, 1);
    let asu = b"<ccp4i2><ccp4i2_body><seqList><CAsuContentSeq><sequence>AC</sequence><nCopies>x</nCopies>\
<name>&amp;</name></CAsuContentSeq></seqList></ccp4i2_body></ccp4i2>";
    mutate("m.asu.xml", asu, 1);
    // The readers added for dictionaries, alignments and reflection mmCIF, on the small files
    // written for the digest tests.
    let files = common::fixture("files");
    for (name, step) in [
        ("dict_two_monomers.cif", 1),
        ("sf_anom_freer.cif", 7),
        ("sf_unmerged_two_blocks.cif", 3),
        ("aln_clustal.aln", 1),
        ("aln_stockholm.sto", 1),
        ("aln_phylip.phy", 1),
        ("aln_fasta.fasta", 1),
    ] {
        let data = std::fs::read(files.join(name)).expect("test file");
        let ext = if name.ends_with(".cif") { "cif" } else { "aln" };
        mutate(&format!("m_{name}.{ext}"), &data, step);
    }
    mutate("m.hkl", b"1\n-987\n40 50 60 90 90 90 p212121\n", 1);
    // Pure garbage and empty files.
    let mut rng = Lcg(7);
    let garbage: Vec<u8> = (0..4096).map(|_| rng.next() as u8).collect();
    for name in ["g.mtz", "g.pdb", "g.cif", "g.seq", "g.hkl", "g.bin"] {
        let p = scratch(name);
        std::fs::write(&p, &garbage).expect("write");
        exercise(&p);
        std::fs::write(&p, b"").expect("write");
        exercise(&p);
    }
}
