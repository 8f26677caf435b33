//! What an operator can do: one method per action. Each checks the operator's
//! privilege, validates, writes in ONE transaction with its audit record, and
//! queues mail in the outbox. The UI and the CLI both call these and nothing
//! else changes data.

mod auth;
mod backup;
mod badges;
mod cardholders;
mod credentials;
mod demo;
mod enrolment;
mod error;
mod import;
mod mail;
mod notification;
mod requests;
mod temp_cards;
mod temp_certs;

pub use auth::{NewOperatorInput, Session};
pub use backup::restore;
pub use badges::PreparedPrint;
pub use cardholders::{read_photo, CardholderInput};
pub use error::{DeskError, DeskResult};
pub use import::ImportReport;
pub use mail::TEST_SUBJECT;
pub use requests::{Assigned, ConnectCard, Enrolment};
pub use temp_cards::{IssueOptions, PinLetter, Produced, Progress, TempCardRequest};

use crate::store;
use rusqlite::Connection;
use std::path::Path;

pub struct Desk {
    conn: Connection,
}

impl Desk {
    /// Opens (creating and migrating) the database file.
    pub fn open(path: &Path) -> DeskResult<Desk> {
        Ok(Desk {
            conn: store::open(path)?,
        })
    }

    /// Walks the audit hash chain: the number of events, or where it breaks.
    pub fn verify_audit(&self) -> DeskResult<u64> {
        store::audit::verify(&self.conn)?.map_err(|b| DeskError::AuditBroken {
            id: b.id,
            reason: b.reason,
        })
    }

    /// Read-only access for lists and queries. Writes go through actions.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Serialises a row for the audit trail's before/after columns.
fn snapshot<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("store rows serialise")
}
