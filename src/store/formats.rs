//! Card formats are stored as JSON so custom ones need no code.

use crate::domain::{builtin_formats, CardFormat};
use crate::store::{params, Connection, OptionalExtension};

/// Inserts the built-in formats a new (or older) database lacks.
pub fn ensure_builtin(conn: &Connection) -> crate::store::Result<()> {
    for f in builtin_formats() {
        let json = serde_json::to_string(&f).expect("formats serialise");
        conn.execute(
            "INSERT INTO card_format (name, definition, builtin) VALUES (?1, ?2, 1)
             ON CONFLICT(name) DO NOTHING",
            params![f.name(), json],
        )?;
    }
    Ok(())
}

fn parse(json: String) -> crate::store::Result<CardFormat> {
    serde_json::from_str(&json).map_err(|e| crate::store::Error::Conversion {
        column: 0,
        reason: e.to_string(),
    })
}

pub fn list(conn: &Connection) -> crate::store::Result<Vec<CardFormat>> {
    let mut stmt =
        conn.prepare("SELECT definition FROM card_format ORDER BY builtin DESC, rowid")?;
    let rows = stmt.query_map((), |r| r.get::<_, String>(0))?;
    rows.map(|r| r.and_then(parse)).collect()
}

/// Case-insensitive lookup by name.
pub fn get(conn: &Connection, name: &str) -> crate::store::Result<Option<CardFormat>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT definition FROM card_format WHERE name = ?1 COLLATE NOCASE",
            [name.trim()],
            |r| r.get(0),
        )
        .optional()?;
    json.map(parse).transpose()
}

pub fn insert(conn: &Connection, format: &CardFormat) -> crate::store::Result<()> {
    let json = serde_json::to_string(format).expect("formats serialise");
    conn.execute(
        "INSERT INTO card_format (name, definition, builtin) VALUES (?1, ?2, 0)",
        params![format.name(), json],
    )?;
    Ok(())
}
