//! Everything `POST /jobs/{id}/upload_file_param/` decides about a file, as pure functions:
//! where the upload is saved and under which name, whether columns are split out of an MTZ
//! into a mini-MTZ (and with which labels), and what the `File` row says (MIME type, content
//! flag, sub type, annotation). No database, no HTTP: the handler supplies an "exists" test
//! for the two project directories and carries out the plan.
//!
//! The behaviour follows what the reference server (upstream 3.0.1) was observed to do; the
//! recordings are in `tests/fixtures/uploads/` (see `tests/record_uploads.py`):
//! - MTZ-family parameters (`CMtzDataFile`, `CUnmergedMtzDataFile`, `CMiniMtzDataFile`,
//!   `CObsDataFile`, `CPhsDataFile`, `CMapCoeffsDataFile`, `CFreeRDataFile`) save the upload
//!   in `CCP4_DOWNLOADED_FILES/` and bind a file in `CCP4_IMPORTED_FILES/`: a mini-MTZ split
//!   from it, or (whole-MTZ classes without a selector) a byte copy. Other classes save the
//!   upload in `CCP4_IMPORTED_FILES/` and bind it as it is.
//! - Names: the original stem slugified (as Django's `slugify`), the original extension kept
//!   as sent, then `_1`, `_2`… until the name is free in its directory.
//! - The mini-MTZ labels come from the type letters of the selected columns (`FQ` → `F,SIGF`,
//!   `KMKM` → `Iplus…`, `AAAA` → `HLA…`, `FP` → `F,PHI`, `I` → `FREER`, …) whatever the
//!   parameter class; the content flag is then the first signature of the *parameter class*
//!   whose labels the new file holds (0 when none: F,SIGF uploaded as a FreeR flag gives 0).
//!
//! Differences from upstream, on purpose: the mini-MTZ keeps the source's reflections as they
//! are (upstream regenerates the full unique set of the resolution range); checksums are of
//! the bound file (upstream sometimes hashes an older file of the same stem, and then also
//! detects the content flag from that file); mmCIF reflection files are not converted
//! ([`UploadError::CifReflectionsNotSupported`]); an upload whose name slugifies to nothing is
//! called `file` (upstream fails); `fileSuffix` of a multi-selector keeps only `[A-Za-z0-9_-]`.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use md5::{Digest, Md5};
use serde_json::Value;
use unicode_normalization::UnicodeNormalization;

use crate::error::FormatError;
use crate::mtz::groups::{GroupKind, column_groups, data_columns, mini_mtz_labels};
use crate::mtz::{MtzHeader, write_column_indices};

/// The two project subdirectories an upload can land in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImportDir {
    /// `CCP4_DOWNLOADED_FILES`: the raw upload of an MTZ-family parameter.
    Downloaded,
    /// `CCP4_IMPORTED_FILES`: the file the parameter is bound to (`File.directory` = 2).
    Imported,
}

impl ImportDir {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportDir::Downloaded => "CCP4_DOWNLOADED_FILES",
            ImportDir::Imported => "CCP4_IMPORTED_FILES",
        }
    }
}

/// A file name in one of the project subdirectories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    pub dir: ImportDir,
    pub name: String,
}

impl PlannedFile {
    /// `CCP4_IMPORTED_FILES/name`, relative to the project directory.
    pub fn rel_path(&self) -> String {
        format!("{}/{}", self.dir.as_str(), self.name)
    }
}

/// What the upload is, as upstream's type detection names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Mtz,
    MmcifCoordinates,
    MmcifReflections,
    MmcifLigand,
    MmcifOther,
    Pdb,
    Fasta,
    Pir,
    Unknown,
}

impl FileKind {
    /// Upstream's name for the detected type.
    pub fn upstream_name(self) -> &'static str {
        match self {
            FileKind::Mtz => "MTZ file",
            FileKind::MmcifCoordinates => "mmCIF coordinate file",
            FileKind::MmcifReflections => "mmCIF reflection file",
            FileKind::MmcifLigand => "mmCIF ligand/geometry file",
            FileKind::MmcifOther => "mmCIF file (unknown subtype)",
            FileKind::Pdb => "PDB file",
            FileKind::Fasta => "FASTA file",
            FileKind::Pir => "PIR file",
            FileKind::Unknown => "Unknown file type",
        }
    }

    /// The MIME type upstream falls back on when the parameter class has none.
    pub fn fallback_mime(self) -> Option<&'static str> {
        Some(match self {
            FileKind::Fasta | FileKind::Pir => "application/CCP4-seq",
            FileKind::Mtz => "application/CCP4-mtz",
            FileKind::MmcifCoordinates | FileKind::Pdb => "chemical/x-pdb",
            FileKind::MmcifReflections => "application/CCP4-generic-reflections",
            FileKind::MmcifLigand => "application/refmac-dictionary",
            FileKind::MmcifOther | FileKind::Unknown => return None,
        })
    }
}

