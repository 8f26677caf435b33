//! Connect card: the three ways to give a request its card — automatic entry
//! at a reader, manual entry in a card format, or an existing credential.
//! With several requests selected it walks through them ("Present the card
//! for Jan Jansen (2 of 5)"), and can send each badge to the card printer
//! as its card is assigned, closing the request once the badge is printed.

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::station::{CardData, Feedback};
use crate::desk::CardRequest;
use crate::desk::{CardFormat, UID_FORMAT};
use crate::desk::{ConnectCard, Enrolment};
use crate::desk::{DeskCommand, DeskOutcome};
use egui_extras::{Column, TableBuilder};

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Automatic,
    Manual,
    Existing,
}

pub struct ConnectDialog {
    /// The requests to walk through, and where the walk is.
    queue: Vec<CardRequest>,
    index: usize,
    /// How many got a card in this walk.
    assigned: usize,
    /// Print each badge when its card is assigned, close when printed.
    pub print_and_close: bool,
    printer: Option<String>,
    queues: Option<Result<Vec<String>, String>>,
    /// (request, printer) to print: taken by the app after each reply.
    to_print: Vec<(i64, String)>,
    request: CardRequest,
    pub mode: Mode,
    pub reader: Option<String>,
    format: String,
    fields: Vec<(String, String)>,
    filter: String,
    simulated_uid: String,
    result: Option<Result<String, String>>,
    busy: bool,
    /// The reader the card being enrolled was read at, and then what to
    /// show on it.
    read_at: Option<String>,
    feedback: Option<(String, Feedback)>,
}

impl ConnectDialog {
    pub fn new(request: CardRequest) -> ConnectDialog {
        ConnectDialog::walk(vec![request])
    }

    /// Walks through `requests` in order, one card each.
    pub fn walk(requests: Vec<CardRequest>) -> ConnectDialog {
        let request = requests.first().cloned().expect("at least one request");
        ConnectDialog {
            queue: requests,
            index: 0,
            assigned: 0,
            print_and_close: false,
            printer: None,
            queues: None,
            to_print: Vec::new(),
            request,
            mode: Mode::Automatic,
            reader: None,
            format: String::new(),
            fields: Vec::new(),
            filter: String::new(),
            simulated_uid: "04A1B2C3D4E5F6".into(),
            read_at: None,
            feedback: None,
            result: None,
            busy: false,
        }
    }

    /// Chooses a format and fills its fields.
    pub fn preset_format(&mut self, format: &str, fields: &[(&str, &str)]) {
        self.format = format.to_string();
        self.fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    }

