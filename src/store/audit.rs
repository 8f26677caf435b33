//! The audit trail: one row per change, each row's hash an HMAC (under a key
//! kept outside the database) of its number, its content and the hash of the
//! row before it, so that editing, inserting, reordering or deleting a row
//! breaks the chain, and nobody without the key can recompute it. The newest
//! row is also named in a head file outside the database, so cutting rows
//! off the end shows too.

use crate::store::{params, Connection, OptionalExtension};
use hmac::{digest::Update, Hmac, Mac};
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

/// The newest event a writer committed, as kept in the head file outside
/// the database: deleting the newest rows leaves the head pointing past
/// the end of the trail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub event: i64,
    pub hash: String,
}

type HmacSha256 = Hmac<Sha256>;

/// The fields of an event as one JSON array, written straight into the
/// hasher (verifying a long trail builds no JSON trees). The event's number
/// is left out for trails written before events were keyed.
fn encode(h: &mut impl Update, e: &AuditEvent, with_id: bool) {
    fn text(h: &mut impl Update, s: Option<&str>) {
        match s {
            Some(s) => h.update(
                serde_json::to_string(s)
                    .expect("a str serialises")
                    .as_bytes(),
            ),
            None => h.update(b"null"),
        }
    }
    h.update(b"[");
    if with_id {
        h.update(e.id.to_string().as_bytes());
        h.update(b",");
    }
    for (i, field) in [&e.prev_hash, &e.at, &e.actor, &e.action, &e.entity]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            h.update(b",");
        }
        text(h, Some(field));
    }
    h.update(b",");
    match e.entity_id {
        Some(id) => h.update(id.to_string().as_bytes()),
        None => h.update(b"null"),
    }
    h.update(b",");
    text(h, e.before.as_deref());
    h.update(b",");
    text(h, e.after.as_deref());
    h.update(b"]");
}

/// The plain SHA-256 chaining of trails written before the site key file
/// (checked once, when such a trail is keyed).
fn legacy_digest(e: &AuditEvent) -> String {
    let mut h = Sha256::new();
    encode(&mut h, e, false);
    hex::encode(h.finalize())
}

/// HMAC-SHA-256 of the event, its number and the previous event's hash,
/// under the site's audit key (kept outside the database).
fn digest_of(key: &[u8; 32], e: &AuditEvent) -> String {
    let mut h = <HmacSha256 as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    encode(&mut h, e, true);
    hex::encode(h.finalize().into_bytes())
}

/// Appends an event. Call inside the transaction that makes the change;
/// returns the new head (anchor it after the commit).
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &Connection,
    key: &[u8; 32],
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> crate::store::Result<Head> {
    let (last, prev): (i64, String) = conn
        .query_row(
            "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or_else(|| (0, GENESIS.to_string()));
    let mut e = AuditEvent {
        id: last + 1,
        at: super::now(),
        actor: actor.to_string(),
        action: action.to_string(),
        entity: entity.to_string(),
        entity_id,
        before: before.map(|v| v.to_string()),
        after: after.map(|v| v.to_string()),
        prev_hash: prev,
        hash: String::new(),
    };
    e.hash = digest_of(key, &e);
    conn.execute(
        "INSERT INTO audit_event (id, at, actor, action, entity, entity_id, before, after, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.before, e.after, e.prev_hash, e.hash],
    )?;
    Ok(Head {
        event: e.id,
        hash: e.hash,
    })
}

/// The newest event in the database.
pub fn newest(conn: &Connection) -> crate::store::Result<Option<Head>> {
    conn.query_row(
        "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1",
        (),
        |r| {
            Ok(Head {
                event: r.get(0)?,
                hash: r.get(1)?,
            })
        },
    )
    .optional()
}

fn from_row(r: &crate::store::Row) -> crate::store::Result<AuditEvent> {
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
pub fn list(
    conn: &Connection,
    limit: usize,
    offset: usize,
) -> crate::store::Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_event ORDER BY id DESC LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt.query_map([limit as i64, offset as i64], from_row)?;
    rows.collect()
}

/// The events about these entities (kind, id), newest first.
pub fn about(
    conn: &Connection,
    entities: &[(&str, i64)],
    limit: usize,
) -> crate::store::Result<Vec<AuditEvent>> {
    let mut events = Vec::new();
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_event WHERE entity = ?1 AND entity_id = ?2
          ORDER BY id DESC LIMIT ?3"
    ))?;
    for (entity, id) in entities {
        let rows = stmt.query_map(params![entity, id, limit as i64], from_row)?;
        for e in rows {
            events.push(e?);
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.id));
    events.truncate(limit);
    Ok(events)
}

/// Who last did `action` to an entity, and when.
pub fn last_action(
    conn: &Connection,
    entity: &str,
    id: i64,
    action: &str,
) -> crate::store::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT actor, at FROM audit_event WHERE entity = ?1 AND entity_id = ?2 AND action = ?3
          ORDER BY id DESC LIMIT 1",
        crate::store::params![entity, id, action],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Who last changed an entity and when (its newest audit event).
