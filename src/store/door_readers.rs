//! Door readers as configured (their keys sealed by the desk).

use crate::store::{params, Connection};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoorReader {
    pub name: String,
    pub port: String,
    pub baud: u32,
    pub address: u8,
    /// The sealed secure channel base key (never serialised).
    #[serde(skip)]
    pub scbk_sealed: Option<String>,
    /// Whether it is used over a secure channel.
    pub secure: bool,
    pub created_at: String,
}

pub fn list(conn: &Connection) -> crate::store::Result<Vec<DoorReader>> {
    let mut stmt = conn.prepare(
        "SELECT name, port, baud, address, scbk_sealed, created_at FROM door_reader ORDER BY name",
    )?;
    let rows = stmt.query_map((), |r| {
        let scbk_sealed: Option<String> = r.get(4)?;
        Ok(DoorReader {
            name: r.get(0)?,
            port: r.get(1)?,
            baud: r.get(2)?,
            address: r.get(3)?,
            secure: scbk_sealed.is_some(),
            scbk_sealed,
            created_at: r.get(5)?,
        })
    })?;
    rows.collect()
}

pub fn insert(conn: &Connection, r: &DoorReader) -> crate::store::Result<()> {
    conn.execute(
        "INSERT INTO door_reader (name, port, baud, address, scbk_sealed, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            r.name,
            r.port,
            r.baud,
            r.address,
            r.scbk_sealed,
            r.created_at
        ],
    )?;
    Ok(())
}

/// Removes the reader named `name` (any case); false if there was none.
pub fn remove(conn: &Connection, name: &str) -> crate::store::Result<bool> {
    Ok(conn.execute("DELETE FROM door_reader WHERE name = ?1", [name])? == 1)
}
