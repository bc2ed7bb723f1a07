//! `matthewsCoeff` of an MTZ file's content: for each number of molecules in the asymmetric
//! unit, the Matthews coefficient Vm = V / (n · Nsym · MW), the solvent percentage
//! 100 · (1 − k / Vm) and the Matthews probability, as upstream computes them without the
//! CCP4 `matthews_coef` program. The probability curve and the solvent constants k are the
//! reference data upstream ships in its package (`core/_matthews_data.py`); they are read
//! from the installation, not carried here.

use std::path::Path;

use serde_json::{Value, json};

use super::{Call, MethodError, report};
use crate::jobparams::py_str;

/// Upstream stops listing candidates after this many molecules.
const MAX_MOLECULES: u32 = 2000;

/// The density curves and solvent constants of the installed package.
struct Curves {
    start: f64,
    step: f64,
    n: usize,
    /// (polymer mode, k, density on the grid)
    modes: Vec<(char, f64, Vec<f64>)>,
}

/// `CMtzData.matthewsCoeff(seqDataFile=None, nRes=None, molWt=None, polymerMode="")`.
pub(super) fn coeff(call: &Call) -> Result<Value, MethodError> {
    let seq_file = call.arg(0, "seqDataFile").filter(|v| !v.is_null());
    let n_res = call.arg(1, "nRes").filter(|v| !v.is_null());
    let mut mol_wt = match call.arg(2, "molWt").filter(|v| !v.is_null()) {
        Some(v) => Some(number(v, "molWt")?),
        None => None,
    };
    if seq_file.is_some() {
        // Upstream reads a sequence file object's analysis here; a JSON value is never one,
        // so its lookup fails and the weight becomes 0.
        mol_wt = Some(0.0);
    } else if let Some(n) = n_res {
        // CCP4's estimate of an average residue's weight.
        mol_wt = Some(112.5 * number(n, "nRes")?);
    }
    let described = seq_file.map(py_str).unwrap_or_else(|| "None".into());
    let mol_wt = match mol_wt {
        Some(w) if w >= 0.01 => w,
        _ => return Err(report("CMtzData", 410, &described)),
    };
    let mode = call
        .arg(3, "polymerMode")
        .map(py_str)
        .unwrap_or_default()
        .trim()
        .to_uppercase()
        .chars()
        .next()
        .unwrap_or('P');

    let curves = read_curves(call.env.ccp4i2_root)?;
    let (volume, nsym) = cell_and_symmetry(call);
    let (k, density) = curves
        .modes
        .iter()
        .find(|(m, _, _)| *m == mode)
        .or_else(|| curves.modes.iter().find(|(m, _, _)| *m == 'P'))
        .map(|(_, k, d)| (*k, d.as_slice()))
        .ok_or_else(|| {
            MethodError::Unsupported(
                "the installed Matthews reference data has no protein curve".into(),
            )
        })?;

    let mut rows = Vec::new();
    for nmol in 1..=MAX_MOLECULES {
        let vm = volume / (f64::from(nmol) * nsym * mol_wt);
        let solvent = 100.0 * (1.0 - k / vm);
        if solvent <= 0.0 {
            break;
        }
        rows.push((nmol, vm, solvent, curves.at(density, vm)));
    }
    let total: f64 = rows.iter().map(|r| r.3).sum();
    let results: Vec<Value> = rows
        .into_iter()
        .map(|(nmol, vm, solvent, p)| {
            let p = if total > 0.0 { p / total } else { p };
            json!({"nmol_in_asu": nmol, "matth_coef": vm, "percent_solvent": solvent, "prob_matth": p})
        })
        .collect();
    Ok(json!({"cell_volume": volume, "results": results}))
}

/// A number as Python's `float()` takes it (numbers, and strings that hold one).
fn number(v: &Value, name: &str) -> Result<f64, MethodError> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(f64::from(u8::from(*b))),
        _ => None,
    };
    n.filter(|x| x.is_finite())
        .ok_or_else(|| MethodError::Invalid(format!("{name} must be a number, not {v}")))
}

/// The cell volume and the number of symmetry operations of the MTZ file. Without a
/// readable file upstream's empty content has gemmi's default cell (volume 1) and P 1.
fn cell_and_symmetry(call: &Call) -> (f64, f64) {
    let header =
        (call.env.file_path)(call.node).and_then(|p| i2_formats::mtz::MtzHeader::read(&p).ok());
    let Some(h) = header else {
        return (1.0, 1.0);
    };
    let nsym = h.symops.len().max(1) as f64;
    let volume = h.cell.and_then(|c| {
        let deg = |x: f64| if x < 3.0 { x.to_degrees() } else { x };
        volume(c.a, c.b, c.c, deg(c.alpha), deg(c.beta), deg(c.gamma))
    });
    (volume.unwrap_or(1.0), nsym)
}

/// Triclinic cell volume; `None` for a cell that is not one (gemmi then keeps its default).
fn volume(a: f64, b: f64, c: f64, alpha: f64, beta: f64, gamma: f64) -> Option<f64> {
    let (ca, cb, cg) = (
        alpha.to_radians().cos(),
        beta.to_radians().cos(),
        gamma.to_radians().cos(),
    );
    let t = 1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg;
    let v = a * b * c * t.max(0.0).sqrt();
    (v.is_finite() && v > 0.0).then_some(v)
}

