//! The MTZ header: the 80-character text records at the end of the file (after the reflection
//! table), then the optional history block. Batch headers (binary) are skipped: the batch
//! numbers are also listed in the BATCH records.
//!
//! Layout facts used here: bytes 0..4 are `MTZ `; bytes 4..8 the header position as a 1-based
//! 4-byte word index (or -1, then an 8-byte position at bytes 12..20); bytes 8..12 the machine
//! stamp, whose second byte's high nibble is 1 for big-endian and 4 for little-endian data;
//! reflections start at byte 80 as `nref × ncol` 4-byte floats, row by row.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::cell::Cell;
use super::spacegroup;
use crate::error::{FormatError, Result};

/// Where the reflection table starts.
pub const DATA_OFFSET: u64 = 80;
const RECORD: usize = 80;
/// A header with more records than this is not a real MTZ (real ones have tens to thousands).
const MAX_RECORDS: usize = 2_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    /// The MTZ column type letter (H, F, Q, J, K, M, G, L, D, I, A, P, W, B, Y, R, ...).
    pub kind: String,
    pub min: f64,
    pub max: f64,
    pub dataset_id: i32,
    pub source: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub id: i32,
    pub project: String,
    pub crystal: String,
    pub dataset: String,
    pub cell: Option<Cell>,
    pub wavelength: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MtzHeader {
    pub little_endian: bool,
    pub version: String,
    pub title: String,
    pub ncol: usize,
    pub nreflections: usize,
    /// The global cell (CELL record); falls back to the first dataset cell when absent.
    pub cell: Option<Cell>,
    pub sort_order: [i32; 5],
    pub spacegroup_number: Option<u16>,
    /// The name as written in SYMINF.
    pub spacegroup_name: String,
    /// The resolved Hermann–Mauguin symbol (as gemmi reports it).
    pub spacegroup_hm: Option<String>,
    /// The SYMINF record as written (after the keyword), copied verbatim by the writer.
    pub syminf_record: String,
    pub symops: Vec<String>,
    /// RESO record: (min, max) of 1/d² as stored; may be stale.
    pub reso_header: Option<(f64, f64)>,
    /// VALM: the missing-number marker (NaN when `VALM NAN`).
    pub missing_value: f64,
    pub columns: Vec<Column>,
    pub datasets: Vec<Dataset>,
    pub batches: Vec<i32>,
    pub history: Vec<String>,
    /// Byte offset of the header (end of the reflection table).
    pub header_offset: u64,
}

impl MtzHeader {
    /// Read only the header of an MTZ file (no reflection data is loaded).
    pub fn read(path: &Path) -> Result<MtzHeader> {
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        let len = file.metadata().map_err(|e| FormatError::io(path, e))?.len();
        let mut r = BufReader::new(file);
        Self::read_from(&mut r, len).map_err(|e| match e {
            FormatError::Io { source, .. } => FormatError::io(path, source),
            other => other,
        })
    }

