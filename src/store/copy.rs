//! Copying a site's data from its SQLite file into an empty server
//! database (`carddesk migrate-to`): every data table, row for row with the
//! same ids, parents before children, in one transaction on the target.
//! The bookkeeping the triggers derive (search index, change and request
//! counts) is rebuilt by the target's own triggers as the rows arrive.

use super::{data_tables, Connection, Dialect, Error, Result};
use std::collections::{BTreeMap, BTreeSet};

/// How many rows each table holds.
pub type Counts = BTreeMap<String, i64>;

pub fn counts(conn: &Connection) -> Result<Counts> {
    let mut out = Counts::new();
    for t in data_tables(conn)? {
        let n: i64 = conn.query_row(&format!("SELECT count(*) FROM \"{t}\""), (), |r| r.get(0))?;
        out.insert(t, n);
    }
    Ok(out)
}

/// The columns of `table` in the SQLite source, in order.
fn columns(from: &Connection, table: &str) -> Result<Vec<String>> {
    from.prepare(&format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    ))?
    .query_map((), |r| r.get(0))?
    .collect()
}

/// The tables `table` refers to by foreign key.
fn parents(from: &Connection, table: &str) -> Result<BTreeSet<String>> {
    from.prepare(&format!(
        "SELECT \"table\" FROM pragma_foreign_key_list('{table}')"
    ))?
    .query_map((), |r| r.get(0))?
    .collect()
}

/// The data tables, each after every table it refers to.
fn in_dependency_order(from: &Connection) -> Result<Vec<String>> {
    let tables = data_tables(from)?;
    let mut deps = BTreeMap::new();
    for t in &tables {
        let mut p = parents(from, t)?;
        p.remove(t);
        p.retain(|p| tables.contains(p));
        deps.insert(t.clone(), p);
    }
    let mut done: Vec<String> = Vec::new();
    while done.len() < tables.len() {
        let ready: Vec<String> = deps
            .iter()
            .filter(|(t, p)| !done.contains(t) && p.iter().all(|p| done.contains(p)))
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            return Err(Error::Other("the tables' foreign keys form a cycle".into()));
        }
        done.extend(ready);
    }
    Ok(done)
}

/// Copies every data table of `from` (SQLite) into `to` (a migrated, empty
/// server database) in one transaction; returns the rows copied per table.
/// The target's built-in formats and templates make way for the source's.
pub fn copy_site(from: &Connection, to: &Connection) -> Result<Counts> {
    if from.dialect() != Dialect::Sqlite || to.dialect() != Dialect::Postgres {
        return Err(Error::Other(
            "a site is copied from its SQLite file to a PostgreSQL server".into(),
        ));
    }
    // One snapshot of the source: a desk writing to it meanwhile changes
    // neither what is copied nor what it is compared with.
    from.execute_batch("BEGIN DEFERRED")?;
    let result = copy_in_snapshot(from, to);
    let _ = from.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
    result
}

fn copy_in_snapshot(from: &Connection, to: &Connection) -> Result<Counts> {
    let tx = to.begin()?;
    for t in ["card_format", "badge_template"] {
        tx.execute(&format!("DELETE FROM {t}"), ())?;
    }
    let mut copied = Counts::new();
    for table in in_dependency_order(from)? {
        let cols = columns(from, &table)?;
        let list = cols
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        // rowid order: the order the rows were written (card formats are
        // listed that way; ids keep their numbers).
        let mut select = from.prepare(&format!("SELECT {list} FROM \"{table}\" ORDER BY rowid"))?;
        let mut rows = select.query(())?;
        let names: Vec<&str> = cols.iter().map(String::as_str).collect();
        let mut insert = super::bulk::BulkInsert::new(&tx, &table, &names);
        let mut n = 0;
        while let Some(row) = rows.next()? {
            insert.row(
                (0..cols.len())
                    .map(|i| row.get_value(i))
                    .collect::<Result<Vec<_>>>()?,
            )?;
            n += 1;
        }
        insert.flush()?;
        // The next id the server hands out follows the copied ones.
        if cols.iter().any(|c| c == "id") {
            tx.query_row(
                &format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                   GREATEST((SELECT max(id) FROM \"{table}\"), 1))"
                ),
                (),
                |_| Ok(()),
            )?;
        }
        copied.insert(table, n);
    }
    tx.query_row(
        "SELECT setval(pg_get_serial_sequence('card_format', 'rowid'),
                       GREATEST((SELECT max(rowid) FROM card_format), 1))",
        (),
        |_| Ok(()),
    )?;
    let here = counts(from)?;
    let there = counts(&tx)?;
    if here != copied || there != copied {
        return Err(Error::Other(format!(
            "the copy does not match: here {here:?}, on the server {there:?}; nothing was kept"
        )));
    }
    tx.commit()?;
    Ok(copied)
}
