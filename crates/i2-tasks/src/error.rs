//! Errors of the task catalogue. Every variant names the file or task it concerns, so a message read in a
//! server log says where to look without a backtrace.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is larger than the {limit}-byte limit")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("{path} is not valid UTF-8 (byte {offset})")]
    Utf8 { path: PathBuf, offset: usize },
    #[error("{path}: XML error: {message}")]
    Xml { path: PathBuf, message: String },
    #[error("{path}: task registry: line {line}: {message}")]
    Registry {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("unknown task {0:?}")]
    UnknownTask(String),
    #[error("task {task:?} has no def.xml path in the registry")]
    NoDefinition { task: String },
    #[error("{path}: includes nest deeper than {limit} or are too many (include loop?)")]
    IncludeDepth { path: PathBuf, limit: usize },
    #[error("{path}: class facts: {message}")]
    Classes { path: PathBuf, message: String },
    #[error("extracting class facts with {python}: {message}")]
    Extract { python: PathBuf, message: String },
    #[error(
        "no class-facts cache for this ccp4i2 installation (expected {expected}); create it by running \
         `i2server tasks --refresh` with CCP4I2_PYTHON set to the Python that has ccp4i2 installed"
    )]
    NoClassCache { expected: PathBuf },
    #[error("no CCP4i2 installation found (set CCP4I2_ROOT to the ccp4i2 package directory)")]
    NotInstalled,
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn xml(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Xml {
            path: path.into(),
            message: message.into(),
        }
    }
}