    /// Read the header from any seekable source of `len` bytes.
    pub fn read_from<R: Read + Seek>(r: &mut R, len: u64) -> Result<MtzHeader> {
        let mut first = [0u8; 20];
        if len < DATA_OFFSET {
            return Err(if len >= 4 && read_magic(r)? {
                FormatError::Corrupt(format!(
                    "MTZ file truncated: {len} bytes, less than the 80-byte preamble"
                ))
            } else {
                FormatError::NotThisFormat("not an MTZ file (too short)".into())
            });
        }
        r.seek(SeekFrom::Start(0)).map_err(io)?;
        r.read_exact(&mut first).map_err(io)?;
        if &first[0..4] != b"MTZ " {
            return Err(FormatError::NotThisFormat(
                "not an MTZ file (no 'MTZ ' magic)".into(),
            ));
        }
        let little_endian = (first[9] >> 4) != 1;
        let word = read_i32(&first[4..8], little_endian);
        let header_offset = if word == -1 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&first[12..20]);
            let pos = if little_endian {
                i64::from_le_bytes(b)
            } else {
                i64::from_be_bytes(b)
            };
            u64::try_from(pos).ok()
        } else {
            u64::try_from(word)
                .ok()
                .and_then(|w| w.checked_sub(1))
                .and_then(|w| w.checked_mul(4))
        }
        .filter(|off| *off >= DATA_OFFSET && *off < len)
        .ok_or_else(|| {
            FormatError::Corrupt(format!(
                "MTZ header position {word} is outside the file ({len} bytes)"
            ))
        })?;
        r.seek(SeekFrom::Start(header_offset)).map_err(io)?;
        let mut h = MtzHeader::empty(little_endian, header_offset);
        let mut seen_end = false;
        let mut rec = [0u8; RECORD];
        let mut n = 0usize;
        while !seen_end {
            if n >= MAX_RECORDS {
                return Err(FormatError::Corrupt("MTZ header has no END record".into()));
            }
            if !read_record(r, &mut rec)? {
                return Err(FormatError::Corrupt(
                    "MTZ header truncated before the END record".into(),
                ));
            }
            n += 1;
            seen_end = h.apply(&text(&rec))?;
        }
        h.read_history(r)?;
        h.finish(len)?;
        Ok(h)
    }

    fn empty(little_endian: bool, header_offset: u64) -> Self {
        MtzHeader {
            little_endian,
            version: String::new(),
            title: String::new(),
            ncol: 0,
            nreflections: 0,
            cell: None,
            sort_order: [0; 5],
            spacegroup_number: None,
            spacegroup_name: String::new(),
            spacegroup_hm: None,
            syminf_record: String::new(),
            symops: Vec::new(),
            reso_header: None,
            missing_value: f64::NAN,
            columns: Vec::new(),
            datasets: Vec::new(),
            batches: Vec::new(),
            history: Vec::new(),
            header_offset,
        }
    }

    /// Apply one record; returns true at END.
    fn apply(&mut self, rec: &str) -> Result<bool> {
        let (key, rest) = split_key(rec);
        // Keywords are matched on their first four letters, as the format allows.
        let k4: String = key.chars().take(4).collect::<String>().to_ascii_uppercase();
        let mut tok = rest.split_whitespace();
        match k4.as_str() {
            "END" if key.eq_ignore_ascii_case("END") => return Ok(true),
            "VERS" => self.version = rest.trim().to_string(),
            "TITL" => self.title = rest.trim().to_string(),
            "NCOL" => {
                self.ncol = parse_usize(tok.next(), "NCOL")?;
                self.nreflections = parse_usize(tok.next(), "NCOL reflections")?;
            }
            "CELL" => self.cell = Some(parse_cell(&mut tok, "CELL")?),
            "SORT" => {
                for slot in self.sort_order.iter_mut() {
                    *slot = tok.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                }
            }
            "SYMI" => self.parse_syminf(rest),
            "SYMM" => self.symops.push(rest.trim().to_string()),
            "RESO" => {
                let a = parse_f64(tok.next(), "RESO")?;
                let b = parse_f64(tok.next(), "RESO")?;
                self.reso_header = Some((a, b));
            }
            "VALM" => {
                self.missing_value = match tok.next() {
                    Some(t) if t.eq_ignore_ascii_case("NAN") => f64::NAN,
                    Some(t) => t.parse().unwrap_or(f64::NAN),
                    None => f64::NAN,
                }
            }
            "COLU" => {
                let label = tok.next().unwrap_or("").to_string();
                let kind = tok.next().unwrap_or("").to_string();
                let min = tok.next().and_then(|t| t.parse().ok()).unwrap_or(f64::NAN);
                let max = tok.next().and_then(|t| t.parse().ok()).unwrap_or(f64::NAN);
                let dataset_id = tok.next().and_then(|t| t.parse().ok()).unwrap_or(0);
                self.columns.push(Column {
                    label,
                    kind,
                    min,
                    max,
                    dataset_id,
                    source: None,
                });
            }
            "COLS" => {
                let label = tok.next().unwrap_or("");
                let source = tok.next().unwrap_or("").to_string();
                if let Some(c) = self.columns.iter_mut().rev().find(|c| c.label == label) {
                    c.source = Some(source);
                }
            }
            "PROJ" => {
                let id = parse_i32(tok.next(), "PROJECT")?;
                let name = rest_after_first(rest);
                self.datasets.push(Dataset {
                    id,
                    project: name,
                    crystal: String::new(),
                    dataset: String::new(),
                    cell: None,
                    wavelength: 0.0,
                });
            }
            "CRYS" => {
                let id = parse_i32(tok.next(), "CRYSTAL")?;
                let name = rest_after_first(rest);
                self.dataset_mut(id).crystal = name;
            }
            "DATA" => {
                let id = parse_i32(tok.next(), "DATASET")?;
                let name = rest_after_first(rest);
                self.dataset_mut(id).dataset = name;
            }
            "DCEL" => {
                let id = parse_i32(tok.next(), "DCELL")?;
                let cell = parse_cell(&mut tok, "DCELL")?;
                self.dataset_mut(id).cell = Some(cell);
            }
            "DWAV" => {
                let id = parse_i32(tok.next(), "DWAVEL")?;
                let w = parse_f64(tok.next(), "DWAVEL")?;
                self.dataset_mut(id).wavelength = w;
            }
            "BATC" => {
                for t in tok {
                    self.batches.push(t.parse().map_err(|_| {
                        FormatError::Corrupt(format!("bad batch number {t:?} in MTZ BATCH record"))
                    })?);
                }
            }
            _ => {} // NDIF, COLG, MTZ... and unknown records carry nothing we report.
        }
        Ok(false)
    }

    fn parse_syminf(&mut self, rest: &str) {
        self.syminf_record = rest.trim().to_string();
        let mut tok = rest.split_whitespace();
        let _nsym = tok.next();
        let _nprim = tok.next();
        let _lattice = tok.next();
        self.spacegroup_number = tok
            .next()
            .and_then(|t| t.parse().ok())
            .filter(|n| (1..=230).contains(n));
        // The name follows the number, quoted when it contains spaces.
        let after_num = rest
            .split_whitespace()
            .nth(4)
            .and_then(|first| rest.find(first).map(|i| &rest[i..]))
            .unwrap_or("");
        let name = if let Some(stripped) = after_num.strip_prefix('\'') {
            stripped.split('\'').next().unwrap_or("")
        } else {
            after_num.split_whitespace().next().unwrap_or("")
        };
        self.spacegroup_name = name.trim().to_string();
        self.spacegroup_hm = spacegroup::resolve_hm(&self.spacegroup_name, self.spacegroup_number);
    }

    /// Dataset with `id`, created if a CRYSTAL/DATASET record comes before its PROJECT.
    fn dataset_mut(&mut self, id: i32) -> &mut Dataset {
        let idx = match self.datasets.iter().position(|d| d.id == id) {
            Some(i) => i,
            None => {
                self.datasets.push(Dataset {
                    id,
                    project: String::new(),
                    crystal: String::new(),
                    dataset: String::new(),
                    cell: None,
                    wavelength: 0.0,
                });
                self.datasets.len() - 1
            }
        };
        &mut self.datasets[idx]
    }

    /// History: `MTZHIST n` then n records. Anything else (batch headers, end marker) stops.
    fn read_history<R: Read>(&mut self, r: &mut R) -> Result<()> {
        let mut rec = [0u8; RECORD];
        if !read_record(r, &mut rec)? {
            return Ok(());
        }
        let line = text(&rec);
        let (key, rest) = split_key(&line);
        if !key.eq_ignore_ascii_case("MTZHIST") {
            return Ok(());
        }
        let n: usize = rest.trim().parse().unwrap_or(0).min(10_000);
        for _ in 0..n {
            if !read_record(r, &mut rec)? {
                break;
            }
            self.history.push(text(&rec).trim_end().to_string());
        }
        Ok(())
    }

    /// Consistency checks that make later data access safe.
    fn finish(&mut self, len: u64) -> Result<()> {
        if self.ncol == 0 && self.columns.is_empty() {
            return Err(FormatError::Corrupt(
                "MTZ header has no NCOL/COLUMN records".into(),
            ));
        }
        if self.columns.len() != self.ncol {
            return Err(FormatError::Corrupt(format!(
                "MTZ header says {} columns but lists {}",
                self.ncol,
                self.columns.len()
            )));
        }
        let table = (self.nreflections as u64)
            .checked_mul(self.ncol as u64)
            .and_then(|n| n.checked_mul(4))
            .and_then(|n| n.checked_add(DATA_OFFSET))
            .ok_or_else(|| FormatError::Corrupt("MTZ reflection table size overflows".into()))?;
        if table > self.header_offset || table > len {
            return Err(FormatError::Corrupt(format!(
                "MTZ reflection table ({} rows × {} columns) does not fit before the header at byte {}",
                self.nreflections, self.ncol, self.header_offset
            )));
        }
        // Files without PROJECT records still have the base dataset (as gemmi reports it).
        if self.datasets.is_empty() {
            self.datasets.push(Dataset {
                id: 0,
                project: "HKL_base".into(),
                crystal: "HKL_base".into(),
                dataset: "HKL_base".into(),
                cell: self.cell,
                wavelength: 0.0,
            });
        }
        if self.cell.is_none() {
            self.cell = self
                .datasets
                .iter()
                .find_map(|d| d.cell.filter(|c| c.is_valid()));
        }
        Ok(())
    }

    /// Batches present means unmerged data.
    pub fn is_merged(&self) -> bool {
        self.batches.is_empty()
    }

    pub fn column_index(&self, label: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.label == label)
    }

    pub fn dataset(&self, id: i32) -> Option<&Dataset> {
        self.datasets.iter().find(|d| d.id == id)
    }

    /// Resolution (low, high) in Å from the RESO record, without reading data.
    pub fn resolution_from_header(&self) -> Option<(f64, f64)> {
        let (lo, hi) = self.reso_header?;
        (lo > 0.0 && hi > 0.0).then(|| (1.0 / lo.sqrt(), 1.0 / hi.sqrt()))
    }
}

