//! Temporary cards: find a card (by number, state or holder, or by holding
//! it to the reader: the chip UID recorded at encoding finds it), assign it
//! to a person, take it back (which revokes its certificates), lock, unlock
//! or abort it, and reveal its PUK once (its own privilege, audited). The
//! form at the top requests new cards for Batch orders to produce.

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::{
    DeskCommand, DeskOutcome, Privilege, TempCard, TempCardFilter, TempCardRequest, TempCardState,
};
use egui_extras::{Column, TableBuilder};

#[derive(Default)]
pub struct TempCardsPage {
    search: String,
    state: Option<TempCardState>,
    cards: Vec<TempCard>,
    selected: Option<i64>,
    /// The cardholder to assign the selected card to (id).
    assign_to: Option<i64>,
    /// The holder's last day, once the operator picks one (until then: as
    /// long as the card is valid).
    assign_until: Option<jiff::civil::Date>,
    holder_filter: String,
    request_count: String,
    request_note: String,
    /// A PUK shown once, with its card's label.
    puk: Option<(String, String)>,
    busy: bool,
    searched: bool,
    /// Select the first lent card the next search finds (screenshots).
    select_assigned: bool,
    result: Option<Result<String, String>>,
}

impl TempCardsPage {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.heading(t("Temporary cards"));
        if !self.searched {
            self.searched = true;
            self.find(env);
        }
        self.request_ui(ui, env);
        ui.separator();
        ui.horizontal(|ui| {
            let l = ui.label(t("Number or holder"));
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.search).desired_width(160.0))
                .labelled_by(l.id);
            let l = ui.label(t("State"));
            let before = self.state;
            egui::ComboBox::from_id_salt("temp-state")
                .selected_text(self.state.map_or(t("All states"), |s| s.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.state, None, t("All states"));
                    for s in TempCardState::ALL {
                        ui.selectable_value(&mut self.state, Some(s), s.as_str());
                    }
                })
                .response
                .labelled_by(l.id);
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui.button(t("Search")).clicked() || enter || before != self.state {
                self.find(env);
            }
            ui.weak(t("Or hold a card to the reader."));
        });
        self.table(ui);
        self.actions_ui(ui, env);
        if let Some((card, puk)) = self.puk.clone() {
            let mut hide = false;
            ui.group(|ui| {
                ui.strong(tf(
                    "PUK of {card}: {puk}",
                    &[("card", &card), ("puk", &puk)],
                ));
                ui.label(t("Shown this once; the reveal is in the audit trail."));
                hide = ui.button(t("Hide")).clicked();
            });
            if hide {
                self.puk = None;
            }
        }
        message(ui, &self.result);
    }

    /// Selects the first lent card once the list arrives (the screenshot
    /// script's start-up request).
    pub fn select_first_assigned(&mut self) {
        self.select_assigned = true;
    }

    /// Searches again the next time the page is drawn.
    pub fn refresh(&mut self) {
        self.searched = false;
    }

    fn find(&mut self, env: &Env) {
        let filter = TempCardFilter {
            state: self.state,
            search: Some(self.search.trim().to_string()).filter(|s| !s.is_empty()),
            ..Default::default()
        };
        env.worker.send(DeskCommand::FindTempCards(filter));
    }

    fn send(&mut self, env: &Env, command: DeskCommand) {
        self.busy = true;
        self.result = None;
        env.worker.send(command);
    }

    fn request_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !env.session.may(Privilege::PrintCards) {
            return;
        }
        ui.horizontal(|ui| {
            ui.strong(t("Request temporary cards"));
            let l = ui.label(t("Count"));
            ui.add(egui::TextEdit::singleline(&mut self.request_count).desired_width(40.0))
                .labelled_by(l.id);
            let l = ui.label(t("Note"));
            ui.add(egui::TextEdit::singleline(&mut self.request_note).desired_width(220.0))
                .labelled_by(l.id);
            if ui
                .add_enabled(!self.busy, egui::Button::new(t("Request")))
                .clicked()
            {
                match self.request_count.trim().parse::<u32>() {
                    Ok(count) => {
                        let request = TempCardRequest {
                            count,
                            note: self.request_note.trim().to_string(),
                            ..Default::default()
                        };
                        self.send(env, DeskCommand::RequestTempCards(request));
                    }
                    Err(_) => {
                        self.result = Some(Err(t("Count: give a whole number of cards.").into()))
                    }
                }
            }
        });
    }

    fn table(&mut self, ui: &mut egui::Ui) {
        let mut clicked = None;
        TableBuilder::new(ui)
            .id_salt("temp-cards")
            .striped(true)
            .max_scroll_height(320.0)
            .column(Column::initial(90.0))
            .column(Column::initial(110.0))
            .column(Column::initial(180.0))
            .column(Column::initial(160.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["Number", "State", "Holder", "Valid until", "Note"] {
                    h.col(|ui| {
                        ui.strong(t(title));
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, self.cards.len(), |mut row| {
                    let c = &self.cards[row.index()];
                    let selected = self.selected == Some(c.id);
                    row.col(|ui| {
                        let label = format!("#{}", c.card_number);
                        if ui.add(egui::Button::selectable(selected, label)).clicked() {
                            clicked = Some(c.id);
                        }
                    });
                    row.col(|ui| {
                        ui.label(c.state.as_str());
                    });
                    row.col(|ui| {
                        ui.label(c.holder_name.as_deref().unwrap_or(""));
                    });
                    row.col(|ui| {
                        // A lent card shows when its holder's use ends.
                        let until = c.assigned_until.as_deref().or(c.valid_until.as_deref());
                        let day = local_day(until).map(|d| d.to_string()).unwrap_or_default();
                        if c.assigned_until.as_deref().is_some_and(overdue) {
                            ui.colored_label(
                                ui.visuals().warn_fg_color,
                                tf("{day} (ended)", &[("day", &day)]),
                            );
                        } else {
                            ui.label(day);
                        }
                    });
                    row.col(|ui| {
                        ui.label(&c.note);
                    });
                });
            });
        if clicked.is_some() {
            self.selected = clicked;
            self.assign_until = None;
            self.puk = None;
        }
    }

    fn actions_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let Some(card) = self
            .selected
            .and_then(|id| self.cards.iter().find(|c| c.id == id))
            .cloned()
        else {
            return;
        };
        ui.separator();
        ui.strong(tf(
            "#{n}: {state}",
            &[("n", &card.card_number), ("state", &card.state)],
        ));
        if let Some(until) = card.assigned_until.as_deref() {
            let day = local_day(Some(until))
                .map(|d| d.to_string())
                .unwrap_or_default();
            if overdue(until) {
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    tf(
                        "The holder's use ended on {day}; the card no longer opens doors. Take it back.",
                        &[("day", &day)],
                    ),
                );
            } else {
                ui.label(tf("Lent until the end of {day}.", &[("day", &day)]));
            }
        }
        let may_change = env.session.may(Privilege::PrintCards);
        let may_assign = env.session.may(Privilege::AnswerRequests);
        ui.horizontal(|ui| {
            if card.state == TempCardState::Unassigned && may_assign {
                let l = ui.label(t("Assign to"));
                let people = &env.snapshot.cardholders.items;
                let chosen = self
                    .assign_to
                    .and_then(|id| people.iter().find(|p| p.id == id))
                    .map(|p| p.full_name())
                    .unwrap_or_else(|| t("Choose a cardholder").to_string());
                egui::ComboBox::from_id_salt("assign-to")
                    .selected_text(chosen)
                    .width(220.0)
                    .show_ui(ui, |ui| {
                        ui.text_edit_singleline(&mut self.holder_filter);
                        let filter = self.holder_filter.to_lowercase();
                        for p in people
                            .iter()
                            .filter(|p| p.full_name().to_lowercase().contains(&filter))
                            .take(50)
                        {
                            ui.selectable_value(&mut self.assign_to, Some(p.id), p.full_name());
                        }
                    })
                    .response
                    .labelled_by(l.id);
                let l = ui.label(t("Last day"));
                let mut picked = self
                    .assign_until
                    .or_else(|| local_day(card.valid_until.as_deref()))
                    .unwrap_or_else(super::widgets::today);
                let r = ui.add(
                    egui_extras::DatePickerButton::new(&mut picked)
                        .id_salt("assign-until")
                        .calendar_week(false)
                        .show_icon(false),
                );
                if r.labelled_by(l.id).changed() {
                    self.assign_until = Some(picked);
                }
                let ready = self.assign_to.is_some() && !self.busy;
                if ui
                    .add_enabled(ready, egui::Button::new(t("Assign")))
                    .clicked()
                {
                    let cardholder_id = self.assign_to.expect("chosen");
                    self.send(
                        env,
                        DeskCommand::AssignTempCard {
                            id: card.id,
                            cardholder_id,
                            until: self
                                .assign_until
                                .and_then(|d| d.to_string().parse::<chrono::NaiveDate>().ok()),
                        },
                    );
                }
            }
            if card.state == TempCardState::Assigned
                && may_assign
                && ui
                    .add_enabled(!self.busy, egui::Button::new(t("Take back")))
                    .clicked()
            {
                self.send(env, DeskCommand::ReturnTempCard { id: card.id });
            }
            for (to, label) in [
                (TempCardState::Locked, t("Lock")),
                (TempCardState::Unassigned, t("Unlock")),
                (TempCardState::Aborted, t("Abort")),
            ] {
                let allowed = match to {
                    TempCardState::Locked => {
                        matches!(
                            card.state,
                            TempCardState::Unassigned | TempCardState::Assigned
                        )
                    }
                    TempCardState::Unassigned => card.state == TempCardState::Locked,
                    _ => !matches!(
                        card.state,
                        TempCardState::Aborted | TempCardState::Requested
                    ),
                };
                if allowed
                    && may_change
                    && ui
                        .add_enabled(!self.busy, egui::Button::new(label))
                        .clicked()
                {
                    self.send(env, DeskCommand::SetTempCardState { id: card.id, to });
                }
            }
            if card.has_pin
                && env.session.may(Privilege::RevealPuk)
                && ui
                    .add_enabled(!self.busy, egui::Button::new(t("Reveal PUK")))
                    .clicked()
            {
                self.send(env, DeskCommand::RevealPuk { id: card.id });
            }
        });
    }

    /// A card was held to a reader while the page shows: find it.
    pub fn on_card(&mut self, card: &crate::desk::station::CardData, env: &Env) {
        match card.uid() {
            Some(uid) => env.worker.send(DeskCommand::FindTempCardByUid {
                uid: uid.to_string(),
            }),
            // Temporary cards are found by the chip UID their encoding
            // recorded; a door reader does not read it.
            None => {
                self.result = Some(Err(tf(
                    "{card}: temporary cards are found by their chip UID; hold the card to the desk reader.",
                    &[("card", card)],
                )))
            }
        }
    }

    pub fn on_reply(&mut self, command: &str, result: CommandResult) {
        // A search (or a card at the reader) does not end an action in flight.
        if command != "find_temp_cards" {
            self.busy = false;
        }
        match (command, result) {
            ("find_temp_cards", Ok(DeskOutcome::TempCards { cards, .. })) => {
                if std::mem::take(&mut self.select_assigned) {
                    self.selected = cards
                        .iter()
                        .find(|c| c.state == TempCardState::Assigned)
                        .map(|c| c.id);
                }
                if cards.len() == 1 && self.selected != Some(cards[0].id) {
                    self.selected = Some(cards[0].id);
                    self.assign_until = None;
                }
                self.cards = cards;
            }
            ("request_temp_cards", Ok(DeskOutcome::TempCards { cards, .. })) => {
                let numbers: Vec<String> = cards
                    .iter()
                    .map(|c| format!("#{}", c.card_number))
                    .collect();
                self.result = Some(Ok(tf(
                    "Requested {n} temporary card(s): {numbers}.",
                    &[("n", &cards.len()), ("numbers", &numbers.join(", "))],
                )));
                self.request_count.clear();
                self.refresh();
            }
            ("temp_card_changed", Ok(DeskOutcome::TempCardChanged(card))) => {
                self.result = Some(Ok(tf(
                    "#{n} is now {state}.",
                    &[("n", &card.card_number), ("state", &card.state)],
                )));
                if let Some(c) = self.cards.iter_mut().find(|c| c.id == card.id) {
                    *c = card;
                }
            }
            ("reveal_puk", Ok(DeskOutcome::Puk { card, puk })) => {
                self.puk = Some((format!("#{}", card.card_number), puk.expose().to_string()));
            }
            (_, Ok(_)) => {}
            (_, Err(e)) => self.result = Some(Err(e.to_string())),
        }
    }
}

/// The local calendar day of a stored RFC 3339 time.
fn local_day(time: Option<&str>) -> Option<jiff::civil::Date> {
    let t = chrono::DateTime::parse_from_rfc3339(time?).ok()?;
    t.with_timezone(&chrono::Local)
        .date_naive()
        .to_string()
        .parse()
        .ok()
}

/// Whether a stored RFC 3339 time has passed.
fn overdue(time: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(time).is_ok_and(|t| t <= chrono::Utc::now())
}
