//! Mini-MTZ writer: H, K, L plus selected columns of a source file, renamed, with the source's
//! cell and symmetry, an `HKL_base` dataset and the dataset the selected columns came from.
//! Rows are copied as they are (same reflections, same order, same values, missing stays NaN).
//!
//! Upstream (3.0.1, gemmi) instead regenerates the complete unique set of the source's
//! resolution range and fills it by Miller index; it also keeps the source dataset id on the
//! new columns, which points outside the new file when the source dataset id is above 1.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::cell::Cell;
use super::data::read_columns;
use super::header::{DATA_OFFSET, Dataset, MtzHeader};
use crate::error::{FormatError, Result};

const LABEL_WIDTH: usize = 30;

/// Copy columns `(source label, new label)` of `src` into a new MTZ at `dst`.
/// Returns the header of the written file as read back.
pub fn write_columns(src: &Path, dst: &Path, columns: &[(&str, &str)]) -> Result<MtzHeader> {
    let h = MtzHeader::read(src)?;
    let mut picked = Vec::new();
    for (from, to) in columns {
        let i = h.column_index(from).ok_or_else(|| {
            FormatError::Missing(format!("{} has no column {from:?}", src.display()))
        })?;
        picked.push((i, *to));
    }
    write_column_indices(src, &h, dst, &picked)
}

/// Copy columns `(index in src's header, new label)` of `src` (whose header is `h`) into a new
/// MTZ at `dst`: the form to use when labels repeat across datasets.
pub fn write_column_indices(
    src: &Path,
    h: &MtzHeader,
    dst: &Path,
    columns: &[(usize, &str)],
) -> Result<MtzHeader> {
    let mut indices = Vec::new();
    for name in ["H", "K", "L"] {
        indices.push(h.column_index(name).ok_or_else(|| {
            FormatError::Missing(format!("{} has no {name} column", src.display()))
        })?);
    }
    for (from, to) in columns {
        if to.is_empty() || to.len() > LABEL_WIDTH || to.contains(char::is_whitespace) {
            return Err(FormatError::Missing(format!(
                "invalid MTZ column label {to:?}"
            )));
        }
        if *from >= h.columns.len() {
            return Err(FormatError::Missing(format!(
                "{} has no column number {from}",
                src.display()
            )));
        }
        indices.push(*from);
    }
    // As upstream: when the source has several datasets, the new file gets a copy of the
    // dataset of the last selected column (even HKL_base) as dataset 1.
    let source_ds = indices
        .last()
        .and_then(|&i| h.columns.get(i))
        .and_then(|c| h.dataset(c.dataset_id))
        .filter(|_| h.datasets.len() > 1);
    let data = read_columns(src, h, &indices)?;
    let labels: Vec<(&str, &str)> = ["H", "K", "L"]
        .iter()
        .map(|l| (*l, "H"))
        .chain(columns.iter().zip(&indices[3..]).map(|((_, to), &i)| {
            (
                *to,
                h.columns.get(i).map(|c| c.kind.as_str()).unwrap_or("R"),
            )
        }))
        .collect();
    let title = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = MiniMtz {
        src: h,
        data: &data,
        labels: &labels,
        dataset: source_ds,
        from: &title,
    };
    let file = File::create(dst).map_err(|e| FormatError::io(dst, e))?;
    let mut w = BufWriter::new(file);
    out.write(&mut w).map_err(|e| FormatError::io(dst, e))?;
    w.flush().map_err(|e| FormatError::io(dst, e))?;
    drop(w);
    MtzHeader::read(dst)
}

struct MiniMtz<'a> {
    src: &'a MtzHeader,
    data: &'a [Vec<f32>],
    labels: &'a [(&'a str, &'a str)],
    dataset: Option<&'a Dataset>,
    from: &'a str,
}

