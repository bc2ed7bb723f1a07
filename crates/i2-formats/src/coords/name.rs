//! Atom names without an allocation each: PDB names have at most four characters and mmCIF
//! names rarely more, so they are kept inline; longer ones fall back to the heap.

use std::fmt;
use std::ops::Deref;

/// Bytes kept inline (the enum stays the size of a `String`).
const INLINE: usize = 22;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AtomName(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Box<str>),
}

impl AtomName {
    pub fn new(s: &str) -> Self {
        let b = s.as_bytes();
        if b.len() <= INLINE {
            let mut buf = [0u8; INLINE];
            buf[..b.len()].copy_from_slice(b);
            // Fits: `len` is at most INLINE.
            AtomName(Repr::Inline {
                len: b.len() as u8,
                buf,
            })
        } else {
            AtomName(Repr::Heap(s.into()))
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Built from a `str` cut at its end, so always valid UTF-8.
            Repr::Inline { len, buf } => {
                std::str::from_utf8(buf.get(..usize::from(*len)).unwrap_or(&[])).unwrap_or("")
            }
            Repr::Heap(s) => s,
        }
    }
}

impl Deref for AtomName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for AtomName {
    fn from(s: &str) -> Self {
        AtomName::new(s)
    }
}

impl PartialEq<str> for AtomName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for AtomName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for AtomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for AtomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_unicode_names_round_trip() {
        for s in [
            "",
            "CA",
            " OXT",
            "C1'",
            "ÄÖÜ",
            "a_very_long_atom_name_beyond_inline_size",
        ] {
            let n = AtomName::new(s);
            assert_eq!(n.as_str(), s);
            assert_eq!(n, s);
            assert_eq!(format!("{n}"), s);
        }
        assert_eq!(
            std::mem::size_of::<AtomName>(),
            std::mem::size_of::<String>()
        );
    }
}
