//! Mail waiting to be sent. Rows are written in the same transaction as the
//! change that causes them; the mailer worker sends them later.

use crate::domain::OutboxStatus;
use crate::store::{params, Connection, Dialect, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub language: String,
    pub message_id: String,
    pub request_id: Option<i64>,
    pub status: OutboxStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub created_at: String,
    pub sent_at: Option<String>,
    /// Which process is sending it ("pid:N@host"), while `status` is `sending`.
    pub claimed_by: Option<String>,
    pub claimed_at: Option<String>,
}

pub struct NewMessage<'a> {
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub language: &'a str,
    pub request_id: Option<i64>,
}

pub fn enqueue(conn: &Connection, m: &NewMessage) -> crate::store::Result<i64> {
    // The Message-ID is fixed now so that a resend after a crash carries the
    // same id and the receiving side can recognise the duplicate.
    let message_id = format!(
        "<{}.{}@carddesk.local>",
        chrono::Utc::now().timestamp_millis(),
        hex::encode(rand::random::<[u8; 8]>())
    );
    let now = super::now();
    conn.execute(
        "INSERT INTO outbox (to_address, subject, body_text, body_html, language, message_id,
                             request_id, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![
            m.to_address,
            m.subject,
            m.body_text,
            m.body_html,
            m.language,
            message_id,
            m.request_id,
            now
        ],
    )?;
    conn.last_insert_rowid()
}

const COLUMNS: &str = "id, to_address, subject, body_text, body_html, language, message_id,
        request_id, status, attempts, last_error, next_attempt_at, created_at, sent_at,
        claimed_by, claimed_at";

fn from_row(r: &crate::store::Row) -> crate::store::Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: r.get(0)?,
        to_address: r.get(1)?,
        subject: r.get(2)?,
        body_text: r.get(3)?,
        body_html: r.get(4)?,
        language: r.get(5)?,
        message_id: r.get(6)?,
        request_id: r.get(7)?,
        status: r.get::<_, String>(8)?.parse().map_err(|e: String| {
            crate::store::Error::Conversion {
                column: 8,
                reason: e.to_string(),
            }
        })?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        next_attempt_at: r.get(11)?,
        created_at: r.get(12)?,
        sent_at: r.get(13)?,
        claimed_by: r.get(14)?,
        claimed_at: r.get(15)?,
    })
}

/// Newest first, optionally only those in one state.
pub fn list(
    conn: &Connection,
    status: Option<OutboxStatus>,
    limit: usize,
    offset: usize,
) -> crate::store::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE status = ?1 OR ?1 IS NULL
         ORDER BY id DESC LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(
        params![status.map(|s| s.as_str()), limit as i64, offset as i64],
        from_row,
    )?;
    rows.collect()
}

pub fn count(conn: &Connection, status: Option<OutboxStatus>) -> crate::store::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM outbox WHERE status = ?1 OR ?1 IS NULL",
        [status.map(|s| s.as_str())],
        |r| r.get(0),
    )
}

pub fn for_request(conn: &Connection, request_id: i64) -> crate::store::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE request_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![request_id], from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<OutboxMessage>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

/// What the operator sees at a glance. `pending` includes mail being sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

pub fn counts(conn: &Connection) -> crate::store::Result<OutboxCounts> {
    conn.query_row(
        "SELECT count(*) FILTER (WHERE status IN ('pending','sending')),
                count(*) FILTER (WHERE status = 'sent'),
                count(*) FILTER (WHERE status = 'failed')
           FROM outbox",
        (),
        |r| {
            Ok(OutboxCounts {
                pending: r.get(0)?,
                sent: r.get(1)?,
                failed: r.get(2)?,
            })
        },
    )
}

/// Pending rows whose next attempt is due at `now`, oldest first, plus every
/// row left in `sending` (the caller decides whether its sender is gone).
pub fn due(conn: &Connection, now: &str) -> crate::store::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox
          WHERE (status = 'pending' AND next_attempt_at <= ?1) OR status = 'sending'
          ORDER BY next_attempt_at, id"
    ))?;
    let rows = stmt.query_map([now], from_row)?;
    rows.collect()
}

/// When the earliest pending row becomes due, if any.
pub fn next_due(conn: &Connection) -> crate::store::Result<Option<String>> {
    conn.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE status = 'pending'",
        (),
        |r| r.get(0),
    )
}

