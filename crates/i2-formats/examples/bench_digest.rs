//! Digest timing on real files: `cargo run --release -p i2-formats --example bench_digest [FILE TYPE]...`
//! Defaults to the largest MTZ and PDB files shipped in the ccp4i2 package ($I2_CCP4I2_ROOT).

use std::path::PathBuf;
use std::time::Instant;

const VENV_PKG: &str = "/tmp/ccp4i2-reference/venv/lib/python3.11/site-packages/ccp4i2";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cases: Vec<(PathBuf, String)> = if args.len() >= 2 {
        args.chunks_exact(2)
            .map(|c| (PathBuf::from(&c[0]), c[1].clone()))
            .collect()
    } else {
        let root =
            PathBuf::from(std::env::var("I2_CCP4I2_ROOT").unwrap_or_else(|_| VENV_PKG.into()));
        vec![
            (
                root.join("wrappers/pointless/test_data/brap_pk_6A.mtz"),
                "application/CCP4-mtz".into(),
            ),
            (
                root.join("wrappers/edstats/test_data/FPHIOUT.mtz"),
                "application/CCP4-mtz".into(),
            ),
            (
                root.join("wrappers/edstats/test_data/ghcp4i_67_buccaneer_refmac1.pdb"),
                "chemical/x-pdb".into(),
            ),
        ]
    };
    for (path, kind) in cases {
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..30 {
            let t = Instant::now();
            last = Some(i2_formats::digest::digest_for(&kind, &path));
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let ok = matches!(last, Some(Ok(_)));
        println!(
            "{:<40} {:>9} bytes  {:<22} min {:>7.2} ms  median {:>7.2} ms  ok={ok}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            size,
            kind,
            times.first().copied().unwrap_or(0.0),
            times.get(times.len() / 2).copied().unwrap_or(0.0),
        );
    }
}
