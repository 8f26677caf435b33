//! The first-run set-up's place in the database: a site set up in the
//! window has its printers and mail server still to see to until its
//! administrator finishes the set-up, so a restart half-way resumes it
//! instead of leaving those steps forgotten.

use super::{Desk, DeskResult, Session};
use crate::domain::Privilege;
use crate::store;

const PENDING: &str = "setup.pending";

impl Desk {
    /// Notes that the set-up's later steps are still to be done (called
    /// right after the window created the first administrator).
    pub(super) fn begin_set_up(&mut self, s: &Session) -> DeskResult<()> {
        let tx = self.begin()?;
        store::settings::set(&tx, PENDING, "printers, mail")?;
        tx.record(s.name(), "setup.started", "setting", None, None, None)?;
        tx.commit()?;
        Ok(())
    }

    /// Whether the set-up still waits for its later steps (for whoever may
    /// change the settings; others are never shown it).
    pub fn set_up_pending(&self, s: &Session) -> DeskResult<bool> {
        self.require(s, Privilege::ManageSettings, "see the set-up")?;
        Ok(store::settings::get(&self.conn, PENDING)?.is_some())
    }

    /// The operator finished (or left) the set-up: it is not shown again.
    pub fn finish_set_up(&mut self, s: &Session) -> DeskResult<()> {
        self.require(s, Privilege::ManageSettings, "finish the set-up")?;
        let tx = self.begin()?;
        if store::settings::get(&tx, PENDING)?.is_some() {
            store::settings::delete(&tx, PENDING)?;
            tx.record(s.name(), "setup.finished", "setting", None, None, None)?;
        }
        tx.commit()?;
        Ok(())
    }
}
