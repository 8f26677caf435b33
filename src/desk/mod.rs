//! What an operator can do: one method per action. Each checks the operator's
//! privilege, validates, writes in ONE transaction with its audit record, and
//! queues mail in the outbox. The UI and the CLI both call these and nothing
//! else changes data.

mod auth;
mod backup;
mod badges;
mod card_formats;
mod cardholders;
mod command;
mod credentials;
mod demo;
mod demo_scale;
pub mod doctor;
mod door_readers;
mod enrolment;
mod error;
mod execute;
mod first_run;
mod import;
pub mod job;
pub mod keys;
mod mail;
mod migrate;
mod notification;
mod operators;
pub mod outbox;
pub mod paths;
mod print_jobs;
mod printers;
mod queries;
mod requests;
mod setup;
mod sites;
pub mod station;
mod temp_cards;
mod temp_certs;
mod tx;

pub use auth::{FirstAdmin, LoginPolicy, NewOperatorInput, Session};
pub use backup::restore;
pub use badges::BadgeOf;
pub use cardholders::{read_photo, CardholderInput, CardholderRecord};
pub use command::{DeskCommand, DeskOutcome, NamedPreview};
pub use credentials::{CredentialAction, StateChanged};
pub use demo::DEMO_OPERATOR;
pub use demo_scale::ScaleSpec;
pub use door_readers::{parse_scbk, NewDoorReader, BAUD_RATES};
pub use error::{DeskError, DeskResult};
pub use import::ImportReport;
pub use mail::TEST_SUBJECT;
pub use migrate::Migration;
pub use print_jobs::{PreparedPrint, PrintProgress};
pub use printers::PrinterChoice;
pub use queries::{Page, PageRequest, MAX_PAGE};
pub use requests::{Assigned, ConnectCard, Enrolment};
pub use temp_cards::{
    pin_letters_document, IssueOptions, PinLetter, Produced, Progress, TempCardRequest,
};

// The values desk's actions and queries speak in: faces name them through
// desk, the one door.
pub use crate::domain::temp_card::{
    DEFAULT_PIN_LENGTH, DEFAULT_PUK_LENGTH, PIN_LENGTHS, PUK_LENGTHS,
};
pub use crate::domain::{
    builtin_formats, CardFormat, CredentialState, FormatError, OutboxStatus, Privilege,
    RequestStatus, Role, Secret, Security, SmtpSettings, TempCardState, UID_FORMAT,
};

// The rows the desk hands to its faces. They are plain values; the faces
// name them through desk and never reach into the store.
pub use crate::store::audit::AuditEvent;
pub use crate::store::cardholders::Cardholder;
pub use crate::store::changes::{changed as changed_tables, Counters as ChangeCounters};
pub use crate::store::credentials::Credential;
pub use crate::store::door_readers::DoorReader;
pub use crate::store::operators::Operator;
pub use crate::store::outbox::{OutboxCounts, OutboxMessage};
pub use crate::store::print_jobs::{PrintJob, PrintStatus};
pub use crate::store::requests::{CardRequest, RequestFields};
pub use crate::store::sites::Site;
pub use crate::store::temp_cards::{
    OrderStatus, TempCard, TempCardFilter, TempCertificate, TempOrder,
};

/// Owner-only files around the database (faces set the umask and report
/// loosened modes through desk).
pub use crate::store::files;

use crate::store;
use crate::store::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tx::Tx;

/// The one door to the data: it owns its database connection and the
/// site's keys, and every read and write is a method that takes the
/// operator's session.
pub struct Desk {
    conn: Connection,
    keys: Arc<keys::SiteKeys>,
    path: PathBuf,
}

impl Desk {
    /// Opens the database file, creating and migrating it, and its key file
    /// (made for a new database). Do this once at start-up, before any other
    /// thread opens it (see [`Desk::connect`]).
    pub fn open(path: &Path) -> DeskResult<Desk> {
        Self::open_noting_upgrade(path).map(|(desk, _)| desk)
    }

    /// [`Desk::open`], also saying whether it upgraded the database (and
    /// where the copy from before is), for the window to tell.
    pub fn open_noting_upgrade(path: &Path) -> DeskResult<(Desk, Option<store::Upgrade>)> {
        let (conn, upgrade) = store::open_noting_upgrade(path)?;
        let keys = setup::keys_for(&conn, path)?;
        let desk = Desk {
            conn,
            keys: Arc::new(keys),
            path: path.to_path_buf(),
        };
        Ok((desk, upgrade))
    }

    /// A second connection to a database [`Desk::open`] has prepared: for
    /// worker threads and jobs. Never migrates.
    pub fn connect(path: &Path) -> DeskResult<Desk> {
        let conn = store::connect(path)?;
        let recorded = store::settings::get(&conn, keys::FINGERPRINT_SETTING)?;
        if recorded.is_none() {
            return Err(DeskError::Keys(format!(
                "{} has no site keys yet; start CardDesk on it once so it can set them up",
                path.display()
            )));
        }
        let keys = keys::SiteKeys::for_database(path, recorded.as_deref())?;
        Ok(Desk {
            conn,
            keys: Arc::new(keys),
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Begins the transaction of one state change (see [`Tx`]).
    fn begin(&mut self) -> DeskResult<Tx<'_>> {
        Tx::begin(&self.conn, &self.keys, &self.path)
    }

    /// Checks that `s`'s operator may still do `action`, as the database
    /// says now: a disabled or re-roled operator's next action fails at once.
    fn require(&self, s: &Session, privilege: Privilege, action: &'static str) -> DeskResult<()> {
        auth::require(&self.conn, s, privilege, action)
    }
}

/// The loser of a race: `what` `id` is already in `state`, changed by whoever
/// the audit trail names last for it. Nothing was changed.
fn conflict(
    conn: &Connection,
    what: &'static str,
    entity: &str,
    id: i64,
    state: impl std::fmt::Display,
) -> DeskError {
    let (by, at) = store::audit::last_change(conn, entity, id)
        .ok()
        .flatten()
        .unwrap_or_else(|| ("another desk".into(), "just now".into()));
    DeskError::Conflict {
        what,
        id,
        state: state.to_string(),
        by,
        at,
    }
}

/// Serialises a row for the audit trail's before/after columns.
fn snapshot<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("store rows serialise")
}
