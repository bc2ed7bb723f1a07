//! MTZ: header, reflection rows, resolution, column groups and the digest, through a file
//! (the readers stream from disk). Also the mini-MTZ writer on whatever columns the file has.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir();
    let src = dir.join(format!("i2fuzz-mtz-{}.mtz", std::process::id()));
    let dst = dir.join(format!("i2fuzz-mtz-{}-out.mtz", std::process::id()));
    if std::fs::write(&src, data).is_err() {
        return;
    }
    let _ = i2_formats::digest::digest_for("application/CCP4-mtz", &src);
    if let Ok(h) = i2_formats::mtz::MtzHeader::read(&src) {
        let labels: Vec<(&str, &str)> = h
            .columns
            .iter()
            .skip(3)
            .take(2)
            .map(|c| (c.label.as_str(), c.label.as_str()))
            .collect();
        let _ = i2_formats::mtz::write_columns(&src, &dst, &labels);
    }
});
