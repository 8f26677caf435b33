//! Temporary cards and their batch orders.

use crate::domain::TempCardState;
use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempCard {
    pub id: i64,
    pub credential_id: i64,
    pub format: String,
    pub card_number: i64,
    pub state: TempCardState,
    pub template: String,
    pub note: String,
    pub requested_by: String,
    pub requested_at: String,
    pub order_id: Option<i64>,
    pub cardholder_id: Option<i64>,
    /// "First Last" of the holder while assigned.
    pub holder_name: Option<String>,
    pub error: Option<String>,
    pub produced_at: Option<String>,
    pub valid_until: Option<String>,
    pub encoded: bool,
    /// Whether a PIN was set (its hash is never read back out).
    pub has_pin: bool,
    pub assigned_at: Option<String>,
    /// The end of the holder's use (RFC 3339), chosen at assignment.
    pub assigned_until: Option<String>,
    pub updated_at: String,
}

impl TempCard {
    /// "Temporary card 7 (H10301 #1007)".
    pub fn label(&self) -> String {
        format!(
            "temporary card {} ({} #{})",
            self.id, self.format, self.card_number
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    Open,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "completed" => Self::Completed,
            "cancelled" => Self::Cancelled,
            _ => Self::Open,
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempOrder {
    pub id: i64,
    pub status: OrderStatus,
    pub printer: String,
    pub encode: bool,
    pub reader: Option<String>,
    pub pin_length: u8,
    pub puk_length: u8,
    pub cert_profiles: Vec<String>,
    pub created_by: String,
    pub created_at: String,
    pub closed_at: Option<String>,
}

pub struct NewTempCard<'a> {
    pub credential_id: i64,
    pub card_number: i64,
    pub template: &'a str,
    pub note: &'a str,
    pub requested_by: &'a str,
}

pub fn insert(conn: &Connection, c: &NewTempCard) -> crate::store::Result<i64> {
    let now = super::now();
    conn.execute(
        "INSERT INTO temp_card (credential_id, card_number, state, template, note, requested_by,
                                requested_at, updated_at)
         VALUES (?1, ?2, 'requested', ?3, ?4, ?5, ?6, ?6)",
        params![
            c.credential_id,
            c.card_number,
            c.template,
            c.note,
            c.requested_by,
            now
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT: &str = "SELECT t.id, t.credential_id, c.format, t.card_number, t.state, t.template,
        t.note, t.requested_by, t.requested_at, t.order_id, t.cardholder_id,
        h.first_name || ' ' || h.last_name, t.error, t.produced_at, t.valid_until, t.encoded,
        t.pin_hash IS NOT NULL, t.assigned_at, t.updated_at, t.assigned_until
   FROM temp_card t JOIN credential c ON c.id = t.credential_id
   LEFT JOIN cardholder h ON h.id = t.cardholder_id";

fn from_row(r: &crate::store::Row) -> crate::store::Result<TempCard> {
    let state: String = r.get(4)?;
    Ok(TempCard {
        id: r.get(0)?,
        credential_id: r.get(1)?,
        format: r.get(2)?,
        card_number: r.get(3)?,
        state: state
            .parse()
            .map_err(|e: String| crate::store::Error::Conversion {
                column: 4,
                reason: e.to_string(),
            })?,
        template: r.get(5)?,
        note: r.get(6)?,
        requested_by: r.get(7)?,
        requested_at: r.get(8)?,
        order_id: r.get(9)?,
        cardholder_id: r.get(10)?,
        holder_name: r.get(11)?,
        error: r.get(12)?,
        produced_at: r.get(13)?,
        valid_until: r.get(14)?,
        encoded: r.get(15)?,
        has_pin: r.get(16)?,
        assigned_at: r.get(17)?,
        updated_at: r.get(18)?,
        assigned_until: r.get(19)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<TempCard>> {
    conn.query_row(&format!("{SELECT} WHERE t.id = ?1"), [id], from_row)
        .optional()
}

/// What to list: every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct TempCardFilter {
    pub state: Option<TempCardState>,
    pub format: Option<String>,
    /// Operator name who requested the cards.
    pub requested_by: Option<String>,
    /// Requested on or after this RFC 3339 time (or date, YYYY-MM-DD).
    pub since: Option<String>,
    pub order_id: Option<i64>,
    /// A card number, or part of the holder's name.
    pub search: Option<String>,
    pub holder: Option<i64>,
}

/// Temporary cards matching the filter, oldest first.
pub fn list(conn: &Connection, f: &TempCardFilter) -> crate::store::Result<Vec<TempCard>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE (t.state = ?1 OR ?1 IS NULL)
           AND (c.format = ?2 COLLATE NOCASE OR ?2 IS NULL)
           AND (t.requested_by = ?3 COLLATE NOCASE OR ?3 IS NULL)
           AND (t.requested_at >= ?4 OR ?4 IS NULL)
           AND (t.order_id = ?5 OR ?5 IS NULL)
           AND (CAST(t.card_number AS TEXT) = ?6 OR ?6 IS NULL
                OR (h.first_name || ' ' || h.last_name) LIKE '%' || ?6 || '%')
           AND (t.cardholder_id = ?7 OR ?7 IS NULL)
         ORDER BY t.id"
    ))?;
    let rows = stmt.query_map(
        params![
            f.state.map(|s| s.as_str()),
            f.format,
            f.requested_by,
            f.since,
            f.order_id,
            f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()),
            f.holder
        ],
        from_row,
    )?;
    rows.collect()
}

/// Active (assigned) temporary cards a cardholder holds.
pub fn held_by(conn: &Connection, cardholder_id: i64) -> crate::store::Result<u32> {
    conn.query_row(
        "SELECT count(*) FROM temp_card WHERE cardholder_id = ?1 AND state = 'assigned'",
        [cardholder_id],
        |r| r.get(0),
    )
}

// Every state change below is conditional on the state the caller read
// (`from`): it returns false, changing nothing, when another desk got there
// first, and the caller reports who did.

pub fn set_state(
    conn: &Connection,
    id: i64,
    from: TempCardState,
    state: TempCardState,
    error: Option<&str>,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE temp_card SET state = ?2, error = ?3, updated_at = ?4 WHERE id = ?1 AND state = ?5",
        params![id, state.as_str(), error, super::now(), from.as_str()],
    )?;
    Ok(n == 1)
}

/// Puts a requested card into an order (or, with `None`, takes it out);
/// only a card that is in `from_order` now.
pub fn set_order(
    conn: &Connection,
    id: i64,
    from_order: Option<i64>,
    order_id: Option<i64>,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE temp_card SET order_id = ?2, updated_at = ?3 WHERE id = ?1 AND order_id IS ?4",
        params![id, order_id, super::now(), from_order],
    )?;
    Ok(n == 1)
}

