//! A CIF 1.1 document reader: every `data_` block with its items and loops in file order, each
//! value keeping whether it was quoted (upstream's readers see `'x'` and `x` differently).
//! Tolerant of the odd malformed line; never panics.

use std::borrow::Cow;

use crate::error::{FormatError, Result};

/// One value as written: its text without quotes, and whether it was quoted or a text field.
#[derive(Debug, Clone, PartialEq)]
pub struct CifValue {
    pub text: String,
    pub quoted: Option<char>,
}

impl CifValue {
    /// The value as it appears in the file (quotes kept; a text field as `;…`).
    pub fn raw(&self) -> String {
        match self.quoted {
            Some(';') => format!(";{}\n;", self.text),
            Some(q) => format!("{q}{}{q}", self.text),
            None => self.text.clone(),
        }
    }

    /// `.` and `?` unquoted mean "no value".
    pub fn is_null(&self) -> bool {
        self.quoted.is_none() && (self.text == "." || self.text == "?")
    }
}

#[derive(Debug, Clone)]
pub enum Item {
    Pair(String, CifValue),
    Loop(Loop),
}

#[derive(Debug, Clone, Default)]
pub struct Loop {
    pub tags: Vec<String>,
    pub values: Vec<CifValue>,
}

impl Loop {
    pub fn column(&self, tag: &str) -> Option<usize> {
        self.tags.iter().position(|t| t.eq_ignore_ascii_case(tag))
    }

    pub fn rows(&self) -> impl Iterator<Item = &[CifValue]> {
        self.values.chunks_exact(self.tags.len().max(1))
    }

    pub fn len(&self) -> usize {
        self.values.len() / self.tags.len().max(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub name: String,
    pub items: Vec<Item>,
}

impl Block {
    /// The loop holding `tag`, if the tag is in a loop.
    pub fn find_loop(&self, tag: &str) -> Option<&Loop> {
        self.items.iter().find_map(|i| match i {
            Item::Loop(l) if l.column(tag).is_some() => Some(l),
            _ => None,
        })
    }

    /// A tag's values: a pair's one value or a loop column.
    pub fn column(&self, tag: &str) -> Option<Vec<&CifValue>> {
        for i in &self.items {
            match i {
                Item::Pair(t, v) if t.eq_ignore_ascii_case(tag) => return Some(vec![v]),
                Item::Loop(l) => {
                    if let Some(c) = l.column(tag) {
                        return Some(l.rows().filter_map(|r| r.get(c)).collect());
                    }
                }
                _ => {}
            }
        }
        None
    }

    /// A pair's value, or the value of a one-row loop (as gemmi's `find_value`).
    pub fn value(&self, tag: &str) -> Option<&CifValue> {
        let col = self.column(tag)?;
        (col.len() == 1).then(|| col[0])
    }

    /// Rows of the given tags of one category, from one loop or from pairs (one row), as
    /// gemmi's `Block.find(prefix, tags)`: empty when any tag is missing.
    pub fn table(&self, prefix: &str, tags: &[&str]) -> Vec<Vec<&CifValue>> {
        let full: Vec<String> = tags.iter().map(|t| format!("{prefix}{t}")).collect();
        if let Some(l) = full.first().and_then(|t| self.find_loop(t)) {
            let Some(idx) = full.iter().map(|t| l.column(t)).collect::<Option<Vec<_>>>() else {
                return Vec::new();
            };
            return l
                .rows()
                .map(|r| idx.iter().filter_map(|i| r.get(*i)).collect())
                .collect();
        }
        let row: Option<Vec<&CifValue>> = full
            .iter()
            .map(|t| {
                self.items.iter().find_map(|i| match i {
                    Item::Pair(p, v) if p.eq_ignore_ascii_case(t) => Some(v),
                    _ => None,
                })
            })
            .collect();
        row.map(|r| vec![r]).unwrap_or_default()
    }

    /// mmCIF category names (`_cell.`) in order of first appearance, as gemmi lists them.
    pub fn category_names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |tag: &str| {
            if let Some(dot) = tag.find('.') {
                let cat = &tag[..=dot];
                if !out.iter().any(|c| c == cat) {
                    out.push(cat.to_string());
                }
            }
        };
        for i in &self.items {
            match i {
                Item::Pair(t, _) => add(t),
                Item::Loop(l) => l.tags.iter().for_each(|t| add(t)),
            }
        }
        out
    }
}

/// One token of CIF text, borrowed from the text: only a text field spanning several lines
/// is copied (its lines are joined with `\n`, without the line ends the text had).
#[derive(Debug, Clone, PartialEq)]
pub struct Token<'a> {
    pub text: Cow<'a, str>,
    /// `'` or `"` for a quoted string, `;` for a text field, `None` for a bare word.
    pub quoted: Option<char>,
}

