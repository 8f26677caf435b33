//! The audit trail: who did what, when; and a check of the hash chain.

use super::i18n::{t, tf};
use super::widgets::message;
use super::worker::CommandResult;
use super::Env;
use crate::desk::Privilege;
use crate::desk::{DeskCommand, DeskOutcome};
use egui_extras::{Column, TableBuilder};

#[derive(Default)]
pub struct AuditView {
    result: Option<Result<String, String>>,
    busy: bool,
}

impl AuditView {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        if !env.session.may(Privilege::ViewAudit) {
            ui.label(t("Your privileges do not allow this."));
            return;
        }
        ui.horizontal(|ui| {
            ui.heading(t("Audit trail"));
            if ui
                .add_enabled(!self.busy, egui::Button::new(t("Verify audit trail")))
                .clicked()
            {
                self.busy = true;
                env.worker.send(DeskCommand::VerifyAudit);
            }
        });
        message(ui, &self.result);
        let events = &env.snapshot.audit.items;
        TableBuilder::new(ui)
            .id_salt("audit")
            .striped(true)
            .column(Column::initial(60.0))
            .column(Column::initial(190.0))
            .column(Column::initial(100.0))
            .column(Column::initial(240.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["#", "Time", "Actor", "Action", "Entity"] {
                    h.col(|ui| {
                        ui.strong(if title == "#" || title == "Action" {
                            title
                        } else {
                            t(title)
                        });
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, events.len(), |mut row| {
                    let e = &events[row.index()];
                    row.col(|ui| {
                        ui.label(e.id.to_string());
                    });
                    row.col(|ui| {
                        ui.label(&e.at);
                    });
                    row.col(|ui| {
                        ui.label(&e.actor);
                    });
                    row.col(|ui| {
                        ui.label(&e.action);
                    });
                    row.col(|ui| {
                        ui.label(format!(
                            "{} {}",
                            e.entity,
                            e.entity_id.map(|i| i.to_string()).unwrap_or_default()
                        ));
                    });
                });
            });
    }

    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        self.result = Some(match result {
            Ok(DeskOutcome::AuditIntact(n)) => {
                Ok(tf("Audit trail intact: {n} events.", &[("n", &n)]))
            }
            Ok(_) => Ok(String::new()),
            Err(e) => Err(e.to_string()),
        });
    }
}