/// One entry of the `column_selectors` JSON list (the web client's multi-representation import).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiSelector {
    /// `/crystal/dataset/[COL,…]`.
    pub column_selector: String,
    /// Added to the stem of a non-primary file (`_asIMEAN`).
    pub file_suffix: String,
    pub is_primary: bool,
    /// Only used to order the entries (missing counts as 99).
    pub content_flag: i64,
    pub signature: String,
}

/// The column choice sent with the upload.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnRequest {
    /// `column_selector` (or nothing: auto-detect for mini-MTZ classes, copy for whole MTZ).
    Single(Option<String>),
    /// `column_selectors`: several files, one bound to the parameter.
    Multi(Vec<MultiSelector>),
}

impl ColumnRequest {
    /// From the raw form fields. As upstream: `column_selectors` wins when it is valid JSON; an
    /// empty list means auto-detection (the single selector is then ignored); invalid JSON falls
    /// back to `column_selector`.
    pub fn from_form(
        column_selector: Option<&str>,
        column_selectors: Option<&str>,
    ) -> Result<ColumnRequest, UploadError> {
        let single = || {
            ColumnRequest::Single(
                column_selector
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            )
        };
        let Some(raw) = column_selectors.filter(|s| !s.is_empty()) else {
            return Ok(single());
        };
        let Ok(v) = serde_json::from_str::<Value>(raw) else {
            return Ok(single());
        };
        let Value::Array(items) = v else {
            return Err(UploadError::BadSelectors(
                "column_selectors must be a JSON list of objects".into(),
            ));
        };
        if items.is_empty() {
            return Ok(ColumnRequest::Single(None));
        }
        let mut out = Vec::new();
        for item in items {
            let Value::Object(o) = item else {
                return Err(UploadError::BadSelectors(
                    "column_selectors must be a JSON list of objects".into(),
                ));
            };
            let text = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            out.push(MultiSelector {
                column_selector: text("columnSelector"),
                file_suffix: text("fileSuffix")
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect(),
                is_primary: o.get("isPrimary").and_then(Value::as_bool).unwrap_or(false),
                content_flag: o.get("contentFlag").and_then(Value::as_i64).unwrap_or(99),
                signature: text("signature"),
            });
        }
        Ok(ColumnRequest::Multi(out))
    }
}

/// A parsed `column_selector`: `/crystal/dataset/[A,B]` or `[A,B]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnPath {
    /// `(crystal, dataset)` when the path has three parts; `*` matches any.
    pub dataset: Option<(String, String)>,
    pub labels: Vec<String>,
}

impl ColumnPath {
    pub fn parse(s: &str) -> Result<ColumnPath, UploadError> {
        let s = s.strip_prefix('/').unwrap_or(s);
        let parts: Vec<&str> = s.split('/').collect();
        let dataset = match parts.as_slice() {
            [_] => None,
            [c, d, _] => Some((c.to_string(), d.to_string())),
            _ => return Err(UploadError::InvalidColumnPath(s.to_string())),
        };
        let last = parts.last().copied().unwrap_or("");
        let cleaned: String = last
            .chars()
            .filter(|c| !matches!(c, '[' | ']' | ' '))
            .collect();
        Ok(ColumnPath {
            dataset,
            labels: cleaned.split(',').map(str::to_string).collect(),
        })
    }

    /// The column indices in `h`, in selection order. A label unique in the file is taken
    /// wherever it is; a repeated one needs the crystal and dataset names.
    pub fn resolve(&self, h: &MtzHeader) -> Result<Vec<usize>, UploadError> {
        let not_found = || UploadError::ColumnsNotFound {
            requested: self.labels.clone(),
            available: h.columns.iter().map(|c| c.label.clone()).collect(),
        };
        let mut out = Vec::new();
        for label in &self.labels {
            let hits: Vec<usize> = (0..h.columns.len())
                .filter(|&i| h.columns[i].label == *label)
                .collect();
            if let [only] = hits.as_slice() {
                out.push(*only);
                continue;
            }
            let Some((crystal, dataset)) = &self.dataset else {
                if hits.is_empty() {
                    return Err(not_found());
                }
                return Err(UploadError::NeedFullColumnPath);
            };
            let in_dataset: Vec<usize> = hits
                .into_iter()
                .filter(|&i| {
                    h.dataset(h.columns[i].dataset_id).is_some_and(|d| {
                        (crystal == "*" || d.crystal == *crystal)
                            && (dataset == "*" || d.dataset == *dataset)
                    })
                })
                .collect();
            match in_dataset.as_slice() {
                [only] => out.push(*only),
                _ => return Err(not_found()),
            }
        }
        Ok(out)
    }
}