/// The tokens of CIF text in order, without comments. A quoted string ends at its quote
/// followed by whitespace or the line's end (so `'it's'` is one value), or at the line's end.
/// One tokeniser serves every CIF reader: this one, and the coordinate reader (which borrows
/// every value, as an mmCIF model is mostly one large `_atom_site` loop).
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens {
        lines: text.lines(),
        line: "",
        pos: 0,
    }
}

/// Iterator of [`tokens`].
pub struct Tokens<'a> {
    lines: std::str::Lines<'a>,
    /// The line being split, and where in it the next token starts looking.
    line: &'a str,
    pos: usize,
}

impl<'a> Tokens<'a> {
    /// The next token of the current line, if any is left on it.
    fn next_on_line(&mut self) -> Option<Token<'a>> {
        let (line, b) = (self.line, self.line.as_bytes());
        let mut i = self.pos;
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] == b'#' {
            self.pos = b.len();
            return None;
        }
        let c = b[i];
        let token = if c == b'\'' || c == b'"' {
            let start = i + 1;
            let mut j = start;
            while j < b.len()
                && !(b[j] == c && (j + 1 == b.len() || b[j + 1].is_ascii_whitespace()))
            {
                j += 1;
            }
            self.pos = j + 1;
            Token {
                text: Cow::Borrowed(line.get(start..j.min(b.len())).unwrap_or("")),
                quoted: Some(c as char),
            }
        } else {
            let start = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            self.pos = i;
            Token {
                text: Cow::Borrowed(line.get(start..i).unwrap_or("")),
                quoted: None,
            }
        };
        Some(token)
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        loop {
            if let Some(t) = self.next_on_line() {
                return Some(t);
            }
            let line = self.lines.next()?;
            // A line starting with `;` opens a text field, closed by the next such line (the
            // rest of the closing line is not read).
            if let Some(first) = line.strip_prefix(';') {
                let mut field = Cow::Borrowed(first);
                for next in self.lines.by_ref() {
                    if next.starts_with(';') {
                        break;
                    }
                    let f = field.to_mut();
                    f.push('\n');
                    f.push_str(next);
                }
                (self.line, self.pos) = ("", 0);
                return Some(Token {
                    text: field,
                    quoted: Some(';'),
                });
            }
            (self.line, self.pos) = (line, 0);
        }
    }
}

fn is_keyword(v: &CifValue) -> bool {
    if v.quoted.is_some() {
        return false;
    }
    let t = v.text.as_str();
    t.starts_with('_')
        || t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("data_"))
        || t.eq_ignore_ascii_case("loop_")
        || t.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("save_"))
        || t.eq_ignore_ascii_case("global_")
        || t.eq_ignore_ascii_case("stop_")
}

/// The tags and values of a `loop_` whose keyword has just been read: tags while `is_tag`,
/// then values up to the next keyword. An error unless the values fill whole rows.
pub(crate) fn read_loop<T>(
    it: &mut std::iter::Peekable<impl Iterator<Item = T>>,
    is_tag: impl Fn(&T) -> bool,
    is_keyword: impl Fn(&T) -> bool,
) -> Result<(Vec<T>, Vec<T>)> {
    let mut tags = Vec::new();
    while let Some(t) = it.next_if(&is_tag) {
        tags.push(t);
    }
    let mut values = Vec::new();
    while let Some(v) = it.next_if(|v| !is_keyword(v)) {
        values.push(v);
    }
    if tags.is_empty() || values.len() % tags.len() != 0 {
        return Err(FormatError::Corrupt(format!(
            "CIF loop with {} tags has {} values",
            tags.len(),
            values.len()
        )));
    }
    Ok((tags, values))
}

