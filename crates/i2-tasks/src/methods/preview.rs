//! ProvideSequence's `previewSequences()`: how the task will read `SEQUENCETEXT`.
//!
//! Upstream tries Biopython's alignment readers (clustal, pir, fasta, stockholm, phylip),
//! then its sequence readers (fasta, pir, seqxml, embl, ncbi), and reports each attempt in a
//! commentary with the reader's own message. This reproduces that for the texts people
//! paste: FASTA (one or more sequences, padded with `-` to the longest when their lengths
//! differ), PIR entries of equal length, and plain text (which no reader accepts). Texts
//! whose reading depends on other readers' finer rules (CLUSTAL, STOCKHOLM or PHYLIP headers,
//! blank first lines, text before the first `>`, PIR entries of unequal length) are read by
//! upstream's own `importAlignment` in the installation's Python ([`super::python`]), so they
//! are answered exactly as upstream answers them; with no upstream runner configured they are
//! a 400 rather than answered differently. Messages are Biopython 1.88's.

use serde_json::{Value, json};

use i2_formats::align::CLUSTAL_HEADERS;

use super::{Call, MethodError};
use crate::jobparams::py_str;

const PIR_TYPES: [&str; 9] = ["P1", "F1", "DL", "DC", "RL", "RC", "N3", "N1", "XX"];
/// Biopython's protein, ambiguous RNA and ambiguous DNA letters, and gap characters.
const LETTERS: &str = "ACDEFGHIKLMNPQRSTVWYGAUCRYWSMKHBVDNGATCRYWSMKHBVDN-.";

const PIR_HEADER: &str = "Records should start with '>XX;' where XX is a valid sequence type";
const NO_RECORDS: &str = "No records found in handle";
const SAME_LENGTH: &str = "Sequences must all be the same length";
const NO_STOCKHOLM: &str = "Did not find STOCKHOLM header";
const NO_PHYLIP: &str = "First line should have two integers";
const EMPTY_MAX: &str = "max() arg is an empty sequence";
const SEQXML: &str = "SeqXML files must be opened in binary mode.";
const NCBI: &str = "Unknown format 'ncbi'";
const FASTA_COMMENTS: &str =
    "This FASTA file contains comments at the beginning of the file, which are not
allowed by the 'fasta' parser.

To parse this file, you have three options:

(1) Modify your FASTA file to remove such comments at the beginning of the
file.

(2) Use SeqIO.parse with the 'fasta-pearson' format instead of 'fasta'. This
format is consistent with the FASTA format defined by William Pearson's FASTA
aligner software. This format allows for comments before the first sequence;
lines starting with the ';' character anywhere in the file are also regarded
as comment lines and are ignored.

(3) Use the 'fasta-blast' format. This format regards any lines \"starting with
'!', '#', or ';' as comment lines. The 'fasta-blast' format may be safer than
the 'fasta-pearson' format, as it explicitly indicates which lines are comments.
";

#[derive(Debug, Clone, PartialEq)]
struct Record {
    id: String,
    description: String,
    sequence: String,
}

/// The commentary, attempt by attempt.
struct Log(String);

impl Log {
    fn attempt(&mut self, kind: &str, format: &str, outcome: Result<(), &str>) {
        self.0.push_str(&format!("Trying {kind} format: {format}"));
        match outcome {
            Ok(()) => self.0.push_str("...Success\n\n"),
            Err(m) => self.0.push_str(&format!("...Failed: {m}\n\n")),
        }
    }
}

pub(super) fn preview(call: &Call) -> Result<Value, MethodError> {
    let text = call
        .param("controlParameters.SEQUENCETEXT")
        .and_then(|n| n.get("_value"))
        .filter(|v| !v.is_null())
        .map(py_str)
        .unwrap_or_default();
    if text.trim().is_empty() {
        return Ok(
            json!({"sequences": [], "format": null, "commentary": "No sequence text provided."}),
        );
    }
    // Upstream writes the text to a file and reads it back with universal newlines.
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let (records, format, log) = match read(&unified) {
        Ok(reading) => reading,
        Err(MethodError::Unsupported(why)) => {
            return match call.env.python {
                Some(python) => {
                    super::python::call(python, READ_BY_UPSTREAM, &json!({"text": text}))
                }
                None => Err(MethodError::Unsupported(why)),
            };
        }
        Err(e) => return Err(e),
    };
    let sequences: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({"id": r.id, "name": r.id, "description": r.description,
                   "sequence": r.sequence, "length": r.sequence.chars().count()})
        })
        .collect();
    Ok(json!({"sequences": sequences, "format": format, "commentary": log.0}))
}

/// For the texts [`read`] leaves to upstream: its `importAlignment` reads the text from a
/// file as the task does, and the records are listed as `previewSequences` lists them.
/// Whatever the readers print goes to standard error; standard output carries the answer.
const READ_BY_UPSTREAM: &str = r#"
import json, os, sys, tempfile
text = json.loads(sys.argv[1])["text"]
answer_to, sys.stdout = sys.stdout, sys.stderr
from ccp4i2.wrappers.ProvideAlignment.script.ProvideAlignment import importAlignment
fd, path = tempfile.mkstemp(suffix=".txt")
with os.fdopen(fd, "wb") as f:
    f.write(text.encode("utf-8"))
