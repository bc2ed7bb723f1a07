//! Storage errors: callers need to tell "not there" and "conflicts with a constraint" from
//! everything else; the rest carries the database's own message for the logs.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique or foreign-key constraint refused the write.
    #[error("constraint violated: {0}")]
    Conflict(String),
    #[error("configuration: {0}")]
    Config(String),
    #[error("schema: {0}")]
    Schema(String),
    #[error("database: {0}")]
    Db(sqlx::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(d) = e.as_database_error()
            && (d.is_unique_violation() || d.is_foreign_key_violation())
        {
            return StoreError::Conflict(d.message().to_string());
        }
        match e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::Db(other),
        }
    }
}

impl StoreError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            source,
        }
    }
}
