//! The small dialogs on a request: Modify, Deny, and Close for cards
//! shipped to a site (how each was sent).

use super::i18n::{t, tf};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::DeskCommand;
use crate::desk::{CardRequest, RequestFields};

pub struct ModifyForm {
    id: i64,
    name: String,
    fields: RequestFields,
    busy: bool,
    error: Option<Result<String, String>>,
}

/// A labelled combo box of sites with "(none)".
pub fn site_picker(
    ui: &mut egui::Ui,
    env: &Env,
    label: &str,
    id_salt: &str,
    site: &mut Option<i64>,
) {
    ui.horizontal(|ui| {
        let l = ui.add_sized([170.0, 20.0], egui::Label::new(label));
        let current = site
            .and_then(|id| env.snapshot.sites.iter().find(|s| s.id == id))
            .map_or(t("(none)").to_string(), |s| s.name.clone());
        egui::ComboBox::from_id_salt(id_salt)
            .selected_text(current)
            .show_ui(ui, |ui| {
                ui.selectable_value(site, None, t("(none)"));
                for s in env.snapshot.sites.iter() {
                    ui.selectable_value(site, Some(s.id), &s.name);
                }
            })
            .response
            .labelled_by(l.id);
    });
}

pub fn template_picker(ui: &mut egui::Ui, env: &Env, id_salt: &str, template: &mut String) {
    ui.horizontal(|ui| {
        let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("Badge template")));
        egui::ComboBox::from_id_salt(id_salt)
            .selected_text(template.as_str())
            .show_ui(ui, |ui| {
                for name in env.snapshot.templates.iter() {
                    ui.selectable_value(template, name.clone(), name);
                }
            })
            .response
            .labelled_by(l.id);
    });
}

impl ModifyForm {
    pub fn new(r: &CardRequest) -> ModifyForm {
        ModifyForm {
            id: r.id,
            name: r.cardholder_name.clone(),
            fields: RequestFields {
                reason: r.reason.clone(),
                badge_template: r.badge_template.clone(),
                notify_requester: r.notify_requester,
                ship_to_site_id: r.ship_to_site_id,
            },
            busy: false,
            error: None,
        }
    }

    /// Returns false once the dialog should close.
    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("modify-request")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading(t("Modify request"));
            ui.label(&self.name);
            ui.separator();
            labelled_edit(ui, t("Reason"), &mut self.fields.reason, false);
            template_picker(ui, env, "modify-template", &mut self.fields.badge_template);
            site_picker(
                ui,
                env,
                t("Ship to site"),
                "modify-site",
                &mut self.fields.ship_to_site_id,
            );
            ui.checkbox(
                &mut self.fields.notify_requester,
                t("Email me when the card is ready"),
            );
            message(ui, &self.error);
            ui.separator();
            ui.horizontal(|ui| {
                let ok = ui
                    .add_enabled(!self.busy, egui::Button::new(t("OK")))
                    .clicked()
                    || ui.input(|i| i.key_pressed(egui::Key::Enter));
                if ok && !self.busy {
                    self.busy = true;
                    env.worker.send(DeskCommand::ModifyRequest {
                        id: self.id,
                        fields: self.fields.clone(),
                    });
                }
                if ui.button(t("Cancel")).clicked() {
                    keep = false;
                }
            });
        });
        keep && !modal.should_close()
    }

    /// True when the modification was saved and the dialog can close.
    pub fn on_reply(&mut self, result: CommandResult) -> bool {
        finished(&mut self.busy, &mut self.error, result)
    }
}

pub struct DenyForm {
    pub ids: Vec<i64>,
    reason: String,
    busy: bool,
    error: Option<Result<String, String>>,
}

impl DenyForm {
    pub fn new(ids: Vec<i64>) -> DenyForm {
        DenyForm {
            ids,
            reason: String::new(),
            busy: false,
            error: None,
        }
    }

    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("deny-requests")).show(ctx, |ui| {
            ui.set_width(480.0);
            ui.heading(t("Deny request"));
            ui.label(t(
                "A card already connected to this request is put back in stock.",
            ));
            labelled_edit(ui, t("Reason (optional)"), &mut self.reason, false);
            message(ui, &self.error);
            ui.separator();
            ui.horizontal(|ui| {
                let label = tf("Deny {n} request(s)", &[("n", &self.ids.len())]);
                if ui
                    .add_enabled(!self.busy, egui::Button::new(label))
                    .clicked()
                {
                    self.busy = true;
                    env.worker.send(DeskCommand::DenyRequests {
                        ids: self.ids.clone(),
                        reason: Some(self.reason.clone()),
                    });
                }
                if ui.button(t("Cancel")).clicked() {
                    keep = false;
                }
            });
        });
        keep && !modal.should_close()
    }

    pub fn on_reply(&mut self, result: CommandResult) -> bool {
        finished(&mut self.busy, &mut self.error, result)
    }
}

/// Closing requests some of which ship to a site: how each card was sent
/// (courier, tracking number), told to the requester.
pub struct ShipForm {
    ids: Vec<i64>,
    /// (request, "name → site", note) for those shipped.
    shipped: Vec<(i64, String, String)>,
    busy: bool,
    error: Option<Result<String, String>>,
}

impl ShipForm {
    pub fn new(selected: &[&CardRequest]) -> ShipForm {
        ShipForm {
            ids: selected.iter().map(|r| r.id).collect(),
            shipped: selected
                .iter()
                .filter_map(|r| {
                    r.ship_to_site.as_ref().map(|site| {
                        (
                            r.id,
                            format!("{} → {site}", r.cardholder_name),
                            String::new(),
                        )
                    })
                })
                .collect(),
            busy: false,
            error: None,
        }
    }

    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("ship-requests")).show(ctx, |ui| {
            ui.set_width(520.0);
            ui.heading(t("How were the cards sent?"));
            ui.label(t(
                "The requester's e-mail tells them (courier, tracking number).",
            ));
            for (_, who, note) in &mut self.shipped {
                labelled_edit(ui, who, note, false);
            }
            message(ui, &self.error);
            ui.separator();
            ui.horizontal(|ui| {
                let label = tf("Close {n} request(s)", &[("n", &self.ids.len())]);
                if ui
                    .add_enabled(!self.busy, egui::Button::new(label))
                    .clicked()
                {
                    self.busy = true;
                    env.worker.send(DeskCommand::CloseRequests {
                        ids: self.ids.clone(),
                        shipping: self
                            .shipped
                            .iter()
                            .map(|(id, _, note)| (*id, note.clone()))
                            .collect(),
                    });
                }
                if ui.button(t("Cancel")).clicked() {
                    keep = false;
                }
            });
        });
        keep && !modal.should_close()
    }

    pub fn on_reply(&mut self, result: CommandResult) -> bool {
        finished(&mut self.busy, &mut self.error, result)
    }
}

/// A form's job came back: true when it succeeded (the form can close),
/// otherwise the error is shown in the form.
fn finished(
    busy: &mut bool,
    error: &mut Option<Result<String, String>>,
    result: CommandResult,
) -> bool {
    *busy = false;
    match result {
        Ok(_) => true,
        Err(e) => {
            *error = Some(Err(e.to_string()));
            false
        }
    }
}