/// One mini-MTZ to write: columns of the downloaded file, renamed.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitSpec {
    /// The column selector it came from.
    pub selector: String,
    /// `(index in the source header, source label, new label)`.
    pub columns: Vec<(usize, String, String)>,
    /// The type letters of the selected columns (`FQ`, `KMKM`, …).
    pub signature: String,
    /// Crystal and dataset of the last selected column, when the source has several datasets.
    pub crystal: Option<String>,
    pub dataset: Option<String>,
}

/// How the bound file is made from the saved upload.
#[derive(Debug, Clone, PartialEq)]
pub enum ImportAction {
    /// The saved upload itself is bound (non-MTZ classes).
    UseDownloaded,
    /// A byte copy of the saved upload into `CCP4_IMPORTED_FILES` (whole-MTZ classes).
    Copy,
    /// A mini-MTZ written by [`execute_split`].
    Split(SplitSpec),
}

/// Everything the handler needs to carry out an upload.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadPlan {
    pub kind: FileKind,
    /// Where to save the uploaded bytes.
    pub download: PlannedFile,
    /// The file bound to the parameter (the `File` row); equals `download` for `UseDownloaded`.
    pub imported: PlannedFile,
    pub action: ImportAction,
    /// Other representations asked for by `column_selectors` (files only: no `File` rows).
    pub extra: Vec<(PlannedFile, SplitSpec)>,
    /// `File.type`.
    pub mime_type: String,
    /// `File.content` and the parameter's `contentFlag`.
    pub content_flag: i32,
    /// `File.sub_type` and the parameter's `subType`.
    pub sub_type: i32,
    /// `File.annotation` and the parameter's `annotation`.
    pub annotation: String,
    /// `FileImport.name`.
    pub original_name: String,
}

/// Why an upload is refused. Upstream answers all of these with 400
/// `{"success": false, "error": "<message>"}`; [`UploadError::upstream_message`] gives the
/// message upstream would send (recorded), `Display` a clearer one.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The form did not carry exactly one `file`.
    #[error("Expected 1 file, got {0}")]
    FileCount(usize),
    /// The object path names something that is not a file parameter.
    #[error("parameter of class {0} does not take a file")]
    NotAFileParameter(String),
    #[error("invalid column selector {0:?}: expected /crystal/dataset/[COL,...] or [COL,...]")]
    InvalidColumnPath(String),
    #[error("column_selectors: {0}")]
    BadSelectors(String),
    #[error("a selected column label occurs in several datasets: give /crystal/dataset/[COL,...]")]
    NeedFullColumnPath,
    #[error("columns {requested:?} not found; the file has {available:?}")]
    ColumnsNotFound {
        requested: Vec<String>,
        available: Vec<String>,
    },
    /// The selected columns' type letters spell no known mini-MTZ layout.
    #[error("selected columns have types {0:?}, which is no known column group")]
    UnknownSignature(String),
    /// No selector, and no suitable column group in the file for the class.
    #[error("No suitable column groups found in MTZ file for {0}")]
    NoSuitableColumns(String),
    /// An MTZ parameter got a file that is not an MTZ.
    #[error("{name} is not a readable MTZ file: {reason}")]
    NotMtz { name: String, reason: String },
    #[error("{0} is an mmCIF reflection file: conversion to MTZ is not supported yet")]
    CifReflectionsNotSupported(String),
    #[error(transparent)]
    Format(#[from] FormatError),
}

impl UploadError {
    /// The HTTP status upstream uses (always 400 for these).
    pub fn status(&self) -> u16 {
        400
    }

