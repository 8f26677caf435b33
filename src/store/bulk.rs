//! Many rows into one table inside one transaction (demo data, copying a
//! site to a server). On SQLite one prepared single-row INSERT per row is
//! the fastest way. On PostgreSQL rows go in batches of multi-row INSERTs:
//! each statement fires the statement-level triggers once, and a counter row
//! updated once per statement would otherwise be rewritten for every row,
//! each new version checked against all the earlier ones of the same
//! transaction (time growing with the square of the rows).

use super::{Connection, Dialect, Result, ToSql};
use crate::store::Value;

/// Parameters per PostgreSQL statement: well under its 65 535.
const MAX_PARAMS: usize = 30_000;
/// Rows per statement at most.
const MAX_ROWS: usize = 1_000;

pub struct BulkInsert<'c> {
    conn: &'c Connection,
    table: String,
    columns: Vec<String>,
    pending: Vec<Value>,
    rows: usize,
}

impl<'c> BulkInsert<'c> {
    pub fn new(conn: &'c Connection, table: &str, columns: &[&str]) -> BulkInsert<'c> {
        BulkInsert {
            conn,
            table: table.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            pending: Vec::new(),
            rows: 0,
        }
    }

    /// Adds one row (values in the columns' order).
    pub fn row(&mut self, values: Vec<Value>) -> Result<()> {
        debug_assert_eq!(values.len(), self.columns.len());
        self.pending.extend(values);
        self.rows += 1;
        let per_statement = match self.conn.dialect() {
            Dialect::Sqlite => 1,
            Dialect::Postgres => (MAX_PARAMS / self.columns.len().max(1)).clamp(1, MAX_ROWS),
        };
        if self.rows >= per_statement {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the rows added so far.
    pub fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let n = self.columns.len();
        let list = self
            .columns
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let tuples = (0..self.rows)
            .map(|r| {
                let marks = (1..=n)
                    .map(|c| format!("?{}", r * n + c))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("({marks})")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO \"{}\" ({list}) VALUES {tuples}", self.table);
        let params: Vec<&dyn ToSql> = self.pending.iter().map(|v| v as &dyn ToSql).collect();
        self.conn.execute(&sql, params.as_slice())?;
        self.pending.clear();
        self.rows = 0;
        Ok(())
    }
}
