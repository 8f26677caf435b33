//! Choosing the site's printers (Settings → General, and the first-run
//! set-up): the card printer, with a test card to see that badges come out
//! right, and the ordinary printer PIN letters go to (never the card
//! printer; none saves them as a PDF).

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::{DeskCommand, DeskOutcome, PrinterChoice, Privilege};
use std::sync::mpsc::{channel, Receiver};

#[derive(Default)]
pub struct PrinterSettings {
    /// The print system's queues, once listed (or why they could not be).
    queues: Option<Vec<String>>,
    asked: bool,
    /// The choice being edited; filled from the stored one when first shown.
    choice: Option<PrinterChoice>,
    /// The queue a test card was asked for (the desk prepares it).
    testing: Option<String>,
    /// A test card on its way to the printer.
    test: Option<Receiver<Result<String, String>>>,
    busy: bool,
    result: Option<Result<String, String>>,
}

impl PrinterSettings {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let may = env.session.may(Privilege::ManageSettings);
        if !self.asked {
            self.asked = true;
            match env.devices.printer.clone() {
                Some(printer) => env.worker.list_queues(printer),
                None => self.queues = Some(Vec::new()),
            }
        }
        self.poll_test();
        let Some(queues) = self.queues.clone() else {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t("Looking for printers…"));
            });
            return;
        };
        let choice = self
            .choice
            .get_or_insert_with(|| env.snapshot.printers.clone());
        if queues.is_empty() {
            ui.label(t(
                "No printers found. Add the card printer to the print system (CUPS), then open this again.",
            ));
        }
        let none = t("None: save PIN letters as a PDF");
        let (mut save, mut test) = (false, false);
        ui.add_enabled_ui(may && !self.busy && !queues.is_empty(), |ui| {
            ui.horizontal(|ui| {
                let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("Card printer")));
                egui::ComboBox::from_id_salt("card-printer")
                    .selected_text(choice.card.clone().unwrap_or_else(|| t("choose…").into()))
                    .show_ui(ui, |ui| {
                        for q in &queues {
                            ui.selectable_value(&mut choice.card, Some(q.clone()), q);
                        }
                    })
                    .response
                    .labelled_by(l.id);
                test = ui
                    .add_enabled(
                        choice.card.is_some() && self.test.is_none() && self.testing.is_none(),
                        egui::Button::new(t("Print a test card")),
                    )
                    .clicked();
            });
            if choice.letters.is_some() && choice.letters == choice.card {
                choice.letters = None;
            }
            ui.horizontal(|ui| {
                let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("PIN letter printer")));
                egui::ComboBox::from_id_salt("letter-printer")
                    .selected_text(choice.letters.clone().unwrap_or_else(|| none.into()))
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut choice.letters, None, none);
                        for q in queues.iter().filter(|q| Some(*q) != choice.card.as_ref()) {
                            ui.selectable_value(&mut choice.letters, Some(q.clone()), q);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            save = ui.button(t("Save printers")).clicked();
        });
        if self.test.is_some() || self.testing.is_some() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label(t("Printing a test card…"));
            });
        }
        if !may {
            ui.weak(t("Your privileges do not allow this."));
        }
        message(ui, &self.result);
        if test {
            self.print_test(env);
        }
        if save {
            self.busy = true;
            self.result = None;
            env.worker.send(DeskCommand::ChoosePrinters(
                self.choice.clone().unwrap_or_default(),
            ));
        }
    }

    /// The printer's queues arrived (or could not be listed).
    pub fn on_queues(&mut self, queues: Result<Vec<String>, String>) {
        match queues {
            Ok(q) => self.queues = Some(q),
            Err(e) => {
                self.queues = Some(Vec::new());
                self.result = Some(Err(e));
            }
        }
    }

    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        self.result = Some(match result {
            Ok(DeskOutcome::PrintersChosen) => {
                // Show what is stored from the next snapshot on.
                self.choice = None;
                Ok(t("Printers saved.").into())
            }
            Ok(_) => Ok(String::new()),
            Err(e) => Err(e.to_string()),
        });
    }

    /// True once the printers were saved (the first-run set-up moves on).
    pub fn saved(&self) -> bool {
        matches!(&self.result, Some(Ok(m)) if !m.is_empty() && self.choice.is_none())
    }

    /// Asks the desk for the test card (it checks the privilege and
    /// records it); [`Self::on_test_card`] sends it to the printer.
    fn print_test(&mut self, env: &Env) {
        let Some(queue) = self.choice.as_ref().and_then(|c| c.card.clone()) else {
            return;
        };
        if env.devices.printer.is_none() {
            self.result = Some(Err(t(
                "No printing here: the print system could not be reached.",
            )
            .into()));
            return;
        }
        self.result = None;
        self.testing = Some(queue.clone());
        env.worker
            .send(DeskCommand::PrepareTestCard { printer: queue });
    }

    /// The desk's answer: the test card goes to the printer on a thread of
    /// its own, which waits for the printer's verdict there.
    pub fn on_test_card(&mut self, result: CommandResult, devices: &super::Devices) {
        let Some(queue) = self.testing.take() else {
            return;
        };
        let doc = match result {
            Ok(DeskOutcome::TestCardPrepared(doc)) => doc,
            Ok(_) => return,
            Err(e) => {
                self.result = Some(Err(e.to_string()));
                return;
            }
        };
        let Some(printer) = devices.printer.clone() else {
            return;
        };
        let (tx, rx) = channel();
        let notify = devices.notify.clone();
        self.test = Some(rx);
        std::thread::spawn(move || {
            let verdict = printer
                .print(&queue, &doc)
                .map_err(|e| e.to_string())
                .map(|job| {
                    tf(
                        "The test card was printed on {queue} (job {job}).",
                        &[("queue", &queue), ("job", &job)],
                    )
                });
            let _ = tx.send(verdict);
            notify();
        });
    }

    fn poll_test(&mut self) {
        if let Some(verdict) = self.test.as_ref().and_then(|rx| rx.try_recv().ok()) {
            self.test = None;
            self.result = Some(verdict);
        }
    }
}

/// The queue to offer first for cards: the chosen card printer when the
/// print system has it, else the first queue.
pub fn card_queue(queues: &[String], env: &Env) -> Option<String> {
    env.snapshot
        .printers
        .card
        .as_ref()
        .filter(|c| queues.contains(c))
        .or(queues.first())
        .cloned()
}