    /// The `error` text upstream 3.0.1 sends in the same situation (as recorded), where it
    /// does not depend on Python internals; `None` where it is an internal error message.
    pub fn upstream_message(&self) -> Option<String> {
        Some(match self {
            UploadError::FileCount(n) => format!("Expected 1 file, got {n}"),
            UploadError::InvalidColumnPath(_) => {
                "('smartSplitMTZ Exception:', 'Invalid input columnPath')".into()
            }
            UploadError::NeedFullColumnPath => "('smartSplitMTZ Exception:', \"Input file requires full input columnPath e.g. '/crystal/dataset/[F,SIGFP]'\")".into(),
            UploadError::ColumnsNotFound { available, .. } => format!(
                "('smartSplitMTZ Exception:', \"Unable to select columns from input file - options are [{}]\")",
                available
                    .iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            UploadError::UnknownSignature(s) => format!("'{s}'"),
            UploadError::NoSuitableColumns(c) => format!(
                "('smartSplitMTZ Exception:', 'No suitable column groups found in MTZ file for {c}')"
            ),
            _ => return None,
        })
    }
}

/// Class facts used by the upload: (class, MIME type, default sub type, MTZ family).
const CLASSES: &[(&str, &str, i32, bool)] = &[
    ("CObsDataFile", "application/CCP4-mtz-observed", 1, true),
    ("CPhsDataFile", "application/CCP4-mtz-phases", 1, true),
    ("CMapCoeffsDataFile", "application/CCP4-mtz-map", 1, true),
    ("CFreeRDataFile", "application/CCP4-mtz-freerflag", 0, true),
    ("CMiniMtzDataFile", "application/CCP4-mtz-mini", 0, true),
    ("CMtzDataFile", "application/CCP4-mtz", 0, true),
    (
        "CUnmergedMtzDataFile",
        "application/CCP4-mtz-unmerged",
        0,
        true,
    ),
    (
        "CUnmergedDataFile",
        "application/CCP4-unmerged-experimental",
        0,
        false,
    ),
    (
        "CGenericReflDataFile",
        "application/CCP4-generic-reflections",
        0,
        false,
    ),
    ("CMmcifReflDataFile", "chemical/x-cif", 0, false),
    ("CMapDataFile", "application/CCP4-map", 0, false),
    ("CPdbDataFile", "chemical/x-pdb", 0, false),
    ("CEnsemblePdbDataFile", "chemical/x-pdb", 0, false),
    ("CSeqDataFile", "application/CCP4-seq", 0, false),
    ("CSeqAlignDataFile", "application/CCP4-seqalign", 0, false),
    ("CAsuDataFile", "application/CCP4-asu-content", 0, false),
    ("CDictDataFile", "application/refmac-dictionary", 0, false),
    ("CTLSDataFile", "application/refmac-TLS", 0, false),
    ("CMDLMolDataFile", "chemical/x-mdl-molfile", 0, false),
    ("CMol2DataFile", "chemical/x-mol2", 0, false),
    ("CShelxFADataFile", "application/CCP4-shelx-FA", 0, false),
    ("CPhaserSolDataFile", "application/phaser-sol", 0, false),
    ("CPhaserRFileDataFile", "application/phaser-rfile", 0, false),
    // Upstream's qualifier carries the quotes.
    (
        "CPhaserTngDagFile",
        "\"application/phasertng-dag\"",
        0,
        false,
    ),
    (
        "CRefmacKeywordFile",
        "application/refmac-keywords",
        0,
        false,
    ),
    ("CImosflmXmlDataFile", "application/iMosflm-xml", 0, false),
    ("CImageFile", "application/CCP4-image", 0, false),
    ("CDialsJsonFile", "application/dials-jfile", 0, false),
    ("CDialsPickleFile", "application/dials-pfile", 0, false),
    ("CHhpredDataFile", "application/HHPred-alignments", 0, false),
    ("CBlastDataFile", "application/Blast-alignments", 0, false),
    ("CCootHistoryDataFile", "application/coot-script", 2, false),
    ("CSceneDataFile", "application/CCP4-scene", 0, false),
    ("CPDFDataFile", "application/x-pdf", 0, false),
    ("CPostscriptDataFile", "application/postscript", 0, false),
    (
        "CEBIValidationXMLDataFile",
        "application/EBI-validation-xml",
        0,
        false,
    ),
    ("CXmlDataFile", "application/xml", 0, false),
    ("CI2XmlDataFile", "application/xml", 0, false),
    ("CXmgrDataFile", "application/grace", 0, false),
    ("CTextDataFile", "\"text/plain\"", 0, false),
    ("CYmlFile", "\"text/plain\"", 0, false),
    ("CDataFile", "", 0, false),
    ("CMmcifDataFile", "", 0, false),
    ("CDataReflFile", "", 0, false),
];

fn class_entry(class: &str) -> Option<&'static (&'static str, &'static str, i32, bool)> {
    CLASSES.iter().find(|e| e.0 == class)
}

