//! The first-run set-up's later steps in the window (`ui::first_run`),
//! shown instead of the desk while the database says they wait.

use super::DeskApp;
use crate::desk::{DeskCommand, Privilege, Session};
use crate::ui::i18n::t;
use crate::ui::widgets::centred_column;
use crate::ui::Env;

impl DeskApp {
    /// Whether the set-up's later steps are shown: the database says they
    /// wait (after the first administrator, or after a restart half-way),
    /// for whoever may change the settings.
    pub(super) fn shows_set_up(&mut self, session: &Session) -> bool {
        let pending = self.snapshot.set_up_pending
            && !self.set_up_finished
            && session.may(Privilege::ManageSettings);
        if pending && self.first_run.is_none() {
            self.first_run = Some(Default::default());
        }
        pending
    }

    /// The set-up's current step, with Log out above it.
    pub(super) fn set_up_ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        let env = Env {
            snapshot: &self.snapshot,
            session,
            worker: &self.worker,
            devices: &self.devices,
        };
        let wizard = self.first_run.as_mut().expect("shows_set_up made it");
        let settings = &mut self.settings;
        let mut log_out = false;
        egui::Panel::top("set-up-bar").show(ui, |ui| {
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                log_out = ui.button(t("Log out")).clicked();
            });
        });
        // A column in the middle, as the set-up's first step.
        let done = egui::CentralPanel::default()
            .show(ui, |ui| {
                egui::ScrollArea::vertical()
                    .show(ui, |ui| {
                        ui.add_space(60.0);
                        centred_column(ui, 640.0, |ui| wizard.ui(ui, &env, settings))
                    })
                    .inner
            })
            .inner;
        if done {
            self.first_run = None;
            self.set_up_finished = true;
            self.worker.send(DeskCommand::FinishSetUp);
        }
        if log_out {
            self.log_out();
        }
    }
}
