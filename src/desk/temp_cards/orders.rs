//! Requesting a stock of temporary cards and the batch orders that produce
//! them: check the order's options, issue requested cards into an open
//! order, then complete or cancel it.

use super::numbering::{free_number, next_number};
use super::{
    get_card, get_order, setting, setting_num, transition, IssueOptions, TempCardRequest,
    DEFAULT_FIRST_NUMBER, DEFAULT_FORMAT, DEFAULT_TEMPLATE, MAX_REQUEST, SETTING_FACILITY,
    SETTING_FIRST_NUMBER, SETTING_FORMAT, SETTING_TEMPLATE,
};
use crate::desk::conflict;
use crate::desk::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::temp_card::{self as rules, TempCardState};
use crate::domain::{CardFormat, CredentialState, Privilege};
use crate::store::{
    self,
    credentials::NewCredential,
    temp_cards::{NewOrder, NewTempCard, OrderStatus, TempCard, TempOrder},
};

impl Desk {
    /// Creates `count` temporary cards in state requested, each with its
    /// own card number (a credential in stock).
    pub fn request_temp_cards(
        &mut self,
        s: &Session,
        r: &TempCardRequest,
    ) -> DeskResult<Vec<TempCard>> {
        self.require(s, Privilege::PrintCards, "request temporary cards")?;
        if r.count == 0 || r.count > MAX_REQUEST {
            return Err(DeskError::invalid(
                "count",
                format!("{} is not allowed (1 to {MAX_REQUEST} cards)", r.count),
            ));
        }
        let format_name = match &r.format {
            Some(f) if !f.trim().is_empty() => f.trim().to_string(),
            _ => setting(&self.conn, SETTING_FORMAT)?.unwrap_or_else(|| DEFAULT_FORMAT.into()),
        };
        let format = store::formats::get(&self.conn, &format_name)?.ok_or_else(|| {
            let known = store::formats::list(&self.conn)
                .map(|l| {
                    l.iter()
                        .filter(|f| matches!(f, CardFormat::Wiegand(_)))
                        .map(|f| f.name().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            DeskError::invalid(
                "card format",
                format!("{format_name:?} does not exist (formats: {known})"),
            )
        })?;
        if !matches!(format, CardFormat::Wiegand(_)) {
            return Err(DeskError::invalid(
                "card format",
                format!(
                    "{} cannot be used for temporary cards: its number is the chip's UID; choose a Wiegand format such as H10301",
                    format.name()
                ),
            ));
        }
        let template = match &r.template {
            Some(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => setting(&self.conn, SETTING_TEMPLATE)?.unwrap_or_else(|| DEFAULT_TEMPLATE.into()),
        };
        let template = self.badge_template(s, &template)?.name;
        let facility: u64 = setting_num(&self.conn, SETTING_FACILITY, 0)?;
        let first: i64 = setting_num(&self.conn, SETTING_FIRST_NUMBER, DEFAULT_FIRST_NUMBER)?;
        let tx = self.begin()?;
        let mut number = next_number(&tx, first)?;
        let mut ids = Vec::new();
        for _ in 0..r.count {
            let (values, bits) = free_number(&tx, &format, facility, &mut number)?;
            let credential_id = store::credentials::insert(
                &tx,
                &NewCredential {
                    format: format.name(),
                    value: &bits,
                    fields: &format.fields_json(&values),
                    uid: None,
                    state: CredentialState::Unassigned,
                    cardholder_id: None,
                },
            )?;
            let id = store::temp_cards::insert(
                &tx,
                &NewTempCard {
                    credential_id,
                    card_number: number,
                    template: &template,
                    note: r.note.trim(),
                    requested_by: &s.operator().name,
                },
            )?;
            let card = store::temp_cards::get(&tx, id)?.expect("just inserted");
            tx.audit(
                s,
                "temp_card.request",
                "temp_card",
                Some(id),
                None,
                Some(snapshot(&card)),
            )?;
            ids.push(id);
            number += 1;
        }
        tx.commit()?;
        ids.into_iter().map(|id| get_card(&self.conn, id)).collect()
    }

    /// Checks an order's options: PIN/PUK lengths, encoder, certificates.
    pub fn check_issue_options(&self, o: &IssueOptions) -> DeskResult<()> {
        if o.printer.trim().is_empty() {
            return Err(DeskError::invalid("printer", "choose a printer"));
        }
        rules::check_pin_length(o.pin_length).map_err(|e| DeskError::invalid("PIN length", e))?;
        rules::check_puk_length(o.puk_length).map_err(|e| DeskError::invalid("PUK length", e))?;
        if !o.cert_profiles.is_empty() && !o.encode {
            return Err(DeskError::invalid(
                "certificates",
                "certificates can only be issued when the cards are encoded; turn on Encode the temporary card (--encode --reader NAME) or select no certificates",
            ));
        }
        if o.encode && o.reader.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(DeskError::invalid(
                "encoder",
                "encoding needs the encoder's PC/SC reader (--reader NAME; see `carddesk reader list`)",
            ));
        }
        let known = super::certificates::cert_profiles(&self.conn)?;
        for p in &o.cert_profiles {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(p)) {
                return Err(DeskError::invalid(
                    "certificate profile",
                    format!("{p:?} is not configured (profiles: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Issue multiple temporary cards: puts the chosen requested cards into
    /// a new open batch order. Nothing is printed yet.
    pub fn issue_temp_cards(
        &mut self,
        s: &Session,
        card_ids: &[i64],
        options: &IssueOptions,
    ) -> DeskResult<TempOrder> {
        self.require(s, Privilege::PrintCards, "issue temporary cards")?;
        if card_ids.is_empty() {
            return Err(DeskError::invalid(
                "temporary cards",
                "choose at least one requested card to issue",
            ));
        }
        self.check_issue_options(options)?;
        // Read in the (immediate) transaction: a card two desks issue at once
        // goes into one order only.
        let tx = self.begin()?;
        let mut cards = Vec::new();
        for &id in card_ids {
            let c = get_card(&tx, id)?;
            if c.state != TempCardState::Requested {
                return Err(DeskError::invalid(
                    "temporary card",
                    format!(
                        "{} is {}; only requested cards can be issued",
                        c.label(),
                        c.state
                    ),
                ));
            }
            if let Some(o) = c.order_id {
                if get_order(&tx, o)?.status == OrderStatus::Open {
                    let (by, at) =
                        store::audit::last_change(&tx, "temp_order", o)?.unwrap_or_default();
                    return Err(DeskError::invalid(
                        "temporary card",
                        format!(
                            "{} is already in open batch order {o} (issued by {by} at {at})",
                            c.label()
                        ),
                    ));
                }
            }
            if cards.iter().any(|x: &TempCard| x.id == id) {
                return Err(DeskError::invalid(
                    "temporary cards",
                    format!("card {id} is listed twice"),
                ));
            }
            cards.push(c);
        }
        let profiles: Vec<String> = {
            let known = super::certificates::cert_profiles(&tx)?;
            options
                .cert_profiles
                .iter()
                .map(|p| {
                    known
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(p))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        };
        let order_id = store::temp_cards::insert_order(
            &tx,
            &NewOrder {
                printer: options.printer.trim(),
                encode: options.encode,
                reader: options
                    .reader
                    .as_deref()
                    .map(str::trim)
                    .filter(|_| options.encode),
                pin_length: options.pin_length,
                puk_length: options.puk_length,
                cert_profiles: &profiles,
                created_by: &s.operator().name,
            },
        )?;
        for c in &cards {
            if !store::temp_cards::set_order(&tx, c.id, c.order_id, Some(order_id))? {
                return Err(super::lost_race(&tx, c.id)?);
            }
        }
        let order = store::temp_cards::get_order(&tx, order_id)?.expect("just inserted");
        let mut after = snapshot(&order);
        after["cards"] = card_ids.into();
        tx.record(
            &s.operator().name,
            "temp_order.issue",
            "temp_order",
            Some(order_id),
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(order)
    }

    /// Complete order: closes it. Cards not produced (still requested, or
    /// failed) leave the order and wait in state requested for another one.
    pub fn complete_temp_order(&mut self, s: &Session, order_id: i64) -> DeskResult<TempOrder> {
        self.close_temp_order(s, order_id, OrderStatus::Completed)
    }

    /// Cancel: closes the order; cards not produced go back to requested,
    /// produced cards stay in stock (unassigned).
    pub fn cancel_temp_order(&mut self, s: &Session, order_id: i64) -> DeskResult<TempOrder> {
        self.close_temp_order(s, order_id, OrderStatus::Cancelled)
    }

    fn close_temp_order(
        &mut self,
        s: &Session,
        order_id: i64,
        status: OrderStatus,
    ) -> DeskResult<TempOrder> {
        self.require(s, Privilege::PrintCards, "close batch orders")?;
        let tx = self.begin()?;
        let before = get_order(&tx, order_id)?;
        if before.status != OrderStatus::Open {
            return Err(conflict(
                &tx,
                "batch order",
                "temp_order",
                order_id,
                before.status,
            ));
        }
        let cards = super::order_cards(&tx, order_id)?;
        let mut returned = Vec::new();
        for c in &cards {
            if matches!(c.state, TempCardState::Requested | TempCardState::Failed) {
                if c.state == TempCardState::Failed {
                    transition(c, TempCardState::Requested)?;
                }
                let back = store::temp_cards::set_state(
                    &tx,
                    c.id,
                    c.state,
                    TempCardState::Requested,
                    None,
                )? && store::temp_cards::set_order(&tx, c.id, Some(order_id), None)?;
                if !back {
                    return Err(super::lost_race(&tx, c.id)?);
                }
                returned.push(c.id);
            }
        }
        if !store::temp_cards::close_order(&tx, order_id, status)? {
            return Err(conflict(&tx, "batch order", "temp_order", order_id, status));
        }
        let order = store::temp_cards::get_order(&tx, order_id)?.expect("exists");
        let mut after = snapshot(&order);
        after["back_to_requested"] = returned.into();
        tx.record(
            &s.operator().name,
            match status {
                OrderStatus::Cancelled => "temp_order.cancel",
                _ => "temp_order.complete",
            },
            "temp_order",
            Some(order_id),
            Some(&snapshot(&before)),
            Some(&after),
        )?;
        tx.commit()?;
        Ok(order)
    }
}