/// The class's `mimeTypeName` qualifier (empty for the abstract file classes); `None` for a
/// class this table does not know.
pub fn class_mime_type(class: &str) -> Option<&'static str> {
    class_entry(class).map(|e| e.1)
}

/// The `subType` a fresh parameter of this class has (what upstream records on upload).
pub fn default_sub_type(class: &str) -> i32 {
    class_entry(class).map_or(0, |e| e.2)
}

/// Whether uploads for this class are saved in `CCP4_DOWNLOADED_FILES` and imported from there.
pub fn is_mtz_family(class: &str) -> bool {
    class_entry(class).is_some_and(|e| e.3)
}

/// Whether the class is a file class at all (known, or named like one).
pub fn is_file_class(class: &str) -> bool {
    class_entry(class).is_some() || class.ends_with("DataFile") || class.ends_with("File")
}

/// The column labels of each content flag (1-based) of a mini-MTZ class.
pub fn content_signatures(class: &str) -> &'static [&'static [&'static str]] {
    match class {
        "CObsDataFile" => &[
            &["Iplus", "SIGIplus", "Iminus", "SIGIminus"],
            &["Fplus", "SIGFplus", "Fminus", "SIGFminus"],
            &["I", "SIGI"],
            &["F", "SIGF"],
        ],
        "CPhsDataFile" => &[&["HLA", "HLB", "HLC", "HLD"], &["PHI", "FOM"]],
        "CMapCoeffsDataFile" => &[&["F", "PHI"]],
        "CFreeRDataFile" => &[&["FREER"]],
        _ => &[],
    }
}

fn group_kind_of(class: &str) -> Option<GroupKind> {
    Some(match class {
        "CObsDataFile" => GroupKind::Obs,
        "CPhsDataFile" => GroupKind::Phs,
        "CMapCoeffsDataFile" => GroupKind::MapCoeffs,
        "CFreeRDataFile" => GroupKind::FreeR,
        _ => return None,
    })
}

/// Django's `slugify` (ASCII mode): compatibility-decompose, drop non-ASCII, keep letters,
/// digits, `_`, `-` and whitespace, lower-case, runs of `-`/whitespace become one `-`, and
/// leading/trailing `-`/`_` go.
pub fn slugify(s: &str) -> String {
    let kept: String = s
        .nfkd()
        .filter(char::is_ascii)
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || c.is_ascii_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let mut out = String::with_capacity(kept.len());
    let mut in_run = false;
    for c in kept.trim().chars() {
        if c == '-' || c.is_ascii_whitespace() {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.push(c);
            in_run = false;
        }
    }
    out.trim_matches(|c| c == '-' || c == '_').to_string()
}

/// The saved name's stem and extension for an uploaded file name: the base name split as
/// Python's `pathlib` does (the extension is from the last dot, not a leading one, kept as
/// sent), the stem slugified (`file` when nothing is left).
pub fn upload_stem_and_suffix(original_name: &str) -> (String, String) {
    let base = original_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(original_name);
    let (stem, suffix) = match base.rfind('.') {
        Some(i) if i > 0 && i + 1 < base.len() => (&base[..i], &base[i..]),
        _ => (base, ""),
    };
    let mut slug = slugify(stem);
    if slug.is_empty() {
        slug = "file".into();
    }
    // A suffix is only a dot and what follows; keep it safe as a path component.
    let suffix: String = suffix
        .chars()
        .filter(|c| !matches!(c, '/' | '\\' | '\0'))
        .collect();
    (slug, suffix)
}

/// `stem + suffix`, or the first of `stem_1 + suffix`, `stem_2 + suffix`… that is free.
pub fn available_name(stem: &str, suffix: &str, exists: &dyn Fn(&str) -> bool) -> String {
    let mut name = format!("{stem}{suffix}");
    let mut n = 0u64;
    while exists(&name) {
        n += 1;
        name = format!("{stem}_{n}{suffix}");
    }
    name
}

