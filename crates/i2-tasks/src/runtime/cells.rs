//! Whether two unit cells describe the same crystal, by the rule upstream 3.0.1 applies to
//! `sameCrystalAs` partners (its port of clipper's `Cell::equals`): with F1 and F2 the
//! fractionalisation matrices (inverses of the orthogonalisation matrices) and V1 the volume
//! of the first cell, the cells agree when `sum((F1 - F2)^2) < tol^2 / V1^1.333`.
//! The test is not symmetric: the first cell's volume is used.

use i2_formats::mtz::Cell;

type Mat = [[f64; 3]; 3];

/// The orthogonalisation matrix of a cell (a along x, b in the xy plane).
fn orthogonalisation(c: &Cell) -> Option<Mat> {
    let (al, be, ga) = (
        c.alpha.to_radians(),
        c.beta.to_radians(),
        c.gamma.to_radians(),
    );
    let (ca, cb, cg, sg) = (al.cos(), be.cos(), ga.cos(), ga.sin());
    let root = 1.0 - ca * ca - cb * cb - cg * cg + 2.0 * ca * cb * cg;
    if !(root > 0.0 && sg != 0.0) {
        return None;
    }
    let volume = c.a * c.b * c.c * root.sqrt();
    Some([
        [c.a, c.b * cg, c.c * cb],
        [0.0, c.b * sg, c.c * (ca - cb * cg) / sg],
        [0.0, 0.0, volume / (c.a * c.b * sg)],
    ])
}

fn det(m: &Mat) -> f64 {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
}

fn inverse(m: &Mat) -> Option<Mat> {
    let d = det(m);
    if !(d.is_finite() && d != 0.0) {
        return None;
    }
    let mut inv = [[0.0; 3]; 3];
    for (i, row) in inv.iter_mut().enumerate() {
        for (j, x) in row.iter_mut().enumerate() {
            // Cofactor of m[j][i] (the adjugate is the transposed cofactor matrix).
            let (r1, r2) = ((j + 1) % 3, (j + 2) % 3);
            let (c1, c2) = ((i + 1) % 3, (i + 2) % 3);
            *x = (m[r1][c1] * m[r2][c2] - m[r1][c2] * m[r2][c1]) / d;
        }
    }
    Some(inv)
}

/// `Some(true)` when `first` and `second` agree within `tolerance` (Å); `None` when either
/// cell is degenerate (upstream skips the check then: its computation fails).
pub fn same_cell(first: &Cell, second: &Cell, tolerance: f64) -> Option<bool> {
    if !first.is_valid() || !second.is_valid() {
        return None;
    }
    let o1 = orthogonalisation(first)?;
    let o2 = orthogonalisation(second)?;
    let (f1, f2) = (inverse(&o1)?, inverse(&o2)?);
    let mut s = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            s += (f1[i][j] - f2[i][j]).powi(2);
        }
    }
    let v1 = det(&o1);
    Some(s < tolerance * tolerance / v1.powf(1.333))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cell(a: f64, b: f64, c: f64, al: f64, be: f64, ga: f64) -> Cell {
        Cell {
            a,
            b,
            c,
            alpha: al,
            beta: be,
            gamma: ga,
        }
    }

    #[test]
    fn identical_and_distant_cells() {
        let rnase = cell(64.9, 78.32, 38.79, 90.0, 90.0, 90.0);
        assert_eq!(same_cell(&rnase, &rnase, 1.0), Some(true));
        let other = cell(81.12, 81.49, 82.05, 90.0, 90.0, 90.0);
        assert_eq!(same_cell(&rnase, &other, 1.0), Some(false));
        let monoclinic = cell(75.61, 111.95, 102.31, 90.0, 100.8, 90.0);
        assert_eq!(same_cell(&monoclinic, &monoclinic, 1.0), Some(true));
    }

    #[test]
    fn tolerance_scales_with_the_difference() {
        // A 0.7 Å change on the 38.8 Å edge: too much at 1 Å, within a 5 Å tolerance.
        let a = cell(64.9, 78.32, 38.79, 90.0, 90.0, 90.0);
        let b = cell(64.85, 78.56, 39.51, 90.0, 90.0, 90.0);
        assert_eq!(same_cell(&a, &b, 1.0), Some(false));
        assert_eq!(same_cell(&a, &b, 5.0), Some(true));
    }

    #[test]
    fn inverse_of_an_oblique_matrix() {
        let o = orthogonalisation(&cell(50.0, 60.0, 70.0, 80.0, 100.0, 110.0)).expect("cell");
        let f = inverse(&o).expect("inverse");
        for (i, row) in o.iter().enumerate() {
            for j in 0..3 {
                let p: f64 = row.iter().zip(&f).map(|(x, fk)| x * fk[j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((p - want).abs() < 1e-12, "{i},{j}: {p}");
            }
        }
    }

    #[test]
    fn degenerate_cells_are_not_compared() {
        let ok = cell(10.0, 10.0, 10.0, 90.0, 90.0, 90.0);
        assert_eq!(
            same_cell(&ok, &cell(0.0, 10.0, 10.0, 90.0, 90.0, 90.0), 1.0),
            None
        );
        assert_eq!(
            same_cell(&ok, &cell(10.0, 10.0, 10.0, 0.0, 90.0, 90.0), 1.0),
            None
        );
    }
}