/// Records a successful production: state unassigned, validity, secrets.
#[allow(clippy::too_many_arguments)]
pub fn set_produced(
    conn: &Connection,
    id: i64,
    from: TempCardState,
    valid_until: &str,
    encoded: bool,
    pin_hash: Option<&str>,
    puk: Option<&str>,
) -> crate::store::Result<bool> {
    let now = super::now();
    let n = conn.execute(
        "UPDATE temp_card SET state = 'unassigned', error = NULL, produced_at = ?2,
                valid_until = ?3, encoded = ?4, pin_hash = ?5, puk = ?6, updated_at = ?2
          WHERE id = ?1 AND state = ?7",
        params![id, now, valid_until, encoded, pin_hash, puk, from.as_str()],
    )?;
    Ok(n == 1)
}

pub fn set_holder(
    conn: &Connection,
    id: i64,
    from: TempCardState,
    cardholder_id: Option<i64>,
) -> crate::store::Result<bool> {
    let now = super::now();
    let state = if cardholder_id.is_some() {
        "assigned"
    } else {
        "unassigned"
    };
    let n = conn.execute(
        "UPDATE temp_card SET state = ?2, cardholder_id = ?3,
                assigned_at = CASE WHEN CAST(?3 AS BIGINT) IS NULL THEN NULL ELSE ?4 END,
                assigned_until = NULL, updated_at = ?4
          WHERE id = ?1 AND state = ?5",
        params![id, state, cardholder_id, now, from.as_str()],
    )?;
    Ok(n == 1)
}

/// Sets the end of an assigned card's use (RFC 3339).
pub fn set_assigned_until(conn: &Connection, id: i64, until: &str) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE temp_card SET assigned_until = ?2 WHERE id = ?1 AND state = 'assigned'",
        params![id, until],
    )?;
    Ok(())
}