/// MD5 of a file, as 32 lower-case hex digits (`FileImport.checksum`).
pub fn md5_file(path: &Path) -> Result<String, FormatError> {
    let mut f = File::open(path).map_err(|e| FormatError::io(path, e))?;
    let mut h = Md5::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).map_err(|e| FormatError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// MD5 of bytes, as 32 lower-case hex digits.
pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Detect what a file is, in upstream's order: MTZ, mmCIF (coordinates, reflections,
/// ligand), PDB, FASTA, PIR.
pub fn detect_kind(path: &Path) -> FileKind {
    if MtzHeader::read(path).is_ok() {
        return FileKind::Mtz;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return FileKind::Unknown;
    };
    let text = String::from_utf8_lossy(&bytes);
    if crate::coords::cif::looks_like_cif(&text) {
        let has = |cat: &str| {
            text.lines().any(|l| {
                let l = l.trim_start();
                l.len() > cat.len()
                    && l.is_char_boundary(cat.len())
                    && l[..cat.len()].eq_ignore_ascii_case(cat)
            })
        };
        return if has("_atom_site.") {
            FileKind::MmcifCoordinates
        } else if has("_refln.") {
            FileKind::MmcifReflections
        } else if has("_chem_comp.") {
            FileKind::MmcifLigand
        } else {
            FileKind::MmcifOther
        };
    }
    let record =
        |l: &str, k: &str| l.len() >= k.len() && l.is_char_boundary(k.len()) && &l[..k.len()] == k;
    if text.lines().any(|l| {
        ["ATOM  ", "HETATM", "CRYST1", "HEADER", "MODEL "]
            .iter()
            .any(|k| record(l, k))
    }) {
        return FileKind::Pdb;
    }
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    match first {
        Some(l) if l.starts_with(">P1;") || l.starts_with(">F1;") => FileKind::Pir,
        Some(l) if l.starts_with('>') => FileKind::Fasta,
        _ => FileKind::Unknown,
    }
}

/// Decide everything about an upload of `bytes_path` (the received bytes, anywhere on disk)
/// sent as `original_name` into a parameter of class `param_class`.
///
/// `exists(dir, name)` says whether `name` is taken in that project subdirectory. The handler
/// must first delete the files of an earlier upload into the same job + parameter (upstream
/// does that before choosing names), then save the bytes as `plan.download`, then carry out
/// `plan.action` (and `plan.extra`) with [`execute_split`] or a copy.
pub fn plan_upload(
    param_class: &str,
    original_name: &str,
    bytes_path: &Path,
    columns: &ColumnRequest,
    exists: &dyn Fn(ImportDir, &str) -> bool,
) -> Result<UploadPlan, UploadError> {
    if !is_file_class(param_class) {
        return Err(UploadError::NotAFileParameter(param_class.to_string()));
    }
    let kind = detect_kind(bytes_path);
    let (stem, suffix) = upload_stem_and_suffix(original_name);
    let mtz_family = is_mtz_family(param_class);
    let download_dir = if mtz_family {
        ImportDir::Downloaded
    } else {
        ImportDir::Imported
    };
    let download = PlannedFile {
        dir: download_dir,
        name: available_name(&stem, &suffix, &|n| exists(download_dir, n)),
    };
    let mut taken: BTreeSet<String> = BTreeSet::new();
    if download_dir == ImportDir::Imported {
        taken.insert(download.name.clone());
    }
    let mut imported_name = |wanted_stem: &str| {
        let name = available_name(wanted_stem, &suffix, &|n| {
            taken.contains(n) || exists(ImportDir::Imported, n)
        });
        taken.insert(name.clone());
        PlannedFile {
            dir: ImportDir::Imported,
            name,
        }
    };

    let general = matches!(param_class, "CMtzDataFile" | "CUnmergedMtzDataFile");
    let mut extra = Vec::new();
    let mut with_metadata = true;
    let (imported, action) = if !mtz_family {
        (download.clone(), ImportAction::UseDownloaded)
    } else {
        match columns {
            ColumnRequest::Single(None) if general => (imported_name(&stem), ImportAction::Copy),
            ColumnRequest::Single(sel) => {
                let h = read_mtz(bytes_path, kind, original_name)?;
                let selector = match sel {
                    Some(s) => s.clone(),
                    None => auto_selector(param_class, &h)?,
                };
                let spec = split_spec(&h, &selector)?;
                (imported_name(&stem), ImportAction::Split(spec))
            }
            ColumnRequest::Multi(list) => {
                let h = read_mtz(bytes_path, kind, original_name)?;
                let mut sorted: Vec<&MultiSelector> = list.iter().collect();
                sorted.sort_by_key(|s| (!s.is_primary, s.content_flag));
                let mut primary = None;
                for s in sorted {
                    if s.column_selector.is_empty() {
                        continue;
                    }
                    let spec = split_spec(&h, &s.column_selector)?;
                    if s.is_primary && primary.is_none() {
                        primary = Some((imported_name(&stem), spec));
                    } else {
                        let file_stem = if s.is_primary {
                            stem.clone()
                        } else {
                            format!("{stem}{}", s.file_suffix)
                        };
                        extra.push((imported_name(&file_stem), spec));
                    }
                }
                match primary {
                    Some((f, spec)) => (f, ImportAction::Split(spec)),
                    None if !extra.is_empty() => {
                        // Upstream binds the first file then, without metadata.
                        with_metadata = false;
                        let (f, spec) = extra.remove(0);
                        (f, ImportAction::Split(spec))
                    }
                    None => {
                        return Err(UploadError::BadSelectors(
                            "no entry has a columnSelector".into(),
                        ));
                    }
                }
            }
        }
    };
    Ok(finish(
        param_class,
        original_name,
        kind,
        download,
        imported,
        action,
        extra,
        with_metadata,
    ))
}

#[allow(clippy::too_many_arguments)]
fn finish(
    param_class: &str,
    original_name: &str,
    kind: FileKind,
    download: PlannedFile,
    imported: PlannedFile,
    action: ImportAction,
    extra: Vec<(PlannedFile, SplitSpec)>,
    with_metadata: bool,
) -> UploadPlan {
    let mut annotation = format!("Imported from {original_name}");
    let content_flag = match &action {
        ImportAction::Split(spec) => {
            if with_metadata {
                let mut parts = Vec::new();
                if let Some(c) = spec.crystal.as_deref().filter(|c| !c.is_empty()) {
                    parts.push(format!("Crystal: {c}"));
                }
                if let Some(d) = spec.dataset.as_deref().filter(|d| !d.is_empty()) {
                    parts.push(format!("Dataset: {d}"));
                }
                let cols: Vec<&str> = spec.columns.iter().map(|c| c.1.as_str()).collect();
                if !cols.is_empty() {
                    parts.push(format!("Columns: {}", cols.join(", ")));
                }
                if !parts.is_empty() {
                    annotation = format!("{annotation}; {}", parts.join("; "));
                }
            }
            let labels: Vec<&str> = spec.columns.iter().map(|c| c.2.as_str()).collect();
            mtz_content_flag(param_class, &labels)
        }
        _ if param_class == "CPdbDataFile" => coords_content_flag(&imported.name, kind),
        _ => 0,
    };
    let mime_type = match class_mime_type(param_class) {
        Some(m) if !m.is_empty() => m.to_string(),
        _ => kind.fallback_mime().unwrap_or("Unknown").to_string(),
    };
    UploadPlan {
        kind,
        download,
        imported,
        action,
        extra,
        mime_type,
        content_flag,
        sub_type: default_sub_type(param_class),
        annotation,
        original_name: original_name.to_string(),
    }
}

/// The first content flag of `class` whose labels are all among `labels`; 0 when none.
pub fn mtz_content_flag(class: &str, labels: &[&str]) -> i32 {
    content_signatures(class)
        .iter()
        .position(|sig| sig.iter().all(|l| labels.contains(l)))
        .map_or(0, |i| i as i32 + 1)
}

/// Coordinates: 2 for `.cif`/`.mmcif` names (or mmCIF content under another extension), else 1.
fn coords_content_flag(name: &str, kind: FileKind) -> i32 {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".cif") || lower.ends_with(".mmcif") {
        2
    } else if lower.ends_with(".pdb") || lower.ends_with(".ent") {
        1
    } else if matches!(
        kind,
        FileKind::MmcifCoordinates
            | FileKind::MmcifLigand
            | FileKind::MmcifOther
            | FileKind::MmcifReflections
    ) {
        2
    } else {
        1
    }
}

