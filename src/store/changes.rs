//! How many times each table was written (triggers in migration 0012): a
//! window compares them to re-read only the lists whose tables changed.

use crate::store::Connection;
use std::collections::BTreeMap;

/// Each watched table's change count.
pub type Counters = BTreeMap<String, i64>;

pub fn counters(conn: &Connection) -> crate::store::Result<Counters> {
    let mut stmt = conn.prepare_cached("SELECT tbl, n FROM change_counter")?;
    let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The tables whose counts differ between `before` and `now`.
pub fn changed<'a>(before: &Counters, now: &'a Counters) -> Vec<&'a str> {
    now.iter()
        .filter(|(t, n)| before.get(*t) != Some(n))
        .map(|(t, _)| t.as_str())
        .collect()
}