/// Marks a row `sending` for process `by`, but only if it is still exactly as
/// the caller read it (status and claimant): of two senders racing for one
/// row, one wins. Commit this before talking to the server.
pub fn claim(
    conn: &Connection,
    m: &OutboxMessage,
    by: &str,
    now: &str,
) -> crate::store::Result<bool> {
    // On a server, a row another desk is claiming at this moment is
    // skipped at once (its lock is held), not waited for and re-checked.
    let sql = match conn.dialect() {
        Dialect::Sqlite => {
            "UPDATE outbox SET status = 'sending', claimed_by = ?1, claimed_at = ?2
              WHERE id = ?3 AND status = ?4 AND claimed_by IS ?5"
        }
        Dialect::Postgres => {
            "UPDATE outbox SET status = 'sending', claimed_by = ?1, claimed_at = ?2
              WHERE id = (SELECT id FROM outbox
                           WHERE id = ?3 AND status = ?4 AND claimed_by IS ?5
                             FOR UPDATE SKIP LOCKED)"
        }
    };
    let n = conn.execute(sql, params![by, now, m.id, m.status.as_str(), m.claimed_by])?;
    Ok(n == 1)
}

fn attempt(
    conn: &Connection,
    id: i64,
    now: &str,
    result: &str,
    error: Option<&str>,
) -> crate::store::Result<()> {
    conn.execute(
        "INSERT INTO outbox_attempt (outbox_id, at, result, error) VALUES (?1, ?2, ?3, ?4)",
        params![id, now, result, error],
    )?;
    Ok(())
}

/// The server accepted the message. Call inside a transaction. Like the
/// other outcomes, recorded only while the row is still this sender's
/// claim (`by`): false when another sender took it over meanwhile (its
/// lease ran out), whose outcome then stands.
pub fn mark_sent(conn: &Connection, id: i64, by: &str, now: &str) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE outbox SET status = 'sent', sent_at = ?2, attempts = attempts + 1,
                last_error = NULL, claimed_by = NULL, claimed_at = NULL
          WHERE id = ?1 AND status = 'sending' AND claimed_by = ?3",
        params![id, now, by],
    )?;
    recorded(conn, n, id, now, "sent", None)
}

fn recorded(
    conn: &Connection,
    changed: usize,
    id: i64,
    now: &str,
    result: &str,
    error: Option<&str>,
) -> crate::store::Result<bool> {
    if changed == 0 {
        return Ok(false);
    }
    attempt(conn, id, now, result, error)?;
    Ok(true)
}

/// A temporary failure: try again at `next_attempt_at`. Call inside a transaction.
pub fn mark_deferred(
    conn: &Connection,
    id: i64,
    by: &str,
    now: &str,
    error: &str,
    next_attempt_at: &str,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE outbox SET status = 'pending', attempts = attempts + 1, last_error = ?2,
                next_attempt_at = ?3, claimed_by = NULL, claimed_at = NULL
          WHERE id = ?1 AND status = 'sending' AND claimed_by = ?4",
        params![id, error, next_attempt_at, by],
    )?;
    recorded(conn, n, id, now, "deferred", Some(error))
}

/// A permanent rejection: never retried unless the operator asks. Call
/// inside a transaction.
pub fn mark_failed(
    conn: &Connection,
    id: i64,
    by: &str,
    now: &str,
    error: &str,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?2,
                claimed_by = NULL, claimed_at = NULL
          WHERE id = ?1 AND status = 'sending' AND claimed_by = ?3",
        params![id, error, by],
    )?;
    recorded(conn, n, id, now, "failed", Some(error))
}

/// Back in the queue, due now, optionally to a corrected address.
pub fn requeue(
    conn: &Connection,
    id: i64,
    new_address: Option<&str>,
    now: &str,
) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ?2,
                to_address = coalesce(?3, to_address), claimed_by = NULL, claimed_at = NULL
          WHERE id = ?1",
        params![id, now, new_address],
    )?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub at: String,
    /// sent, deferred or failed
    pub result: String,
    pub error: Option<String>,
}

/// Every delivery attempt of one message, oldest first.
pub fn attempts(conn: &Connection, id: i64) -> crate::store::Result<Vec<Attempt>> {
    let mut stmt = conn
        .prepare("SELECT at, result, error FROM outbox_attempt WHERE outbox_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([id], |r| {
        Ok(Attempt {
            at: r.get(0)?,
            result: r.get(1)?,
            error: r.get(2)?,
        })
    })?;
    rows.collect()
}
