//! One connection type over both backends: the embedded SQLite file and a
//! shared PostgreSQL server. The store's table modules write their SQL once
//! (SQLite's `?N` placeholders, which [`super::postgres::translate`] turns
//! into PostgreSQL's `$N`) and branch on [`Connection::dialect`] only where
//! the two databases truly differ (search, outbox claims, file backups).
//!
//! Values cross this boundary as rusqlite's: parameters are anything
//! `rusqlite::ToSql` (so `params![…]` reads the same on both), columns are
//! read with `rusqlite::types::FromSql`. On PostgreSQL each value is bound
//! according to the type the server inferred for its placeholder.

use super::postgres::PgConn;
pub use rusqlite::types::Value;
use rusqlite::types::{FromSql, ValueRef};
pub use rusqlite::{params, ToSql};
use std::fmt;

/// Which database a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

pub use super::error::{Error, OptionalExtension, Result};

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
    /// Commits; when COMMIT fails the transaction is rolled back (on drop),
    /// never left open holding the write lock.
    pub fn commit(mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        self.done = true;
        Ok(())
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
