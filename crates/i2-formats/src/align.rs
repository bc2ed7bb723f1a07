//! Sequence alignments: which of the formats clustal, fasta, phylip, stockholm (tried in that
//! order, as upstream does with BioPython's `AlignIO.read`) reads the file as exactly one
//! alignment, and the sequence identifiers. Acceptance follows BioPython 1.88's parsers rule by
//! rule (facts observed on it), including the inputs where they give up. Where BioPython would
//! loop forever (a CLUSTAL header with nothing after it, a PHYLIP header of 0 sequences followed
//! by data), the file is simply not of that format.

use std::path::Path;

use crate::error::{FormatError, Result};

/// (format name, identifiers); `("unknown", [])` when no format reads the file.
pub fn identify(path: &Path) -> Result<(&'static str, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| FormatError::io(path, e))?;
    Ok(identify_bytes(&bytes))
}

pub fn identify_bytes(bytes: &[u8]) -> (&'static str, Vec<String>) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return ("unknown", Vec::new());
    };
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let parsers: [(&'static str, Parser); 4] = [
        ("clustal", clustal),
        ("fasta", fasta),
        ("phylip", phylip),
        ("stockholm", stockholm),
    ];
    for (name, parse) in parsers {
        if let Some(ids) = parse(&mut Lines::new(&text)) {
            return (name, ids);
        }
    }
    ("unknown", Vec::new())
}

type Parser = fn(&mut Lines) -> Option<Vec<String>>;

/// Python-style `readline`: each line with its `\n`, then `""` for ever.
struct Lines<'a> {
    rest: &'a str,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines { rest: text }
    }
    fn readline(&mut self) -> &'a str {
        let end = self.rest.find('\n').map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        line
    }
}