fn read_mtz(path: &Path, kind: FileKind, name: &str) -> Result<MtzHeader, UploadError> {
    if kind == FileKind::MmcifReflections {
        return Err(UploadError::CifReflectionsNotSupported(name.to_string()));
    }
    MtzHeader::read(path).map_err(|e| UploadError::NotMtz {
        name: name.to_string(),
        reason: e.to_string(),
    })
}

/// Upstream's choice when no selector is sent: the class's column groups, highest content
/// flag first; map coefficients pair the last F and last P column of a dataset.
fn auto_selector(class: &str, h: &MtzHeader) -> Result<String, UploadError> {
    let none = || UploadError::NoSuitableColumns(class.to_string());
    let kind = group_kind_of(class).ok_or_else(none)?;
    let cols = data_columns(h);
    if kind == GroupKind::MapCoeffs {
        let mut datasets: Vec<String> = Vec::new();
        let mut f = std::collections::HashMap::new();
        let mut p = std::collections::HashMap::new();
        for c in &cols {
            let slot = match c.kind.as_str() {
                "F" => &mut f,
                "P" => &mut p,
                _ => continue,
            };
            if !datasets.contains(&c.dataset) {
                datasets.push(c.dataset.clone());
            }
            slot.insert(c.dataset.clone(), c.label.clone());
        }
        return datasets
            .iter()
            .find_map(|d| Some(format!("/*/{d}/[{},{}]", f.get(d)?, p.get(d)?)))
            .ok_or_else(none);
    }
    let mut groups: Vec<_> = column_groups(&cols)
        .into_iter()
        .filter(|g| g.kind == kind)
        .collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.content_flag));
    let g = groups.first().ok_or_else(none)?;
    let labels: Vec<&str> = g.columns.iter().map(|c| c.label.as_str()).collect();
    Ok(format!("/*/{}/[{}]", g.dataset, labels.join(",")))
}

