//! Credentials: registering cards into stock, and their life after issue:
//! reported lost, stolen or damaged (with a replacement request in the same
//! step), deactivated and reactivated, returned to stock, revoked, expired.
//! The allowed moves are `domain::credential`'s.

use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::{CredentialState, FormatError, Privilege};
use crate::store::{self, credentials::Credential, requests::RequestFields};
use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// What an operator does to an issued card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialAction {
    ReportLost,
    ReportStolen,
    /// Broken or worn out: taken out of service (revoked), its reason kept.
    ReportDamaged,
    Deactivate,
    Reactivate,
    /// Came back intact: in stock again, held by nobody.
    Return,
    Revoke,
}

impl CredentialAction {
    pub const ALL: [CredentialAction; 7] = [
        Self::ReportLost,
        Self::ReportStolen,
        Self::ReportDamaged,
        Self::Deactivate,
        Self::Reactivate,
        Self::Return,
        Self::Revoke,
    ];

    /// The state the card ends in.
    pub fn target(self) -> CredentialState {
        match self {
            Self::ReportLost => CredentialState::Lost,
            Self::ReportStolen => CredentialState::Stolen,
            Self::ReportDamaged | Self::Revoke => CredentialState::Revoked,
            Self::Deactivate => CredentialState::Inactive,
            Self::Reactivate => CredentialState::Active,
            Self::Return => CredentialState::Unassigned,
        }
    }

    /// Lost, stolen and damaged cards are reported with a reason, and may
    /// be replaced in the same step.
    pub fn is_report(self) -> bool {
        matches!(
            self,
            Self::ReportLost | Self::ReportStolen | Self::ReportDamaged
        )
    }

    /// The name in the audit trail and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReportLost => "lost",
            Self::ReportStolen => "stolen",
            Self::ReportDamaged => "damaged",
            Self::Deactivate => "inactive",
            Self::Reactivate => "active",
            Self::Return => "returned",
            Self::Revoke => "revoked",
        }
    }

    /// Whether a card in `state` can take this action: the move must be
    /// one `domain::credential` allows, and reports concern cards in use
    /// (active or inactive), reactivation an inactive card (a card in
    /// stock is handed out through a request, not reactivated).
    pub fn allowed_from(self, state: CredentialState) -> bool {
        use CredentialState::{Active, Inactive};
        let in_use = matches!(state, Active | Inactive);
        state.can_transition_to(self.target())
            && match self {
                Self::ReportLost | Self::ReportStolen | Self::ReportDamaged => in_use,
                Self::Reactivate => state == Inactive,
                _ => true,
            }
    }
}

impl FromStr for CredentialAction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s || (s == "return" && *a == Self::Return))
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a credential state to set (one of: {})",
                    Self::ALL.map(|a| a.as_str()).join(", ")
                )
            })
    }
}

