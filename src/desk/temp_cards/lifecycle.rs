//! Assigned and in stock: assign a produced card to a cardholder, take it
//! back, lock, unlock, abort or expire it, and find a card by its chip UID.

use super::{get_card, setting_num, transition, SETTING_MAX_PER_PERSON};
use crate::desk::{snapshot, temp_certs, tx::Tx, Desk, DeskError, DeskResult, Session};
use crate::domain::temp_card::{self as rules, TempCardState};
use crate::domain::{CredentialState, Privilege};
use crate::store::{
    self,
    temp_cards::{TempCard, TempCardFilter},
};

impl Desk {
    /// Marks produced cards whose validity ran out as expired, and expires
    /// the credential of assigned cards whose holder's use has ended (the
    /// card stays assigned until it is taken back); returns how many.
    pub fn expire_temp_cards(&mut self, s: &Session) -> DeskResult<usize> {
        let now = chrono::Utc::now();
        let passed = |v: Option<&str>| {
            v.and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                .is_some_and(|v| rules::is_expired(v.to_utc(), now))
        };
        let cards = store::temp_cards::list(&self.conn, &TempCardFilter::default())?;
        let mut n = 0;
        for c in &cards {
            if !matches!(c.state, TempCardState::Unassigned | TempCardState::Assigned) {
                continue;
            }
            // One card that cannot be changed (another desk moved it a
            // moment ago) does not stop the rest.
            let done = if passed(c.valid_until.as_deref()) {
                self.change_temp_card_state(s, c.id, TempCardState::Expired)
                    .map(|_| true)
            } else if c.state == TempCardState::Assigned && passed(c.assigned_until.as_deref()) {
                self.end_temp_assignment(s, c.id)
            } else {
                Ok(false)
            };
            match done {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e @ DeskError::Forbidden { .. }) => return Err(e),
                Err(e) => tracing::warn!("{}: not expired: {e}", c.label()),
            }
        }
        Ok(n)
    }

    /// The holder's use of an assigned card has ended: its credential is
    /// expired (doors refuse it), holder kept. False if it already was.
    fn end_temp_assignment(&mut self, s: &Session, card_id: i64) -> DeskResult<bool> {
        self.require(s, Privilege::PrintCards, "change temporary cards")?;
        let tx = self.begin()?;
        let card = get_card(&tx, card_id)?;
        if card.state != TempCardState::Assigned
            || !store::credentials::set_state(
                &tx,
                card.credential_id,
                CredentialState::Active,
                CredentialState::Expired,
                card.cardholder_id,
            )?
        {
            return Ok(false);
        }
        tx.audit(
            s,
            "temp_card.assignment_ended",
            "temp_card",
            Some(card.id),
            Some(snapshot(&card)),
            Some(serde_json::json!({ "credential": "expired", "holder": card.holder_name })),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Lock, unlock (→ unassigned), abort or expire a card. The card's
    /// credential follows: locked → inactive, aborted → revoked,
    /// expired → expired, unlocked → unassigned. A holder loses the card.
    pub fn change_temp_card_state(
        &mut self,
        s: &Session,
        card_id: i64,
        to: TempCardState,
    ) -> DeskResult<TempCard> {
        self.require(s, Privilege::PrintCards, "change temporary cards")?;
        let tx = self.begin()?;
        let after = change_state(&tx, s, &get_card(&tx, card_id)?, to)?;
        tx.commit()?;
        Ok(after)
    }
}

/// Lock, unlock, abort or expire `card` (read in this transaction `tx`).
fn change_state(tx: &Tx, s: &Session, card: &TempCard, to: TempCardState) -> DeskResult<TempCard> {
    transition(card, to)?;
    let credential_state = match to {

            TempCardState::Locked => CredentialState::Inactive,
            TempCardState::Aborted => CredentialState::Revoked,
            TempCardState::Expired => CredentialState::Expired,
            TempCardState::Unassigned if card.state == TempCardState::Locked => {
                CredentialState::Unassigned
            }
            _ => {
                return Err(DeskError::invalid(
                    "temporary card state",
                    format!(
                        "{to} is reached through production, assignment or return, not set directly (lock, unlock, abort or expire)"
                    ),
                ))
            }
        };
    let moved = if card.cardholder_id.is_some() {
        store::temp_cards::set_holder(tx, card.id, card.state, None)?
            && store::temp_cards::set_state(tx, card.id, TempCardState::Unassigned, to, None)?
    } else {
        store::temp_cards::set_state(tx, card.id, card.state, to, None)?
    };
    if !moved {
        return Err(super::lost_race(tx, card.id)?);
    }
    store::credentials::set_holder(tx, card.credential_id, credential_state, None)?;
    store::temp_cards::revoke_certificates(tx, card.id, "cessation_of_operation")?;
    let after = store::temp_cards::get(tx, card.id)?.expect("exists");
    tx.audit(
        s,
        &format!("temp_card.{to}"),
        "temp_card",
        Some(card.id),
        Some(snapshot(card)),
        Some(snapshot(&after)),
    )?;
    Ok(after)
}

impl Desk {
    /// Assign a temporary card (unassigned, still valid) to a cardholder,
    /// within the per-person limit (setting `temp_card.max_per_person`,
    /// default 1; 0 = no limit), for use through the day `until` (none: as
    /// long as the card is valid). Then its credential expires and the card
    /// waits to be taken back.
    pub fn assign_temp_card(
        &mut self,
        s: &Session,
        card_id: i64,
        cardholder_id: i64,
        until: Option<chrono::NaiveDate>,
    ) -> DeskResult<TempCard> {
        self.require(s, Privilege::AnswerRequests, "assign temporary cards")?;
        // Everything is read inside the (immediate) transaction: two desks
        // assigning one card are served one after the other.
        let tx = self.begin()?;
        let card = get_card(&tx, card_id)?;
        if card.state == TempCardState::Assigned {
            return Err(super::lost_race(&tx, card.id)?);
        }
        transition(&card, TempCardState::Assigned)?;
        let holder = store::cardholders::get(&tx, cardholder_id)?.ok_or(DeskError::NotFound {
            what: "cardholder",
            id: cardholder_id.to_string(),
        })?;
        let card_until = card
            .valid_until
            .as_deref()
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
            .map(|v| v.to_utc());
        if let Some(until) = card_until {
            if rules::is_expired(until, chrono::Utc::now()) {
                change_state(&tx, s, &card, TempCardState::Expired)?;
                tx.commit()?;
                return Err(DeskError::invalid(
                    "temporary card",
                    format!(
                        "{} expired on {until}; it is now marked expired — pick another card",
                        card.label()
                    ),
                ));
            }
        }
        let use_until = rules::assignment_until(
            until.map(rules::end_of_local_day),
            card_until,
            chrono::Utc::now(),
        )
        .map_err(|e| DeskError::invalid("temporary card", format!("{}: {e}", card.label())))?;
        let limit: u32 = setting_num(&tx, SETTING_MAX_PER_PERSON, rules::DEFAULT_MAX_PER_PERSON)?;
        let held = store::temp_cards::held_by(&tx, cardholder_id)?;
        rules::check_holder_limit(held, limit).map_err(|e| {
            DeskError::invalid("temporary card", format!("{}: {e}", holder.full_name()))
        })?;
        if !store::temp_cards::set_holder(&tx, card.id, card.state, Some(cardholder_id))? {
            return Err(super::lost_race(&tx, card.id)?);
        }
        store::credentials::set_holder(
            &tx,
            card.credential_id,
            CredentialState::Active,
            Some(cardholder_id),
        )?;
        if let Some(u) = use_until {
            store::temp_cards::set_assigned_until(
                &tx,
                card.id,
                &u.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            )?;
        }
        // The card's certificates are re-issued bound to the holder too,
        // ending with the holder's use.
        let mut profiles: Vec<String> = Vec::new();
        let mut until = None;
        for c in store::temp_cards::certificates(&tx, card.id)? {
            if c.revoked_at.is_none() && !profiles.contains(&c.profile) {
                until = chrono::DateTime::parse_from_rfc3339(&c.not_after)
                    .ok()
                    .map(|v| v.to_utc());
                profiles.push(c.profile);
            }
        }
        if let Some(until) = until {
            let until = use_until.map_or(until, |u| u.min(until));
            store::temp_cards::revoke_certificates(&tx, card.id, "superseded")?;
            let until =
                time::OffsetDateTime::from_unix_timestamp(until.timestamp()).expect("a valid date");
            temp_certs::issue(
                &tx,
                &card,
                Some((cardholder_id, &holder.full_name())),
                &profiles,
                until,
            )?;
        }
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        tx.audit(
            s,
            "temp_card.assign",
            "temp_card",
            Some(card.id),
            Some(snapshot(&card)),
            Some(snapshot(&after)),
        )?;
        tx.commit()?;
        temp_certs::settle_key(&self.conn)?;
        Ok(after)
    }

    /// The temporary card whose chip has this UID (presented at a reader).
    pub fn temp_card_by_uid(&self, s: &Session, uid: &str) -> DeskResult<TempCard> {
        self.require(s, Privilege::ViewCredentials, "see temporary cards")?;
        let uid = crate::domain::card_format::normalize_uid(uid)?;
        let not_found = || DeskError::NotFound {
            what: "temporary card with UID",
            id: uid.clone(),
        };
        let credential =
            store::credentials::find_by_uid(&self.conn, &uid)?.ok_or_else(not_found)?;
        let id = store::temp_cards::id_for_credential(&self.conn, credential.id)?
            .ok_or_else(not_found)?;
        get_card(&self.conn, id)
    }

    /// Return a temporary card to stock: unassigned again, its certificates
    /// revoked.
    pub fn return_temp_card(&mut self, s: &Session, card_id: i64) -> DeskResult<TempCard> {
        self.require(s, Privilege::AnswerRequests, "take back temporary cards")?;
        let tx = self.begin()?;
        let card = get_card(&tx, card_id)?;
        if card.state != TempCardState::Assigned {
            // The rule, and who put it in its state (another desk, a moment
            // ago, or someone long before).
            let (by, at) =
                store::audit::last_change(&tx, "temp_card", card.id)?.unwrap_or_default();
            return Err(DeskError::invalid(
                "temporary card",
                format!(
                    "{} is {} (last changed by {by} at {at}); only assigned cards are returned",
                    card.label(),
                    card.state
                ),
            ));
        }
        if !store::temp_cards::set_holder(&tx, card.id, card.state, None)? {
            return Err(super::lost_race(&tx, card.id)?);
        }
        store::credentials::set_holder(&tx, card.credential_id, CredentialState::Unassigned, None)?;
        let revoked =
            store::temp_cards::revoke_certificates(&tx, card.id, "cessation_of_operation")?;
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        tx.record(
            &s.operator().name,
            "temp_card.return",
            "temp_card",
            Some(card.id),
            Some(&snapshot(&card)),
            Some(&{
                let mut a = snapshot(&after);
                a["certificates_revoked"] = revoked.into();
                a
            }),
        )?;
        tx.commit()?;
        Ok(after)
    }
}
