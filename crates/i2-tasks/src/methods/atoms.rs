//! `atomCount(selection_string)` of a coordinate file parameter: how many atoms a selection
//! picks, in upstream's mmdb-style selection language: CIDs
//! (`/model/chain/seqNo(resName).insCode/atomName[element]:altLoc`, values with `*`, lists
//! `A,B` and number ranges `10-20`), `(resName)`, the categories (`protein`, `nucleic`,
//! `solvent`/`water`, `ligand`, `sugar`, `polymer`, `backbone`, `sidechain`, `hetero`, `all`),
//! `and`/`or`/`not`, `(…)` and `{…}`. An empty selection is everything.
//!
//! As upstream, the answer is -1 when the file is not set or unreadable, or the selection
//! does not parse, or upstream's evaluation fails (any selection naming a model, and a
//! parenthesised residue-name list, fail there). Files with several models are refused
//! (i2server's coordinate reader keeps the first model).

use serde_json::{Value, json};

use super::{Call, MethodError};
use crate::jobparams::py_str;

// Residue and atom classes of upstream's selection module.
const AMINO: &[&str] = &[
    "ALA", "ARG", "ASN", "ASP", "CYS", "GLN", "GLU", "GLY", "HIS", "ILE", "LEU", "LYS", "MET",
    "PHE", "PRO", "SER", "THR", "TRP", "TYR", "VAL", "MSE", "SEP", "TPO", "PYL", "SEC", "HYP",
    "PTR", "MLY", "M3L", "CSO", "OCS", "CME",
];
const NUCLEIC: &[&str] = &[
    "A", "C", "G", "U", "T", "DA", "DC", "DG", "DT", "DU", "+A", "+C", "+G", "+U", "+T", "ADE",
    "CYT", "GUA", "URA", "THY",
];
const SOLVENTS: &[&str] = &[
    "HOH", "WAT", "H2O", "DOD", "D2O", "SO4", "PO4", "CL", "NA", "K", "MG", "CA", "ZN", "GOL",
    "EDO", "PEG", "MPD", "DMS",
];
const SUGARS: &[&str] = &[
    "GLC", "GAL", "MAN", "FUC", "XYL", "RIB", "NAG", "BMA", "FUL", "SIA", "NDG", "BGC", "GLA",
    "GCS", "NGA", "A2G", "RAM", "ARA", "LYX", "ALL", "ALT", "GUP", "IDO", "TAL",
];
const PROTEIN_BACKBONE: &[&str] = &["N", "CA", "C", "O", "OXT"];
const NUCLEIC_BACKBONE: &[&str] = &[
    "P", "OP1", "OP2", "O5'", "C5'", "C4'", "O4'", "C3'", "O3'", "C2'", "O2'", "C1'",
];

pub(super) fn atom_count(call: &Call) -> Result<Value, MethodError> {
    let selection = call.required(0, "selection_string", "CPdbDataFile.atomCount")?;
    let selection = match selection {
        Value::String(s) => s.clone(),
        other => py_str(other),
    };
    let Some(path) = (call.env.file_path)(call.node) else {
        return Ok(json!(-1));
    };
    let Ok(structure) = i2_formats::coords::summarise(&path) else {
        return Ok(json!(-1));
    };
    if structure.n_models > 1 {
        return Err(MethodError::Unsupported(
            "atomCount of a file with several models is not evaluated natively".into(),
        ));
    }
    let atoms = flatten(&structure);
    let n = parse(&selection)
        .and_then(|node| evaluate(&node, &atoms))
        .map_or(-1, |mask| mask.iter().filter(|m| **m).count() as i64);
    Ok(json!(n))
}

/// One atom with what a selection can ask of it.
struct AtomRef<'a> {
    chain: &'a str,
    residue: &'a i2_formats::coords::Residue,
    name: &'a str,
    element: &'a str,
    altloc: char,
}