/// A state change and the replacement request it raised, if any.
#[derive(Debug, Clone)]
pub struct StateChanged {
    pub credential: Credential,
    pub replacement_request: Option<i64>,
}

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

    /// Reports, deactivates, reactivates, returns or revokes a card, in one
    /// transaction with its audit record; for a lost, stolen or damaged card
    /// `replace` also raises a pending request for a new card for the same
    /// holder (reason prefilled).
    pub fn change_credential_state(
        &mut self,
        s: &Session,
        id: i64,
        action: CredentialAction,
        reason: Option<&str>,
        replace: bool,
    ) -> DeskResult<StateChanged> {
        self.require(s, Privilege::ManageCredentials, "change credential states")?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if action.is_report() && reason.is_none() {
            return Err(DeskError::invalid(
                "reason",
                format!(
                    "say how the card was {} (e.g. where and when)",
                    action.as_str()
                ),
            ));
        }
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(DeskError::invalid("reason", "at most 500 characters"));
        }
        if replace && !action.is_report() {
            return Err(DeskError::invalid(
                "replacement",
                "only a lost, stolen or damaged card is replaced",
            ));
        }
        if replace {
            self.require(s, Privilege::ManageCardholders, "request cards")?;
        }
        let tx = self.begin()?;
        super::auth::require(
            &tx,
            s,
            Privilege::ManageCredentials,
            "change credential states",
        )?;
        let before = store::credentials::get(&tx, id)?.ok_or(DeskError::NotFound {
            what: "credential",
            id: id.to_string(),
        })?;
        if let Some(card) = store::temp_cards::id_for_credential(&tx, id)? {
            return Err(DeskError::TemporaryCard {
                credential: before.label(),
                card,
            });
        }
        if !action.allowed_from(before.state) {
            let allowed: Vec<&str> = CredentialAction::ALL
                .into_iter()
                .filter(|a| a.allowed_from(before.state))
                .map(|a| a.as_str())
                .collect();
            return Err(DeskError::invalid(
                "credential",
                format!(
                    "{} is {}; it cannot be made {} ({})",
                    before.label(),
                    before.state,
                    action.as_str(),
                    if allowed.is_empty() {
                        "nothing can be done with it any more".to_string()
                    } else {
                        format!(
                            "from {} it can be made: {}",
                            before.state,
                            allowed.join(", ")
                        )
                    }
                ),
            ));
        }
        if let Some(request) = store::requests::pending_with_credential(&tx, id)? {
            return Err(DeskError::invalid(
                "credential",
                format!(
                    "{} is connected to pending card request {request}; connect another card \
                     to that request or deny it first",
                    before.label()
                ),
            ));
        }
        let holder = match action {
            CredentialAction::Return => None,
            _ => before.cardholder_id,
        };
        if action == CredentialAction::Reactivate && holder.is_none() {
            return Err(DeskError::invalid(
                "credential",
                format!("{} has no holder to reactivate it for", before.label()),
            ));
        }
        if !store::credentials::set_state(&tx, id, before.state, action.target(), holder)? {
            return Err(super::conflict(
                &tx,
                "credential",
                "credential",
                id,
                before.state,
            ));
        }
        let after = store::credentials::get(&tx, id)?.expect("exists");
        let mut recorded = snapshot(&after);
        if let Some(r) = reason {
            recorded["reason"] = r.into();
        }
        tx.audit(
            s,
            &format!("credential.{}", action.as_str()),
            "credential",
            Some(id),
            Some(snapshot(&before)),
            Some(recorded),
        )?;
        let replacement_request = match (replace, before.cardholder_id) {
            (true, Some(holder)) => {
                let template = store::requests::for_cardholder(&tx, holder)?
                    .first()
                    .map(|r| r.badge_template.clone())
                    .unwrap_or_else(|| "Standard".into());
                let fields = RequestFields {
                    reason: format!(
                        "Replacement for {} ({}): {}",
                        before.label(),
                        action.as_str(),
                        reason.unwrap_or_default()
                    ),
                    badge_template: template,
                    notify_requester: false,
                    ship_to_site_id: None,
                };
                Some(super::requests::insert_request(&tx, s, holder, &fields)?)
            }
            (true, None) => {
                return Err(DeskError::invalid(
                    "replacement",
                    format!("{} has no holder to replace it for", before.label()),
                ))
            }
            (false, _) => None,
        };
        tx.commit()?;
        Ok(StateChanged {
            credential: after,
            replacement_request,
        })
    }

    /// Expires the active and inactive cards of cardholders whose expiry
    /// date has passed (one transaction, an event per card). Returns them.
    pub fn expire_due_credentials(&mut self, s: &Session) -> DeskResult<Vec<Credential>> {
        self.require(s, Privilege::ManageCredentials, "expire credentials")?;
        let today = chrono::Local::now().format("%Y-%m-%d").to_string();
        let tx = self.begin()?;
        let mut expired = Vec::new();
        for before in store::credentials::due_to_expire(&tx, &today)? {
            if store::temp_cards::id_for_credential(&tx, before.id)?.is_some() {
                continue; // temporary cards expire by their own validity
            }
            if !store::credentials::set_state(
                &tx,
                before.id,
                before.state,
                CredentialState::Expired,
                before.cardholder_id,
            )? {
                continue;
            }
            let after = store::credentials::get(&tx, before.id)?.expect("exists");
            tx.audit(
                s,
                "credential.expired",
                "credential",
                Some(before.id),
                Some(snapshot(&before)),
                Some(snapshot(&after)),
            )?;
            expired.push(after);
        }
        tx.commit()?;
        Ok(expired)
    }
}
