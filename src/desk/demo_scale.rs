//! A large demo site on demand (`carddesk --demo demo generate`): tens of
//! thousands of cardholders, their cards and a long request history, for
//! trying and measuring the desk at the size of an airport or a hospital.
//! Demo databases only; written in one transaction with one audit record
//! (the rows are bulk data, not operator actions).

use super::demo::{DEPARTMENTS, FIRST, LAST};
use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::{builtin_formats, Privilege};
use crate::store::bulk::BulkInsert;
use crate::store::Value;
use serde::Serialize;

/// How much to add.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ScaleSpec {
    pub cardholders: u64,
    /// Cards: one active per cardholder first, the rest revoked (old cards).
    pub credentials: u64,
    /// Requests answered (completed) in the past.
    pub requests: u64,
    /// Requests still pending.
    pub pending: u64,
    /// A photo on every fifth new cardholder.
    pub photos: bool,
}

impl Desk {
    /// Adds `spec`'s rows to this demo database; returns how many of each
    /// it now holds.
    pub fn generate_demo(&mut self, s: &Session, spec: &ScaleSpec) -> DeskResult<ScaleSpec> {
        self.require(s, Privilege::ManageDatabase, "generate demo data")?;
        if !self.is_demo()? {
            return Err(DeskError::invalid(
                "demo data",
                "is generated only into a database created with --demo",
            ));
        }
        let h10301 = builtin_formats()
            .into_iter()
            .find(|f| f.name() == "H10301")
            .expect("built in");
        let tx = self.begin()?;
        let now = chrono::Utc::now();
        let stamp = |minutes_ago: u64| {
            (now - chrono::Duration::minutes(minutes_ago as i64))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let count = |table: &str| -> crate::store::Result<u64> {
            tx.query_row(&format!("SELECT count(*) FROM {table}"), (), |r| {
                r.get::<_, i64>(0).map(|n| n as u64)
            })
        };
        let before_holders = count("cardholder")?;
        let before_cards = count("credential")?;
        let photo = include_bytes!("../../assets/demo-photo.png").as_slice();
        {
            let mut insert = BulkInsert::new(
                &tx,
                "cardholder",
                &[
                    "first_name",
                    "last_name",
                    "email",
                    "department",
                    "activation",
                    "expiry",
                    "photo",
                    "photo_mime",
                    "created_at",
                ],
            );
            for i in 0..spec.cardholders {
                let n = before_holders + i;
                let first = FIRST[(n % FIRST.len() as u64) as usize];
                let last = LAST[((n / FIRST.len() as u64) % LAST.len() as u64) as usize];
                let email = format!(
                    "{}.{}{n}@example.org",
                    first.to_lowercase(),
                    last.to_lowercase().replace(' ', "")
                );
                let with_photo = spec.photos && n % 5 == 0;
                insert.row(vec![
                    text(first),
                    text(last),
                    text(&email),
                    text(DEPARTMENTS[(n % DEPARTMENTS.len() as u64) as usize]),
                    text("2026-01-01"),
                    text("2028-12-31"),
                    if with_photo {
                        Value::Blob(photo.to_vec())
                    } else {
                        Value::Null
                    },
                    if with_photo {
                        text("image/png")
                    } else {
                        Value::Null
                    },
                    text(&stamp(spec.cardholders - i)),
                ])?;
            }
            insert.flush()?;
        }
        let holders: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM cardholder ORDER BY id")?;
            let ids = stmt.query_map((), |r| r.get(0))?;
            ids.collect::<crate::store::Result<_>>()?
        };
        if holders.is_empty() && (spec.credentials > 0 || spec.requests + spec.pending > 0) {
            return Err(DeskError::invalid(
                "demo data",
                "cards and requests need cardholders: add --cardholders",
            ));
        }
        {
            let mut insert = BulkInsert::new(
                &tx,
                "credential",
                &[
                    "format",
                    "value",
                    "fields",
                    "state",
                    "cardholder_id",
                    "created_at",
                ],
            );
            for j in 0..spec.credentials {
                // Facility codes from 100 up, 65 536 cards each: unique.
                let n = before_cards + j;
                let (facility, card) = (100 + n / 65_536, n % 65_536);
                if facility > 255 {
                    return Err(DeskError::invalid(
                        "demo data",
                        "at most 10 223 616 H10301 cards fit the demo's facility codes",
                    ));
                }
                let values = [
                    ("facility".to_string(), facility),
                    ("card".to_string(), card),
                ]
                .into_iter()
                .collect();
                let bits = h10301.encode(&values)?;
                let holder = holders[(n % holders.len() as u64) as usize];
                // Each cardholder's first card is active, later ones were
                // replaced (revoked).
                let state = if n < holders.len() as u64 {
                    "active"
                } else {
                    "revoked"
                };
                insert.row(vec![
                    text("H10301"),
                    text(&bits),
                    text(&h10301.fields_json(&values).to_string()),
                    text(state),
                    Value::Integer(holder),
                    text(&stamp(spec.credentials - j)),
                ])?;
            }
            insert.flush()?;
        }
        // The new cards: the highest ids (this transaction writes alone).
        let cards: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT id FROM credential ORDER BY id DESC LIMIT ?1")?;
            let ids = stmt.query_map([spec.credentials as i64], |r| r.get(0))?;
            let mut ids = ids.collect::<crate::store::Result<Vec<i64>>>()?;
            ids.reverse();
            ids
        };
        let operator = s.operator().id;
        {
            let mut insert = BulkInsert::new(
                &tx,
                "card_request",
                &[
                    "cardholder_id",
                    "requester_id",
                    "created_at",
                    "reason",
                    "status",
                    "credential_id",
                    "answered_by",
                    "answered_at",
                ],
            );
            if spec.requests > 0 && cards.is_empty() {
                return Err(DeskError::invalid(
                    "demo data",
                    "completed requests need cards: add --credentials",
                ));
            }
            let total = spec.requests + spec.pending;
            for k in 0..total {
                let holder = holders[(k % holders.len() as u64) as usize];
                let at = stamp(2 * (total - k));
                if k < spec.requests {
                    let card = cards[(k % cards.len() as u64) as usize];
                    insert.row(vec![
                        Value::Integer(holder),
                        Value::Integer(operator),
                        text(&at),
                        text("New employee"),
                        text("completed"),
                        Value::Integer(card),
                        Value::Integer(operator),
                        text(&stamp(2 * (total - k) - 1)),
                    ])?;
                } else {
                    insert.row(vec![
                        Value::Integer(holder),
                        Value::Integer(operator),
                        text(&at),
                        text("Card not yet printed"),
                        text("pending"),
                        Value::Null,
                        Value::Null,
                        Value::Null,
                    ])?;
                }
            }
            insert.flush()?;
        }
        let after = ScaleSpec {
            cardholders: count("cardholder")?,
            credentials: count("credential")?,
            requests: tx.query_row(
                "SELECT count(*) FROM card_request WHERE status <> 'pending'",
                (),
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )?,
            pending: tx.query_row(
                "SELECT count(*) FROM card_request WHERE status = 'pending'",
                (),
                |r| r.get::<_, i64>(0).map(|n| n as u64),
            )?,
            photos: spec.photos,
        };
        tx.audit(
            s,
            "demo.generate",
            "database",
            None,
            None,
            Some(serde_json::json!({ "added": spec, "now": after })),
        )?;
        tx.commit()?;
        Ok(after)
    }
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}