fn split_spec(h: &MtzHeader, selector: &str) -> Result<SplitSpec, UploadError> {
    let path = ColumnPath::parse(selector)?;
    let idx = path.resolve(h)?;
    let signature: String = idx
        .iter()
        .filter_map(|&i| h.columns.get(i))
        .map(|c| c.kind.as_str())
        .collect();
    let (_, _, labels) = mini_mtz_labels(&signature)
        .ok_or_else(|| UploadError::UnknownSignature(signature.clone()))?;
    let last_ds = idx
        .last()
        .and_then(|&i| h.columns.get(i))
        .and_then(|c| h.dataset(c.dataset_id))
        .filter(|_| h.datasets.len() > 1);
    Ok(SplitSpec {
        selector: selector.to_string(),
        columns: idx
            .iter()
            .zip(labels.iter())
            .filter_map(|(&i, new)| Some((i, h.columns.get(i)?.label.clone(), new.to_string())))
            .collect(),
        signature,
        crystal: last_ds.map(|d| d.crystal.clone()),
        dataset: last_ds.map(|d| d.dataset.clone()),
    })
}

/// Write the mini-MTZ of `spec` from the saved upload `src` to `dst` (which must not exist).
/// Returns the new file's header.
pub fn execute_split(src: &Path, dst: &Path, spec: &SplitSpec) -> Result<MtzHeader, UploadError> {
    let h = MtzHeader::read(src)?;
    let cols: Vec<(usize, &str)> = spec
        .columns
        .iter()
        .map(|(i, from, to)| {
            // The plan was made from this file; refuse if it changed under us.
            match h.columns.get(*i) {
                Some(c) if c.label == *from => Ok((*i, to.as_str())),
                _ => Err(UploadError::ColumnsNotFound {
                    requested: vec![from.clone()],
                    available: h.columns.iter().map(|c| c.label.clone()).collect(),
                }),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(write_column_indices(src, &h, dst, &cols)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_upstream_saves_them() {
        assert_eq!(
            upload_stem_and_suffix("My Model (v2).final.PDB"),
            ("my-model-v2final".into(), ".PDB".into())
        );
        assert_eq!(
            upload_stem_and_suffix("gamma.asu.xml"),
            ("gammaasu".into(), ".xml".into())
        );
        assert_eq!(
            upload_stem_and_suffix("brap_pk_6A_scaled2.mtz"),
            ("brap_pk_6a_scaled2".into(), ".mtz".into())
        );
        assert_eq!(upload_stem_and_suffix("Café.seq").0, "cafe");
        assert_eq!(upload_stem_and_suffix("../../x.mtz").0, "x");
        assert_eq!(upload_stem_and_suffix("().mtz").0, "file");
        let taken = ["a.mtz", "a_1.mtz"];
        assert_eq!(
            available_name("a", ".mtz", &|n| taken.contains(&n)),
            "a_2.mtz"
        );
    }

    #[test]
    fn md5_and_selectors() {
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        let p = ColumnPath::parse("/*/*/[F, SIGF]").unwrap();
        assert_eq!(p.labels, ["F", "SIGF"]);
        assert!(ColumnPath::parse("/*/[F,SIGF]").is_err());
        assert_eq!(
            mtz_content_flag(
                "CObsDataFile",
                &["Iplus", "SIGIplus", "Iminus", "SIGIminus"]
            ),
            1
        );
        assert_eq!(mtz_content_flag("CFreeRDataFile", &["F", "SIGF"]), 0);
        let r = ColumnRequest::from_form(Some("/*/*/[F,SIGF]"), Some("not json")).unwrap();
        assert_eq!(r, ColumnRequest::Single(Some("/*/*/[F,SIGF]".into())));
        let r = ColumnRequest::from_form(Some("/*/*/[F,SIGF]"), Some("[]")).unwrap();
        assert_eq!(r, ColumnRequest::Single(None));
    }
}