fn io(e: std::io::Error) -> FormatError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        FormatError::Corrupt("MTZ file truncated".into())
    } else {
        FormatError::Io {
            path: Default::default(),
            source: e,
        }
    }
}

fn read_magic<R: Read + Seek>(r: &mut R) -> Result<bool> {
    let mut m = [0u8; 4];
    r.seek(SeekFrom::Start(0)).map_err(io)?;
    r.read_exact(&mut m).map_err(io)?;
    Ok(&m == b"MTZ ")
}

pub(crate) fn read_i32(b: &[u8], little_endian: bool) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    if little_endian {
        i32::from_le_bytes(a)
    } else {
        i32::from_be_bytes(a)
    }
}

/// Reads one 80-byte record; false at a clean end of file, error on a partial record.
fn read_record<R: Read>(r: &mut R, buf: &mut [u8; RECORD]) -> Result<bool> {
    let mut got = 0;
    while got < RECORD {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    match got {
        0 => Ok(false),
        RECORD => Ok(true),
        _ => Err(FormatError::Corrupt(
            "MTZ header truncated mid-record".into(),
        )),
    }
}

fn text(rec: &[u8]) -> String {
    rec.iter()
        .map(|&b| {
            if b.is_ascii() && b != 0 {
                b as char
            } else {
                ' '
            }
        })
        .collect()
}

fn split_key(rec: &str) -> (&str, &str) {
    let t = rec.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    }
}

