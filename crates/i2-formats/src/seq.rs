//! Sequence files: FASTA (`>name`), PIR (`>P1;name`, a description line, sequence ending in
//! `*`) and plain one-letter text. Only the first entry is the file's sequence for the digest,
//! but all entries are returned.

use std::path::Path;

use crate::error::{FormatError, Result};

/// Files larger than this are not sequence files.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeqFormat {
    Fasta,
    Pir,
    Plain,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sequence {
    pub identifier: String,
    pub description: String,
    /// One-letter residues, upper case, without gaps, spaces or terminators.
    pub sequence: String,
}

impl Sequence {
    /// `NUCLEIC` when every residue is a nucleotide letter, else `PROTEIN`.
    pub fn molecule_type(&self) -> &'static str {
        let nucleic = !self.sequence.is_empty()
            && self
                .sequence
                .chars()
                .all(|c| matches!(c, 'A' | 'C' | 'G' | 'T' | 'U' | 'N'));
        if nucleic { "NUCLEIC" } else { "PROTEIN" }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeqFile {
    pub format: SeqFormat,
    pub entries: Vec<Sequence>,
}

/// Read a sequence file; the extension `.pir` selects PIR rules for `>` headers without `P1;`.
pub fn read(path: &Path) -> Result<SeqFile> {
    let meta = std::fs::metadata(path).map_err(|e| FormatError::io(path, e))?;
    if meta.len() > MAX_BYTES {
        return Err(FormatError::NotThisFormat(format!(
            "{} is {} bytes: too large for a sequence file",
            path.display(),
            meta.len()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    let pir_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pir"));
    parse(&text, pir_ext)
}

/// Parse sequence text. `pir_hint`: treat `>` entries as PIR (description on the second line).
pub fn parse(text: &str, pir_hint: bool) -> Result<SeqFile> {
    if text.contains('\0') {
        return Err(FormatError::NotThisFormat(
            "binary data is not a sequence file".into(),
        ));
    }
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    if !lines.iter().any(|l| l.starts_with('>')) {
        let sequence = residues(lines.iter().copied());
        if sequence.is_empty() {
            return Err(FormatError::NotThisFormat("no sequence found".into()));
        }
        return Ok(SeqFile {
            format: SeqFormat::Plain,
            entries: vec![Sequence {
                identifier: String::new(),
                description: String::new(),
                sequence,
            }],
        });
    }
    let mut entries = Vec::new();
    let mut any_pir = false;
    let mut i = lines
        .iter()
        .position(|l| l.starts_with('>'))
        .unwrap_or(lines.len());
    while i < lines.len() {
        let head = lines[i].trim_start_matches('>').trim();
        let end = lines[i + 1..]
            .iter()
            .position(|l| l.starts_with('>'))
            .map_or(lines.len(), |p| i + 1 + p);
        let body = &lines[i + 1..end];
        let pir_code = head.get(..3).filter(|p| p.as_bytes().get(2) == Some(&b';'));
        let entry = if pir_code.is_some() || pir_hint {
            any_pir = true;
            let id = if pir_code.is_some() { &head[3..] } else { head };
            Sequence {
                identifier: id.trim().to_string(),
                description: body
                    .first()
                    .map(|l| l.trim().to_string())
                    .unwrap_or_default(),
                sequence: residues(body.iter().skip(1).copied()),
            }
        } else {
            Sequence {
                identifier: head.split_whitespace().next().unwrap_or("").to_string(),
                description: head.to_string(),
                sequence: residues(body.iter().copied()),
            }
        };
        entries.push(entry);
        i = end;
    }
    Ok(SeqFile {
        format: if any_pir {
            SeqFormat::Pir
        } else {
            SeqFormat::Fasta
        },
        entries,
    })
}

fn residues<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines
        .flat_map(|l| l.chars())
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fasta_pir_and_plain() {
        let f = parse(">rnase_A\nDVSG\nTVC\n\n", false).expect("fasta");
        assert_eq!(f.format, SeqFormat::Fasta);
        assert_eq!(f.entries[0].sequence, "DVSGTVC");
        let p = parse(">P1;gamma\n\nMHHH\nQSWQ*\n", false).expect("pir");
        assert_eq!(p.entries[0].identifier, "gamma");
        assert_eq!(p.entries[0].sequence, "MHHHQSWQ");
        let plain = parse("acgt acgu\n", false).expect("plain");
        assert_eq!(plain.entries[0].molecule_type(), "NUCLEIC");
        assert!(parse("", false).is_err());
        assert!(parse("\0\0", false).is_err());
    }
}
