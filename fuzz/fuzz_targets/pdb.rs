//! PDB coordinates: the text parser, and the digest through a file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = i2_formats::coords::pdb::parse(&text);
    let path = std::env::temp_dir().join(format!("i2fuzz-pdb-{}.pdb", std::process::id()));
    if std::fs::write(&path, data).is_ok() {
        let _ = i2_formats::digest::digest_for("chemical/x-pdb", &path);
    }
});
