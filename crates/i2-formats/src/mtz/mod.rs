//! MTZ reflection files: header reader, streaming data access, and a mini-MTZ writer.
//!
//! - [`header`]: [`MtzHeader::read`] parses only the header records (cheap, any file size).
//! - [`data`]: [`Rows`] streams the reflection table; [`resolution_range`] is one pass over it.
//! - [`write`]: [`write_columns`] copies selected columns into a new file (upload_file_param).
//! - [`groups`]: the upstream column-group recognition (Obs/Phs/MapCoeffs/FreeR, content flags).

mod cell;
pub mod data;
pub mod groups;
pub mod header;
pub mod spacegroup;
pub mod write;

pub use cell::Cell;
pub use data::{Rows, read_columns, resolution_range};
pub use header::{Column, Dataset, MtzHeader};
pub use write::{write_column_indices, write_columns};
