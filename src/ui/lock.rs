//! The window locked after idle time (the same operator's password opens
//! it again; whatever dialog was open stays as it was), and the forced
//! password change after an administrator reset an operator's password.

use super::i18n::{t, tf};
use super::widgets::{labelled_edit, message};
use super::worker::DeskWorker;
use crate::desk::{DeskCommand, Secret};
use egui::Ui;

/// Centres a narrow form in the window.
fn centred(ui: &mut Ui, add: impl FnOnce(&mut Ui)) {
    ui.add_space(60.0);
    let width = 460.0;
    ui.horizontal(|ui| {
        ui.add_space(((ui.available_width() - width) / 2.0).max(0.0));
        ui.vertical(|ui| {
            ui.set_width(width);
            add(ui);
        });
    });
}

#[derive(Default)]
pub struct LockScreen {
    password: String,
    pub busy: bool,
    pub error: Option<Result<String, String>>,
}

/// What the operator chose on the lock screen.
pub enum LockChoice {
    Stay,
    LogOut,
}

impl LockScreen {
    pub fn ui(&mut self, ui: &mut Ui, worker: &DeskWorker, operator: &str) -> LockChoice {
        let mut choice = LockChoice::Stay;
        centred(ui, |ui| {
            ui.heading(t("CardDesk is locked"));
            ui.label(tf(
                "Locked after idle time. {name}, enter your password to continue where you were.",
                &[("name", &operator)],
            ));
            ui.add_space(6.0);
            let pw = labelled_edit(ui, t("Password"), &mut self.password, true);
            if !self.busy {
                pw.request_focus();
            }
            let enter = pw.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            ui.horizontal(|ui| {
                let unlock = ui
                    .add_enabled(!self.busy, egui::Button::new(t("Unlock")))
                    .clicked();
                if (unlock || enter) && !self.busy {
                    self.busy = true;
                    self.error = None;
                    worker.send(DeskCommand::Unlock {
                        password: Secret::new(std::mem::take(&mut self.password)),
                    });
                }
                if ui.button(t("Log out")).clicked() {
                    choice = LockChoice::LogOut;
                }
            });
            if self.busy {
                ui.spinner();
            }
            message(ui, &self.error);
        });
        choice
    }
}

#[derive(Default)]
pub struct PasswordChange {
    current: String,
    new: String,
    repeat: String,
    pub busy: bool,
    pub error: Option<Result<String, String>>,
}

impl PasswordChange {
    pub fn ui(&mut self, ui: &mut Ui, worker: &DeskWorker) -> LockChoice {
        let mut choice = LockChoice::Stay;
        centred(ui, |ui| {
            ui.heading(t("Choose a new password"));
            ui.label(t(
                "An administrator reset your password. Choose a new one before you continue.",
            ));
            ui.add_space(6.0);
            labelled_edit(ui, t("Current password"), &mut self.current, true);
            labelled_edit(ui, t("New password"), &mut self.new, true);
            labelled_edit(ui, t("Repeat password"), &mut self.repeat, true);
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!self.busy, egui::Button::new(t("Change password")))
                    .clicked()
                {
                    if self.new != self.repeat {
                        self.error = Some(Err(t("The passwords differ.").into()));
                    } else {
                        self.busy = true;
                        self.error = None;
                        worker.send(DeskCommand::ChangePassword {
                            current: Secret::new(std::mem::take(&mut self.current)),
                            new: Secret::new(std::mem::take(&mut self.new)),
                        });
                        self.repeat.clear();
                    }
                }
                if ui.button(t("Log out")).clicked() {
                    choice = LockChoice::LogOut;
                }
            });
            message(ui, &self.error);
        });
        choice
    }
}