fn rest_after_first(rest: &str) -> String {
    let t = rest.trim_start();
    match t.find(char::is_whitespace) {
        Some(i) => t[i..].trim().to_string(),
        None => String::new(),
    }
}

fn parse_usize(t: Option<&str>, what: &str) -> Result<usize> {
    t.and_then(|t| t.parse().ok())
        .ok_or_else(|| FormatError::Corrupt(format!("bad or missing number in MTZ {what} record")))
}

fn parse_i32(t: Option<&str>, what: &str) -> Result<i32> {
    t.and_then(|t| t.parse().ok())
        .ok_or_else(|| FormatError::Corrupt(format!("bad or missing id in MTZ {what} record")))
}

fn parse_f64(t: Option<&str>, what: &str) -> Result<f64> {
    t.and_then(|t| t.parse().ok())
        .ok_or_else(|| FormatError::Corrupt(format!("bad or missing number in MTZ {what} record")))
}

fn parse_cell<'a>(tok: &mut impl Iterator<Item = &'a str>, what: &str) -> Result<Cell> {
    let mut v = [0f64; 6];
    for slot in v.iter_mut() {
        *slot = parse_f64(tok.next(), what)?;
    }
    Ok(Cell {
        a: v[0],
        b: v[1],
        c: v[2],
        alpha: v[3],
        beta: v[4],
        gamma: v[5],
    })
}
