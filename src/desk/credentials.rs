use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::{CredentialState, FormatError, Privilege};
use crate::store::{self, credentials::Credential};

impl Desk {
    /// Registers a card into stock (unassigned) from its format's fields,
    /// e.g. a box of pre-printed cards.
    pub fn register_credential(
        &mut self,
        s: &Session,
        format: &str,
        fields: &[(String, String)],
    ) -> DeskResult<Credential> {
        self.require(s, Privilege::AnswerRequests, "register credentials")?;
        let f = store::formats::get(&self.conn, format)?
            .ok_or_else(|| FormatError::UnknownFormat(format.to_string()))?;
        let values = f.parse_fields(fields)?;
        let bits = f.encode(&values)?;
        let tx = self.begin()?;
        if let Some(existing) = store::credentials::find_by_value(&tx, f.name(), &bits)? {
            return Err(DeskError::DuplicateCredential {
                credential: existing.label(),
                id: existing.id,
                state: existing.state,
            });
        }
        let id = store::credentials::insert(
            &tx,
            &store::credentials::NewCredential {
                format: f.name(),
                value: &bits,
                fields: &f.fields_json(&values),
                uid: None,
                state: CredentialState::Unassigned,
                cardholder_id: None,
            },
        )?;
        let after = store::credentials::get(&tx, id)?.expect("just inserted");
        tx.audit(
            s,
            "credential.register",
            "credential",
            Some(id),
            None,
            Some(snapshot(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    }
}
