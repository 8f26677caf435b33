//! One connection type over both backends: the embedded SQLite file and a
//! shared PostgreSQL server. The store's table modules write their SQL once
//! (SQLite's `?N` placeholders; [`translate`] turns them into PostgreSQL's
//! `$N`) and branch on [`Connection::dialect`] only where the two databases
//! truly differ (full-text search, upserts of counters, file backups).
//!
//! Values cross this boundary as rusqlite's: parameters are anything
//! `rusqlite::ToSql` (so `params![…]` reads the same on both), columns are
//! read with `rusqlite::types::FromSql`. On PostgreSQL each value is bound
//! according to the type the server inferred for its placeholder.

use super::postgres::PgConn;
use rusqlite::types::{FromSql, ValueRef};
pub use rusqlite::{params, ToSql};
use std::fmt;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

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
    match e.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
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

/// A statement's parameters: `params![…]`, an array, or `()`.
pub trait Params {
    fn values(&self) -> Vec<&dyn ToSql>;
}

impl Params for &[&dyn ToSql] {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.to_vec()
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.iter().map(|v| v as &dyn ToSql).collect()
    }
}

impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.iter().map(|v| v as &dyn ToSql).collect()
    }
}

impl<T: ToSql> Params for &Vec<T> {
    fn values(&self) -> Vec<&dyn ToSql> {
        self.iter().map(|v| v as &dyn ToSql).collect()
    }
}

impl Params for () {
    fn values(&self) -> Vec<&dyn ToSql> {
        Vec::new()
    }
}

/// A connection to the site's database, SQLite or PostgreSQL.
pub struct Connection {
    inner: Inner,
}

enum Inner {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConn>),
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Connection({:?})", self.dialect())
    }
}

impl From<rusqlite::Connection> for Connection {
    fn from(c: rusqlite::Connection) -> Connection {
        Connection {
            inner: Inner::Sqlite(c),
        }
    }
}

impl From<PgConn> for Connection {
    fn from(c: PgConn) -> Connection {
        Connection {
            inner: Inner::Postgres(Box::new(c)),
        }
    }
}

impl Connection {
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            Inner::Sqlite(_) => Dialect::Sqlite,
            Inner::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The database file, or the connection file of a server database:
    /// what files kept beside the database are named after.
    pub fn path(&self) -> Option<&str> {
        match &self.inner {
            Inner::Sqlite(c) => c.path(),
            Inner::Postgres(c) => Some(c.location()),
        }
    }

    /// The SQLite connection, for what only a file has (pragmas, backups).
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.inner {
            Inner::Sqlite(c) => Some(c),
            Inner::Postgres(_) => None,
        }
    }

    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        Ok(Statement {
            inner: match &self.inner {
                Inner::Sqlite(c) => StmtInner::Sqlite(c.prepare_cached(sql)?),
                Inner::Postgres(c) => StmtInner::Postgres(c, c.prepare(sql)?),
            },
        })
    }

    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row of a query, `Err(NoRows)` when there is none.
    pub fn query_row<P, T, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs several statements (no parameters), e.g. a migration.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Inner::Postgres(c) => c.batch(sql),
        }
    }

    /// The id the last INSERT on this connection gave its row.
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.last_insert_rowid()),
            // The value the last identity column handed out in this
            // session (a trigger that inserts elsewhere would change it;
            // none of ours draws from a sequence).
            Inner::Postgres(_) => self.query_row("SELECT lastval()", (), |r| r.get(0)),
        }
    }

    /// Begins a transaction that will write. On SQLite, BEGIN IMMEDIATE
    /// takes the one write lock up front. On PostgreSQL every writing
    /// transaction first takes one site-wide advisory lock, held until it
    /// ends: desks on many machines write one at a time, in one order, as
    /// on SQLite. The read-check-write rules of the desk (one answer per
    /// request, one holder per card, one audit chain) hold for the same
    /// reason on both; reads never wait for it.
    pub fn begin(&self) -> Result<Transaction<'_>> {
        match &self.inner {
            Inner::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Inner::Postgres(c) => c.begin_write()?,
        }
        Ok(Transaction {
            conn: self,
            done: false,
        })
    }

    /// SQLite's `data_version` (changes committed by other connections);
    /// on PostgreSQL the number of change notifications received so far.
    pub fn data_version(&self) -> Result<i64> {
        match &self.inner {
            Inner::Sqlite(c) => Ok(c.pragma_query_value(None, "data_version", |r| r.get(0))?),
            Inner::Postgres(c) => c.notifications_seen(),
        }
    }
}

/// A transaction begun by [`Connection::begin`]: rolled back when dropped
/// without [`Transaction::commit`].
pub struct Transaction<'c> {
    conn: &'c Connection,
    done: bool,
}

impl std::ops::Deref for Transaction<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Transaction<'_> {
    pub fn commit(mut self) -> Result<()> {
        self.done = true;
        self.conn.execute_batch("COMMIT")
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.done {
            if let Err(e) = self.conn.execute_batch("ROLLBACK") {
                tracing::warn!("rollback failed: {e}");
            }
        }
    }
}

/// A prepared statement.
pub struct Statement<'c> {
    inner: StmtInner<'c>,
}

