//! mmCIF reflection files (structure factors, `*-sf.cif`): per reflection block, what upstream's
//! import checks report (its `CifBlockInfo` over gemmi's `ReflnBlock`): cell, space group,
//! wavelength, column sets, resolution range, how the indices sit in the reciprocal asymmetric
//! unit (merged, one ASU, standard CCP4 ASU, anomalous pairs on separate lines), and the FreeR
//! flags. The quirks of upstream's checks are kept where they decide an answer (see comments).

use std::collections::BTreeMap;
use std::path::Path;

use crate::cif::{self, Block, CifValue, Loop};
use crate::error::{FormatError, Result};
use crate::mtz::Cell;
use crate::symmetry::SpaceGroup;

/// Upstream's accepted column sets: (labels, text, type code). Type code 0 is FreeR, > 0
/// observations (1 Imean, 2 I±, 3 Fmean, 4 F±), < 0 other data.
const MERGED_SETS: &[(&[&str], &str, i32)] = &[
    (&["F_meas_au", "F_meas_sigma_au"], "Fmean", 3),
    (&["intensity_meas", "intensity_sigma"], "Imean", 1),
    (
        &[
            "pdbx_F_plus",
            "pdbx_F_plus_sigma",
            "pdbx_F_minus",
            "pdbx_F_minus_sigma",
        ],
        "F+- anomalous",
        4,
    ),
    (
        &[
            "pdbx_I_plus",
            "pdbx_I_plus_sigma",
            "pdbx_I_minus",
            "pdbx_I_minus_sigma",
        ],
        "I+- anomalous",
        2,
    ),
    (&["status"], "FreeR status", 0),
    (&["pdbx_r_free_flag"], "FreeR flag", 0),
    (
        &["pdbx_anom_difference", "pdbx_anom_difference_sigma"],
        "DelF anomalous",
        -1,
    ),
    (
        &[
            "pdbx_HL_A_iso",
            "pdbx_HL_B_iso",
            "pdbx_HL_C_iso",
            "pdbx_HL_D_iso",
        ],
        "HL phases",
        -2,
    ),
    (
        &[
            "pdbx_FWT",
            "pdbx_PHWT",
            "pdbx_DELFWT",
            "pdbx_DELPHWT",
            "phase_meas",
            "fom",
        ],
        "Map coefficients",
        -3,
    ),
];
const UNMERGED_SETS: &[(&[&str], &str, i32)] =
    &[(&["intensity_net", "intensity_sigma"], "unmerged I", 1)];

#[derive(Debug, Clone)]
pub struct ColumnSet {
    pub labels: Vec<String>,
    pub present: Vec<bool>,
    pub text: String,
    pub typecode: i32,
}

impl ColumnSet {
    pub fn ok(&self) -> bool {
        self.present.iter().all(|p| *p)
    }
}

#[derive(Debug, Clone)]
pub struct HklStatus {
    pub merged: bool,
    pub oneasu: bool,
    pub standardasu: bool,
    pub anomlinepairs: bool,
    pub maxmultiplicity: i64,
}

impl HklStatus {
    pub fn describe(&self) -> &'static str {
        match (self.oneasu, self.standardasu, self.anomlinepairs) {
            (true, true, _) => "One asymmetric unit, standard CCP4 setting",
            (true, false, _) => "One asymmetric unit, not standard CCP4 setting",
            (false, _, true) => "Anomalous pairs I/F +- on different lines",
            (false, _, false) => "Unmerged data",
        }
    }
}

/// Flag values as upstream lists them: a number, or NaN for an unreadable status.
#[derive(Debug, Clone)]
pub struct FreerStatus {
    pub ok: bool,
    pub status_checked: bool,
    pub status_type: Option<&'static str>,
    pub statuslist: Option<Vec<f64>>,
    pub freerlist: Option<Vec<f64>>,
    pub statussame: Option<bool>,
    pub rfreeflagsame: Option<bool>,
    pub flagssame: Option<bool>,
    pub freermissing: bool,
}