try:
    alignment, fmt, commentary = importAlignment(path)
finally:
    os.remove(path)
records = [] if alignment is None else [
    {"id": r.id, "name": r.name, "description": r.description, "sequence": str(r.seq),
     "length": len(r.seq)}
    for r in alignment
]
answer_to.write(json.dumps({"sequences": records, "format": None if alignment is None else fmt,
                            "commentary": commentary.getvalue()}))
"#;

fn beyond(what: &str) -> MethodError {
    MethodError::Unsupported(format!(
        "previewSequences is computed natively for FASTA, PIR and plain sequence text, not for \
         {what}: upstream reads that with Biopython rules i2server does not reproduce"
    ))
}

/// The reading upstream arrives at: records, format (`None` when nothing reads the text), log.
fn read(text: &str) -> Result<(Vec<Record>, Option<&'static str>, Log), MethodError> {
    let first = text.lines().next().unwrap_or("");
    let first_word = first.split_whitespace().next().unwrap_or("");
    if first.trim().is_empty() {
        return Err(beyond("text starting with a blank line"));
    }
    if CLUSTAL_HEADERS.contains(&first_word) {
        return Err(beyond("a CLUSTAL alignment"));
    }
    if first.starts_with("# STOCKHOLM") {
        return Err(beyond("a STOCKHOLM alignment"));
    }
    let ints: Vec<&str> = first.split_whitespace().collect();
    if ints.len() >= 2 && ints[..2].iter().all(|w| w.parse::<i64>().is_ok()) {
        return Err(beyond("a PHYLIP alignment"));
    }
    let clustal = format!(
        "{first_word} is not a known CLUSTAL header: {}",
        CLUSTAL_HEADERS.join(", ")
    );
    let mut log = Log(String::new());
    log.attempt("alignment", "clustal", Err(&clustal));
    if !first.starts_with('>') {
        if text.lines().any(|l| l.starts_with('>')) {
            return Err(beyond("text before the first '>' line"));
        }
        plain(&mut log);
        return Ok((Vec::new(), None, log));
    }
    if pir_type(first) {
        let records = pir(text).ok_or_else(|| beyond("this PIR text"))?;
        let len = records.first().map(|r| r.sequence.chars().count());
        if records.is_empty()
            || records
                .iter()
                .any(|r| Some(r.sequence.chars().count()) != len)
            || bad_letter(&records, true).is_some()
        {
            return Err(beyond(
                "PIR entries of unequal length or with unusual letters",
            ));
        }
        log.attempt("alignment", "pir", Ok(()));
        return Ok((records, Some("pir"), log));
    }
    log.attempt("alignment", "pir", Err(PIR_HEADER));
    let records = fasta(text);
    let len = records.first().map(|r| r.sequence.chars().count());
    let aligned = records
        .iter()
        .all(|r| Some(r.sequence.chars().count()) == len);
    let outcome = if records.is_empty() {
        Err(NO_RECORDS.to_string())
    } else if !aligned {
        Err(SAME_LENGTH.to_string())
    } else {
        bad_letter(&records, true).map_or(Ok(()), Err)
    };
    log.attempt(
        "alignment",
        "fasta",
        outcome.as_ref().map(|_| ()).map_err(String::as_str),
    );
    if outcome.is_ok() {
        return Ok((records, Some("fasta"), log));
    }
    log.attempt("alignment", "stockholm", Err(NO_STOCKHOLM));
    log.attempt("alignment", "phylip", Err(NO_PHYLIP));
    let seq_outcome = if records.is_empty() {
        Err(EMPTY_MAX.to_string())
    } else {
        bad_letter(&records, false).map_or(Ok(()), Err)
    };
    log.attempt(
        "Sequence",
        "fasta",
        seq_outcome.as_ref().map(|_| ()).map_err(String::as_str),
    );
    if seq_outcome.is_ok() {
        let longest = records
            .iter()
            .map(|r| r.sequence.chars().count())
            .max()
            .unwrap_or(0);
        let padded = records
            .into_iter()
            .map(|mut r| {
                let n = r.sequence.chars().count();
                r.sequence.push_str(&"-".repeat(longest - n));
                r
            })
            .collect();
        return Ok((padded, Some("fasta"), log));
    }
    log.attempt("Sequence", "pir", Err(PIR_HEADER));
    log.attempt("Sequence", "seqxml", Err(SEQXML));
    log.attempt("Sequence", "embl", Err(EMPTY_MAX));
    log.attempt("Sequence", "ncbi", Err(NCBI));
    Ok((Vec::new(), None, log))
}

