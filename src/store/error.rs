//! The store's one error type, whichever database is behind it.

/// Everything that can go wrong talking to either database.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Sqlite(rusqlite::Error),
    #[error("{}", pg_message(.0))]
    Postgres(#[from] postgres::Error),
    #[error("query returned no rows")]
    NoRows,
    #[error("column {column}: {reason}")]
    Conversion { column: usize, reason: String },
    #[error("{0}")]
    Other(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl Error {
    /// A serialization failure or deadlock the server resolved by aborting
    /// this transaction: running it again is safe.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Postgres(e) if e.code().is_some_and(|c| {
            *c == postgres::error::SqlState::T_R_SERIALIZATION_FAILURE
                || *c == postgres::error::SqlState::T_R_DEADLOCK_DETECTED
        }))
    }
}

/// The server's own words (message, detail), not the client's "db error".
fn pg_message(e: &postgres::Error) -> String {
    // The detail of a unique or foreign-key violation names the key; of
    // a NOT NULL or CHECK violation it is the whole row ("Failing row
    // contains …", password hashes and sealed secrets included): never
    // shown or logged.
    use postgres::error::SqlState;
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail)
                if [SqlState::UNIQUE_VIOLATION, SqlState::FOREIGN_KEY_VIOLATION]
                    .contains(db.code()) =>
            {
                format!("{} ({detail})", db.message())
            }
            _ => db.message().to_string(),
        },
        None => e.to_string(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `.optional()`: a query that found no row is `Ok(None)`.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
