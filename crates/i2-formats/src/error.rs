//! The one error type of the crate. Every reader turns bad input into a [`FormatError`];
//! none of them panics on file content.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not of the expected format at all (wrong magic, no records).
    #[error("{0}")]
    NotThisFormat(String),
    /// The file has the right format but is damaged: truncated, inconsistent sizes, bad numbers.
    #[error("{0}")]
    Corrupt(String),
    /// The caller asked for something the file does not have (a column label, a dataset).
    #[error("{0}")]
    Missing(String),
    /// A file type this crate does not digest (yet).
    #[error("file type not supported for digest: {0}")]
    Unsupported(String),
}

impl FormatError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        FormatError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, FormatError>;
