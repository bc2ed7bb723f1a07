//! Digest of an unmerged-reflection file named `*.sca` or `*.hkl` (Scalepack, and XDS files
//! with that extension, which upstream also reads as Scalepack): only upstream's three-line
//! header sniff — version, `-987`, cell and space group for merged Scalepack; otherwise the
//! text after the first word of line 1 as the space group (for an XDS file, its `DATE=` field).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Value, json};

use crate::error::{FormatError, Result};

pub fn digest(path: &Path) -> Result<Value> {
    let f = std::fs::File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut lines = Vec::new();
    let mut r = BufReader::new(f);
    for _ in 0..3 {
        let mut buf = Vec::new();
        // Only the start of each line matters; cap it so a file without newlines stays cheap.
        let n = (&mut r)
            .take(64 * 1024)
            .read_until(b'\n', &mut buf)
            .map_err(|e| FormatError::io(path, e))?;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let n = n.min(buf.len());
        lines.push(String::from_utf8_lossy(&buf[..n]).trim().to_string());
    }
    Ok(from_header(&lines[0], &lines[1], &lines[2]))
}

fn from_header(line1: &str, line2: &str, line3: &str) -> Value {
    let mut cell = [0.0f64; 6];
    let mut knowncell = false;
    let mut spacegroup = String::new();
    let merged;
    if line2 == "-987" {
        merged = match line1.parse::<i64>() {
            Ok(1) => "merged",
            Ok(2 | 3) => "unmerged",
            _ => "unk",
        };
        let parts: Vec<&str> = line3.split_whitespace().collect();
        if parts.len() >= 6 {
            let nums: Option<Vec<f64>> = parts[..6].iter().map(|p| p.parse().ok()).collect();
            if let Some(n) = nums {
                cell.copy_from_slice(&n);
                knowncell = true;
                if parts.len() > 6 {
                    spacegroup = parts[6..].join(" ").trim().to_string();
                }
            }
        }
    } else {
        merged = "unmerged";
        if let Some((_, rest)) = line1.split_once(char::is_whitespace) {
            spacegroup = rest.trim_start().to_string();
        }
    }
    json!({
        "format": "sca",
        "merged": merged,
        "cell": {"a": cell[0], "b": cell[1], "c": cell[2],
                 "alpha": cell[3], "beta": cell[4], "gamma": cell[5]},
        "knowncell": knowncell,
        "knownwavelength": false,
        "spaceGroup": spacegroup,
        "wavelength": 0.0,
        "batchs": "",
        "crystalName": "",
        "crystalNames": [],
        "datasetName": "",
        "datasets": [],
        "highRes": 0.0,
        "lowRes": 0.0,
        "listOfColumns": [],
        "numberLattices": 0,
        "numberofdatasets": 0,
        "wavelengths": [],
    })
}

#[cfg(test)]
mod tests {
    use super::from_header;

    #[test]
    fn merged_and_unmerged_headers() {
        let m = from_header("1", "-987", "40 50 60 90 90 90 p212121");
        assert_eq!(m["merged"], "merged");
        assert_eq!(m["spaceGroup"], "p212121");
        assert_eq!(m["knowncell"], true);
        let u = from_header("!OUTPUT_FILE=INTEGRATE.HKL    DATE= 2-Mar-2008", "!x", "");
        assert_eq!(u["spaceGroup"], "DATE= 2-Mar-2008");
        assert_eq!(u["merged"], "unmerged");
    }
}
