use crate::domain::RequestStatus;
use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CardRequest {
    pub id: i64,
    pub cardholder_id: i64,
    pub cardholder_name: String,
    pub requester_id: i64,
    pub requester_name: String,
    pub created_at: String,
    pub reason: String,
    pub badge_template: String,
    pub notify_requester: bool,
    pub ship_to_site_id: Option<i64>,
    pub ship_to_site: Option<String>,
    pub status: RequestStatus,
    pub credential_id: Option<i64>,
    pub answered_by: Option<i64>,
    pub answered_at: Option<String>,
    pub deny_reason: Option<String>,
    /// The operator who closed or denied it.
    pub answered_by_name: Option<String>,
    /// How a card shipped to a site was sent (courier, tracking number).
    pub shipping_note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestFields {
    pub reason: String,
    pub badge_template: String,
    pub notify_requester: bool,
    pub ship_to_site_id: Option<i64>,
}

pub fn insert(
    conn: &Connection,
    cardholder_id: i64,
    requester_id: i64,
    f: &RequestFields,
) -> crate::store::Result<i64> {
    conn.execute(
        "INSERT INTO card_request (cardholder_id, requester_id, created_at, reason,
                                   badge_template, notify_requester, ship_to_site_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            cardholder_id,
            requester_id,
            super::now(),
            f.reason,
            f.badge_template,
            f.notify_requester,
            f.ship_to_site_id
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT: &str = "SELECT r.id, r.cardholder_id, h.first_name || ' ' || h.last_name,
        r.requester_id, o.name, r.created_at, r.reason, r.badge_template, r.notify_requester,
        r.ship_to_site_id, s.name, r.status, r.credential_id, r.answered_by, r.answered_at,
        r.deny_reason, a.name, r.shipping_note
   FROM card_request r
   JOIN cardholder h ON h.id = r.cardholder_id
   JOIN operator o ON o.id = r.requester_id
   LEFT JOIN operator a ON a.id = r.answered_by
   LEFT JOIN site s ON s.id = r.ship_to_site_id";

fn from_row(r: &crate::store::Row) -> crate::store::Result<CardRequest> {
    let status: String = r.get(11)?;
    Ok(CardRequest {
        id: r.get(0)?,
        cardholder_id: r.get(1)?,
        cardholder_name: r.get(2)?,
        requester_id: r.get(3)?,
        requester_name: r.get(4)?,
        created_at: r.get(5)?,
        reason: r.get(6)?,
        badge_template: r.get(7)?,
        notify_requester: r.get(8)?,
        ship_to_site_id: r.get(9)?,
        ship_to_site: r.get(10)?,
        status: status
            .parse()
            .map_err(|e: String| crate::store::Error::Conversion {
                column: 11,
                reason: e.to_string(),
            })?,
        credential_id: r.get(12)?,
        answered_by: r.get(13)?,
        answered_at: r.get(14)?,
        deny_reason: r.get(15)?,
        answered_by_name: r.get(16)?,
        shipping_note: r.get(17)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<CardRequest>> {
    conn.query_row(&format!("{SELECT} WHERE r.id = ?1"), [id], from_row)
        .optional()
}

/// Oldest first, so the desk answers requests in the order they came.
pub fn list(
    conn: &Connection,
    status: Option<RequestStatus>,
    limit: usize,
    offset: usize,
) -> crate::store::Result<Vec<CardRequest>> {
    // Two statements, so the one with a status uses the (status,
    // created_at) index instead of reading the whole history.
    let filter = if status.is_some() {
        "r.status = ?1"
    } else {
        "CAST(?1 AS TEXT) IS NULL"
    };
    let mut stmt = conn.prepare_cached(&format!(
        "{SELECT} WHERE {filter} ORDER BY r.created_at, r.id LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![status.map(|s| s.as_str()), limit as i64, offset as i64],
        from_row,
    )?;
    rows.collect()
}

/// How many requests are in `status` (all: none), from the counts the
/// triggers of migration 0013 keep.
pub fn count(conn: &Connection, status: Option<RequestStatus>) -> crate::store::Result<i64> {
    conn.query_row(
        "SELECT CAST(coalesce(sum(n), 0) AS BIGINT) FROM request_count
          WHERE status = ?1 OR ?1 IS NULL",
        [status.map(|s| s.as_str())],
        |r| r.get(0),
    )
}

pub fn count_pending(conn: &Connection) -> crate::store::Result<i64> {
    count(conn, Some(RequestStatus::Pending))
}

pub fn update_fields(conn: &Connection, id: i64, f: &RequestFields) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE card_request SET reason = ?2, badge_template = ?3, notify_requester = ?4,
                ship_to_site_id = ?5 WHERE id = ?1",
        params![
            id,
            f.reason,
            f.badge_template,
            f.notify_requester,
            f.ship_to_site_id
        ],
    )?;
    Ok(())
}

pub fn set_credential(conn: &Connection, id: i64, credential_id: i64) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE card_request SET credential_id = ?2 WHERE id = ?1",
        params![id, credential_id],
    )?;
    Ok(())
}

pub fn answer(
    conn: &Connection,
    id: i64,
    status: RequestStatus,
    operator_id: i64,
    deny_reason: Option<&str>,
) -> crate::store::Result<bool> {
    // Only a pending request is answered: of two desks answering at once,
    // one changes the row and the other learns it was too late.
    let n = conn.execute(
        "UPDATE card_request SET status = ?2, answered_by = ?3, answered_at = ?4,
                deny_reason = ?5 WHERE id = ?1 AND status = 'pending'",
        params![id, status.as_str(), operator_id, super::now(), deny_reason],
    )?;
    Ok(n == 1)
}

/// The pending request a credential is connected to, if any.
pub fn pending_with_credential(
    conn: &Connection,
    credential_id: i64,
) -> crate::store::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM card_request WHERE credential_id = ?1 AND status = 'pending' LIMIT 1",
        [credential_id],
        |r| r.get(0),
    )
    .optional()
}

/// A cardholder's requests, newest first.
pub fn for_cardholder(
    conn: &Connection,
    cardholder_id: i64,
) -> crate::store::Result<Vec<CardRequest>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE r.cardholder_id = ?1 ORDER BY r.created_at DESC, r.id DESC"
    ))?;
    let rows = stmt.query_map([cardholder_id], from_row)?;
    rows.collect()
}

/// Records how a shipped card was sent.
pub fn set_shipping_note(conn: &Connection, id: i64, note: &str) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE card_request SET shipping_note = ?2 WHERE id = ?1",
        params![id, note],
    )?;
    Ok(())
}
