//! `monomer-info/{code}/` against upstream's own reading of the same monomer-library files:
//! for each code, the atoms and bonds i2server answers must equal what upstream's
//! `extract_monomer_atoms_bonds` (gemmi, run here with the upstream Python) gives for the
//! file. Entries come from the test monomer library (`$CLIBD_MON`, Debian's
//! refmac-dictionary), presented as `$CCP4/lib/data/monomers`. Also upstream's 404 for a
//! missing entry, and its message when CCP4 is not configured (a 404, where upstream answers 500). The route reads no database, so one
//! backend is enough.

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

/// Upstream's reading of `file`, as the JSON its route puts under `data` (without `code`).
fn upstream_reading(py: &Path, file: &Path) -> Value {
    let out = std::process::Command::new(py)
        .arg("-c")
        .arg(
            "import json, sys\n\
             from ccp4i2.lib.utils.formats.cif_ligand import extract_monomer_atoms_bonds\n\
             print(json.dumps(extract_monomer_atoms_bonds(sys.argv[1])))",
        )
        .arg(file)
        .output()
        .expect("run the upstream Python");
    assert!(
        out.status.success(),
        "upstream reading of {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("upstream's JSON")
}

#[tokio::test]
async fn monomer_info_reads_the_library_as_upstream_does() {
    let Some(py) = upstream_python() else { return };
    let monlib = std::env::var_os("CLIBD_MON")
        .map(std::path::PathBuf::from)
        .expect("CLIBD_MON is not set: run with scripts/test.sh (it builds the monomer library)");
    let ccp4 = tempfile::tempdir().expect("temp dir");
    let data = ccp4.path().join("lib/data");
    std::fs::create_dir_all(&data).expect("lib/data");
    std::os::unix::fs::symlink(&monlib, data.join("monomers")).expect("link the library");

    let Some(app) =
        TestApp::start_with(Backend::Sqlite, |c| c.ccp4 = Some(ccp4.path().into())).await
    else {
        return;
    };
    // Amino acids, nucleotides, a sugar, a cofactor with metal bonds, a lower-case request.
    let mut compared = 0;
    for code in [
        "ALA", "lys", "TRP", "A", "DG", "NAG", "ATP", "HEM", "SO4", "HOH",
    ] {
        let upper = code.to_uppercase();
        let first = upper[..1].to_lowercase();
        let file = monlib.join(&first).join(format!("{upper}.cif"));
        assert!(
            file.is_file(),
            "{} is missing from the test library",
            file.display()
        );
        let r = app.get(&format!("/api/ccp4i2/monomer-info/{code}/")).await;
        assert_eq!(r.status, StatusCode::OK, "{code}: {}", r.json());
        let got = r.json();
        assert_eq!(got["success"], true, "{code}: {got}");
        assert_eq!(got["data"]["code"], upper.as_str());
        let want = upstream_reading(&py, &file);
        assert_eq!(got["data"]["atoms"], want["atoms"], "{code}: atoms");
        assert_eq!(got["data"]["bonds"], want["bonds"], "{code}: bonds");
        compared += 1;
    }
    assert_eq!(compared, 10);

    let r = app.get("/api/ccp4i2/monomer-info/ZQZQ/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(),
        json!({"success": false, "error": "Monomer 'ZQZQ' not found in library"})
    );
    // A decoded slash never reaches the file system.
    let r = app.get("/api/ccp4i2/monomer-info/a%2F..%2F..%2Fx/").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    app.finish().await;

    let Some(app) = TestApp::start(Backend::Sqlite).await else {
        return;
    };
    let r = app.get("/api/ccp4i2/monomer-info/ALA/").await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "upstream's 500 as a clean 404"
    );
    assert_eq!(
        r.json(),
        json!({"success": false, "error": "CCP4 environment not configured"})
    );
    app.finish().await;
}