pub fn puk(conn: &Connection, id: i64) -> crate::store::Result<Option<String>> {
    conn.query_row("SELECT puk FROM temp_card WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
    .map(Option::flatten)
}

pub fn pin_hash(conn: &Connection, id: i64) -> crate::store::Result<Option<String>> {
    conn.query_row("SELECT pin_hash FROM temp_card WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .optional()
    .map(Option::flatten)
}

/// Card numbers already used by temporary cards of a format.
pub fn max_number(conn: &Connection) -> crate::store::Result<Option<i64>> {
    conn.query_row("SELECT max(card_number) FROM temp_card", (), |r| r.get(0))
}

pub struct NewOrder<'a> {
    pub printer: &'a str,
    pub encode: bool,
    pub reader: Option<&'a str>,
    pub pin_length: u8,
    pub puk_length: u8,
    pub cert_profiles: &'a [String],
    pub created_by: &'a str,
}

pub fn insert_order(conn: &Connection, o: &NewOrder) -> crate::store::Result<i64> {
    conn.execute(
        "INSERT INTO temp_order (status, printer, encode, reader, pin_length, puk_length,
                                 cert_profiles, created_by, created_at)
         VALUES ('open', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            o.printer,
            o.encode,
            o.reader,
            o.pin_length,
            o.puk_length,
            serde_json::to_string(o.cert_profiles).expect("strings serialise"),
            o.created_by,
            super::now()
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT_ORDER: &str = "SELECT id, status, printer, encode, reader, pin_length, puk_length,
        cert_profiles, created_by, created_at, closed_at FROM temp_order";

fn order_from_row(r: &crate::store::Row) -> crate::store::Result<TempOrder> {
    let profiles: String = r.get(7)?;
    Ok(TempOrder {
        id: r.get(0)?,
        status: OrderStatus::parse(&r.get::<_, String>(1)?),
        printer: r.get(2)?,
        encode: r.get(3)?,
        reader: r.get(4)?,
        pin_length: r.get(5)?,
        puk_length: r.get(6)?,
        cert_profiles: serde_json::from_str(&profiles).unwrap_or_default(),
        created_by: r.get(8)?,
        created_at: r.get(9)?,
        closed_at: r.get(10)?,
    })
}

pub fn get_order(conn: &Connection, id: i64) -> crate::store::Result<Option<TempOrder>> {
    conn.query_row(
        &format!("{SELECT_ORDER} WHERE id = ?1"),
        [id],
        order_from_row,
    )
    .optional()
}

/// Orders, newest first.
pub fn list_orders(conn: &Connection) -> crate::store::Result<Vec<TempOrder>> {
    let mut stmt = conn.prepare(&format!("{SELECT_ORDER} ORDER BY id DESC"))?;
    let rows = stmt.query_map((), order_from_row)?;
    rows.collect()
}

/// Closes an open order; false if it was no longer open.
pub fn close_order(conn: &Connection, id: i64, status: OrderStatus) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE temp_order SET status = ?2, closed_at = ?3 WHERE id = ?1 AND status = 'open'",
        params![id, status.as_str(), super::now()],
    )?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TempCertificate {
    pub id: i64,
    pub temp_card_id: i64,
    pub profile: String,
    pub serial: String,
    pub subject: String,
    pub cardholder_id: Option<i64>,
    pub pem: String,
    pub issued_at: String,
    pub not_after: String,
    pub revoked_at: Option<String>,
    pub revoke_reason: Option<String>,
}

pub struct NewCertificate<'a> {
    pub temp_card_id: i64,
    pub profile: &'a str,
    pub serial: &'a str,
    pub subject: &'a str,
    pub cardholder_id: Option<i64>,
    pub pem: &'a str,
    pub not_after: &'a str,
}

pub fn insert_certificate(conn: &Connection, c: &NewCertificate) -> crate::store::Result<i64> {
    conn.execute(
        "INSERT INTO temp_certificate (temp_card_id, profile, serial, subject, cardholder_id,
                                       pem, issued_at, not_after)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            c.temp_card_id,
            c.profile,
            c.serial,
            c.subject,
            c.cardholder_id,
            c.pem,
            super::now(),
            c.not_after
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT_CERT: &str = "SELECT id, temp_card_id, profile, serial, subject, cardholder_id, pem,
        issued_at, not_after, revoked_at, revoke_reason FROM temp_certificate";

fn cert_from_row(r: &crate::store::Row) -> crate::store::Result<TempCertificate> {
    Ok(TempCertificate {
        id: r.get(0)?,
        temp_card_id: r.get(1)?,
        profile: r.get(2)?,
        serial: r.get(3)?,
        subject: r.get(4)?,
        cardholder_id: r.get(5)?,
        pem: r.get(6)?,
        issued_at: r.get(7)?,
        not_after: r.get(8)?,
        revoked_at: r.get(9)?,
        revoke_reason: r.get(10)?,
    })
}

/// A card's certificates, oldest first.
pub fn certificates(
    conn: &Connection,
    temp_card_id: i64,
) -> crate::store::Result<Vec<TempCertificate>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT_CERT} WHERE temp_card_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([temp_card_id], cert_from_row)?;
    rows.collect()
}

/// Every revoked certificate, for the CRL.
pub fn revoked_certificates(conn: &Connection) -> crate::store::Result<Vec<TempCertificate>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT_CERT} WHERE revoked_at IS NOT NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map((), cert_from_row)?;
    rows.collect()
}

/// Revokes a card's valid certificates; returns how many.
pub fn revoke_certificates(
    conn: &Connection,
    temp_card_id: i64,
    reason: &str,
) -> crate::store::Result<usize> {
    conn.execute(
        "UPDATE temp_certificate SET revoked_at = ?2, revoke_reason = ?3
          WHERE temp_card_id = ?1 AND revoked_at IS NULL",
        params![temp_card_id, super::now(), reason],
    )
}

/// Records the chip UID of a temporary card's credential (after encoding).
pub fn set_credential_uid(
    conn: &Connection,
    credential_id: i64,
    uid: &str,
) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE credential SET uid = ?2 WHERE id = ?1",
        params![credential_id, uid],
    )?;
    Ok(())
}

pub fn id_for_credential(
    conn: &Connection,
    credential_id: i64,
) -> crate::store::Result<Option<i64>> {
    conn.query_row(
        "SELECT id FROM temp_card WHERE credential_id = ?1",
        [credential_id],
        |r| r.get(0),
    )
    .optional()
}
