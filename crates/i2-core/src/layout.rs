//! The on-disk layout of a CCP4i2 project directory (shared with upstream).

pub const JOBS_DIR: &str = "CCP4_JOBS";
pub const IMPORTED_FILES_DIR: &str = "CCP4_IMPORTED_FILES";
pub const DOWNLOADED_FILES_DIR: &str = "CCP4_DOWNLOADED_FILES";
pub const EXPORT_FILES_DIR: &str = "CCP4_EXPORT_FILES";

/// Subdirectories created with every project, in upstream's order.
pub const PROJECT_SUBDIRS: [&str; 5] = [
    JOBS_DIR,
    IMPORTED_FILES_DIR,
    "CCP4_COOT",
    "CCP4_TMP",
    "CCP4_PROJECT_FILES",
];

/// The `directory` value a client sends to ask for `<projects dir>/<slug of name>`.
pub const DEFAULT_DIRECTORY: &str = "__default__";