/// Text with no `>` line: no reader takes it.
fn plain(log: &mut Log) {
    log.attempt("alignment", "pir", Err(NO_RECORDS));
    log.attempt("alignment", "fasta", Err(FASTA_COMMENTS));
    log.attempt("alignment", "stockholm", Err(NO_STOCKHOLM));
    log.attempt("alignment", "phylip", Err(NO_PHYLIP));
    log.attempt("Sequence", "fasta", Err(FASTA_COMMENTS));
    log.attempt("Sequence", "pir", Err(EMPTY_MAX));
    log.attempt("Sequence", "seqxml", Err(SEQXML));
    log.attempt("Sequence", "embl", Err(EMPTY_MAX));
    log.attempt("Sequence", "ncbi", Err(NCBI));
}

/// `>XX;` with a PIR sequence type.
fn pir_type(line: &str) -> bool {
    line.get(1..3).is_some_and(|t| PIR_TYPES.contains(&t)) && line.get(3..4) == Some(";")
}

/// FASTA records: `>title` (identifier = its first word), then sequence lines with all
/// whitespace removed.
fn fasta(text: &str) -> Vec<Record> {
    let mut out: Vec<Record> = Vec::new();
    for line in text.lines() {
        if let Some(title) = line.strip_prefix('>') {
            let title = title.trim_end();
            out.push(Record {
                id: title.split_whitespace().next().unwrap_or("").to_string(),
                description: title.to_string(),
                sequence: String::new(),
            });
        } else if let Some(r) = out.last_mut() {
            r.sequence
                .extend(line.chars().filter(|c| !c.is_whitespace()));
        }
    }
    out
}

/// PIR records: `>XX;id`, a description line, sequence lines ending in `*`. `None` when an
/// entry does not follow that shape.
fn pir(text: &str) -> Option<Vec<Record>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        if !pir_type(line) {
            return None;
        }
        let id = line.get(4..)?.trim().to_string();
        let description = lines.get(i + 1)?.trim().to_string();
        i += 2;
        let mut sequence = String::new();
        while i < lines.len() && !lines[i].starts_with('>') {
            sequence.extend(lines[i].chars().filter(|c| !c.is_whitespace()));
            i += 1;
        }
        let sequence = sequence.strip_suffix('*')?.to_string();
        if sequence.contains('*') {
            return None;
        }
        out.push(Record {
            id,
            description,
            sequence,
        });
    }
    Some(out)
}

/// Upstream's letter check: the first letter outside Biopython's alphabets (either case),
/// as its message. The alignment readers also accept `X`.
fn bad_letter(records: &[Record], alignment: bool) -> Option<String> {
    let ok = |c: char| {
        let u = c.to_ascii_uppercase();
        c.is_ascii() && (LETTERS.contains(u) || (alignment && u == 'X'))
    };
    for (i, r) in records.iter().enumerate() {
        for (j, c) in r.sequence.chars().enumerate() {
            if !ok(c) {
                return Some(format!(
                    "Found unexpected character: '{c}' sequence {i} position {j}"
                ));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> (Vec<String>, Option<&'static str>) {
        match read(text) {
            Ok((r, f, _)) => (r.into_iter().map(|r| r.sequence).collect(), f),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn fasta_alignments_and_padding() {
        assert_eq!(
            ids(">a\nMKV\n>b\nMKA\n"),
            (vec!["MKV".into(), "MKA".into()], Some("fasta"))
        );
        assert_eq!(
            ids(">a\nMKVL\n>b\nMK\n"),
            (vec!["MKVL".into(), "MK--".into()], Some("fasta"))
        );
        // X is accepted in an alignment but not as a sequence
        assert_eq!(ids(">a\nMKX\n").1, Some("fasta"));
        assert_eq!(ids(">a\nMKX\n>b\nM\n"), (vec![], None));
    }

    #[test]
    fn letters_reported_by_position() {
        let (_, _, log) = read(">x\nMK1Z\n").unwrap_or_else(|e| panic!("{e}"));
        assert!(
            log.0.contains(
                "fasta...Failed: Found unexpected character: '1' sequence 0 position 2\n"
            )
        );
        assert!(
            log.0
                .ends_with("Trying Sequence format: ncbi...Failed: Unknown format 'ncbi'\n\n")
        );
    }

    #[test]
    fn pir_and_plain_text() {
        let (r, f, _) = read(">P1;rn\nrnase desc\nDVS GTV*\n").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(f, Some("pir"));
        assert_eq!(r[0].description, "rnase desc");
        assert_eq!(r[0].sequence, "DVSGTV");
        assert_eq!(ids("MKV LLA\nGGT\n"), (vec![], None));
    }

    #[test]
    fn other_formats_are_refused() {
        for t in [
            "CLUSTAL W\n\na MKV\n",
            "# STOCKHOLM 1.0\n",
            "2 5\na MKVLA\n",
            "\n>a\nMK\n",
            "x\n>a\nMK\n",
        ] {
            assert!(matches!(read(t), Err(MethodError::Unsupported(_))), "{t:?}");
        }
    }
}
