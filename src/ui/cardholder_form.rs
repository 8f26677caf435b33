//! Create cardholder, optionally raising a card request when the desk can't
//! give the card now (no credential at hand, no printer).

use super::i18n::{t, tf};
use super::request_forms::{site_picker, template_picker};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::CardholderInput;
use crate::desk::RequestFields;
use crate::desk::{DeskCommand, DeskOutcome};

pub struct CardholderForm {
    first: String,
    last: String,
    email: String,
    department: String,
    photo_path: String,
    site: Option<i64>,
    activation: String,
    expiry: String,
    request_card: bool,
    request: RequestFields,
    busy: bool,
    result: Option<Result<String, String>>,
}

impl CardholderForm {
    pub fn new() -> CardholderForm {
        CardholderForm {
            first: String::new(),
            last: String::new(),
            email: String::new(),
            department: String::new(),
            photo_path: String::new(),
            site: None,
            activation: String::new(),
            expiry: String::new(),
            request_card: false,
            request: RequestFields {
                badge_template: "Standard".into(),
                ..Default::default()
            },
            busy: false,
            result: None,
        }
    }

    /// Returns false once the dialog should close.
    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut keep = true;
        let modal = egui::Modal::new(egui::Id::unique("create-cardholder")).show(ctx, |ui| {
            ui.set_width(560.0);
            ui.heading(t("Create cardholder"));
            labelled_edit(ui, t("First name"), &mut self.first, false);
            labelled_edit(ui, t("Last name"), &mut self.last, false);
            labelled_edit(ui, t("E-mail"), &mut self.email, false);
            labelled_edit(ui, t("Department"), &mut self.department, false);
            labelled_edit(
                ui,
                t("Photo file (JPEG or PNG)"),
                &mut self.photo_path,
                false,
            );
            site_picker(ui, env, t("Site"), "cardholder-site", &mut self.site);
            labelled_edit(
                ui,
                t("Activation (YYYY-MM-DD)"),
                &mut self.activation,
                false,
            );
            labelled_edit(ui, t("Expiry (YYYY-MM-DD)"), &mut self.expiry, false);
            ui.separator();
            ui.checkbox(&mut self.request_card, t("Request a card"));
            if self.request_card {
                labelled_edit(ui, t("Reason"), &mut self.request.reason, false);
                template_picker(ui, env, "new-template", &mut self.request.badge_template);
                site_picker(
                    ui,
                    env,
                    t("Ship to site"),
                    "new-ship-to",
                    &mut self.request.ship_to_site_id,
                );
                ui.checkbox(
                    &mut self.request.notify_requester,
                    t("Email me when the card is ready"),
                );
            }
            message(ui, &self.result);
            ui.separator();
            ui.horizontal(|ui| {
                if ui
                    .add_enabled(!self.busy, egui::Button::new(t("Create")))
                    .clicked()
                {
                    self.submit(env);
                }
                if ui.button(t("Cancel")).clicked() {
                    keep = false;
                }
            });
        });
        keep && !modal.should_close()
    }

    fn submit(&mut self, env: &Env) {
        let site = self
            .site
            .and_then(|id| env.snapshot.sites.iter().find(|s| s.id == id))
            .map(|s| s.name.clone());
        let opt = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let input = CardholderInput {
            first_name: self.first.clone(),
            last_name: self.last.clone(),
            email: opt(&self.email),
            department: opt(&self.department),
            photo: None,
            site,
            activation: opt(&self.activation),
            expiry: opt(&self.expiry),
        };
        self.busy = true;
        self.result = None;
        env.worker.send(DeskCommand::CreateCardholder {
            input: Box::new(input),
            photo_path: opt(&self.photo_path).map(Into::into),
            request: self.request_card.then(|| self.request.clone()),
        });
    }

    /// The message to show once the cardholder was created and the form
    /// can close.
    pub fn on_reply(&mut self, result: CommandResult) -> Option<String> {
        self.busy = false;
        match result {
            Ok(DeskOutcome::CardholderCreated { name, request_id }) => Some(match request_id {
                Some(id) => tf(
                    "Cardholder {name} created; card request {id} raised.",
                    &[("name", &name), ("id", &id)],
                ),
                None => tf("Cardholder {name} created.", &[("name", &name)]),
            }),
            Ok(_) => Some(String::new()),
            Err(e) => {
                self.result = Some(Err(e.to_string()));
                None
            }
        }
    }
}
