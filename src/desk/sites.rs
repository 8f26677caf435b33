//! Sites: the places a card can be shipped to.

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store;

impl Desk {
    pub fn add_site(&mut self, s: &Session, name: &str) -> DeskResult<i64> {
        self.require(s, Privilege::ManageSettings, "add sites")?;
        if name.trim().is_empty() {
            return Err(DeskError::invalid("site name", "must not be empty"));
        }
        if store::sites::find(&self.conn, name)?.is_some() {
            return Err(DeskError::invalid(
                "site name",
                format!("a site called {:?} already exists", name.trim()),
            ));
        }
        let tx = self.begin()?;
        let id = store::sites::insert(&tx, name)?;
        tx.record(
            &s.operator().name,
            "site.create",
            "site",
            Some(id),
            None,
            Some(&serde_json::json!({"name": name.trim()})),
        )?;
        tx.commit()?;
        Ok(id)
    }
}
