//! Space-group symmetry for reflection indices: the settings gemmi knows (names, rotation
//! parts of the operators in gemmi's order), the CCP4 reciprocal asymmetric unit, and the
//! mapping of a reflection into it with gemmi's ISYM numbering (2n+1 for operator n, 2n+2 for
//! its Friedel mate). The table is generated from gemmi by `tools/gen_symmetry.py`.

mod table;

/// A table row: names, HM symbol, ASU condition, change of basis (1/24ths), rotations.
type Setting = (
    &'static [&'static str],
    &'static str,
    u8,
    [i8; 9],
    &'static [u16],
);

/// A 3×3 integer rotation acting on a row vector of Miller indices (`hkl · R`).
type Rot = [[i32; 3]; 3];

/// Reciprocal-ASU conditions (CCP4 convention), indexed by the table's condition number.
/// Same order as `CONDITIONS` in `tools/gen_symmetry.py`.
const ASU_CONDITIONS: [fn(i32, i32, i32) -> bool; 10] = [
    |h, k, l| l > 0 || (l == 0 && (h > 0 || (h == 0 && k >= 0))),
    |h, k, l| k >= 0 && (l > 0 || (l == 0 && h >= 0)),
    |h, k, l| h >= 0 && k >= 0 && l >= 0,
    |h, k, l| l >= 0 && ((h >= 0 && k > 0) || (h == 0 && k == 0)),
    |h, k, l| h >= k && k >= 0 && l >= 0,
    |h, k, l| (h >= 0 && k > 0) || (h == 0 && k == 0 && l >= 0),
    |h, k, l| h >= k && k >= 0 && (k > 0 || l >= 0),
    |h, k, l| h >= k && k >= 0 && (h > k || l >= 0),
    |h, k, l| h >= 0 && ((l >= h && k > h) || (l == h && k == h)),
    |h, k, l| k >= l && l >= h && h >= 0,
];

/// One space-group setting.
#[derive(Debug, Clone)]
pub struct SpaceGroup {
    /// Hermann–Mauguin symbol as gemmi prints it (`P 65 2 2`).
    pub hm: &'static str,
    condition: u8,
    basis: [i8; 9],
    rots: Vec<Rot>,
}

fn decode(mut code: u16) -> Rot {
    let mut m = [[0i32; 3]; 3];
    for i in (0..9).rev() {
        m[i / 3][i % 3] = i32::from(code % 3) - 1;
        code /= 3;
    }
    m
}

fn key(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase()
}

impl SpaceGroup {
    /// Find a setting by any name gemmi accepts (`P 65 2 2`, `P6522`, `R 3:H`); a bare
    /// rhombohedral name picks the rhombohedral axes only when the cell is rhombohedral.
    pub fn by_name(name: &str, cell_angles: Option<[f64; 3]>) -> Option<SpaceGroup> {
        let k = key(name.trim_matches(['\'', '"']));
        if k.is_empty() {
            return None;
        }
        let found: Vec<_> = table::SETTINGS
            .iter()
            .filter(|s| s.0.iter().any(|n| *n == k))
            .collect();
        let rhombohedral_cell = cell_angles.is_some_and(|[a, b, g]| {
            (a - b).abs() < 1e-3 && (b - g).abs() < 1e-3 && (a - 90.0).abs() > 1e-3
        });
        let pick = found
            .iter()
            .find(|s| rhombohedral_cell && s.0.iter().any(|n| n.ends_with(":R")))
            .or_else(|| found.first())?;
        Some(SpaceGroup {
            hm: pick.1,
            condition: pick.2,
            basis: pick.3,
            rots: pick.4.iter().map(|c| decode(*c)).collect(),
        })
    }

    /// Whether this setting's reciprocal ASU is known (all but a few exotic centred settings).
    pub fn has_asu(&self) -> bool {
        usize::from(self.condition) < ASU_CONDITIONS.len()
    }

    fn in_asu(&self, hkl: [i32; 3]) -> bool {
        let Some(cond) = ASU_CONDITIONS.get(usize::from(self.condition)) else {
            return false;
        };
        let b = &self.basis;
        let mut t = [0i32; 3];
        for (j, tj) in t.iter_mut().enumerate() {
            let v = hkl[0] * i32::from(b[j])
                + hkl[1] * i32::from(b[3 + j])
                + hkl[2] * i32::from(b[6 + j]);
            *tj = v.div_euclid(24);
        }
        cond(t[0], t[1], t[2])
    }

    fn apply(r: &Rot, hkl: [i32; 3]) -> [i32; 3] {
        let mut o = [0i32; 3];
        for (j, oj) in o.iter_mut().enumerate() {
            *oj = hkl[0] * r[0][j] + hkl[1] * r[1][j] + hkl[2] * r[2][j];
        }
        o
    }

    /// The reflection mapped into the reciprocal ASU and its ISYM, as gemmi's `to_asu`;
    /// `None` when no operator maps it there (only for settings without a known ASU).
    pub fn to_asu(&self, hkl: [i32; 3]) -> Option<([i32; 3], u32)> {
        for (n, r) in self.rots.iter().enumerate() {
            let t = Self::apply(r, hkl);
            if self.in_asu(t) {
                return Some((t, 2 * n as u32 + 1));
            }
            let f = [-t[0], -t[1], -t[2]];
            if self.in_asu(f) {
                return Some((f, 2 * n as u32 + 2));
            }
        }
        None
    }

    /// A reflection is centric when some operator maps it onto its Friedel mate.
    pub fn is_centric(&self, hkl: [i32; 3]) -> bool {
        let minus = [-hkl[0], -hkl[1], -hkl[2]];
        self.rots.iter().any(|r| Self::apply(r, hkl) == minus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_asu() {
        let sg = SpaceGroup::by_name("P6522", None).expect("P 65 2 2");
        assert_eq!(sg.hm, "P 65 2 2");
        assert_eq!(sg.rots.len(), 12);
        assert_eq!(sg.to_asu([2, 1, 3]), Some(([2, 1, 3], 1)));
        assert_eq!(sg.to_asu([-2, -1, -3]).map(|x| x.1), Some(2));
        assert!(sg.is_centric([1, 0, 0]));
        assert!(!sg.is_centric([2, 1, 3]));
        let r = SpaceGroup::by_name("R 3", Some([80.0, 80.0, 80.0])).expect("R 3");
        let h = SpaceGroup::by_name("R 3", Some([90.0, 90.0, 120.0])).expect("H 3");
        assert_ne!(r.basis, h.basis);
        assert!(SpaceGroup::by_name("P 7", None).is_none());
    }
}
