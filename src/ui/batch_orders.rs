//! Batch orders → Issue multiple temporary cards: Search lists the cards in
//! state requested; tick the ones to issue; Issue puts them in an order
//! (with PIN/PUK lengths, encoding and certificates); Next produces them one
//! by one (n of N, errors so far); then Complete order, Repeat production
//! for the cards the operator ticks, or Cancel. Every step is a desk
//! command; production is a desk job on a thread of its own, the same job
//! the command line runs.

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::job::{self, JobEvent, JobHandle};
use crate::desk::station;
use crate::desk::{
    DeskCommand, DeskOutcome, IssueOptions, OrderStatus, Produced, Progress, TempCard,
    TempCardFilter, TempOrder,
};
use crate::desk::{Privilege, TempCardState};
use crate::desk::{DEFAULT_PIN_LENGTH, DEFAULT_PUK_LENGTH, PIN_LENGTHS, PUK_LENGTHS};
use egui_extras::{Column, TableBuilder};
use std::collections::BTreeSet;

/// The production job: progress after each card, then every card's result.
type Run = JobHandle<Progress, Vec<Produced>>;

pub struct BatchOrdersView {
    /// Cards shown: requested ones (search), then the order's cards.
    cards: Vec<TempCard>,
    ticked: BTreeSet<i64>,
    order: Option<TempOrder>,
    pin_length: u8,
    puk_length: u8,
    encode: bool,
    reader: Option<String>,
    profiles: Vec<(String, bool)>,
    printer: String,
    queues: Vec<String>,
    /// The production run on its own thread, and the run's size.
    run: Option<Run>,
    total: usize,
    done: usize,
    errors: usize,
    /// Search filters: format, requester, requested on or after (YYYY-MM-DD).
    filter_format: String,
    filter_requester: String,
    filter_since: String,
    busy: bool,
    /// Cancel pressed while a card was being produced.
    cancelling: bool,
    searched: bool,
    result: Option<Result<String, String>>,
    /// The PIN letters of the last run, until saved, printed or discarded.
    letters: super::pin_letters::PinLetters,
    /// Orders still open: one a stopped app left producing is resumed here.
    open_orders: Vec<TempOrder>,
    orders_asked: bool,
    /// The screenshot script's start-up request: search, tick every
    /// requested card, issue them and produce the order.
    auto: AutoRun,
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum AutoRun {
    #[default]
    Off,
    Issue,
    Produce,
}

impl Default for BatchOrdersView {
    fn default() -> Self {
        BatchOrdersView {
            cards: Vec::new(),
            ticked: BTreeSet::new(),
            order: None,
            pin_length: DEFAULT_PIN_LENGTH,
            puk_length: DEFAULT_PUK_LENGTH,
            encode: false,
            reader: None,
            profiles: Vec::new(),
            printer: String::new(),
            queues: Vec::new(),
            run: None,
            total: 0,
            done: 0,
            errors: 0,
            filter_format: String::new(),
            filter_requester: String::new(),
            filter_since: String::new(),
            busy: false,
            cancelling: false,
            searched: false,
            result: None,
            letters: Default::default(),
            open_orders: Vec::new(),
            orders_asked: false,
            auto: AutoRun::Off,
        }
    }
}

fn state_text(s: TempCardState) -> &'static str {
    match s {
        TempCardState::Requested => t("requested"),
        TempCardState::Unassigned => t("unassigned"),
        TempCardState::Assigned => t("assigned"),
        TempCardState::Failed => t("failed"),
        TempCardState::Aborted => t("aborted"),
        TempCardState::Expired => t("expired"),
        TempCardState::Locked => t("locked"),
    }
}

