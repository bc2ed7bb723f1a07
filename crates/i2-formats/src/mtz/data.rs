//! Streaming access to the reflection table: rows are read in fixed-size chunks, so memory does
//! not grow with the file. Whole columns can be collected when a caller really needs them.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::cell::Cell;
use super::header::{DATA_OFFSET, MtzHeader};
use crate::error::{FormatError, Result};

/// Rows read per chunk.
const CHUNK_ROWS: usize = 4096;

/// Iterates over the rows of the reflection table (all columns, as f32).
pub struct Rows {
    reader: BufReader<File>,
    little_endian: bool,
    ncol: usize,
    remaining: usize,
    raw: Vec<u8>,
    row: Vec<f32>,
    buffered: usize,
    cursor: usize,
}

impl Rows {
    pub fn open(path: &Path, header: &MtzHeader) -> Result<Rows> {
        let file = File::open(path).map_err(|e| FormatError::io(path, e))?;
        let mut reader = BufReader::with_capacity(64 * 1024, file);
        reader
            .seek(SeekFrom::Start(DATA_OFFSET))
            .map_err(|e| FormatError::io(path, e))?;
        Ok(Rows {
            reader,
            little_endian: header.little_endian,
            ncol: header.ncol,
            remaining: header.nreflections,
            raw: Vec::new(),
            row: vec![0.0; header.ncol],
            buffered: 0,
            cursor: 0,
        })
    }

    /// The next row, or `None` after the last one. The slice is valid until the next call.
    pub fn next_row(&mut self) -> Result<Option<&[f32]>> {
        if self.ncol == 0 {
            return Ok(None);
        }
        if self.cursor == self.buffered {
            if self.remaining == 0 {
                return Ok(None);
            }
            let n = self.remaining.min(CHUNK_ROWS);
            self.raw.resize(n * self.ncol * 4, 0);
            self.reader.read_exact(&mut self.raw).map_err(|e| {
                if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    FormatError::Corrupt("MTZ reflection table truncated".into())
                } else {
                    FormatError::Io {
                        path: Default::default(),
                        source: e,
                    }
                }
            })?;
            self.remaining -= n;
            self.buffered = n;
            self.cursor = 0;
        }
        let start = self.cursor * self.ncol * 4;
        let bytes = self.raw.get(start..start + self.ncol * 4).unwrap_or(&[]);
        for (slot, chunk) in self.row.iter_mut().zip(bytes.chunks_exact(4)) {
            let b = [chunk[0], chunk[1], chunk[2], chunk[3]];
            *slot = if self.little_endian {
                f32::from_le_bytes(b)
            } else {
                f32::from_be_bytes(b)
            };
        }
        self.cursor += 1;
        Ok(Some(&self.row))
    }
}

/// Resolution range (low, high) in Å computed from the Miller indices of every reflection
/// (one streaming pass; the RESO record is often stale). Like gemmi, the extremes are taken over
/// the global cell and every distinct dataset cell. `None` if there are no usable rows.
pub fn resolution_range(path: &Path, header: &MtzHeader) -> Result<Option<(f64, f64)>> {
    let mut cells: Vec<Cell> = Vec::new();
    for c in header
        .cell
        .iter()
        .chain(header.datasets.iter().filter_map(|d| d.cell.as_ref()))
    {
        if c.is_valid() && !cells.contains(c) {
            cells.push(*c);
        }
    }
    let metrics: Vec<_> = cells.iter().filter_map(|c| c.reciprocal_metric()).collect();
    if metrics.is_empty() {
        return Ok(None);
    }
    let idx = ["H", "K", "L"].map(|l| {
        header
            .columns
            .iter()
            .position(|c| c.kind == "H" && c.label == l)
    });
    let [Some(h), Some(k), Some(l)] = idx else {
        return Ok(None);
    };
    let mut rows = Rows::open(path, header)?;
    let (mut min, mut max) = (f64::INFINITY, 0.0f64);
    while let Some(row) = rows.next_row()? {
        let (Some(&hv), Some(&kv), Some(&lv)) = (row.get(h), row.get(k), row.get(l)) else {
            continue;
        };
        for m in &metrics {
            let s = m.one_over_d2(hv as f64, kv as f64, lv as f64);
            if s.is_finite() && s > 0.0 {
                min = min.min(s);
                max = max.max(s);
            }
        }
    }
    Ok((max > 0.0).then(|| (1.0 / min.sqrt(), 1.0 / max.sqrt())))
}

/// Collect the given columns (by index) for every reflection. Memory grows with the file:
/// use for writing mini-MTZ files, not for summaries.
pub fn read_columns(path: &Path, header: &MtzHeader, indices: &[usize]) -> Result<Vec<Vec<f32>>> {
    if let Some(bad) = indices.iter().find(|&&i| i >= header.ncol) {
        return Err(FormatError::Missing(format!(
            "MTZ column index {bad} out of range"
        )));
    }
    let mut out: Vec<Vec<f32>> = indices
        .iter()
        .map(|_| Vec::with_capacity(header.nreflections))
        .collect();
    let mut rows = Rows::open(path, header)?;
    while let Some(row) = rows.next_row()? {
        for (dst, &i) in out.iter_mut().zip(indices) {
            dst.push(row.get(i).copied().unwrap_or(f32::NAN));
        }
    }
    Ok(out)
}