impl MiniMtz<'_> {
    fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        let nref = self.data.first().map_or(0, Vec::len);
        let ncol = self.data.len();
        let table_bytes = (nref as u64) * (ncol as u64) * 4;
        let header_offset = DATA_OFFSET + table_bytes;
        let mut pre = [0u8; DATA_OFFSET as usize];
        pre[0..4].copy_from_slice(b"MTZ ");
        match i32::try_from(header_offset / 4 + 1) {
            Ok(word) => pre[4..8].copy_from_slice(&word.to_le_bytes()),
            Err(_) => {
                pre[4..8].copy_from_slice(&(-1i32).to_le_bytes());
                pre[12..20].copy_from_slice(&(header_offset as i64).to_le_bytes());
            }
        }
        pre[8..12].copy_from_slice(&[0x44, 0x41, 0, 0]); // little-endian IEEE stamp
        w.write_all(&pre)?;
        for row in 0..nref {
            for col in self.data {
                let v = col.get(row).copied().unwrap_or(f32::NAN);
                w.write_all(&v.to_le_bytes())?;
            }
        }
        for rec in self.records() {
            write_record(w, &rec)?;
        }
        Ok(())
    }

    fn records(&self) -> Vec<String> {
        let h = self.src;
        let cell = h.cell.unwrap_or_default();
        let nds = if self.dataset.is_some() { 2 } else { 1 };
        let mut r = vec![
            "VERS MTZ:V1.1".to_string(),
            format!("TITLE {}", h.title),
            format!(
                "NCOL {:8} {:12} {:8}",
                self.data.len(),
                self.data.first().map_or(0, Vec::len),
                0
            ),
            format!("CELL {}", cell_text(&cell)),
            format!(
                "SORT {:3} {:3} {:3} {:3} {:3}",
                h.sort_order[0], h.sort_order[1], h.sort_order[2], h.sort_order[3], h.sort_order[4]
            ),
            format!("SYMINF {}", h.syminf_record),
        ];
        r.extend(h.symops.iter().map(|s| format!("SYMM {s}")));
        r.push(self.reso_record());
        r.push("VALM NAN".into());
        // Columns of HKL_base stay in dataset 0.
        let data_ds = match self.dataset {
            Some(d) if d.id != 0 => 1,
            _ => 0,
        };
        for (i, (label, kind)) in self.labels.iter().enumerate() {
            let (min, max) = self.data.get(i).map_or((0.0, 0.0), |c| min_max(c));
            let ds = if i < 3 { 0 } else { data_ds };
            r.push(format!(
                "COLUMN {label:<30} {kind} {:>17} {:>17} {ds:>4}",
                num(min),
                num(max)
            ));
        }
        r.push(format!("NDIF {nds:8}"));
        let base = Dataset {
            id: 0,
            project: "HKL_base".into(),
            crystal: "HKL_base".into(),
            dataset: "HKL_base".into(),
            cell: Some(cell),
            wavelength: 0.0,
        };
        let with_new_id = self.dataset.map(|d| Dataset { id: 1, ..d.clone() });
        for d in std::iter::once(&base).chain(with_new_id.as_ref()) {
            r.push(format!("PROJECT {:7} {}", d.id, d.project));
            r.push(format!("CRYSTAL {:7} {}", d.id, d.crystal));
            r.push(format!("DATASET {:7} {}", d.id, d.dataset));
            r.push(format!(
                "DCELL {:9} {}",
                d.id,
                cell_text(&d.cell.unwrap_or(cell))
            ));
            r.push(format!("DWAVEL {:8} {}", d.id, num(d.wavelength)));
        }
        r.push("END".into());
        r.push("MTZHIST   1".into());
        r.push(format!("MTZ file created from {} by i2server.", self.from));
        r.push("MTZENDOFHEADERS".into());
        r
    }

    fn reso_record(&self) -> String {
        let metric = self.src.cell.and_then(|c| c.reciprocal_metric());
        let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
        if let (Some(m), [h, k, l, ..]) = (metric, self.data) {
            for ((h, k), l) in h.iter().zip(k).zip(l) {
                let s = m.one_over_d2(*h as f64, *k as f64, *l as f64);
                if s.is_finite() && s > 0.0 {
                    lo = lo.min(s);
                    hi = hi.max(s);
                }
            }
        }
        if hi == 0.0 {
            lo = 0.0;
        }
        format!("RESO {} {}", num(lo), num(hi))
    }
}

fn min_max(col: &[f32]) -> (f64, f64) {
    let mut it = col.iter().filter(|v| !v.is_nan()).map(|&v| v as f64);
    let first = it.next().unwrap_or(0.0);
    it.fold((first, first), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Shortest text that reads back as the same f64, kept within 17 characters.
fn num(x: f64) -> String {
    let s = format!("{x}");
    if s.len() <= 17 { s } else { format!("{x:.9e}") }
}

fn cell_text(c: &Cell) -> String {
    [c.a, c.b, c.c, c.alpha, c.beta, c.gamma]
        .iter()
        .map(|v| {
            let s = num(*v);
            if s.len() <= 11 { s } else { format!("{v:.4}") }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_record(w: &mut impl Write, rec: &str) -> std::io::Result<()> {
    let mut buf = [b' '; 80];
    for (slot, b) in buf.iter_mut().zip(rec.bytes()) {
        *slot = if b.is_ascii() { b } else { b'?' };
    }
    w.write_all(&buf)
}
