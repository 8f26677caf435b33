//! The end of a production run: the new PINs and PUKs exist only here (the
//! database keeps the PIN as a hash), so they are printed on an ordinary
//! printer (not the card printer) or saved as one PDF before they are let
//! go; discarding them asks first. Rendering, printing and writing run off
//! the UI thread.

use super::i18n::{t, tf};
use super::widgets::message;
use super::Env;
use crate::desk::station::CardPrinter;
use std::sync::mpsc::Receiver;
use std::sync::Arc;

#[derive(Default)]
pub struct PinLetters {
    /// (card number, PIN, PUK).
    letters: Vec<(String, String, String)>,
    /// The ordinary printer.
    queue: Option<String>,
    saver: Option<egui_file::FileDialog>,
    /// Printing or saving on its thread: what it said.
    working: Option<Receiver<Result<String, String>>>,
    /// Discard pressed once: asks to confirm.
    confirm_discard: bool,
    done: Option<Result<String, String>>,
}

/// Where the letters go.
enum Out {
    Print(Arc<dyn CardPrinter>, String),
    Save(std::path::PathBuf),
}

impl PinLetters {
    /// The letters of the cards a run produced (card number, PIN, PUK).
    pub fn add(&mut self, letters: impl IntoIterator<Item = (String, String, String)>) {
        self.letters.extend(letters);
    }

    /// Letters not yet printed, saved or discarded.
    pub fn waiting(&self) -> bool {
        !self.letters.is_empty()
    }

    /// Renders the letters as one document and prints or saves it, on a
    /// thread of its own; the outcome comes back through `working`.
    fn send(&mut self, env: &Env, out: Out) {
        let letters = self.letters.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let notify = env.devices.notify.clone();
        std::thread::spawn(move || {
            let outcome = crate::desk::pin_letters_document(&letters)
                .map_err(|e| e.to_string())
                .and_then(|doc| match out {
                    Out::Print(printer, queue) => printer
                        .print(&queue, &doc)
                        .map(|job| {
                            tf(
                                "PIN letters printed on {queue} (job {job}).",
                                &[("queue", &queue), ("job", &job)],
                            )
                        })
                        .map_err(|e| e.to_string()),
                    Out::Save(path) => crate::desk::files::write_private(&path, &doc.pdf)
                        .map(|()| tf("PIN letters saved to {path}.", &[("path", &path.display())]))
                        .map_err(|e| format!("{}: {e}", path.display())),
                });
            let _ = tx.send(outcome);
            notify();
        });
        self.working = Some(rx);
    }

    /// The prompt: print on an ordinary printer (any queue but
    /// `card_printer`), save as one PDF, or (confirmed) discard.
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env, card_printer: &str, queues: &[String]) {
        if let Some(rx) = &self.working {
            if let Ok(outcome) = rx.try_recv() {
                self.working = None;
                if outcome.is_ok() {
                    self.letters.clear();
                }
                self.done = Some(outcome);
            }
        }
        if self.letters.is_empty() {
            message(ui, &self.done);
            return;
        }
        let mut out = None;
        ui.group(|ui| {
            ui.strong(tf(
                "{n} PIN letter(s) are ready. They will not be shown again: print or save them now.",
                &[("n", &self.letters.len())],
            ));
            ui.horizontal(|ui| {
                let ordinary: Vec<&String> = queues.iter().filter(|q| *q != card_printer).collect();
                if self.queue.is_none() {
                    let chosen = env.snapshot.printers.letters.as_ref();
                    self.queue = ordinary
                        .iter()
                        .find(|q| Some(**q) == chosen)
                        .or(ordinary.first())
                        .map(|q| (*q).clone());
                }
                let label = ui.label(t("Letter printer"));
                if ordinary.is_empty() {
                    ui.weak(t("none besides the card printer"));
                } else {
                    egui::ComboBox::from_id_salt("letter-printer")
                        .selected_text(self.queue.clone().unwrap_or_default())
                        .show_ui(ui, |ui| {
                            for q in &ordinary {
                                ui.selectable_value(&mut self.queue, Some((*q).clone()), q.as_str());
                            }
                        })
                        .response
                        .labelled_by(label.id);
                }
                let idle = self.working.is_none();
                if ui
                    .add_enabled(idle && self.queue.is_some(), egui::Button::new(t("Print PIN letters")))
                    .clicked()
                {
                    if let (Some(queue), Some(printer)) = (self.queue.clone(), env.devices.printer.clone()) {
                        out = Some(Out::Print(printer, queue));
                    }
                }
                if ui
                    .add_enabled(idle, egui::Button::new(t("Save PIN letters as one PDF…")))
                    .clicked()
                {
                    let dir = env.worker.db.parent().map(|d| d.to_path_buf()).unwrap_or_default();
                    let mut dialog = egui_file::FileDialog::save_file()
                        .initial_path(dir)
                        .default_filename("pin-letters.pdf")
                        .title(t("PIN letters as one PDF"))
                        .save_button_text(t("Save the PIN letters").into());
                    dialog.open();
                    self.saver = Some(dialog);
                }
                if !self.confirm_discard && ui.button(t("Discard")).clicked() {
                    self.confirm_discard = true;
                }
            });
            if self.confirm_discard {
                ui.horizontal(|ui| {
                    ui.colored_label(
                        ui.visuals().warn_fg_color,
                        t("Discard them? The PINs cannot be shown again."),
                    );
                    if ui.button(t("Yes, discard")).clicked() {
                        self.letters.clear();
                        self.confirm_discard = false;
                    }
                    if ui.button(t("Keep")).clicked() {
                        self.confirm_discard = false;
                    }
                });
            }
            if self.working.is_some() {
                ui.spinner();
            }
        });
        if let Some(saver) = &mut self.saver {
            if saver.show(ui.ctx()).selected() {
                out = saver.path().map(|p| Out::Save(p.to_path_buf()));
                self.saver = None;
            } else if !saver.visible() {
                self.saver = None;
            }
        }
        if let Some(out) = out {
            self.send(env, out);
        }
        message(ui, &self.done);
    }
}