fn flatten(s: &i2_formats::coords::Structure) -> Vec<AtomRef<'_>> {
    let mut out = Vec::new();
    for c in &s.chains {
        for r in &c.residues {
            for a in &r.atoms {
                out.push(AtomRef {
                    chain: &c.name,
                    residue: r,
                    name: a.name.as_str(),
                    element: &a.element,
                    // gemmi's "no alternate location" is NUL
                    altloc: a.altloc.unwrap_or('\0'),
                });
            }
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Category {
    Protein,
    Nucleic,
    Solvent,
    Ligand,
    Sugar,
    Polymer,
    Backbone,
    Sidechain,
    Hetero,
    All,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Slash,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Colon,
    Dot,
    Comma,
    Dash,
    Star,
    And,
    Or,
    Not,
    Cat(Category),
    Ident(String),
    Number(String),
    Eof,
}

fn tokenize(s: &str) -> Option<Vec<Tok>> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '/' => Some(Tok::Slash),
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            '{' => Some(Tok::LBrace),
            '}' => Some(Tok::RBrace),
            ':' => Some(Tok::Colon),
            '.' => Some(Tok::Dot),
            ',' => Some(Tok::Comma),
            '-' => Some(Tok::Dash),
            '*' => Some(Tok::Star),
            _ => None,
        };
        if let Some(t) = single {
            out.push(t);
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Number(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || matches!(chars[i], '_' | '\'' | '"'))
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(keyword(&word).unwrap_or(Tok::Ident(word)));
        } else {
            return None;
        }
    }
    out.push(Tok::Eof);
    Some(out)
}