enum StmtInner<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres(&'c PgConn, postgres::Statement),
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match &mut self.inner {
            StmtInner::Sqlite(s) => Ok(s.execute(rusqlite::params_from_iter(values))?),
            StmtInner::Postgres(c, s) => c.execute(s, &values),
        }
    }

    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        Ok(match &mut self.inner {
            StmtInner::Sqlite(s) => Rows::Sqlite(s.query(rusqlite::params_from_iter(values))?),
            StmtInner::Postgres(c, s) => Rows::Postgres {
                rows: c.query(s, &values)?,
                next: 0,
            },
        })
    }

    /// Every row mapped by `f` (read in full: lists are pages).
    pub fn query_map<P, T, F>(
        &mut self,
        params: P,
        mut f: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(f(&row));
        }
        Ok(out.into_iter())
    }

    pub fn query_row<P, T, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(row) => f(&row),
            None => Err(Error::NoRows),
        }
    }

    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// The rows of a query, read one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: Vec<postgres::Row>,
        next: usize,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(r) => Ok(r.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, next } => {
                let row = rows.get(*next);
                *next += 1;
                Ok(row.map(Row::Postgres))
            }
        }
    }
}

/// One row; columns are read by position.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

/// A column position (rusqlite's `get::<_, T>` shape).
pub trait RowIndex {
    fn index(&self) -> usize;
}

impl RowIndex for usize {
    fn index(&self) -> usize {
        *self
    }
}

impl Row<'_> {
    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Postgres(r) => r.len(),
        }
    }

    /// Column `i` as SQLite's value (what a copy or a dump carries).
    pub fn get_value(&self, i: usize) -> Result<rusqlite::types::Value> {
        match self {
            Row::Sqlite(r) => Ok(r.get(i)?),
            Row::Postgres(r) => super::postgres::column_value(r, i),
        }
    }

    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let i = idx.index();
        match self {
            Row::Sqlite(r) => Ok(r.get(i)?),
            Row::Postgres(r) => {
                let value = super::postgres::column_value(r, i)?;
                T::column_result(ValueRef::from(&value)).map_err(|e| Error::Conversion {
                    column: i,
                    reason: e.to_string(),
                })
            }
        }
    }
}

/// SQLite's placeholders (`?1`, `?`) as PostgreSQL's (`$1`); SQLite's
/// null-safe `IS ?1` / `IS NOT ?1` as `IS [NOT] DISTINCT FROM $1`; `LIKE`
/// (case-insensitive for ASCII in SQLite) as `ILIKE`; `ifnull(` as
/// `coalesce(`. Text in quotes is left alone.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    let mut in_quote = false;
    let mut next_bare = 1;
    while let Some(c) = chars.next() {
        if in_quote {
            out.push(c);
            if c == '\'' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '\'' => {
                in_quote = true;
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next_bare.to_string();
                    next_bare += 1;
                }
                rewrite_null_safe(&mut out);
                out.push('$');
                out.push_str(&digits);
            }
            c if c.is_ascii_alphabetic() && !ends_in_word(&out) => {
                let mut word = String::from(c);
                while let Some(w) = chars
                    .peek()
                    .filter(|w| w.is_ascii_alphanumeric() || **w == '_')
                {
                    word.push(*w);
                    chars.next();
                }
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("ILIKE");
                } else if word.eq_ignore_ascii_case("ifnull") && chars.peek() == Some(&'(') {
                    out.push_str("coalesce");
                } else {
                    out.push_str(&word);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn ends_in_word(s: &str) -> bool {
    s.chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
}

/// Just before a placeholder: `… IS NOT ` → `… IS DISTINCT FROM `,
/// `… IS ` → `… IS NOT DISTINCT FROM `.
fn rewrite_null_safe(out: &mut String) {
    let upper = out.to_ascii_uppercase();
    let trimmed = upper.trim_end();
    let ws = upper.len() - trimmed.len();
    if ws == 0 {
        return;
    }
    let word_before = |s: &str, w: &str| {
        s.ends_with(w)
            && s[..s.len() - w.len()]
                .chars()
                .last()
                .is_none_or(|c| c.is_whitespace())
    };
    if word_before(trimmed, "IS NOT") {
        let cut = trimmed.len() - "NOT".len();
        out.truncate(cut);
        out.push_str("DISTINCT FROM ");
    } else if word_before(trimmed, "IS") {
        out.truncate(trimmed.len());
        out.push_str(" NOT DISTINCT FROM ");
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_become_numbered() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
        assert_eq!(translate("VALUES (?, ?)"), "VALUES ($1, $2)");
    }

    #[test]
    fn quoted_question_marks_stay() {
        assert_eq!(
            translate("SELECT '?1' || ?1 FROM t WHERE x = 'it''s ?'"),
            "SELECT '?1' || $1 FROM t WHERE x = 'it''s ?'"
        );
    }

    #[test]
    fn like_and_ifnull() {
        assert_eq!(
            translate("WHERE ifnull(c.uid, '') LIKE ?2 AND unlike_col = 1"),
            "WHERE coalesce(c.uid, '') ILIKE $2 AND unlike_col = 1"
        );
        assert_eq!(translate("SELECT 'a LIKE b'"), "SELECT 'a LIKE b'");
    }

    #[test]
    fn null_safe_comparisons() {
        assert_eq!(
            translate("WHERE id = ?3 AND claimed_by IS ?5"),
            "WHERE id = $3 AND claimed_by IS NOT DISTINCT FROM $5"
        );
        assert_eq!(
            translate("WHERE x IS NOT ?1"),
            "WHERE x IS DISTINCT FROM $1"
        );
        // Not the word IS: THIS ?1 is not rewritten.
        assert_eq!(translate("SELECT THIS ?1"), "SELECT THIS $1");
    }
}
