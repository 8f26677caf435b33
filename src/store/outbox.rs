//! Mail waiting to be sent. Rows are written in the same transaction as the
//! change that causes them; the mailer worker sends them later.

use rusqlite::{params, Connection};
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
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub next_attempt_at: String,
    pub created_at: String,
    pub sent_at: Option<String>,
}

pub struct NewMessage<'a> {
    pub to_address: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub body_html: &'a str,
    pub language: &'a str,
    pub request_id: Option<i64>,
}

pub fn enqueue(conn: &Connection, m: &NewMessage) -> rusqlite::Result<i64> {
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
    Ok(conn.last_insert_rowid())
}

const COLUMNS: &str = "id, to_address, subject, body_text, body_html, language, message_id,
        request_id, status, attempts, last_error, next_attempt_at, created_at, sent_at";

fn from_row(r: &rusqlite::Row) -> rusqlite::Result<OutboxMessage> {
    Ok(OutboxMessage {
        id: r.get(0)?,
        to_address: r.get(1)?,
        subject: r.get(2)?,
        body_text: r.get(3)?,
        body_html: r.get(4)?,
        language: r.get(5)?,
        message_id: r.get(6)?,
        request_id: r.get(7)?,
        status: r.get(8)?,
        attempts: r.get(9)?,
        last_error: r.get(10)?,
        next_attempt_at: r.get(11)?,
        created_at: r.get(12)?,
        sent_at: r.get(13)?,
    })
}

pub fn list(conn: &Connection) -> rusqlite::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM outbox ORDER BY id"))?;
    let rows = stmt.query_map([], from_row)?;
    rows.collect()
}

pub fn for_request(conn: &Connection, request_id: i64) -> rusqlite::Result<Vec<OutboxMessage>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE request_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![request_id], from_row)?;
    rows.collect()
}