fn chars(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// `s[a:b]` on characters with Python's clamping.
fn slice(s: &[char], a: usize, b: usize) -> String {
    let b = b.min(s.len());
    let a = a.min(b);
    s[a..b].iter().collect()
}

fn py_int(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn first_char(s: &str) -> Option<char> {
    s.chars().next()
}

/// First words Biopython accepts as a CLUSTAL header.
pub const CLUSTAL_HEADERS: [&str; 6] = [
    "CLUSTAL",
    "PROBCONS",
    "MUSCLE",
    "MSAPROBS",
    "Kalign",
    "Biopython",
];

fn clustal(r: &mut Lines) -> Option<Vec<String>> {
    let header = r.readline();
    let first = header.split_whitespace().next()?;
    if !CLUSTAL_HEADERS.contains(&first) {
        return None;
    }
    for word in header.split_whitespace() {
        let w = if word.starts_with('(') && word.ends_with(')') && word.len() >= 2 {
            &word[1..word.len() - 1]
        } else {
            word
        };
        let c = first_char(w)?;
        if c.is_ascii_digit() {
            break;
        }
    }
    let mut line = r.readline();
    while blank(line) {
        if line.is_empty() {
            return None;
        }
        line = r.readline();
    }
    let mut ids: Vec<String> = Vec::new();
    let mut seqs: Vec<String> = Vec::new();
    let mut consensus = String::new();
    let mut cols: Option<(usize, usize)> = None;
    loop {
        let lc = chars(line);
        if first_char(line) != Some(' ') && !blank(line) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 2 || f.len() > 3 {
                return None;
            }
            ids.push(f[0].to_string());
            seqs.push(f[1].to_string());
            let n0 = f[0].chars().count();
            let (a, b) = *cols.get_or_insert_with(|| {
                let after: String = lc.iter().skip(n0).collect();
                let start = match after.find(f[1]) {
                    Some(p) => n0 + after[..p].chars().count(),
                    None => n0.saturating_sub(1),
                };
                (start, start + f[1].chars().count())
            });
            if slice(&lc, a, b) != f[1] {
                return None;
            }
            if f.len() == 3 && py_int(f[2])? != f[1].chars().filter(|c| *c != '-').count() as i64 {
                return None;
            }
        } else if first_char(line) == Some(' ') {
            let (a, b) = cols?;
            consensus = slice(&lc, a, b);
            if !blank(&slice(&lc, 0, a)) || !blank(&slice(&lc, b, usize::MAX)) {
                return None;
            }
            line = r.readline();
            if !blank(line) {
                return None;
            }
            break;
        } else {
            break;
        }
        line = r.readline();
        if line.is_empty() {
            break;
        }
    }
    if !blank(line) {
        return None;
    }
    let (mut a, mut b) = cols?;
    let len0 = seqs[0].chars().count();
    if seqs.iter().any(|s| s.chars().count() != len0) {
        return None;
    }
    if !consensus.is_empty() && consensus.chars().count() != len0 {
        return None;
    }
    loop {
        while blank(line) {
            line = r.readline();
            if line.is_empty() {
                break;
            }
        }
        if line.is_empty() {
            break;
        }
        if line
            .split_whitespace()
            .next()
            .is_some_and(|w| CLUSTAL_HEADERS.contains(&w))
        {
            return None; // a second alignment: AlignIO.read wants exactly one
        }
        for i in 0..ids.len() {
            if first_char(line)? == ' ' {
                return None;
            }
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 2 || f.len() > 3 || f[0] != ids[i] {
                return None;
            }
            let lc = chars(line);
            if slice(&lc, a, b) != f[1] {
                let n0 = f[0].chars().count();
                let after: String = lc.iter().skip(n0).collect();
                let start = match after.find(f[1]) {
                    Some(p) => n0 + after[..p].chars().count(),
                    None => n0.saturating_sub(1),
                };
                if start != a {
                    return None;
                }
                b = start + f[1].chars().count();
            }
            seqs[i].push_str(f[1]);
            if seqs[i].chars().count() != seqs[0].chars().count() {
                return None;
            }
            if f.len() == 3 && py_int(f[2])? != seqs[i].chars().filter(|c| *c != '-').count() as i64
            {
                return None;
            }
            line = r.readline();
        }
        if !consensus.is_empty() {
            if first_char(line)? != ' ' {
                return None;
            }
            let lc = chars(line);
            consensus.push_str(&slice(&lc, a, b));
            if consensus.chars().count() != seqs[0].chars().count()
                || !blank(&slice(&lc, 0, a))
                || !blank(&slice(&lc, b, usize::MAX))
            {
                return None;
            }
            line = r.readline();
        }
        a = a.min(b);
    }
    if seqs.is_empty() || seqs[0].is_empty() {
        return None;
    }
    Some(ids)
}

fn fasta(r: &mut Lines) -> Option<Vec<String>> {
    let mut line = r.readline();
    if !line.starts_with('>') {
        return None;
    }
    let mut ids = Vec::new();
    let mut len: Option<usize> = None;
    while !line.is_empty() {
        let title = line[1..].trim_end();
        ids.push(title.split_whitespace().next().unwrap_or("").to_string());
        let mut n = 0usize;
        line = r.readline();
        while !line.is_empty() && !line.starts_with('>') {
            n += line.bytes().filter(|b| !b" \t\r\n".contains(b)).count();
            line = r.readline();
        }
        if *len.get_or_insert(n) != n {
            return None;
        }
    }
    Some(ids)
}

fn phylip_header(line: &str) -> Option<i64> {
    let parts: Vec<&str> = line.split_whitespace().collect();
    if parts.len() != 2 {
        return None;
    }
    py_int(parts[1])?;
    py_int(parts[0])
}

fn phylip(r: &mut Lines) -> Option<Vec<String>> {
    let first = r.readline();
    if first.is_empty() {
        return None;
    }
    let n = phylip_header(first)?;
    let n = usize::try_from(n).unwrap_or(0);
    let mut ids = Vec::with_capacity(n.min(10_000));
    let mut seqs: Vec<usize> = Vec::with_capacity(n.min(10_000));
    for i in 0..n {
        if r.rest.is_empty() {
            // End of file: BioPython reads every remaining record as empty (id "", no
            // residues), one by one. Equal lengths only if all were empty; a header claiming
            // millions of records is refused rather than materialised.
            if seqs.iter().any(|l| *l != 0) || n > 100_000 {
                return None;
            }
            ids.extend(std::iter::repeat_n(String::new(), n - i));
            seqs.extend(std::iter::repeat_n(0, n - i));
            break;
        }
        let l = chars(r.readline().trim_end());
        ids.push(slice(&l, 0, 10).trim().to_string());
        let s: String = slice(&l, 10, usize::MAX).trim().replace(' ', "");
        if s.contains('.') {
            return None;
        }
        seqs.push(s.chars().count());
    }
    let mut line = "";
    loop {
        while blank(line) {
            line = r.readline();
            if line.is_empty() {
                break;
            }
        }
        if line.is_empty() {
            break;
        }
        if phylip_header(line).is_some() || n == 0 {
            return None;
        }
        for (i, len) in seqs.iter_mut().enumerate() {
            let s = line.trim().replace(' ', "");
            if s.contains('.') {
                return None;
            }
            *len += s.chars().count();
            line = r.readline();
            if line.is_empty() && i + 1 < n {
                return None;
            }
        }
        if line.is_empty() {
            break;
        }
    }
    if seqs.windows(2).any(|w| w[0] != w[1]) {
        return None;
    }
    Some(ids)
}

fn stockholm(r: &mut Lines) -> Option<Vec<String>> {
    let first = r.readline();
    if first.is_empty() || first.trim() != "# STOCKHOLM 1.0" {
        return None;
    }
    let mut ids: Vec<String> = Vec::new();
    let mut seqs: Vec<String> = Vec::new();
    let mut gc: Vec<(String, String)> = Vec::new();
    let mut gr: Vec<(String, String, String)> = Vec::new();
    let mut accessions: Vec<(String, usize)> = Vec::new();
    let mut ended = false;
    loop {
        let raw = r.readline();
        if raw.is_empty() {
            break;
        }
        let line = raw.trim();
        if line == "# STOCKHOLM 1.0" {
            return None; // a second alignment
        } else if line == "//" {
            ended = true;
        } else if line.is_empty() {
        } else if !line.starts_with('#') {
            if ended {
                return None;
            }
            let (id, seq) = line.split_once(' ')?;
            let (id, seq) = (id.trim(), seq.trim().replace('.', "-"));
            match ids.iter().position(|x| x == id) {
                Some(i) => seqs[i].push_str(&seq),
                None => {
                    ids.push(id.to_string());
                    seqs.push(seq);
                }
            }
        } else if line.chars().count() >= 5 {
            let head = line.get(..5).unwrap_or("");
            let body = line.get(5..).unwrap_or("").trim();
            let words = |n: usize| -> Vec<String> {
                body.splitn(n, char::is_whitespace)
                    .map(|s| s.trim_start().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            match head {
                "#=GF " if words(2).len() != 2 => return None,
                "#=GC " => {
                    let w = words(3);
                    if w.len() != 2 {
                        return None;
                    }
                    match gc.iter_mut().find(|(k, _)| *k == w[0]) {
                        Some((_, v)) => v.push_str(w[1].trim()),
                        None => gc.push((w[0].clone(), w[1].trim().to_string())),
                    }
                }
                "#=GS " => {
                    let w = words(3);
                    if w.len() < 2 {
                        return None;
                    }
                    if w[1] == "AC" {
                        match accessions.iter_mut().find(|(k, _)| *k == w[0]) {
                            Some((_, n)) => *n += 1,
                            None => accessions.push((w[0].clone(), 1)),
                        }
                    }
                }
                "#=GR " => {
                    let w = words(3);
                    if w.len() != 3 {
                        return None;
                    }
                    match gr.iter_mut().find(|(s, f, _)| *s == w[0] && *f == w[1]) {
                        Some((_, _, v)) => v.push_str(w[2].trim()),
                        None => gr.push((w[0].clone(), w[1].clone(), w[2].trim().to_string())),
                    }
                }
                _ => {}
            }
        }
    }
    if ids.is_empty() {
        return None;
    }
    let len = seqs[0].chars().count();
    if seqs.iter().any(|s| s.chars().count() != len)
        || gc.iter().any(|(_, v)| v.chars().count() != len)
        || accessions.iter().any(|(id, n)| *n != 1 && ids.contains(id))
        || gr
            .iter()
            .any(|(id, _, v)| ids.contains(id) && v.chars().count() != len)
    {
        return None;
    }
    Some(ids)
}

#[cfg(test)]
mod tests {
    use super::identify_bytes as id;

    #[test]
    fn formats_as_biopython_reads_them() {
        let ok = |f: &'static str, ids: &[&str]| (f, ids.iter().map(|s| s.to_string()).collect());
        assert_eq!(id(b">a d\nAC-D\n>b\nACDD\n"), ok("fasta", &["a", "b"]));
        assert_eq!(id(b">a\nACD\n>b\nAC\n").0, "unknown");
        assert_eq!(id(b"\n>a\nAC\n").0, "unknown");
        assert_eq!(
            id(b"CLUSTAL O(1.2.4) multiple sequence alignment\n\nA   AC-D 3\nB   ACDD 4\n"),
            ok("clustal", &["A", "B"])
        );
        // a consensus line in the first block but not the last: BioPython gives up
        assert_eq!(
            id(b"CLUSTAL W\n\n\nA  ACDE\nB  AC-E\n   ** *\n\nA  HH\nB  HH\n").0,
            "unknown"
        );
        assert_eq!(
            id(b" 2 4\nA         ACDE\nB         AC-E\n"),
            ok("phylip", &["A", "B"])
        );
        assert_eq!(
            id(b"# STOCKHOLM 1.0\nA/1-4 ACDE\nB     AC.E\n//\n"),
            ok("stockholm", &["A/1-4", "B"])
        );
        assert_eq!(id(b"").0, "unknown");
        assert_eq!(id(b"CLUSTAL\n").0, "unknown");
    }
}
