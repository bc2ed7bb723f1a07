//! Unit cell and the reciprocal metric used for resolution (1/d²) of a reflection.

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

impl Cell {
    /// A cell with any non-positive or non-finite edge or angle cannot give resolutions.
    pub fn is_valid(&self) -> bool {
        let v = [self.a, self.b, self.c, self.alpha, self.beta, self.gamma];
        v.iter().all(|x| x.is_finite() && *x > 0.0)
            && self.alpha < 180.0
            && self.beta < 180.0
            && self.gamma < 180.0
    }

    pub fn to_json(&self) -> Value {
        json!({"a": self.a, "b": self.b, "c": self.c,
               "alpha": self.alpha, "beta": self.beta, "gamma": self.gamma})
    }

    /// The reciprocal metric tensor (inverse of the direct metric), or `None` for a degenerate cell.
    pub fn reciprocal_metric(&self) -> Option<ReciprocalMetric> {
        if !self.is_valid() {
            return None;
        }
        let (ca, cb, cg) = (
            self.alpha.to_radians().cos(),
            self.beta.to_radians().cos(),
            self.gamma.to_radians().cos(),
        );
        let (a, b, c) = (self.a, self.b, self.c);
        // Direct metric G, symmetric.
        let g = [
            [a * a, a * b * cg, a * c * cb],
            [a * b * cg, b * b, b * c * ca],
            [a * c * cb, b * c * ca, c * c],
        ];
        let det = g[0][0] * (g[1][1] * g[2][2] - g[1][2] * g[2][1])
            - g[0][1] * (g[1][0] * g[2][2] - g[1][2] * g[2][0])
            + g[0][2] * (g[1][0] * g[2][1] - g[1][1] * g[2][0]);
        if !(det.is_finite() && det > 0.0) {
            return None;
        }
        let inv = |r1: usize, c1: usize, r2: usize, c2: usize| {
            (g[r1][c1] * g[r2][c2] - g[r1][c2] * g[r2][c1]) / det
        };
        Some(ReciprocalMetric {
            hh: inv(1, 1, 2, 2),
            kk: inv(0, 0, 2, 2),
            ll: inv(0, 0, 1, 1),
            hk: -(g[0][1] * g[2][2] - g[0][2] * g[2][1]) / det,
            hl: (g[0][1] * g[1][2] - g[0][2] * g[1][1]) / det,
            kl: -(g[0][0] * g[1][2] - g[0][2] * g[1][0]) / det,
        })
    }
}

/// Components of the reciprocal metric; `one_over_d2` is hᵀG*h.
#[derive(Debug, Clone, Copy)]
pub struct ReciprocalMetric {
    hh: f64,
    kk: f64,
    ll: f64,
    hk: f64,
    hl: f64,
    kl: f64,
}

impl ReciprocalMetric {
    pub fn one_over_d2(&self, h: f64, k: f64, l: f64) -> f64 {
        h * h * self.hh
            + k * k * self.kk
            + l * l * self.ll
            + 2.0 * (h * k * self.hk + h * l * self.hl + k * l * self.kl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthorhombic_d_spacing() {
        let cell = Cell {
            a: 10.0,
            b: 20.0,
            c: 40.0,
            alpha: 90.0,
            beta: 90.0,
            gamma: 90.0,
        };
        let m = cell.reciprocal_metric().expect("valid cell");
        assert!((m.one_over_d2(1.0, 0.0, 0.0) - 0.01).abs() < 1e-12);
        assert!((m.one_over_d2(1.0, 1.0, 1.0) - (0.01 + 0.0025 + 0.000625)).abs() < 1e-12);
    }

    #[test]
    fn degenerate_cells_have_no_metric() {
        assert!(Cell::default().reciprocal_metric().is_none());
        let flat = Cell {
            a: 1.0,
            b: 1.0,
            c: 1.0,
            alpha: 90.0,
            beta: 90.0,
            gamma: 0.0,
        };
        assert!(flat.reciprocal_metric().is_none());
    }
}
