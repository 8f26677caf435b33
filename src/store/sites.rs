use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Site {
    pub id: i64,
    pub name: String,
}

pub fn insert(conn: &Connection, name: &str) -> crate::store::Result<i64> {
    conn.execute("INSERT INTO site (name) VALUES (?1)", params![name.trim()])?;
    conn.last_insert_rowid()
}

pub fn list(conn: &Connection) -> crate::store::Result<Vec<Site>> {
    let mut stmt = conn.prepare("SELECT id, name FROM site ORDER BY name")?;
    let rows = stmt.query_map((), |r| {
        Ok(Site {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })?;
    rows.collect()
}

pub fn find(conn: &Connection, name: &str) -> crate::store::Result<Option<Site>> {
    conn.query_row(
        "SELECT id, name FROM site WHERE name = ?1 COLLATE NOCASE",
        [name.trim()],
        |r| {
            Ok(Site {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
    .optional()
}
