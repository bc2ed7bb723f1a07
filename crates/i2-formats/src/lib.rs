//! Crystallographic file formats for i2server, without gemmi or any other native library.
//!
//! - [`mtz`]: MTZ header reader ([`mtz::MtzHeader::read`]), streaming reflection rows,
//!   resolution from data, column groups, and the mini-MTZ writer ([`mtz::write_columns`]).
//! - [`coords`]: PDB and mmCIF coordinate summaries ([`coords::summarise`]): cell, space group,
//!   chains, residues, composition, sequences, ligands, atom counts.
//! - [`seq`]: sequence files (FASTA, PIR, plain) ([`seq::read`]).
//! - [`asu`]: CCP4i2 ASU-contents XML files.
//! - [`align`]: sequence alignments (clustal, fasta, phylip, stockholm) as upstream identifies them.
//! - [`cif`]: a CIF document reader (all blocks, items in order, quoting kept).
//! - [`dict`]: ligand restraint dictionaries (summary, atoms, bonds).
//! - [`sfcif`]: mmCIF reflection files (per-block checks as upstream's import).
//! - [`symmetry`]: space-group settings, reciprocal ASU and ISYM (table generated from gemmi).
//! - [`digest`]: the upstream-compatible JSON of `GET /files/{id}/digest/`
//!   ([`digest::digest_for`]), keyed by file MIME type.
//! - [`upload`]: what `upload_file_param` does with a file ([`upload::plan_upload`],
//!   [`upload::execute_split`], [`upload::md5_file`]).
//! - [`error`]: [`FormatError`]; readers never panic on file content.

pub mod align;
pub mod asu;
pub mod cif;
pub mod coords;
pub mod dict;
pub mod digest;
pub mod error;
pub mod mtz;
pub mod seq;
pub mod sfcif;
pub mod symmetry;
pub mod upload;

pub use error::{FormatError, Result};
