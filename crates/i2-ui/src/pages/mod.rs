//! One module per page.

pub mod job;
pub mod login;
pub mod project;
pub mod projects;
pub mod tasks;

use serde::Deserialize;

/// `?page=` (1-based), shared by the paginated pages.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub page: Option<i64>,
}

impl PageQuery {
    pub fn number(&self) -> i64 {
        self.page.unwrap_or(1).max(1)
    }
}

/// A path id that is not a number is a page that does not exist.
pub fn parse_id(raw: &str, what: &str) -> crate::error::PageResult<i64> {
    raw.parse()
        .map_err(|_| crate::error::PageError::NotFound(format!("There is no {what} {raw:?}.")))
}
