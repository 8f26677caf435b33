//! A desk transaction: the SQLite transaction every state change runs in,
//! with the site's keys at hand to seal the audit events it appends, and a
//! commit that anchors the newest event in the head file outside the
//! database once it is durable.

use super::keys::{sibling, SiteKeys};
use super::{DeskError, DeskResult, Session};
use crate::store::{self, audit::Head};
use crate::store::{Connection, Transaction};
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};

pub(crate) struct Tx<'a> {
    tx: Transaction<'a>,
    keys: &'a SiteKeys,
    /// The database's location: its head file is beside it.
    db: PathBuf,
    appended: RefCell<Option<Head>>,
    /// The operator whose standing this transaction has checked.
    checked: Cell<Option<i64>>,
}

impl std::ops::Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.tx
    }
}

impl<'a> Tx<'a> {
    /// Begins a writing transaction on `conn` (nested ones are not used;
    /// see [`Connection::begin`] for how writers are ordered).
    pub(crate) fn begin(conn: &'a Connection, keys: &'a SiteKeys, db: &Path) -> DeskResult<Tx<'a>> {
        Ok(Tx {
            tx: conn.begin()?,
            keys,
            db: db.to_path_buf(),
            appended: RefCell::new(None),
            checked: Cell::new(None),
        })
    }

    pub(crate) fn keys(&self) -> &SiteKeys {
        self.keys
    }

    /// Records what operator `s` did: every state change goes through here
    /// with its before and after (see `desk::snapshot`).
    pub(crate) fn audit(
        &self,
        s: &Session,
        action: &str,
        entity: &str,
        id: Option<i64>,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> DeskResult<()> {
        // The operator must still be active as this change commits: one
        // disabled meanwhile by another desk changes nothing more. Once per
        // transaction (the write lock is held, nothing changes after).
        let operator = s.operator().id;
        if self.checked.get() != Some(operator) {
            if !store::operators::standing(&self.tx, operator)?.is_some_and(|st| st.active) {
                return Err(DeskError::Disabled {
                    operator: s.name().to_string(),
                });
            }
            self.checked.set(Some(operator));
        }
        Ok(self.record(
            s.name(),
            action,
            entity,
            id,
            before.as_ref(),
            after.as_ref(),
        )?)
    }

    /// Records an event by `actor` (an operator's name, or "system").
    pub(crate) fn record(
        &self,
        actor: &str,
        action: &str,
        entity: &str,
        id: Option<i64>,
        before: Option<&serde_json::Value>,
        after: Option<&serde_json::Value>,
    ) -> crate::store::Result<()> {
        let head = store::audit::record(
            &self.tx,
            self.keys.audit_key(),
            actor,
            action,
            entity,
            id,
            before,
            after,
        )?;
        *self.appended.borrow_mut() = Some(head);
        Ok(())
    }

    /// Commits without moving the head file (the caller writes it itself).
    pub(crate) fn commit_without_anchor(self) -> DeskResult<()> {
        self.tx.commit()?;
        Ok(())
    }

    /// Commits, then names the newest event in the head file. A head left
    /// behind by a stop between the two is harmless: verification accepts
    /// keyed events after the head; only a head past the end is tampering.
    pub(crate) fn commit(self) -> DeskResult<()> {
        let head = self.appended.take();
        let (keys, db) = (self.keys, self.db);
        self.tx.commit()?;
        if let Some(head) = head {
            if let Err(e) = anchor(&db, keys, &head) {
                tracing::warn!("the audit head file could not be updated: {e}");
            }
        }
        Ok(())
    }
}

/// `<db>.audit-head`.
pub fn head_file_for(db: &Path) -> PathBuf {
    sibling(db, ".audit-head")
}

#[derive(serde::Serialize, serde::Deserialize)]
struct HeadFile {
    event: i64,
    hash: String,
    /// HMAC of the two above under the audit key: a hand-edited head shows.
    mac: String,
}

fn head_mac(keys: &SiteKeys, head: &Head) -> String {
    use hmac::{Hmac, Mac};
    let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(keys.audit_key()).expect("any key");
    m.update(format!("carddesk audit head {} {}", head.event, head.hash).as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Reads the head file: Ok(None) when there is none.
pub(crate) fn read_head(db: &Path, keys: &SiteKeys) -> DeskResult<Option<Head>> {
    let path = head_file_for(db);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(DeskError::Keys(format!("{}: {e}", path.display()))),
    };
    let damaged = || DeskError::AuditBroken {
        id: 0,
        reason: format!(
            "the head file {} is damaged or was edited by hand",
            path.display()
        ),
    };
    let f: HeadFile = serde_json::from_str(&text).map_err(|_| damaged())?;
    let head = Head {
        event: f.event,
        hash: f.hash,
    };
    if head_mac(keys, &head) != f.mac {
        return Err(damaged());
    }
    Ok(Some(head))
}

/// Moves the head file forward to `head` unless it already names a newer
/// event (writers commit in order, but may reach here out of order). A
/// missing or damaged head file is left as it is: re-creating it here would
/// hide rows cut off the end; `audit verify` reports it, and an
/// administrator re-anchors (audited) once they know why.
pub(crate) fn anchor(db: &Path, keys: &SiteKeys, head: &Head) -> DeskResult<()> {
    let _lock = store::DbLock::take(db)?;
    match read_head(db, keys)? {
        Some(current) if current.event >= head.event => Ok(()),
        Some(_) => write_head(db, keys, head),
        None => Err(DeskError::AuditBroken {
            id: head.event,
            reason: format!(
                "the head file {} is missing; not re-created (see `carddesk audit re-anchor`)",
                head_file_for(db).display()
            ),
        }),
    }
}

/// Sets the head file to `head`, newer or not (after keying a trail or a
/// restore, which the audit trail records).
pub(crate) fn write_head(db: &Path, keys: &SiteKeys, head: &Head) -> DeskResult<()> {
    let file = HeadFile {
        event: head.event,
        hash: head.hash.clone(),
        mac: head_mac(keys, head),
    };
    let path = head_file_for(db);
    crate::store::files::replace_private(
        &path,
        serde_json::to_string(&file).expect("serialises").as_bytes(),
    )
    .map_err(|e| DeskError::Keys(format!("{}: {e}", path.display())))
}