    /// Returns false once the dialog should close.
    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("connect-card")).show(ctx, |ui| {
            ui.set_width(640.0);
            if self.queue.len() > 1 {
                ui.heading(tf(
                    "Connect card for {name} ({i} of {n})",
                    &[
                        ("name", &self.request.cardholder_name),
                        ("i", &(self.index + 1).min(self.queue.len())),
                        ("n", &self.queue.len()),
                    ],
                ));
            } else {
                ui.heading(tf(
                    "Connect card for {name}",
                    &[("name", &self.request.cardholder_name)],
                ));
            }
            self.print_option(ui, env);
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.mode, Mode::Automatic, t("Automatic entry"));
                ui.selectable_value(&mut self.mode, Mode::Manual, t("Manual entry"));
                ui.selectable_value(&mut self.mode, Mode::Existing, t("Existing credential"));
            });
            ui.separator();
            match self.mode {
                Mode::Automatic => self.automatic(ui, env),
                Mode::Manual => self.manual(ui, env),
                Mode::Existing => self.existing(ui, env),
            }
            ui.separator();
            message(ui, &self.result);
            if self.busy {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(t("Working…"));
                });
            }
            ui.horizontal(|ui| {
                if self.queue.len() > 1
                    && self.index + 1 < self.queue.len()
                    && ui
                        .add_enabled(!self.busy, egui::Button::new(t("Skip")))
                        .clicked()
                {
                    self.next();
                }
                if ui.button(t("Done")).clicked() {
                    keep = false;
                }
            });
        });
        keep && !modal.should_close()
    }

    /// "Print and close each one" and the card printer to print on.
    fn print_option(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !env.session.may(crate::desk::Privilege::PrintCards) || env.devices.printer.is_none() {
            return;
        }
        ui.horizontal(|ui| {
            let before = self.print_and_close;
            ui.checkbox(&mut self.print_and_close, t("Print and close each one"));
            if self.print_and_close && !before && self.queues.is_none() {
                if let Some(printer) = &env.devices.printer {
                    env.worker.list_queues(printer.clone());
                }
            }
            if self.print_and_close {
                match &self.queues {
                    Some(Ok(queues)) => {
                        if self.printer.is_none() {
                            self.printer = super::printer_settings::card_queue(queues, env);
                        }
                        let l = ui.label(t("Printer"));
                        egui::ComboBox::from_id_salt("walk-printer")
                            .selected_text(self.printer.clone().unwrap_or_default())
                            .show_ui(ui, |ui| {
                                for q in queues {
                                    ui.selectable_value(&mut self.printer, Some(q.clone()), q);
                                }
                            })
                            .response
                            .labelled_by(l.id);
                    }
                    Some(Err(e)) => {
                        ui.colored_label(ui.visuals().error_fg_color, e);
                    }
                    None => {
                        ui.spinner();
                    }
                }
            }
        });
    }

    /// The card printer's queues arrived.
    pub fn on_queues(&mut self, queues: Result<Vec<String>, String>) {
        self.queues = Some(queues);
    }

    /// Badges to print now (request, printer): the app starts the jobs and
    /// closes each request once its badge is printed.
    pub fn take_to_print(&mut self) -> Vec<(i64, String)> {
        std::mem::take(&mut self.to_print)
    }

    /// On to the next request of the walk, if any.
    fn next(&mut self) {
        if self.index + 1 < self.queue.len() {
            self.index += 1;
            self.request = self.queue[self.index].clone();
        } else {
            self.index = self.queue.len();
        }
    }

    /// Whether the walk has been through every request.
    fn walked(&self) -> bool {
        self.index >= self.queue.len()
    }

    fn automatic(&mut self, ui: &mut egui::Ui, env: &Env) {
        if let Some(problem) = &env.devices.reader_error {
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        if env.devices.readers.is_empty() {
            ui.label(t("No readers found. Connect a reader."));
            return;
        }
        if self
            .reader
            .as_ref()
            .is_none_or(|r| !env.devices.readers.contains(r))
        {
            self.reader = env.devices.readers.first().cloned();
        }
        ui.horizontal(|ui| {
            let l = ui.label(t("Reader"));
            egui::ComboBox::from_id_salt("connect-reader")
                .selected_text(self.reader.clone().unwrap_or_default())
                .show_ui(ui, |ui| {
                    for r in &env.devices.readers {
                        ui.selectable_value(&mut self.reader, Some(r.clone()), r);
                    }
                })
                .response
                .labelled_by(l.id);
        });
        if let Some(reader) = &self.reader {
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                if !self.busy {
                    ui.spinner();
                }
                ui.strong(tf("Present the card to {reader}…", &[("reader", reader)]));
            });
            if let Some(cards) = &env.devices.simulated_cards {
                // Demo mode: there is no card to hold up, so type its UID.
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    let l = ui.label(t("Simulated card UID"));
                    ui.text_edit_singleline(&mut self.simulated_uid)
                        .labelled_by(l.id);
                    if ui.button(t("Present simulated card")).clicked() {
                        cards.present(reader, self.simulated_uid.trim());
                    }
                });
            }
        }
    }

    /// A card was presented at a reader: enrol it if that is the reader the
    /// operator chose and the dialog is waiting for one.
    pub fn on_card(&mut self, reader: &str, card: &CardData, env: &Env) {
        if self.mode != Mode::Automatic
            || self.busy
            || self.walked()
            || self.reader.as_deref() != Some(reader)
        {
            return;
        }
        self.read_at = Some(reader.to_string());
        self.submit(env, ConnectCard::from(card));
    }

    /// What to show on the reader the last card was read at (its LED and
    /// buzzer, where it has them), once the desk has answered.
    pub fn take_feedback(&mut self) -> Option<(String, Feedback)> {
        self.feedback.take()
    }

    fn manual(&mut self, ui: &mut egui::Ui, env: &Env) {
        let formats: &[CardFormat] = &env.snapshot.formats;
        let chosen = formats.iter().find(|f| f.name() == self.format);
        ui.horizontal(|ui| {
            let l = ui.label(t("Format"));
            egui::ComboBox::from_id_salt("connect-format")
                .selected_text(chosen.map_or(t("Choose a card format."), |f| f.name()))
                .width(320.0)
                .show_ui(ui, |ui| {
                    for f in formats {
                        ui.selectable_value(
                            &mut self.format,
                            f.name().to_string(),
                            format!("{} — {}", f.name(), f.description()),
                        );
                    }
                })
                .response
                .labelled_by(l.id);
        });
        let Some(format) = formats.iter().find(|f| f.name() == self.format) else {
            return;
        };
        // One input per field of the chosen format, keeping typed values.
        let mut wanted: Vec<(String, String)> = format
            .field_ranges()
            .into_iter()
            .map(|(n, lo, hi)| (n, format!("{lo}–{hi}")))
            .collect();
        if format.name() == UID_FORMAT {
            wanted = vec![("uid".into(), "4, 7 or 10 bytes hex".into())];
        }
        if self.fields.len() != wanted.len()
            || self.fields.iter().zip(&wanted).any(|(a, b)| a.0 != b.0)
        {
            self.fields = wanted
                .iter()
                .map(|(n, _)| (n.clone(), String::new()))
                .collect();
        }
        for ((name, value), (_, range)) in self.fields.iter_mut().zip(&wanted) {
            ui.horizontal(|ui| {
                let l = ui.add_sized([120.0, 20.0], egui::Label::new(name.as_str()));
                ui.add(egui::TextEdit::singleline(value).desired_width(160.0))
                    .labelled_by(l.id);
                ui.weak(range);
            });
        }
        ui.colored_label(
            egui::Color32::from_rgb(180, 120, 0),
            t("The system cannot confirm that this data matches a physical card."),
        );
        // Live preview of the bits, or the exact error.
        let all_filled = self.fields.iter().all(|(_, v)| !v.trim().is_empty());
        let preview = if format.name() == UID_FORMAT || !all_filled {
            None
        } else {
            Some(
                format
                    .parse_fields(&self.fields)
                    .and_then(|v| format.encode(&v)),
            )
        };
        match &preview {
            Some(Ok(bits)) => {
                ui.horizontal(|ui| {
                    ui.label(t("Bits"));
                    ui.monospace(bits);
                });
                ui.label(t("Parity OK"));
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e.to_string());
            }
            None => {}
        }
        let ready = all_filled && !matches!(preview, Some(Err(_))) && !self.busy;
        if ui
            .add_enabled(ready, egui::Button::new(t("Register")))
            .clicked()
        {
            let how = ConnectCard::Manual {
                format: format.name().to_string(),
                fields: self.fields.clone(),
            };
            self.submit(env, how);
        }
    }

    fn existing(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.horizontal(|ui| {
            let l = ui.label(t("Filter"));
            ui.text_edit_singleline(&mut self.filter).labelled_by(l.id);
        });
        ui.weak(t("Double-click a credential to assign it."));
        let needle = self.filter.to_lowercase();
        let stock: Vec<_> = env
            .snapshot
            .stock
            .items
            .iter()
            .filter(|c| needle.is_empty() || c.label().to_lowercase().contains(&needle))
            .collect();
        ui.label(format!("{} ({})", t("Unassigned credentials"), stock.len()));
        let mut chosen = None;
        TableBuilder::new(ui)
            .id_salt("stock-credentials")
            .striped(true)
            .max_scroll_height(260.0)
            .column(Column::initial(260.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                h.col(|ui| {
                    ui.strong(t("Credential"));
                });
                h.col(|ui| {
                    ui.strong(t("Created"));
                });
            })
            .body(|body| {
                body.rows(22.0, stock.len(), |mut row| {
                    let c = stock[row.index()];
                    row.col(|ui| {
                        let r = ui.add(egui::Button::selectable(false, c.label()));
                        if r.double_clicked() {
                            chosen = Some(c.id);
                        }
                    });
                    row.col(|ui| {
                        ui.label(c.created_at.get(..10).unwrap_or(""));
                    });
                });
            });
        if let Some(id) = chosen.filter(|_| !self.busy) {
            self.submit(env, ConnectCard::Existing { credential_id: id });
        }
    }

    fn submit(&mut self, env: &Env, how: ConnectCard) {
        self.busy = true;
        self.result = None;
        env.worker.send(DeskCommand::ConnectCard {
            request_id: self.request.id,
            how,
        });
    }

    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        if let Some(reader) = self.read_at.take() {
            let shown = match &result {
                Ok(DeskOutcome::Assigned(_)) => Feedback::Accepted,
                _ => Feedback::Refused,
            };
            self.feedback = Some((reader, shown));
        }
        let name = self.request.cardholder_name.clone();
        self.result = Some(match result {
            Ok(DeskOutcome::Assigned(a)) => {
                let credential = a.credential.label();
                let args: &[(&str, &dyn std::fmt::Display)] =
                    &[("credential", &credential), ("name", &name)];
                let mut text = match a.enrolment {
                    Enrolment::Assigned => tf("Assigned {credential} to {name}.", args),
                    Enrolment::RegisteredAndAssigned => {
                        tf("Registered and assigned {credential} to {name}.", args)
                    }
                };
                self.assigned += 1;
                if let (true, Some(printer)) = (self.print_and_close, &self.printer) {
                    self.to_print.push((self.request.id, printer.clone()));
                }
                if self.queue.len() > 1 {
                    self.next();
                    if self.walked() {
                        text = format!(
                            "{text} {}",
                            tf(
                                "{n} of {total} requests have their card.",
                                &[("n", &self.assigned), ("total", &self.queue.len())]
                            )
                        );
                    }
                }
                Ok(text)
            }
            Ok(_) => Ok(String::new()),
            Err(e) => Err(tf("Rejected: {error}", &[("error", &e.to_string())])),
        });
    }
}