impl FreerStatus {
    pub fn warnings(&self) -> Vec<&'static str> {
        let mut w = Vec::new();
        if self.statussame == Some(true) {
            w.push("WARNING: all reflection status flags are the same");
        }
        if self.rfreeflagsame == Some(true) {
            w.push("WARNING: all FreeR flags are the same");
        }
        if self.flagssame == Some(false) {
            w.push("WARNING: status flags and FreeR flags do not match");
        }
        if self.freermissing {
            w.push("WARNING: some FreeR flags are flagged as missing");
        }
        w
    }

    pub fn valid(&self) -> bool {
        self.statussame != Some(true) && self.rfreeflagsame != Some(true)
    }
}

/// `_diffrn.details` as upstream reads it: absent category → None; `?` → null, `.` → false.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    NoCategory,
    Unknown,
    Inapplicable,
    Text(String),
}

#[derive(Debug, Clone)]
pub struct BlockInfo {
    pub name: String,
    /// The reflection loop's shape, for upstream's `repr` of gemmi's block.
    pub loop_shape: (usize, usize),
    pub entry_id: String,
    pub unmerged: bool,
    pub cell: [f64; 6],
    pub spacegroup_name_file: String,
    pub spacegroup_name: String,
    pub wavelength: f64,
    pub columnlabels: Vec<String>,
    pub resolution: (f64, f64),
    pub categories: Vec<String>,
    pub refln_loop: bool,
    pub details: Details,
    pub column_sets: Vec<ColumnSet>,
    pub hkl: HklStatus,
    pub nunique: i64,
    pub freer: Option<FreerStatus>,
}

impl BlockInfo {
    pub fn labelsets_ok(&self) -> bool {
        self.column_sets.iter().all(ColumnSet::ok)
    }

