//! The NumPy array text upstream puts in mmCIF reflection digests, compared with NumPy itself
//! on random flag arrays (short, wrapped, summarised, negative) when `I2_TEST_PYTHON` names a
//! python with NumPy; otherwise skipped with a note (unit tests still pin known answers).

use std::process::Command;

use i2_formats::digest::refl_cif::numpy_repr;
use serde_json::Value;

const SCRIPT: &str = r#"
import json, random, numpy as np
random.seed(11)
out = []
for n in [1, 2, 3, 12, 13, 24, 25, 26, 60, 999, 1000, 1001, 1002, 2500, 21397]:
    for top in [1, 2, 9, 19, 20, 99]:
        v = [float(random.randint(-1, top)) for _ in range(n)]
        out.append([v, repr(np.array(v))])
        w = [float(random.randint(0, top)) for _ in range(n)]
        out.append([w, repr(np.array(w))])
print(json.dumps(out))
"#;

#[test]
fn numpy_repr_matches_numpy() {
    let Ok(python) = std::env::var("I2_TEST_PYTHON") else {
        eprintln!("I2_TEST_PYTHON not set: NumPy comparison skipped");
        return;
    };
    let out = Command::new(&python)
        .arg("-c")
        .arg(SCRIPT)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python with numpy failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cases: Value = serde_json::from_slice(&out.stdout).expect("json");
    let cases = cases.as_array().expect("array");
    let mut bad = Vec::new();
    for c in cases {
        let v: Vec<f64> = c[0]
            .as_array()
            .expect("values")
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect();
        let want = c[1].as_str().unwrap_or("");
        let got = numpy_repr(&v);
        if got != want {
            bad.push(format!("n={}:\n{got}\n!=\n{want}", v.len()));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        cases.len(),
        bad.join("\n")
    );
}
