//! Where the test data lives. Data files are never copied into the repository: the installed
//! `ccp4i2` package (required) and `../shared/fixtures` (optional, skipped with a note); only
//! small files written for these tests live in tests/fixtures/files.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The installed ccp4i2 package directory. Panics with instructions when it cannot be found:
/// these tests must never pass silently without their data.
pub fn ccp4i2_root() -> PathBuf {
    if let Ok(p) = std::env::var("I2_CCP4I2_ROOT") {
        let p = PathBuf::from(p);
        assert!(
            p.is_dir(),
            "I2_CCP4I2_ROOT={} is not a directory",
            p.display()
        );
        return p;
    }
    panic!(
        "no ccp4i2 package found: run the suite with scripts/test.sh, or set I2_CCP4I2_ROOT to the \
         installed ccp4i2 package directory (pip install ccp4i2==3.0.1; \
         python -c 'import ccp4i2,os;print(os.path.dirname(ccp4i2.__file__))')"
    )
}

/// `../shared/fixtures/ccp4i2-demo-data`, if present.
pub fn shared_demo_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/ccp4i2-demo-data");
    p.is_dir().then_some(p)
}

/// Resolve a recorder source like `pkg:wrappers/x/y.mtz`, `shared:gamma/z.pdb` or `gen:a.aln`
/// (files written for these tests, in tests/fixtures/files).
pub fn resolve(source: &str) -> Option<PathBuf> {
    let (root, rel) = source.split_once(':')?;
    let base = match root {
        "pkg" => ccp4i2_root(),
        "shared" => shared_demo_data()?,
        "gen" => fixture("files"),
        _ => return None,
    };
    let p = base.join(rel);
    p.is_file().then_some(p)
}

pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x.eq_ignore_ascii_case(ext)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