impl Curves {
    /// Linear interpolation on the grid, held constant beyond its ends (NumPy's `interp`).
    fn at(&self, density: &[f64], x: f64) -> f64 {
        let n = self.n.min(density.len());
        if n == 0 {
            return 0.0;
        }
        let grid = |i: usize| self.start + i as f64 * self.step;
        if x <= grid(0) {
            return density[0];
        }
        if x >= grid(n - 1) {
            return density[n - 1];
        }
        let j = (((x - self.start) / self.step).floor() as usize).min(n - 2);
        // Guard against the floor landing one cell off by rounding.
        let j = if grid(j) > x { j.saturating_sub(1) } else { j };
        let j = if j + 1 < n - 1 && grid(j + 1) <= x {
            j + 1
        } else {
            j
        };
        let slope = (density[j + 1] - density[j]) / (grid(j + 1) - grid(j));
        slope * (x - grid(j)) + density[j]
    }
}

fn unavailable(root: &Path, why: &str) -> MethodError {
    MethodError::Unsupported(format!(
        "matthewsCoeff needs the Matthews reference data of the CCP4i2 installation \
         ({}/core/_matthews_data.py): {why}",
        root.display()
    ))
}

/// Read the grid, solvent constants and density curves from the installed package's
/// `core/_matthews_data.py` (plain Python literals).
fn read_curves(root: &Path) -> Result<Curves, MethodError> {
    let path = root.join("core").join("_matthews_data.py");
    let text = std::fs::read_to_string(&path).map_err(|e| unavailable(root, &e.to_string()))?;
    let scalar = |name: &str| -> Result<f64, MethodError> {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.trim().strip_prefix('='))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .ok_or_else(|| unavailable(root, &format!("{name} is missing")))
    };
    let start = scalar("VM_GRID_START")?;
    let step = scalar("VM_GRID_STEP")?;
    let n = scalar("VM_GRID_N")? as usize;
    let block = |name: &str| -> Result<&str, MethodError> {
        let from = text
            .find(&format!("{name} = {{"))
            .ok_or_else(|| unavailable(root, &format!("{name} is missing")))?;
        let rest = &text[from..];
        let end = rest
            .find("\n}")
            .ok_or_else(|| unavailable(root, &format!("{name} is not closed")))?;
        Ok(&rest[..end])
    };
    let mut modes = Vec::new();
    for line in block("SOLVENT_K")?.lines().skip(1) {
        if let Some((m, k)) = keyed(line) {
            let k: f64 = k.trim_end_matches(',').trim().parse().map_err(|_| {
                unavailable(root, &format!("solvent constant of '{m}' is not a number"))
            })?;
            modes.push((m, k, Vec::new()));
        }
    }
    for line in block("DENSITY")?.lines().skip(1) {
        let Some((m, list)) = keyed(line) else {
            continue;
        };
        let inner = list
            .trim()
            .trim_end_matches(',')
            .trim_start_matches('[')
            .trim_end_matches(']');
        let values: Result<Vec<f64>, _> = inner.split(',').map(|x| x.trim().parse()).collect();
        let values =
            values.map_err(|_| unavailable(root, &format!("density of '{m}' is not numbers")))?;
        if let Some(slot) = modes.iter_mut().find(|(k, _, _)| *k == m) {
            slot.2 = values;
        }
    }
    if modes.is_empty() || modes.iter().any(|(_, _, d)| d.is_empty()) {
        return Err(unavailable(root, "no complete curves"));
    }
    Ok(Curves {
        start,
        step,
        n,
        modes,
    })
}

/// `'P': rest` → ('P', rest).
fn keyed(line: &str) -> Option<(char, &str)> {
    let l = line.trim();
    let rest = l.strip_prefix('\'')?;
    let mut chars = rest.chars();
    let m = chars.next()?;
    let rest = chars.as_str().strip_prefix("':")?;
    Some((m, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_of_cells() {
        let v = volume(10.0, 20.0, 30.0, 90.0, 90.0, 90.0).unwrap_or(0.0);
        assert!((v - 6000.0).abs() < 1e-9);
        // monoclinic: V = abc·sin β
        let m = volume(10.0, 20.0, 30.0, 90.0, 120.0, 90.0).unwrap_or(0.0);
        assert!((m - 6000.0 * 120f64.to_radians().sin()).abs() < 1e-9);
        assert_eq!(volume(1.0, 1.0, 1.0, 0.0, 0.0, 0.0), None);
    }

    #[test]
    fn interpolates_like_numpy() {
        let c = Curves {
            start: 1.0,
            step: 0.5,
            n: 3,
            modes: Vec::new(),
        };
        let d = [1.0, 3.0, 2.0];
        assert_eq!(c.at(&d, 0.2), 1.0);
        assert_eq!(c.at(&d, 1.25), 2.0);
        assert_eq!(c.at(&d, 1.5), 3.0);
        assert_eq!(c.at(&d, 1.75), 2.5);
        assert_eq!(c.at(&d, 9.0), 2.0);
    }

    #[test]
    fn reads_python_literals() {
        assert_eq!(keyed("    'D': 0.83056,"), Some(('D', " 0.83056,")));
        assert_eq!(keyed("VM_GRID_N = 3"), None);
    }
}
