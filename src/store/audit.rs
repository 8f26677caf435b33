//! The audit trail: one row per change, each row hashing the one before it so
//! that editing or deleting a row breaks the chain.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

/// Where the chain breaks, for `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    pub id: i64,
    pub reason: String,
}

#[allow(clippy::too_many_arguments)]
fn digest(
    prev: &str,
    at: &str,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    // A JSON array is an unambiguous encoding of the fields: the same bytes
    // `json!([..]).to_string()` gives, written straight into the hasher
    // (verifying a long trail builds no JSON trees).
    fn text(h: &mut Sha256, s: Option<&str>) {
        match s {
            Some(s) => h.update(serde_json::to_string(s).expect("a str serialises")),
            None => h.update(b"null"),
        }
    }
    let mut h = Sha256::new();
    h.update(b"[");
    for (i, field) in [prev, at, actor, action, entity].into_iter().enumerate() {
        if i > 0 {
            h.update(b",");
        }
        text(&mut h, Some(field));
    }
    h.update(b",");
    match entity_id {
        Some(id) => h.update(id.to_string()),
        None => h.update(b"null"),
    }
    h.update(b",");
    text(&mut h, before);
    h.update(b",");
    text(&mut h, after);
    h.update(b"]");
    hex::encode(h.finalize())
}

/// Appends an event. Call inside the transaction that makes the change.
pub fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> rusqlite::Result<i64> {
    let prev: String = conn
        .query_row(
            "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_else(|| GENESIS.to_string());
    let at = super::now();
    let before = before.map(|v| v.to_string());
    let after = after.map(|v| v.to_string());
    let hash = digest(
        &prev,
        &at,
        actor,
        action,
        entity,
        entity_id,
        before.as_deref(),
        after.as_deref(),
    );
    conn.execute(
        "INSERT INTO audit_event (at, actor, action, entity, entity_id, before, after, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![at, actor, action, entity, entity_id, before, after, prev, hash],
    )?;
    Ok(conn.last_insert_rowid())
}

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<AuditEvent> {
    Ok(AuditEvent {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        entity: r.get(4)?,
        entity_id: r.get(5)?,
        before: r.get(6)?,
        after: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

const COLUMNS: &str = "id, at, actor, action, entity, entity_id, before, after, prev_hash, hash";

/// Newest first.
pub fn list(conn: &Connection, limit: usize, offset: usize) -> rusqlite::Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_event ORDER BY id DESC LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt.query_map([limit as i64, offset as i64], from_row)?;
    rows.collect()
}

/// Who last changed an entity and when (its newest audit event).
pub fn last_change(
    conn: &Connection,
    entity: &str,
    id: i64,
) -> rusqlite::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT actor, at FROM audit_event WHERE entity = ?1 AND entity_id = ?2
          ORDER BY id DESC LIMIT 1",
        rusqlite::params![entity, id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM audit_event", [], |r| r.get(0))
}

/// Walks the whole chain. Ok(number of events) or the first broken row.
pub fn verify(conn: &Connection) -> rusqlite::Result<Result<u64, Broken>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_event ORDER BY id"))?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS.to_string();
    let mut count = 0u64;
    while let Some(row) = rows.next()? {
        let e = from_row(row)?;
        if e.prev_hash != prev {
            return Ok(Err(Broken {
                id: e.id,
                reason: "does not follow the previous event (a row was removed or reordered)"
                    .into(),
            }));
        }
        let expected = digest(
            &e.prev_hash,
            &e.at,
            &e.actor,
            &e.action,
            &e.entity,
            e.entity_id,
            e.before.as_deref(),
            e.after.as_deref(),
        );
        if e.hash != expected {
            return Ok(Err(Broken {
                id: e.id,
                reason: "its content does not match its hash (the row was edited)".into(),
            }));
        }
        prev = e.hash;
        count += 1;
    }
    Ok(Ok(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest is the SHA-256 of the JSON array of the fields, exactly as
    /// trails already written were hashed.
    #[test]
    fn digest_is_the_hash_of_the_json_array() {
        let cases = [
            (
                "p",
                "2026-12-04T19:00:00.000Z",
                "olga",
                "request.close",
                "card_request",
                Some(7),
                Some("{\"a\":1}"),
                None,
            ),
            (
                "",
                "t",
                "Zoë \"Q\" \\ \u{1}\n",
                "x",
                "y",
                None,
                None,
                Some("é\u{7f}\u{2028}"),
            ),
        ];
        for (prev, at, actor, action, entity, id, before, after) in cases {
            let old = serde_json::json!([prev, at, actor, action, entity, id, before, after]);
            assert_eq!(
                digest(prev, at, actor, action, entity, id, before, after),
                hex::encode(Sha256::digest(old.to_string().as_bytes()))
            );
        }
    }
}