impl BatchOrdersView {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !env.session.may(Privilege::PrintCards) {
            ui.label(t("Your privileges do not allow this."));
            return;
        }
        self.poll_run(env);
        self.auto_run(env);
        ui.heading(t("Issue multiple temporary cards"));
        match self.order.clone() {
            None => self.search_ui(ui, env),
            Some(order) => self.order_ui(ui, env, &order),
        }
        message(ui, &self.result);
        self.letters.ui(ui, env, &self.printer, &self.queues);
        self.table(ui);
    }

    /// Produce every requested card as one order, with the page's default
    /// options (the screenshot script's `--open pin-letters`).
    pub fn produce_all_requested(&mut self) {
        self.auto = AutoRun::Issue;
    }

    fn auto_run(&mut self, env: &Env) {
        if self.busy || self.run.is_some() {
            return;
        }
        match self.auto {
            AutoRun::Issue if !self.searched => self.search(env),
            AutoRun::Issue if !self.queues.is_empty() => {
                self.ticked = self.cards.iter().map(|c| c.id).collect();
                self.auto = AutoRun::Produce;
                self.issue(env);
            }
            AutoRun::Produce if self.order.is_some() => {
                self.auto = AutoRun::Off;
                self.start(env, None);
            }
            _ => {}
        }
    }

    fn search_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !self.orders_asked {
            self.orders_asked = true;
            env.worker.send(DeskCommand::OpenTempOrders);
        }
        if !self.open_orders.is_empty() {
            ui.horizontal_wrapped(|ui| {
                ui.label(t("Open batch orders (resume, repeat or cancel):"));
                for o in self.open_orders.clone() {
                    let label = tf(
                        "Batch order {id} of {when}",
                        &[
                            ("id", &o.id),
                            (
                                "when",
                                &o.created_at
                                    .get(..16)
                                    .unwrap_or(&o.created_at)
                                    .replace('T', " "),
                            ),
                        ],
                    );
                    if ui
                        .add_enabled(!self.busy, egui::Button::new(label))
                        .clicked()
                    {
                        self.busy = true;
                        env.worker.send(DeskCommand::OpenTempOrder { id: o.id });
                    }
                }
            });
        }
        ui.horizontal(|ui| {
            ui.label(t("Format"));
            ui.add(egui::TextEdit::singleline(&mut self.filter_format).desired_width(80.0));
            ui.label(t("Requested by"));
            ui.add(egui::TextEdit::singleline(&mut self.filter_requester).desired_width(100.0));
            ui.label(t("Requested since"));
            ui.add(
                egui::TextEdit::singleline(&mut self.filter_since)
                    .hint_text("YYYY-MM-DD")
                    .desired_width(100.0),
            );
            if ui
                .add_enabled(!self.busy, egui::Button::new(t("Search")))
                .clicked()
            {
                self.search(env);
            }
            if self.searched {
                ui.label(tf(
                    "{n} requested card(s), {m} ticked",
                    &[("n", &self.cards.len()), ("m", &self.ticked.len())],
                ));
            }
        });
        if !self.searched {
            return;
        }
        ui.horizontal(|ui| {
            ui.label(t("Printer"));
            egui::ComboBox::from_id_salt("batch-printer")
                .selected_text(self.printer.clone())
                .show_ui(ui, |ui| {
                    for q in &self.queues {
                        ui.selectable_value(&mut self.printer, q.clone(), q);
                    }
                });
            ui.label(t("PIN length"));
            ui.add(egui::DragValue::new(&mut self.pin_length).range(PIN_LENGTHS));
            ui.label(t("PUK length"));
            ui.add(egui::DragValue::new(&mut self.puk_length).range(PUK_LENGTHS));
        });
        ui.horizontal(|ui| {
            ui.checkbox(&mut self.encode, t("Encode the temporary card"));
            if self.encode {
                egui::ComboBox::from_id_salt("encoder-reader")
                    .selected_text(
                        self.reader
                            .clone()
                            .unwrap_or_else(|| t("Choose a reader").into()),
                    )
                    .show_ui(ui, |ui| {
                        for r in &env.devices.readers {
                            ui.selectable_value(&mut self.reader, Some(r.clone()), r);
                        }
                    });
            }
        });
        ui.horizontal(|ui| {
            ui.label(t("Certificates"));
            for (name, on) in &mut self.profiles {
                ui.add_enabled(self.encode, egui::Checkbox::new(on, name.as_str()));
            }
        });
        if ui
            .add_enabled(
                !self.busy && !self.ticked.is_empty(),
                egui::Button::new(t("Issue multiple temporary cards")),
            )
            .clicked()
        {
            self.issue(env);
        }
    }

    fn order_ui(&mut self, ui: &mut egui::Ui, env: &Env, order: &TempOrder) {
        ui.label(tf("Batch order {id}", &[("id", &order.id)]));
        if self.busy && self.total > 0 {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(tf(
                    "Producing {n} of {total}; errors so far: {errors}",
                    &[
                        ("n", &(self.done + 1).min(self.total)),
                        ("total", &self.total),
                        ("errors", &self.errors),
                    ],
                ));
            });
            ui.add(egui::ProgressBar::new(self.done as f32 / self.total as f32));
        }
        let waiting: Vec<i64> = self
            .cards
            .iter()
            .filter(|c| c.state == TempCardState::Requested)
            .map(|c| c.id)
            .collect();
        ui.horizontal(|ui| {
            if ui
                .add_enabled(
                    !self.busy && !waiting.is_empty(),
                    egui::Button::new(t("Next")),
                )
                .clicked()
            {
                self.start(env, None);
            }
            let repeat: Vec<i64> = self
                .cards
                .iter()
                .filter(|c| {
                    self.ticked.contains(&c.id)
                        && matches!(c.state, TempCardState::Failed | TempCardState::Unassigned)
                })
                .map(|c| c.id)
                .collect();
            if ui
                .add_enabled(
                    !self.busy && !repeat.is_empty(),
                    egui::Button::new(t("Repeat production")),
                )
                .clicked()
            {
                self.start(env, Some(repeat));
            }
            let complete = ui.add_enabled(
                !self.busy && waiting.is_empty() && !self.letters.waiting(),
                egui::Button::new(t("Complete order")),
            );
            let complete = if !self.letters.waiting() {
                complete
            } else {
                complete.on_disabled_hover_text(t(
                    "Print or save the PIN letters first (or discard them).",
                ))
            };
            if complete.clicked() {
                self.close(env, order.id, false);
            }
            if ui.button(t("Cancel")).clicked() {
                // Stops after the card being produced; then cancels.
                if let Some(run) = &self.run {
                    run.cancel();
                    self.cancelling = true;
                } else if !self.busy {
                    self.close(env, order.id, true);
                }
            }
        });
    }

    fn table(&mut self, ui: &mut egui::Ui) {
        let tickable = !self.busy;
        TableBuilder::new(ui)
            .id_salt("temp-cards")
            .striped(true)
            .column(Column::initial(70.0))
            .column(Column::initial(90.0))
            .column(Column::initial(90.0))
            .column(Column::initial(120.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["#", t("Card number"), t("Format"), t("State"), t("Note")] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, self.cards.len(), |mut row| {
                    let c = &self.cards[row.index()];
                    let mut on = self.ticked.contains(&c.id);
                    let id = c.id;
                    row.col(|ui| {
                        let tick = egui::Checkbox::new(&mut on, format!("#{id}"));
                        if ui.add_enabled(tickable, tick).changed() {
                            if on {
                                self.ticked.insert(id);
                            } else {
                                self.ticked.remove(&id);
                            }
                        }
                    });
                    let c = &self.cards[row.index()];
                    row.col(|ui| {
                        ui.label(c.card_number.to_string());
                    });
                    row.col(|ui| {
                        ui.label(&c.format);
                    });
                    row.col(|ui| {
                        ui.label(state_text(c.state));
                    });
                    row.col(|ui| {
                        ui.label(c.error.as_deref().unwrap_or(&c.note));
                    });
                });
            });
    }

    fn search(&mut self, env: &Env) {
        self.busy = true;
        let printer = env.devices.printer.clone();
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let since = text(&self.filter_since);
        if let Some(d) = &since {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                self.busy = false;
                self.result = Some(Err(tf(
                    "Requested since: {date} is not a date (YYYY-MM-DD).",
                    &[("date", d)],
                )));
                return;
            }
        }
        let filter = TempCardFilter {
            state: Some(TempCardState::Requested),
            format: text(&self.filter_format),
            requested_by: text(&self.filter_requester),
            since,
            ..Default::default()
        };
        env.worker.send(DeskCommand::SearchTempCards(filter));
        if let Some(printer) = printer {
            // Listing queues runs lpstat: off the UI thread.
            env.worker.list_queues(printer);
        }
    }

    /// The card printer's queues arrived.
    pub fn on_queues(&mut self, queues: Result<Vec<String>, String>) {
        match queues {
            Ok(queues) => {
                if !queues.contains(&self.printer) {
                    self.printer = queues.first().cloned().unwrap_or_default();
                }
                self.queues = queues;
            }
            Err(e) => self.result = Some(Err(e)),
        }
    }

    fn issue(&mut self, env: &Env) {
        self.busy = true;
        let ids: Vec<i64> = self.ticked.iter().copied().collect();
        let options = IssueOptions {
            printer: self.printer.clone(),
            encode: self.encode,
            reader: self.reader.clone(),
            pin_length: self.pin_length,
            puk_length: self.puk_length,
            cert_profiles: self
                .profiles
                .iter()
                .filter(|(_, on)| *on)
                .map(|(p, _)| p.clone())
                .collect(),
        };
        env.worker
            .send(DeskCommand::IssueTempCards { ids, options });
    }

    /// Produces the order's waiting cards (Next) or the ticked ones again
    /// (Repeat production) as a desk job on a thread of its own, so neither
    /// the window nor the desk worker waits for the printer or the encoder.
    fn start(&mut self, env: &Env, repeat: Option<Vec<i64>>) {
        let (Some(order), Some(printer)) = (self.order.clone(), env.devices.printer.clone()) else {
            self.result = Some(Err(t("No printers found.").into()));
            return;
        };
        self.total = match &repeat {
            Some(ids) => ids.len(),
            None => self
                .cards
                .iter()
                .filter(|c| c.state == TempCardState::Requested)
                .count(),
        };
        self.done = 0;
        self.errors = 0;
        self.ticked.clear();
        self.busy = true;
        self.result = None;
        let session = env.session.clone();
        let demo = env.devices.simulated_cards.is_some();
        let notify = env.devices.notify.clone();
        self.run = Some(job::spawn(
            "temp-card-production",
            env.worker.db.clone(),
            notify,
            move |desk, ctx| {
                let encoder = station::encoder(demo);
                let encoder = order.encode.then_some(encoder.as_ref());
                match repeat {
                    None => {
                        desk.produce_temp_order(&session, order.id, printer.as_ref(), encoder, ctx)
                    }
                    Some(ids) => desk.repeat_temp_production(
                        &session,
                        order.id,
                        &ids,
                        printer.as_ref(),
                        encoder,
                        ctx,
                    ),
                }
            },
        ));
    }

    /// Applies what the production job reported since the last frame.
    fn poll_run(&mut self, env: &Env) {
        let Some(run) = &self.run else { return };
        for event in run.events() {
            match event {
                JobEvent::Progress(p) => {
                    self.done = p.done;
                    self.errors = p.errors;
                    if let Some(c) = self.cards.iter_mut().find(|c| c.id == p.card.id) {
                        *c = p.card;
                    }
                }
                JobEvent::Finished(Err(e)) => {
                    self.run = None;
                    self.busy = false;
                    self.cancelling = false;
                    self.result = Some(Err(e.to_string()));
                    return;
                }
                JobEvent::Finished(Ok(produced)) => {
                    self.run = None;
                    self.busy = false;
                    self.letters.add(produced.iter().filter_map(|p| {
                        p.pin_letter
                            .as_ref()
                            .map(|l| (p.card.card_number.to_string(), l.pin.clone(), l.puk.clone()))
                    }));
                    if self.cancelling {
                        self.cancelling = false;
                        if let Some(id) = self.order.as_ref().map(|o| o.id) {
                            self.close(env, id, true);
                        }
                    } else {
                        self.result = Some(if self.errors == 0 {
                            Ok(tf("{n} card(s) produced.", &[("n", &self.done)]))
                        } else {
                            Err(tf(
                                "{errors} of {n} card(s) failed; tick them and choose Repeat production.",
                                &[("errors", &self.errors), ("n", &self.done)],
                            ))
                        });
                    }
                    return;
                }
            }
        }
    }

    fn close(&mut self, env: &Env, order: i64, cancel: bool) {
        self.busy = true;
        env.worker.send(if cancel {
            DeskCommand::CancelTempOrder { id: order }
        } else {
            DeskCommand::CompleteTempOrder { id: order }
        });
    }

    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        match result {
            Ok(DeskOutcome::TempCards { cards, profiles }) => {
                self.searched = true;
                self.ticked.retain(|id| cards.iter().any(|c| c.id == *id));
                self.cards = cards;
                self.profiles = profiles.into_iter().map(|p| (p, false)).collect();
                self.result = None;
            }
            Ok(DeskOutcome::TempOrders(orders)) => self.open_orders = orders,
            Ok(DeskOutcome::TempOrder { order, .. }) if order.status != OrderStatus::Open => {
                self.result = Some(Ok(match order.status {
                    OrderStatus::Cancelled => {
                        tf("Batch order {id} cancelled.", &[("id", &order.id)])
                    }
                    _ => tf("Batch order {id} completed.", &[("id", &order.id)]),
                }));
                self.order = None;
                self.cards.clear();
                self.ticked.clear();
                self.searched = false;
                self.orders_asked = false;
            }
            Ok(DeskOutcome::TempOrder { order, cards }) => {
                self.open_orders.retain(|o| o.id != order.id);
                self.order = Some(order);
                self.cards = cards;
                self.ticked.clear();
                self.result = None;
            }
            Ok(_) => {}
            Err(e) => self.result = Some(Err(e.to_string())),
        }
    }
}
