//! Column groups as upstream recognises them in an MTZ: runs of consecutive data columns whose
//! type letters spell a known signature. The signatures and the content flags they map to are
//! the upstream facts (CObsDataFile, CPhsDataFile, CMapCoeffsDataFile, CFreeRDataFile).

use super::header::MtzHeader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Obs,
    Phs,
    MapCoeffs,
    FreeR,
}

impl GroupKind {
    pub fn name(self) -> &'static str {
        match self {
            GroupKind::Obs => "Obs",
            GroupKind::Phs => "Phs",
            GroupKind::MapCoeffs => "MapCoeffs",
            GroupKind::FreeR => "FreeR",
        }
    }

    /// The MIME type of the mini-MTZ file that holds one group of this kind.
    pub fn mime_type(self) -> &'static str {
        match self {
            GroupKind::Obs => "application/CCP4-mtz-observed",
            GroupKind::Phs => "application/CCP4-mtz-phases",
            GroupKind::MapCoeffs => "application/CCP4-mtz-map",
            GroupKind::FreeR => "application/CCP4-mtz-freerflag",
        }
    }
}

/// Signatures in match order (longest first; ties keep the upstream class order).
const PATTERNS: [(&str, GroupKind, u8); 9] = [
    ("KMKM", GroupKind::Obs, 1),
    ("GLGL", GroupKind::Obs, 2),
    ("AAAA", GroupKind::Phs, 1),
    ("FQP", GroupKind::MapCoeffs, 2),
    ("JQ", GroupKind::Obs, 3),
    ("FQ", GroupKind::Obs, 4),
    ("PW", GroupKind::Phs, 2),
    ("FP", GroupKind::MapCoeffs, 1),
    ("I", GroupKind::FreeR, 1),
];

/// The column labels upstream gives a mini-MTZ for a selection with this type signature,
/// with its kind and content flag. Observed on the reference server: the upload is kept in
/// `CCP4_DOWNLOADED_FILES/`, the split file goes to `CCP4_IMPORTED_FILES/<slugified name>`,
/// the File annotation lists the original labels
/// (`Imported from x.mtz; Crystal: C; Dataset: D; Columns: F, SIGF`). One oddity: an I± (KMKM)
/// selection gets `Iplus…` labels but the File row records content 2, not 1.
pub fn mini_mtz_labels(signature: &str) -> Option<(GroupKind, u8, &'static [&'static str])> {
    Some(match signature {
        "KMKM" | "JQJQ" => (
            GroupKind::Obs,
            1,
            &["Iplus", "SIGIplus", "Iminus", "SIGIminus"],
        ),
        "GLGL" | "FQFQ" => (
            GroupKind::Obs,
            2,
            &["Fplus", "SIGFplus", "Fminus", "SIGFminus"],
        ),
        "JQ" => (GroupKind::Obs, 3, &["I", "SIGI"]),
        "FQ" => (GroupKind::Obs, 4, &["F", "SIGF"]),
        "AAAA" => (GroupKind::Phs, 1, &["HLA", "HLB", "HLC", "HLD"]),
        "PW" => (GroupKind::Phs, 2, &["PHI", "FOM"]),
        "FP" => (GroupKind::MapCoeffs, 1, &["F", "PHI"]),
        "I" => (GroupKind::FreeR, 1, &["FREER"]),
        _ => return None,
    })
}

/// One data column as the digest lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupColumn {
    pub label: String,
    pub kind: String,
    pub dataset: String,
    pub dataset_id: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ColumnGroup {
    pub kind: GroupKind,
    pub content_flag: u8,
    pub dataset: String,
    pub columns: Vec<GroupColumn>,
}

/// Data columns (all but the H-type Miller indices) with their dataset names.
pub fn data_columns(h: &MtzHeader) -> Vec<GroupColumn> {
    h.columns
        .iter()
        .filter(|c| c.kind != "H")
        .map(|c| GroupColumn {
            label: c.label.clone(),
            kind: c.kind.clone(),
            dataset: h
                .dataset(c.dataset_id)
                .map(|d| d.dataset.clone())
                .unwrap_or_default(),
            dataset_id: c.dataset_id,
        })
        .collect()
}

/// Scan the data columns left to right, taking the first signature that fits at each position.
pub fn column_groups(cols: &[GroupColumn]) -> Vec<ColumnGroup> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < cols.len() {
        let found = PATTERNS.iter().find(|(sig, kind, _)| {
            let Some(run) = cols.get(i..i + sig.len()) else {
                return false;
            };
            let spelled = run.iter().map(|c| c.kind.as_str()).collect::<String>();
            if spelled != *sig {
                return false;
            }
            match kind {
                GroupKind::FreeR => run[0].label.to_lowercase().contains("free"),
                GroupKind::Obs => {
                    run[0].dataset.is_empty() || run.iter().all(|c| c.dataset == run[0].dataset)
                }
                _ => true,
            }
        });
        match found {
            Some(&(sig, kind, flag)) => {
                out.push(ColumnGroup {
                    kind,
                    content_flag: flag,
                    dataset: cols[i].dataset.clone(),
                    columns: cols[i..i + sig.len()].to_vec(),
                });
                i += sig.len();
            }
            None => i += 1,
        }
    }
    out
}
