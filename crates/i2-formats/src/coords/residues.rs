//! Residue and element tables (chemistry facts) used to classify residues the way the
//! upstream digest does through gemmi's tables.

/// Standard amino acids with their one-letter codes.
const AMINO: [(&str, char); 21] = [
    ("ALA", 'A'),
    ("ARG", 'R'),
    ("ASN", 'N'),
    ("ASP", 'D'),
    ("CYS", 'C'),
    ("GLN", 'Q'),
    ("GLU", 'E'),
    ("GLY", 'G'),
    ("HIS", 'H'),
    ("ILE", 'I'),
    ("LEU", 'L'),
    ("LYS", 'K'),
    ("MET", 'M'),
    ("PHE", 'F'),
    ("PRO", 'P'),
    ("SER", 'S'),
    ("THR", 'T'),
    ("TRP", 'W'),
    ("TYR", 'Y'),
    ("VAL", 'V'),
    ("UNK", 'X'),
];

/// Common modified amino acids: polymer residues, one-letter code X in sequences.
const MODIFIED_AMINO: &[&str] = &[
    "MSE", "SEP", "TPO", "PTR", "CSO", "CSD", "CME", "HYP", "MLY", "MLZ", "M3L", "PCA", "KCX",
    "LLP", "CAS", "OCS", "CSS", "CGU", "ABA", "AIB", "NLE", "ORN", "DAL", "DAR", "DGL", "DLE",
    "DLY", "DPR", "DSN", "DTH", "DVA", "DPN", "DTY", "DTR", "DCY", "DGN", "DHI", "DIL", "DSG",
    "MVA", "SAR", "NMC", "TYS", "SEC", "PYL", "FME", "ACE", "NH2", "CSX", "SCH", "SMC", "ALY",
    "HIC", "MEN", "OMT", "TRQ", "CRO", "GYS", "CR2", "LYZ", "ASX", "GLX",
];

/// Nucleotides with their one-letter codes.
const NUCLEIC: [(&str, char); 11] = [
    ("A", 'A'),
    ("C", 'C'),
    ("G", 'G'),
    ("U", 'U'),
    ("I", 'I'),
    ("DA", 'A'),
    ("DC", 'C'),
    ("DG", 'G'),
    ("DT", 'T'),
    ("DI", 'I'),
    ("N", 'N'),
];

const MODIFIED_NUCLEIC: &[&str] = &[
    "PSU", "5MC", "OMC", "OMG", "1MA", "2MG", "M2G", "7MG", "5MU", "H2U", "DU",
];

const WATER: &[&str] = &["HOH", "WAT", "DOD", "H2O"];

/// Common saccharide residue names.
const SACCHARIDES: &[&str] = &[
    "NAG", "NDG", "MAN", "BMA", "GLC", "BGC", "GAL", "GLA", "FUC", "FUL", "SIA", "XYS", "XYP",
    "A2G", "NGA", "FRU", "SUC", "TRE", "MAL", "LAT", "GCU", "BDP", "IDR", "RAM", "KDO",
];

const METALS: &[&str] = &[
    "Li", "Be", "Na", "Mg", "Al", "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu",
    "Zn", "Ga", "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd", "In", "Sn",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
    "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "Fr", "Ra",
    "Ac", "Th", "Pa", "U", "Np", "Pu", "Am", "Cm",
];

pub fn is_amino_acid(name: &str) -> bool {
    AMINO.iter().any(|(n, _)| *n == name) || MODIFIED_AMINO.contains(&name)
}

pub fn is_nucleic_acid(name: &str) -> bool {
    NUCLEIC.iter().any(|(n, _)| *n == name) || MODIFIED_NUCLEIC.contains(&name)
}

pub fn is_water(name: &str) -> bool {
    WATER.contains(&name)
}

pub fn is_saccharide(name: &str) -> bool {
    SACCHARIDES.contains(&name)
}

pub fn is_metal(element: &str) -> bool {
    METALS.contains(&element)
}

/// One-letter code in a polymer sequence: standard residues by letter, anything else `X`.
pub fn one_letter(name: &str) -> char {
    AMINO
        .iter()
        .chain(NUCLEIC.iter())
        .find(|(n, _)| *n == name)
        .map_or('X', |(_, c)| *c)
}

/// Element symbol in conventional case (`CL` → `Cl`); empty input gives `X`.
pub fn element_case(raw: &str) -> std::borrow::Cow<'static, str> {
    use std::borrow::Cow;
    // The elements of almost every atom, without an allocation each.
    const COMMON: [&str; 14] = [
        "C", "N", "O", "S", "H", "P", "D", "X", "Se", "Zn", "Mg", "Ca", "Cl", "Na",
    ];
    // One pass over the bytes: the first two letters, cased, and whether there are more.
    let mut buf = [0u8; 2];
    let mut n = 0;
    for &b in raw.as_bytes() {
        if !b.is_ascii_alphabetic() {
            continue;
        }
        if n == 2 {
            n = 3; // longer than any element symbol: no table entry matches
            break;
        }
        buf[n] = if n == 0 {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        };
        n += 1;
    }
    if n == 0 {
        return Cow::Borrowed("X");
    }
    if n <= 2
        && let Some(c) = COMMON.iter().find(|c| c.as_bytes() == &buf[..n])
    {
        return Cow::Borrowed(c);
    }
    let mut letters = raw.bytes().filter(u8::is_ascii_alphabetic);
    let first = letters.next().map(|b| b.to_ascii_uppercase() as char);
    Cow::Owned(
        first
            .into_iter()
            .chain(letters.map(|b| b.to_ascii_lowercase() as char))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_case_of_odd_columns() {
        for (raw, want) in [
            ("", "X"),
            (" 1", "X"),
            ("C", "C"),
            ("CL", "Cl"),
            ("se", "Se"),
            ("FE", "Fe"),
            (" O1-", "O"),
            ("ABC", "Abc"),
            ("x", "X"),
        ] {
            assert_eq!(element_case(raw), want, "{raw:?}");
        }
    }
}
