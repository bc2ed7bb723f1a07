//! Inputs found by the fuzz targets (fuzz/, see FUZZING.md) that crashed, hung or blew up a
//! reader, replayed through the same calls as the targets. Each file in
//! tests/fixtures/fuzz/<target>/ must now be read (or refused) promptly without a panic.

mod common;

use std::path::Path;

fn replay(target: &str, data: &[u8], tmp: &Path) {
    let text = String::from_utf8_lossy(data);
    match target {
        "mtz" => {
            let src = tmp.join("in.mtz");
            std::fs::write(&src, data).expect("write");
            let _ = i2_formats::digest::digest_for("application/CCP4-mtz", &src);
            if let Ok(h) = i2_formats::mtz::MtzHeader::read(&src) {
                let labels: Vec<(&str, &str)> = h
                    .columns
                    .iter()
                    .skip(3)
                    .take(2)
                    .map(|c| (c.label.as_str(), c.label.as_str()))
                    .collect();
                let _ = i2_formats::mtz::write_columns(&src, &tmp.join("out.mtz"), &labels);
            }
        }
        "pdb" => {
            let _ = i2_formats::coords::pdb::parse(&text);
        }
        "mmcif" => {
            let _ = i2_formats::cif::parse(&text);
            let _ = i2_formats::coords::cif::read_structure(&text);
            let _ = i2_formats::sfcif::parse(&text);
        }
        "seq" => {
            let _ = i2_formats::seq::parse(&text, false);
            let _ = i2_formats::seq::parse(&text, true);
            let _ = i2_formats::align::identify_bytes(data);
        }
        "asu" => {
            let _ = i2_formats::asu::parse(&text);
        }
        "dict" => {
            let _ = i2_formats::dict::parse(&text);
        }
        other => panic!("unknown fuzz target directory {other}"),
    }
}

#[test]
fn fuzz_findings_stay_fixed() {
    let root = common::fixture("fuzz");
    let tmp = std::env::temp_dir().join(format!("i2-formats-fuzzreg-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let mut n = 0;
    for target in std::fs::read_dir(&root).expect("fixtures/fuzz").flatten() {
        let name = target.file_name().to_string_lossy().into_owned();
        for input in std::fs::read_dir(target.path())
            .expect("target dir")
            .flatten()
        {
            let data = std::fs::read(input.path()).expect("read input");
            eprintln!("{name}/{}", input.file_name().to_string_lossy());
            replay(&name, &data, &tmp);
            n += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(n > 0, "no fuzz regression inputs found");
}

/// The hang above, pinned: a PHYLIP header claiming 10^8 sequences is not that format.
#[test]
fn phylip_header_with_a_huge_count_is_refused() {
    let (format, ids) = i2_formats::align::identify_bytes(b" 106197125 30\nq SRQLEDRLGL\n");
    assert_eq!(format, "unknown");
    assert!(ids.is_empty());
    let (format, ids) = i2_formats::align::identify_bytes(b" 3 0\n");
    assert_eq!((format, ids.len()), ("phylip", 3));
}