/// Every data block of CIF text (none for an empty or comment-only text). A value before the
/// first `data_`, a loop whose value count does not fill its rows, or a tag without a value is
/// an error, as for gemmi.
pub fn parse(text: &str) -> Result<Vec<Block>> {
    let mut it = tokens(text)
        .map(|t| CifValue {
            text: t.text.into_owned(),
            quoted: t.quoted,
        })
        .peekable();
    let mut blocks: Vec<Block> = Vec::new();
    let (mut global, mut in_global) = (Block::default(), false);
    while let Some(t) = it.next() {
        let bare = t.quoted.is_none();
        if bare
            && t.text
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("data_"))
        {
            in_global = false;
            blocks.push(Block {
                name: t.text[5..].to_string(),
                items: Vec::new(),
            });
            continue;
        }
        if bare && t.text.eq_ignore_ascii_case("global_") {
            in_global = true; // monomer library lists start with one; its items are dropped
            continue;
        }
        let block = if in_global {
            &mut global
        } else if let Some(b) = blocks.last_mut() {
            b
        } else {
            return Err(FormatError::NotThisFormat(format!(
                "'{}' before the first data_ block: not a CIF file",
                t.text.chars().take(40).collect::<String>()
            )));
        };
        if bare && t.text.eq_ignore_ascii_case("loop_") {
            let (tags, values) = read_loop(
                &mut it,
                |t| t.quoted.is_none() && t.text.starts_with('_'),
                is_keyword,
            )?;
            let tags = tags.into_iter().map(|t| t.text).collect();
            block.items.push(Item::Loop(Loop { tags, values }));
        } else if bare && t.text.starts_with('_') {
            match it.next_if(|v| !is_keyword(v)) {
                Some(v) => block.items.push(Item::Pair(t.text, v)),
                None => {
                    return Err(FormatError::Corrupt(format!(
                        "CIF tag {} has no value",
                        t.text
                    )));
                }
            }
        }
    }
    Ok(blocks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_pairs_loops_and_quotes() {
        let b = parse(
            "# x\ndata_a\n_x.y 'q v'\nloop_\n_l.a\n_l.b\n1 \"it's\"\n. ?\ndata_b\n_z.w\n;text\nmore\n;\n",
        )
        .expect("parse");
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].value("_X.Y").map(|v| v.raw()), Some("'q v'".into()));
        let col = b[0].column("_l.b").expect("column");
        assert_eq!(col[0].text, "it's");
        assert!(col[1].is_null());
        assert_eq!(b[0].table("_l.", &["a", "b"]).len(), 2);
        assert!(b[0].table("_l.", &["a", "c"]).is_empty());
        assert_eq!(b[0].category_names(), vec!["_x.", "_l."]);
        assert_eq!(
            b[1].value("_z.w").map(|v| v.text.as_str()),
            Some("text\nmore")
        );
        assert!(parse("loop_\n_a\n").is_err());
        assert!(parse("1 1\n0\n").is_err());
        assert!(parse("# only a comment\n").expect("empty").is_empty());
        assert!(parse("data_x\nloop_\n_a\n_b\n1\n").is_err());
    }

    #[test]
    fn tokens_borrow_all_but_multi_line_text_fields() {
        let text =
            "data_t # comment\r\n_a 'it's' \"q\" a#b\n;one\n;\n;two\r\nlines\n; rest\n'open\n";
        let toks: Vec<Token> = tokens(text).collect();
        let seen: Vec<(&str, Option<char>)> =
            toks.iter().map(|t| (t.text.as_ref(), t.quoted)).collect();
        assert_eq!(
            seen,
            vec![
                ("data_t", None),
                ("_a", None),
                ("it's", Some('\'')),
                ("q", Some('"')),
                ("a#b", None),
                ("one", Some(';')),
                ("two\nlines", Some(';')),
                ("open", Some('\'')),
            ]
        );
        let owned: Vec<&str> = toks
            .iter()
            .filter(|t| matches!(t.text, Cow::Owned(_)))
            .map(|t| t.text.as_ref())
            .collect();
        assert_eq!(
            owned,
            vec!["two\nlines"],
            "only the joined text field is copied"
        );
    }
}