fn keyword(word: &str) -> Option<Tok> {
    Some(match word.to_lowercase().as_str() {
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "protein" => Tok::Cat(Category::Protein),
        "nucleic" => Tok::Cat(Category::Nucleic),
        "solvent" | "water" => Tok::Cat(Category::Solvent),
        "ligand" => Tok::Cat(Category::Ligand),
        "sugar" | "saccharide" => Tok::Cat(Category::Sugar),
        "polymer" => Tok::Cat(Category::Polymer),
        "backbone" => Tok::Cat(Category::Backbone),
        "sidechain" => Tok::Cat(Category::Sidechain),
        "hetero" | "hetatm" => Tok::Cat(Category::Hetero),
        "all" => Tok::Cat(Category::All),
        _ => return None,
    })
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Cid {
    model: Option<String>,
    chain: Option<String>,
    seq_no: Option<String>,
    res_name: Option<String>,
    ins_code: Option<String>,
    atom_name: Option<String>,
    element: Option<String>,
    altloc: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Cid(Box<Cid>),
    Cat(Category),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

/// Recursive descent over the tokens, with upstream's precedence (not > and > or).
struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn parse(selection: &str) -> Option<Node> {
    if selection.trim().is_empty() {
        return Some(Node::Cat(Category::All));
    }
    let mut p = Parser {
        toks: tokenize(selection)?,
        pos: 0,
    };
    let node = p.or_expr()?;
    (p.cur() == &Tok::Eof).then_some(node)
}

impl Parser {
    fn cur(&self) -> &Tok {
        self.toks.get(self.pos).unwrap_or(&Tok::Eof)
    }
    fn at(&self, k: usize) -> &Tok {
        self.toks.get(k).unwrap_or(&Tok::Eof)
    }
    fn advance(&mut self) {
        if self.cur() != &Tok::Eof {
            self.pos += 1;
        }
    }
    fn expect(&mut self, t: &Tok) -> Option<()> {
        (self.cur() == t).then(|| self.advance())
    }

    fn or_expr(&mut self) -> Option<Node> {
        let mut left = self.and_expr()?;
        while self.cur() == &Tok::Or {
            self.advance();
            left = Node::Or(Box::new(left), Box::new(self.and_expr()?));
        }
        Some(left)
    }
    fn and_expr(&mut self) -> Option<Node> {
        let mut left = self.not_expr()?;
        while self.cur() == &Tok::And {
            self.advance();
            left = Node::And(Box::new(left), Box::new(self.not_expr()?));
        }
        Some(left)
    }
    fn not_expr(&mut self) -> Option<Node> {
        if self.cur() == &Tok::Not {
            self.advance();
            return Some(Node::Not(Box::new(self.not_expr()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Option<Node> {
        match self.cur().clone() {
            Tok::Cat(c) => {
                self.advance();
                Some(Node::Cat(c))
            }
            Tok::LParen => {
                if self.residue_name_selector()? {
                    self.advance();
                    let cid = Cid {
                        res_name: Some(self.value()?),
                        ..Cid::default()
                    };
                    self.expect(&Tok::RParen)?;
                    Some(Node::Cid(Box::new(cid)))
                } else {
                    self.advance();
                    let e = self.or_expr()?;
                    self.expect(&Tok::RParen)?;
                    Some(e)
                }
            }
            Tok::LBrace => {
                self.advance();
                let e = self.or_expr()?;
                self.expect(&Tok::RBrace)?;
                Some(e)
            }
            _ => self.cid().map(|c| Node::Cid(Box::new(c))),
        }
    }

    /// `(name)` versus `(expression)`. `None` where upstream's own check fails: after the
    /// first name, anything but `)` or an operator, slash or opening bracket (its lookup of
    /// a token type that does not exist raises).
    fn residue_name_selector(&self) -> Option<bool> {
        let mut k = self.pos + 1;
        if !matches!(self.at(k), Tok::Ident(_) | Tok::Number(_)) {
            return Some(false);
        }
        k += 1;
        match self.at(k) {
            Tok::RParen => Some(true),
            Tok::Slash | Tok::And | Tok::Or | Tok::Not | Tok::LParen | Tok::LBrace => Some(false),
            _ => None,
        }
    }

    fn value(&mut self) -> Option<String> {
        let mut values = Vec::new();
        loop {
            match self.cur().clone() {
                Tok::Ident(v) => {
                    values.push(v);
                    self.advance();
                }
                Tok::Number(n) => {
                    self.advance();
                    let mut n = n;
                    if self.cur() == &Tok::Dash {
                        self.advance();
                        if let Tok::Number(m) = self.cur().clone() {
                            n = format!("{n}-{m}");
                            self.advance();
                        }
                    }
                    values.push(n);
                }
                Tok::Star => {
                    values.push("*".into());
                    self.advance();
                }
                _ => break,
            }
            if self.cur() == &Tok::Comma {
                self.advance();
            } else {
                break;
            }
        }
        (!values.is_empty()).then(|| values.join(","))
    }

    fn cid(&mut self) -> Option<Cid> {
        let mut c = Cid::default();
        if self.cur() == &Tok::Slash {
            self.advance();
            if self.cur() != &Tok::Slash {
                c.model = Some(self.value()?);
            }
            if self.cur() == &Tok::Slash {
                self.advance();
                if !matches!(self.cur(), Tok::Slash | Tok::Eof) {
                    c.chain = Some(self.value()?);
                }
                if self.cur() == &Tok::Slash {
                    self.advance();
                    self.residue(&mut c)?;
                    if self.cur() == &Tok::Slash {
                        self.advance();
                        self.atom(&mut c)?;
                    }
                }
            }
        } else {
            let first = self.value()?;
            if self.cur() == &Tok::Slash {
                c.chain = Some(first);
                self.advance();
                self.residue(&mut c)?;
                if self.cur() == &Tok::Slash {
                    self.advance();
                    self.atom(&mut c)?;
                }
            } else if self.cur() == &Tok::LBracket {
                c.atom_name = Some(first);
                self.element(&mut c)?;
                if self.cur() == &Tok::Colon {
                    self.altloc(&mut c)?;
                }
            } else {
                c.chain = Some(first);
            }
        }
        Some(c)
    }

    fn residue(&mut self, c: &mut Cid) -> Option<()> {
        match self.cur() {
            Tok::LParen => {
                self.advance();
                c.res_name = Some(self.value()?);
                self.expect(&Tok::RParen)
            }
            Tok::Eof | Tok::Slash | Tok::And | Tok::Or | Tok::Not | Tok::RParen | Tok::RBrace => {
                Some(())
            }
            _ => {
                c.seq_no = Some(self.value()?);
                if self.cur() == &Tok::LParen {
                    self.advance();
                    c.res_name = Some(self.value()?);
                    self.expect(&Tok::RParen)?;
                }
                if self.cur() == &Tok::Dot {
                    self.advance();
                    c.ins_code = Some(self.value()?);
                }
                Some(())
            }
        }
    }

    fn atom(&mut self, c: &mut Cid) -> Option<()> {
        if matches!(
            self.cur(),
            Tok::Eof | Tok::And | Tok::Or | Tok::Not | Tok::RParen | Tok::RBrace
        ) {
            return Some(());
        }
        c.atom_name = Some(self.value()?);
        if self.cur() == &Tok::LBracket {
            self.element(c)?;
        }
        if self.cur() == &Tok::Colon {
            self.altloc(c)?;
        }
        Some(())
    }

    fn element(&mut self, c: &mut Cid) -> Option<()> {
        self.expect(&Tok::LBracket)?;
        c.element = Some(self.value()?);
        self.expect(&Tok::RBracket)
    }

    fn altloc(&mut self, c: &mut Cid) -> Option<()> {
        self.expect(&Tok::Colon)?;
        c.altloc = Some(self.value()?);
        Some(())
    }
}

/// Which atoms the node selects; `None` where upstream's evaluation raises.
fn evaluate(node: &Node, atoms: &[AtomRef]) -> Option<Vec<bool>> {
    Some(match node {
        Node::Cid(c) => {
            // Upstream's model matching calls a gemmi method with the wrong arguments.
            if c.model.is_some() && !atoms.is_empty() {
                return None;
            }
            atoms.iter().map(|a| cid_matches(c, a)).collect()
        }
        Node::Cat(cat) => atoms.iter().map(|a| category_matches(*cat, a)).collect(),
        Node::And(l, r) => zip(evaluate(l, atoms)?, evaluate(r, atoms)?, |x, y| x && y),
        Node::Or(l, r) => zip(evaluate(l, atoms)?, evaluate(r, atoms)?, |x, y| x || y),
        Node::Not(n) => evaluate(n, atoms)?.into_iter().map(|x| !x).collect(),
    })
}

fn zip(a: Vec<bool>, b: Vec<bool>, f: fn(bool, bool) -> bool) -> Vec<bool> {
    a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect()
}

fn cid_matches(c: &Cid, a: &AtomRef) -> bool {
    let opt =
        |p: &Option<String>, actual: &str| p.as_ref().is_none_or(|p| value_matches(actual, p));
    let icode = a.residue.icode.unwrap_or(' ').to_string();
    opt(&c.chain, a.chain)
        && opt(&c.seq_no, &a.residue.seqnum.to_string())
        && opt(&c.res_name, &a.residue.name)
        && opt(&c.ins_code, &icode)
        && opt(&c.atom_name, a.name)
        && opt(&c.element, a.element)
        && opt(&c.altloc, &a.altloc.to_string())
}

/// `*`, a comma list, a number range `10-20`, or the exact value.
fn value_matches(actual: &str, pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern.contains(',') {
        return pattern.split(',').any(|v| v.trim() == actual);
    }
    if pattern.starts_with(|c: char| c.is_ascii_digit())
        && let Some((a, b)) = pattern.split_once('-')
        && !b.contains('-')
        && let (Ok(lo), Ok(hi), Ok(x)) = (a.parse::<i64>(), b.parse::<i64>(), actual.parse::<i64>())
    {
        return lo <= x && x <= hi;
    }
    actual == pattern
}

fn category_matches(cat: Category, a: &AtomRef) -> bool {
    let name = a.residue.name.as_str();
    let protein = AMINO.contains(&name);
    let nucleic = NUCLEIC.contains(&name);
    let solvent = SOLVENTS.contains(&name);
    let sugar = SUGARS.contains(&name);
    let polymer = protein || nucleic || sugar;
    let backbone = (protein && PROTEIN_BACKBONE.contains(&a.name))
        || (!protein && nucleic && NUCLEIC_BACKBONE.contains(&a.name));
    match cat {
        Category::All => true,
        Category::Protein => protein,
        Category::Nucleic => nucleic,
        Category::Solvent => solvent,
        Category::Sugar => sugar,
        Category::Polymer => polymer,
        Category::Ligand => !polymer && !solvent,
        Category::Hetero => a.residue.het || (!protein && !nucleic),
        Category::Backbone => backbone,
        Category::Sidechain => (protein || nucleic) && !backbone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cids() {
        let Some(Node::Cid(c)) = parse("A/21-30(ALA).B/CA[C]:A") else {
            panic!("not a CID")
        };
        assert_eq!(c.chain.as_deref(), Some("A"));
        assert_eq!(c.seq_no.as_deref(), Some("21-30"));
        assert_eq!(c.res_name.as_deref(), Some("ALA"));
        assert_eq!(c.ins_code.as_deref(), Some("B"));
        assert_eq!(c.atom_name.as_deref(), Some("CA"));
        assert_eq!(c.element.as_deref(), Some("C"));
        assert_eq!(c.altloc.as_deref(), Some("A"));
        assert_eq!(parse(""), Some(Node::Cat(Category::All)));
        assert!(matches!(
            parse("{A/ or B/} and not (HOH)"),
            Some(Node::And(_, _))
        ));
    }

    #[test]
    fn what_upstream_cannot_parse() {
        for s in ["A/21.", "bad((", "A/ and", "A/#", "(A or B"] {
            assert_eq!(parse(s), None, "{s}");
        }
    }

    #[test]
    fn value_patterns() {
        assert!(value_matches("25", "21-30"));
        assert!(!value_matches("31", "21-30"));
        assert!(value_matches("B", "A,B"));
        assert!(value_matches("x", "*"));
        assert!(!value_matches("A", "B"));
        assert!(value_matches("-5", "-5"));
    }
}