pub fn last_change(
    conn: &Connection,
    entity: &str,
    id: i64,
) -> crate::store::Result<Option<(String, String)>> {
    conn.query_row(
        "SELECT actor, at FROM audit_event WHERE entity = ?1 AND entity_id = ?2
          ORDER BY id DESC LIMIT 1",
        crate::store::params![entity, id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

pub fn count(conn: &Connection) -> crate::store::Result<i64> {
    conn.query_row("SELECT count(*) FROM audit_event", (), |r| r.get(0))
}

/// Walks the whole chain, then compares its end with `head` (the head file;
/// None when it is missing). Ok(number of events) or the first bad row.
pub fn verify(
    conn: &Connection,
    key: &[u8; 32],
    head: Option<&Head>,
) -> crate::store::Result<Result<u64, Broken>> {
    let broken = |id, reason: &str| {
        Ok(Err(Broken {
            id,
            reason: reason.into(),
        }))
    };
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_event ORDER BY id"))?;
    let mut rows = stmt.query(())?;
    let mut prev = GENESIS.to_string();
    let mut count = 0u64;
    let mut last: Option<Head> = None;
    let mut head_seen = false;
    while let Some(row) = rows.next()? {
        let e = from_row(&row)?;
        if e.prev_hash != prev {
            return broken(
                e.id,
                "does not follow the previous event (a row was removed, inserted or reordered)",
            );
        }
        if e.hash != digest_of(key, &e) {
            return broken(
                e.id,
                "its content does not match its keyed hash (the row was edited, or written without the site's audit key)",
            );
        }
        if let Some(h) = head {
            if h.event == e.id {
                if h.hash != e.hash {
                    return broken(
                        e.id,
                        "it is not the event the head file recorded under this number: events were deleted and others written in their place, or the trail was rewritten",
                    );
                }
                head_seen = true;
            }
        }
        prev = e.hash.clone();
        count += 1;
        last = Some(Head {
            event: e.id,
            hash: e.hash,
        });
    }
    match (head, last) {
        (None, Some(last)) => broken(
            last.event,
            "the head file that anchors the newest event is missing",
        ),
        (Some(h), _) if !head_seen => broken(
            h.event,
            "the head file names this event as the newest written, and the trail ends before it: events were deleted from the end",
        ),
        _ => Ok(Ok(count)),
    }
}

/// Checks a trail written before the site key file: its plain SHA-256
/// chain. None when it holds, else the first row that breaks it.
pub fn check_legacy_trail(conn: &Connection) -> crate::store::Result<Option<Broken>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_event ORDER BY id"))?;
    let mut rows = stmt.query(())?;
    let mut prev = GENESIS.to_string();
    while let Some(row) = rows.next()? {
        let e = from_row(&row)?;
        if e.prev_hash != prev || e.hash != legacy_digest(&e) {
            return Ok(Some(Broken {
                id: e.id,
                reason: "the plain SHA-256 chain does not hold here".into(),
            }));
        }
        prev = e.hash;
    }
    Ok(None)
}

/// Re-keys a trail written before the site key file (checked first with
/// [`check_legacy_trail`]): every hash recomputed under `key`, in the
/// caller's transaction.
pub fn key_legacy_trail(conn: &Connection, key: &[u8; 32]) -> crate::store::Result<()> {
    let events: Vec<AuditEvent> = {
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM audit_event ORDER BY id"))?;
        let rows = stmt.query_map((), from_row)?;
        rows.collect::<crate::store::Result<_>>()?
    };
    let mut new_prev = GENESIS.to_string();
    for mut e in events {
        e.prev_hash = new_prev;
        let hash = digest_of(key, &e);
        conn.execute(
            "UPDATE audit_event SET prev_hash = ?2, hash = ?3 WHERE id = ?1",
            params![e.id, e.prev_hash, hash],
        )?;
        new_prev = hash;
    }
    Ok(())
}

/// Events from `since_id` on, oldest first, at most `limit`.
pub fn since(
    conn: &Connection,
    since_id: i64,
    limit: usize,
) -> crate::store::Result<Vec<AuditEvent>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_event WHERE id >= ?1 ORDER BY id LIMIT ?2"
    ))?;
    let rows = stmt.query_map([since_id, limit as i64], from_row)?;
    rows.collect()
}

/// The number of the first event at or after `at` (an RFC 3339 time).
pub fn first_at_or_after(conn: &Connection, at: &str) -> crate::store::Result<Option<i64>> {
    conn.query_row(
        "SELECT min(id) FROM audit_event WHERE at >= ?1",
        [at],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The legacy digest is the SHA-256 of the JSON array of the fields,
    /// exactly as trails written before keying were hashed.
    #[test]
    fn legacy_digest_is_the_hash_of_the_json_array() {
        let e = AuditEvent {
            id: 3,
            at: "t".into(),
            actor: "Zoë \"Q\" \\ \u{1}\n".into(),
            action: "x".into(),
            entity: "y".into(),
            entity_id: None,
            before: None,
            after: Some("é\u{7f}\u{2028}".into()),
            prev_hash: "p".into(),
            hash: String::new(),
        };
        let old = serde_json::json!([
            e.prev_hash,
            e.at,
            e.actor,
            e.action,
            e.entity,
            e.entity_id,
            e.before,
            e.after
        ]);
        assert_eq!(
            legacy_digest(&e),
            hex::encode(Sha256::digest(old.to_string().as_bytes()))
        );
    }
}
