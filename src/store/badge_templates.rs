//! Badge templates, stored as JSON (`badge::Template`) by name.

use crate::badge::{Template, BUILTIN_JSON};
use crate::store::{params, Connection, OptionalExtension};

/// Inserts the shipped templates ("Standard", "Visitor") a database lacks.
pub fn ensure_builtin(conn: &Connection) -> crate::store::Result<()> {
    for (name, json) in BUILTIN_JSON {
        conn.execute(
            "INSERT INTO badge_template (name, definition, builtin, updated_at)
             VALUES (?1, ?2, 1, ?3) ON CONFLICT(name) DO NOTHING",
            params![name, json, super::now()],
        )?;
    }
    Ok(())
}

fn parse(json: String) -> crate::store::Result<Template> {
    serde_json::from_str(&json).map_err(|e| crate::store::Error::Conversion {
        column: 0,
        reason: e.to_string(),
    })
}

pub fn list(conn: &Connection) -> crate::store::Result<Vec<Template>> {
    let mut stmt =
        conn.prepare("SELECT definition FROM badge_template ORDER BY builtin DESC, name")?;
    let rows = stmt.query_map((), |r| r.get::<_, String>(0))?;
    rows.map(|r| r.and_then(parse)).collect()
}

/// Case-insensitive lookup by name.
pub fn get(conn: &Connection, name: &str) -> crate::store::Result<Option<Template>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT definition FROM badge_template WHERE name = ?1 COLLATE NOCASE",
            [name.trim()],
            |r| r.get(0),
        )
        .optional()?;
    json.map(parse).transpose()
}

/// Inserts or replaces the template with this name.
pub fn upsert(conn: &Connection, t: &Template) -> crate::store::Result<()> {
    conn.execute(
        "INSERT INTO badge_template (name, definition, builtin, updated_at) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT(name) DO UPDATE SET definition = excluded.definition,
                                         updated_at = excluded.updated_at",
        params![t.name.trim(), t.to_json(), super::now()],
    )?;
    Ok(())
}