    /// Upstream's one-line content summary (`Fmean, FreeR status (missing …)`).
    pub fn info(&self) -> String {
        self.column_sets
            .iter()
            .map(|s| {
                if !s.ok() && s.typecode > -3 {
                    let missing: Vec<&str> = s
                        .labels
                        .iter()
                        .zip(&s.present)
                        .filter(|(_, p)| !**p)
                        .map(|(l, _)| l.as_str())
                        .collect();
                    format!("{} (missing {})", s.text, missing.join(", "))
                } else {
                    s.text.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub fn has_freer(&self) -> bool {
        self.columnlabels
            .iter()
            .any(|l| l == "status" || l == "pdbx_r_free_flag")
    }

    /// Upstream's "suitable for merging": unmerged data with at least one column set.
    pub fn suitable_for_merging(&self) -> bool {
        self.unmerged && !self.column_sets.is_empty()
    }
}

/// Top-level facts upstream takes from the first block of the file.
#[derive(Debug, Clone, Default)]
pub struct FileHead {
    pub cell: Option<Cell>,
    pub spacegroup: Option<String>,
    pub wavelength: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct ReflectionCif {
    pub head: FileHead,
    pub blocks: Vec<BlockInfo>,
}

pub fn read(path: &Path) -> Result<ReflectionCif> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    parse(&String::from_utf8_lossy(&bytes))
}

pub fn parse(text: &str) -> Result<ReflectionCif> {
    let blocks = cif::parse(text)?;
    if blocks.is_empty() {
        return Err(FormatError::NotThisFormat(
            "no data_ block: not an mmCIF file".into(),
        ));
    }
    let head = blocks.first().map(file_head).unwrap_or_default();
    let infos = blocks.iter().map(block_info).collect::<Result<Vec<_>>>()?;
    Ok(ReflectionCif {
        head,
        blocks: infos,
    })
}

fn number(v: &CifValue) -> Option<f64> {
    if v.is_null() {
        return None;
    }
    // CIF numbers may carry an uncertainty in brackets: 71.45(2)
    let t = v.text.split('(').next().unwrap_or("");
    t.parse().ok()
}

fn file_head(b: &Block) -> FileHead {
    let num = |t: &str| b.value(t).filter(|v| v.quoted.is_none()).and_then(number);
    let cell = (|| {
        Some(Cell {
            a: num("_cell.length_a")?,
            b: num("_cell.length_b")?,
            c: num("_cell.length_c")?,
            alpha: num("_cell.angle_alpha")?,
            beta: num("_cell.angle_beta")?,
            gamma: num("_cell.angle_gamma")?,
        })
    })();
    FileHead {
        cell,
        spacegroup: b
            .value("_symmetry.space_group_name_H-M")
            .filter(|v| !v.text.is_empty())
            .map(|v| v.text.trim().to_string()),
        wavelength: b
            .value("_diffrn_radiation_wavelength.wavelength")
            .and_then(number),
    }
}

fn reflection_loop(b: &Block) -> Option<(&Loop, &'static str)> {
    b.find_loop("_refln.index_h")
        .map(|l| (l, "_refln."))
        .or_else(|| {
            b.find_loop("_diffrn_refln.index_h")
                .map(|l| (l, "_diffrn_refln."))
        })
}

fn block_info(b: &Block) -> Result<BlockInfo> {
    let (lp, prefix) = reflection_loop(b)
        .ok_or_else(|| FormatError::Corrupt(format!("block {} has no reflection loop", b.name)))?;
    let unmerged = prefix == "_diffrn_refln.";
    let columnlabels: Vec<String> = lp
        .tags
        .iter()
        .map(|t| {
            t.get(prefix.len()..)
                .filter(|_| t[..prefix.len()].eq_ignore_ascii_case(prefix))
                .unwrap_or(t)
                .to_string()
        })
        .collect();
    let num = |t: &str, d: f64| b.value(t).and_then(number).unwrap_or(d);
    let cell = [
        num("_cell.length_a", 1.0),
        num("_cell.length_b", 1.0),
        num("_cell.length_c", 1.0),
        num("_cell.angle_alpha", 90.0),
        num("_cell.angle_beta", 90.0),
        num("_cell.angle_gamma", 90.0),
    ];
    let sg_name = b
        .value("_symmetry.space_group_name_H-M")
        .or_else(|| b.value("_space_group.name_H-M_alt"))
        .map(|v| v.text.clone())
        .unwrap_or_default();
    let sg = SpaceGroup::by_name(&sg_name, Some([cell[3], cell[4], cell[5]])).ok_or_else(|| {
        FormatError::Corrupt(format!("block {}: unknown space group '{sg_name}'", b.name))
    })?;
    let wavelength = b
        .column("_diffrn_radiation_wavelength.wavelength")
        .filter(|c| c.len() == 1)
        .and_then(|c| number(c[0]))
        .unwrap_or(0.0);
    let hkl = miller(lp, prefix)?;
    if hkl.is_empty() {
        return Err(FormatError::Corrupt(format!(
            "block {} has no reflections",
            b.name
        )));
    }
    let cellv = Cell {
        a: cell[0],
        b: cell[1],
        c: cell[2],
        alpha: cell[3],
        beta: cell[4],
        gamma: cell[5],
    };
    let metric = cellv
        .reciprocal_metric()
        .ok_or_else(|| FormatError::Corrupt(format!("block {}: invalid cell", b.name)))?;
    let (mut dmax, mut dmin) = (f64::NEG_INFINITY, f64::INFINITY);
    for m in &hkl {
        let d = 1.0
            / metric
                .one_over_d2(m[0] as f64, m[1] as f64, m[2] as f64)
                .sqrt();
        dmax = dmax.max(d);
        dmin = dmin.min(d);
    }
    let categories = b.category_names();
    let refln_loop = !categories.iter().any(|c| c == "_diffrn_refln.");
    let details = if !categories.iter().any(|c| c == "_diffrn.") {
        Details::NoCategory
    } else {
        match b.column("_diffrn.details").and_then(|c| c.first().copied()) {
            None => Details::Text(String::new()),
            Some(v) if v.quoted.is_none() && v.text == "?" => Details::Unknown,
            Some(v) if v.quoted.is_none() && v.text == "." => Details::Inapplicable,
            Some(v) => Details::Text(v.text.clone()),
        }
    };
    let sets = if refln_loop {
        MERGED_SETS
    } else {
        UNMERGED_SETS
    };
    let column_sets: Vec<ColumnSet> = sets
        .iter()
        .filter(|(labels, _, _)| columnlabels.iter().any(|c| labels.contains(&c.as_str())))
        .map(|(labels, text, code)| ColumnSet {
            labels: labels.iter().map(|s| s.to_string()).collect(),
            present: labels
                .iter()
                .map(|l| columnlabels.iter().any(|c| c == l))
                .collect(),
            text: text.to_string(),
            typecode: *code,
        })
        .collect();
    let spacegroup_name_file = sg.hm.to_string();
    let spacegroup_name = rhombohedral_name(&spacegroup_name_file, &cell);
    let mut info = BlockInfo {
        name: b.name.clone(),
        loop_shape: (lp.tags.len(), lp.len()),
        entry_id: b
            .value("_entry.id")
            .map(|v| v.text.clone())
            .unwrap_or_default(),
        unmerged,
        cell,
        spacegroup_name_file,
        spacegroup_name,
        wavelength,
        columnlabels,
        resolution: (dmax, dmin),
        categories,
        refln_loop,
        details,
        column_sets,
        hkl: HklStatus {
            merged: true,
            oneasu: true,
            standardasu: false,
            anomlinepairs: false,
            maxmultiplicity: 0,
        },
        nunique: 0,
        freer: None,
    };
    let anomalous = info.info().contains("anomalous");
    let (status, nunique) = hkl_check(&sg, &hkl, anomalous, &b.name)?;
    info.hkl = status;
    info.nunique = nunique;
    if info.has_freer() {
        info.freer = Some(freer_status(lp, prefix, &info.columnlabels));
    }
    Ok(info)
}

fn rhombohedral_name(name: &str, cell: &[f64; 6]) -> String {
    if !name.starts_with('R') {
        return name.to_string();
    }
    if name.contains(':') {
        return format!("{name} :R");
    }
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    let lat = if close(cell[5], 120.0) && close(cell[4], 90.0) && close(cell[3], 90.0) {
        'H'
    } else {
        'R'
    };
    format!("{name} :{lat}")
}

fn miller(lp: &Loop, prefix: &str) -> Result<Vec<[i32; 3]>> {
    let idx = ["index_h", "index_k", "index_l"].map(|t| lp.column(&format!("{prefix}{t}")));
    let [Some(h), Some(k), Some(l)] = idx else {
        return Err(FormatError::Corrupt(
            "reflection loop without index_h, index_k, index_l".into(),
        ));
    };
    lp.rows()
        .map(|r| {
            let get = |i: usize| {
                r.get(i)
                    .and_then(|v| v.text.parse::<i32>().ok())
                    .filter(|n| n.unsigned_abs() < 100_000)
                    .ok_or_else(|| {
                        FormatError::Corrupt(format!(
                            "bad Miller index '{}'",
                            r.get(i).map_or("", |v| v.text.as_str())
                        ))
                    })
            };
            Ok([get(h)?, get(k)?, get(l)?])
        })
        .collect()
}

/// Upstream's `HKLcheck`: reduce every index to the ASU, count unique reflections and the
/// symmetry operators used. Its multiplicity histogram never counts the last run of equal
/// indices (kept: it decides `maxmultiplicity`); with a single run it has no maximum and fails.
fn hkl_check(
    sg: &SpaceGroup,
    hkl: &[[i32; 3]],
    anomalous: bool,
    block: &str,
) -> Result<(HklStatus, i64)> {
    if !sg.has_asu() {
        return Err(FormatError::Unsupported(format!(
            "reflections in space-group setting {}",
            sg.hm
        )));
    }
    let mut reduced = Vec::with_capacity(hkl.len());
    let mut isyms: BTreeMap<u32, usize> = BTreeMap::new();
    for m in hkl {
        let (r, isym) = sg.to_asu(*m).ok_or_else(|| {
            FormatError::Corrupt(format!("reflection {m:?} maps to no asymmetric unit"))
        })?;
        reduced.push(r);
        *isyms.entry(isym).or_default() += 1;
    }
    reduced.sort_unstable();
    let mut nsame = 0usize;
    let mut nunique = 1i64;
    let mut run = 1i64;
    let mut hist: BTreeMap<i64, i64> = BTreeMap::new();
    for w in reduced.windows(2) {
        if w[1] == w[0] {
            nsame += 1;
            run += 1;
        } else {
            nunique += 1;
            *hist.entry(run).or_default() += 1;
            run = 1;
        }
    }
    let maxhist = *hist.keys().next_back().ok_or_else(|| {
        FormatError::Corrupt(format!(
            "block {block}: all reflections have the same indices"
        ))
    })?;
    let mut s = HklStatus {
        merged: true,
        oneasu: true,
        standardasu: false,
        anomlinepairs: false,
        maxmultiplicity: maxhist,
    };
    if nsame == 0 {
        s.standardasu = isyms.len() == 1 && isyms.contains_key(&1);
    } else {
        s.oneasu = false;
        s.merged = false;
        if !anomalous && maxhist == 2 {
            let sum: u64 = isyms.keys().map(|k| u64::from(*k)).sum();
            if sum % 2 == 1 {
                s.anomlinepairs = true;
                s.merged = true;
                s.standardasu = sum == 3;
            }
        }
    }
    Ok((s, nunique))
}

/// Status letter to flag as upstream (after gemmi's cif2mtz): o → 1, f → 0, x → -1.
fn status_flag(v: &CifValue) -> f64 {
    let raw = v.raw();
    let mut c = raw.chars();
    let first = match c.next() {
        Some('\'') | Some('"') => c.next(),
        other => other,
    };
    match first {
        Some('o') => 1.0,
        Some('f') => 0.0,
        Some('x') => -1.0,
        _ => f64::NAN,
    }
}

/// A column as numbers, upstream's way for FreeR flags: unreadable → -1 (and "missing"),
/// else truncated after adding 0.01.
fn flag_numbers(col: &[&CifValue], missing: &mut bool) -> Vec<f64> {
    col.iter()
        .map(|v| match number(v) {
            Some(x) if x.is_finite() => (x + 0.01).trunc(),
            _ => {
                *missing = true;
                -1.0
            }
        })
        .collect()
}

fn all_the_same(list: Option<&[f64]>) -> bool {
    let Some(list) = list else {
        return false;
    };
    let Some(first) = list.first() else {
        return true;
    };
    !list[1..].iter().any(|rf| *rf >= 0.0 && rf != first)
}

fn freer_status(lp: &Loop, prefix: &str, labels: &[String]) -> FreerStatus {
    let has = |l: &str| labels.iter().any(|c| c == l);
    let column = |tag: &str| -> Vec<&CifValue> {
        lp.column(&format!("{prefix}{tag}"))
            .map(|i| lp.rows().filter_map(|r| r.get(i)).collect())
            .unwrap_or_default()
    };
    let mut f = FreerStatus {
        ok: true,
        status_checked: false,
        status_type: None,
        statuslist: None,
        freerlist: None,
        statussame: None,
        rfreeflagsame: None,
        flagssame: None,
        freermissing: false,
    };
    let (status, flag) = (has("status"), has("pdbx_r_free_flag"));
    if status {
        f.status_checked = true;
        let col = column("status");
        let kind = match col.first() {
            Some(v) if !status_flag(v).is_nan() => "valid",
            Some(v) if py_int(&v.raw()) => "integer",
            _ => "invalid",
        };
        f.status_type = Some(kind);
        f.statuslist = match kind {
            "valid" => Some(col.iter().map(|v| status_flag(v)).collect()),
            "integer" => {
                let list = flag_numbers(&col, &mut f.freermissing);
                f.freerlist = Some(list.clone());
                Some(list)
            }
            _ => None,
        };
        f.statussame = Some(all_the_same(f.statuslist.as_deref()));
    }
    if flag {
        let list = flag_numbers(&column("pdbx_r_free_flag"), &mut f.freermissing);
        f.rfreeflagsame = Some(all_the_same(Some(&list)));
        f.freerlist = Some(list);
    }
    if status
        && flag
        && let (Some(s), Some(r)) = (&f.statuslist, &f.freerlist)
    {
        if s.len() != r.len() {
            f.ok = false;
        } else {
            f.flagssame = Some(
                s.iter()
                    .zip(r)
                    .all(|(s, r)| s.is_nan() || if *r > 0.0 { *s != 0.0 } else { *s == 0.0 }),
            );
        }
    }
    f
}

fn py_int(s: &str) -> bool {
    let t = s.trim();
    let d = t.strip_prefix(['+', '-']).unwrap_or(t);
    !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())
}
