//! A cardholder's record, opened by double-clicking them in a list: photo
//! (as the badge frame crops it), details, their credentials with the
//! actions each one's state allows (report lost, stolen or damaged with a
//! replacement in the same step, deactivate, reactivate, return, revoke),
//! their card requests with who answered and when, and the audit events
//! about them. Details are edited here and a card requested.

use super::i18n::{t, tf};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::{
    CardholderInput, CardholderRecord, CredentialAction, CredentialState, DeskCommand, DeskOutcome,
    Privilege, RequestFields,
};
use egui_extras::{Column, TableBuilder};

/// The credential action being confirmed (reports take a reason).
struct ActionForm {
    credential_id: i64,
    label: String,
    action: CredentialAction,
    reason: String,
    replace: bool,
}

struct EditForm {
    first: String,
    last: String,
    email: String,
    department: String,
    activation: Option<jiff::civil::Date>,
    expiry: Option<jiff::civil::Date>,
    /// A new photo chosen with the file dialog (read on the desk worker).
    photo: Option<std::path::PathBuf>,
    picker: Option<egui_file::FileDialog>,
}

/// The file dialog for a cardholder photo: JPEG and PNG files only.
fn photo_picker() -> egui_file::FileDialog {
    let filter = Box::new(|path: &std::path::Path| {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
    });
    let mut dialog = egui_file::FileDialog::open_file()
        .show_files_filter(filter)
        .title(t("Choose a photo"));
    dialog.open();
    dialog
}

struct RequestForm {
    reason: String,
    template: String,
    notify: bool,
}

pub struct CardholderRecordView {
    pub id: i64,
    record: Option<Box<CardholderRecord>>,
    photo: Option<egui::TextureHandle>,
    action: Option<ActionForm>,
    edit: Option<EditForm>,
    request: Option<RequestForm>,
    busy: bool,
    result: Option<Result<String, String>>,
}

fn action_label(a: CredentialAction) -> &'static str {
    match a {
        CredentialAction::ReportLost => t("Report lost"),
        CredentialAction::ReportStolen => t("Report stolen"),
        CredentialAction::ReportDamaged => t("Report damaged"),
        CredentialAction::Deactivate => t("Deactivate"),
        CredentialAction::Reactivate => t("Reactivate"),
        CredentialAction::Return => t("Return to stock"),
        CredentialAction::Revoke => t("Revoke"),
    }
}

/// A stored YYYY-MM-DD date as the date picker holds it.
fn date(text: &Option<String>) -> Option<jiff::civil::Date> {
    text.as_deref().and_then(|d| d.parse().ok())
}

impl CardholderRecordView {
    /// Opens the record of cardholder `id` (loaded on the desk worker).
    pub fn open(id: i64, env: &Env) -> CardholderRecordView {
        env.worker.send(DeskCommand::OpenCardholder { id });
        CardholderRecordView {
            id,
            record: None,
            photo: None,
            action: None,
            edit: None,
            request: None,
            busy: true,
            result: None,
        }
    }

    /// Opens with the Request a card form showing.
    pub fn with_request_form(mut self) -> CardholderRecordView {
        self.request = Some(RequestForm {
            reason: String::new(),
            template: "Standard".into(),
            notify: false,
        });
        self
    }

    /// A reply for this window. Returns true when the record must be
    /// loaded again (something in it changed).
    pub fn on_reply(&mut self, ctx: &egui::Context, result: CommandResult) -> bool {
        self.busy = false;
        match result {
            Ok(DeskOutcome::CardholderRecord { record, photo }) => {
                self.photo = photo.map(|img| {
                    let size = [img.width() as usize, img.height() as usize];
                    let color = egui::ColorImage::from_rgba_unmultiplied(size, img.as_raw());
                    ctx.load_texture(format!("photo-{}", self.id), color, Default::default())
                });
                self.record = Some(record);
                false
            }
            Ok(DeskOutcome::CredentialChanged(done)) => {
                self.action = None;
                self.result = Some(Ok(match done.replacement_request {
                    Some(r) => tf(
                        "{credential} is now {state}; replacement request {request} raised.",
                        &[
                            ("credential", &done.credential.label()),
                            ("state", &done.credential.state),
                            ("request", &r),
                        ],
                    ),
                    None => tf(
                        "{credential} is now {state}.",
                        &[
                            ("credential", &done.credential.label()),
                            ("state", &done.credential.state),
                        ],
                    ),
                }));
                true
            }
            Ok(DeskOutcome::CardholderUpdated(name)) => {
                self.edit = None;
                self.result = Some(Ok(tf("Saved {name}.", &[("name", &name)])));
                true
            }
            Ok(DeskOutcome::CardRequested(id)) => {
                self.request = None;
                self.result = Some(Ok(tf("Card request {id} raised.", &[("id", &id)])));
                true
            }
            Ok(_) => false,
            Err(e) => {
                self.result = Some(Err(e.to_string()));
                false
            }
        }
    }

    /// Draws the window; false once it is closed.
    pub fn show(&mut self, ctx: &egui::Context, env: &Env) -> bool {
        let mut open = true;
        let title = match &self.record {
            Some(r) => tf("Cardholder: {name}", &[("name", &r.cardholder.full_name())]),
            None => t("Cardholder").to_string(),
        };
        egui::Window::new(title)
            .id(egui::Id::unique(("cardholder-record", self.id)))
            .open(&mut open)
            .default_size([760.0, 620.0])
            .default_pos([230.0, 50.0])
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| self.body(ui, env));
            });
        open
    }

    fn body(&mut self, ui: &mut egui::Ui, env: &Env) {
        let Some(record) = self.record.clone() else {
            ui.spinner();
            message(ui, &self.result);
            return;
        };
        let c = &record.cardholder;
        ui.horizontal(|ui| {
            match &self.photo {
                Some(tex) => {
                    let size = tex.size_vec2();
                    let scale = 160.0 / size.y.max(1.0);
                    ui.image((tex.id(), size * scale));
                }
                None => {
                    ui.add_sized([125.0, 160.0], egui::Label::new(t("No photo")));
                }
            }
            ui.vertical(|ui| {
                egui::Grid::new("record-details")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let site = c.site_id.and_then(|id| {
                            env.snapshot
                                .sites
                                .iter()
                                .find(|s| s.id == id)
                                .map(|s| s.name.clone())
                        });
                        for (label, value) in [
                            (t("Name"), Some(c.full_name())),
                            (t("E-mail"), c.email.clone()),
                            (t("Department"), c.department.clone()),
                            (t("Site"), site),
                            (t("Activation"), c.activation.clone()),
                            (t("Expiry"), c.expiry.clone()),
                        ] {
                            ui.label(label);
                            ui.label(value.unwrap_or_else(|| "—".into()));
                            ui.end_row();
                        }
                    });
                ui.horizontal(|ui| {
                    let may = env.session.may(Privilege::ManageCardholders);
                    if ui
                        .add_enabled(
                            may && self.edit.is_none(),
                            egui::Button::new(t("Edit details")),
                        )
                        .clicked()
                    {
                        self.edit = Some(EditForm {
                            first: c.first_name.clone(),
                            last: c.last_name.clone(),
                            email: c.email.clone().unwrap_or_default(),
                            department: c.department.clone().unwrap_or_default(),
                            activation: date(&c.activation),
                            expiry: date(&c.expiry),
                            photo: None,
                            picker: None,
                        });
                    }
                    if ui
                        .add_enabled(
                            may && self.request.is_none(),
                            egui::Button::new(t("Request a card")),
                        )
                        .clicked()
                    {
                        self.request = Some(RequestForm {
                            reason: String::new(),
                            template: "Standard".into(),
                            notify: false,
                        });
                    }
                });
            });
        });
        self.edit_ui(ui, env, &record);
        self.request_ui(ui, env);
        ui.separator();
        self.credentials_ui(ui, env, &record);
        self.action_ui(ui, env);
        for card in &record.temp_cards {
            ui.label(tf(
                "Temporary card #{n}: {state}, valid until {until}",
                &[
                    ("n", &card.card_number),
                    ("state", &card.state),
                    (
                        "until",
                        &card
                            .valid_until
                            .as_deref()
                            .map_or("—", |v| v.get(..10).unwrap_or(v)),
                    ),
                ],
            ));
        }
        message(ui, &self.result);
        ui.separator();
        ui.strong(t("Card requests"));
        TableBuilder::new(ui)
            .id_salt(("record-requests", self.id))
            .striped(true)
            .column(Column::auto().at_least(40.0))
            .column(Column::auto().at_least(90.0))
            .column(Column::auto().at_least(240.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["#", t("Status"), t("Reason"), t("Answered")] {
                    h.col(|ui| {
                        ui.strong(title);
                    });
                }
            })
            .body(|mut body| {
                for r in &record.requests {
                    body.row(20.0, |mut row| {
                        row.col(|ui| {
                            ui.label(r.id.to_string());
                        });
                        row.col(|ui| {
                            ui.label(r.status.as_str());
                        });
                        row.col(|ui| {
                            ui.label(&r.reason);
                        });
                        row.col(|ui| {
                            ui.label(answered(r));
                        });
                    });
                }
            });
        if !record.events.is_empty() {
            ui.separator();
            egui::CollapsingHeader::new(t("History"))
                .id_salt(("record-history", self.id))
                .show(ui, |ui| {
                    for e in &record.events {
                        ui.label(format!(
                            "{}  {}  {}",
                            e.at.get(..16).unwrap_or(&e.at).replace('T', " "),
                            e.actor,
                            e.action
                        ));
                    }
                });
        }
    }

    fn credentials_ui(&mut self, ui: &mut egui::Ui, env: &Env, record: &CardholderRecord) {
        ui.strong(t("Credentials"));
        let may = env.session.may(Privilege::ManageCredentials);
        if record.credentials.is_empty() {
            ui.weak(t("No credentials."));
        }
        for cred in &record.credentials {
            ui.horizontal(|ui| {
                ui.label(cred.label());
                ui.label(state_text(cred.state));
                for action in CredentialAction::ALL {
                    if !action.allowed_from(cred.state) {
                        continue;
                    }
                    let button = ui.add_enabled(
                        may && !self.busy && self.action.is_none(),
                        egui::Button::new(action_label(action)),
                    );
                    if button.clicked() {
                        self.action = Some(ActionForm {
                            credential_id: cred.id,
                            label: cred.label(),
                            action,
                            reason: String::new(),
                            replace: action.is_report(),
                        });
                    }
                }
            });
        }
    }

    fn action_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let Some(form) = &mut self.action else { return };
        let mut send = None;
        let mut cancel = false;
        ui.group(|ui| {
            ui.label(tf(
                "{action}: {credential}",
                &[
                    ("action", &action_label(form.action)),
                    ("credential", &form.label),
                ],
            ));
            if form.action.is_report() {
                labelled_edit(ui, t("What happened"), &mut form.reason, false);
                ui.checkbox(&mut form.replace, t("Request a replacement"));
            }
            ui.horizontal(|ui| {
                if ui.button(t("Confirm")).clicked() {
                    send = Some(DeskCommand::ChangeCredentialState {
                        id: form.credential_id,
                        action: form.action,
                        reason: Some(form.reason.trim().to_string()).filter(|r| !r.is_empty()),
                        replace: form.replace && form.action.is_report(),
                    });
                }
                if ui.button(t("Cancel")).clicked() {
                    cancel = true;
                }
            });
        });
        if let Some(command) = send {
            self.busy = true;
            self.result = None;
            env.worker.send(command);
        }
        if cancel {
            self.action = None;
        }
    }

    fn edit_ui(&mut self, ui: &mut egui::Ui, env: &Env, record: &CardholderRecord) {
        let Some(form) = &mut self.edit else { return };
        let mut save = false;
        let mut cancel = false;
        ui.group(|ui| {
            labelled_edit(ui, t("First name"), &mut form.first, false);
            labelled_edit(ui, t("Last name"), &mut form.last, false);
            labelled_edit(ui, t("E-mail"), &mut form.email, false);
            labelled_edit(ui, t("Department"), &mut form.department, false);
            for (label, value, salt) in [
                (t("Activation"), &mut form.activation, "activation"),
                (t("Expiry"), &mut form.expiry, "expiry"),
            ] {
                ui.horizontal(|ui| {
                    ui.add_sized([170.0, 20.0], egui::Label::new(label));
                    let mut picked = value.unwrap_or_else(super::widgets::today);
                    let r = ui.add(
                        egui_extras::DatePickerButton::new(&mut picked)
                            .id_salt(salt)
                            .calendar_week(false)
                            .show_icon(false),
                    );
                    if r.changed() || value.is_some() {
                        *value = Some(picked);
                    }
                    if value.is_some() && ui.small_button(t("Clear")).clicked() {
                        *value = None;
                    }
                });
            }
            ui.horizontal(|ui| {
                ui.add_sized([170.0, 20.0], egui::Label::new(t("Photo")));
                if ui.button(t("Choose photo…")).clicked() {
                    form.picker = Some(photo_picker());
                }
                if let Some(path) = &form.photo {
                    ui.label(
                        path.file_name()
                            .map(|n| n.to_string_lossy())
                            .unwrap_or_default(),
                    );
                }
            });
            ui.horizontal(|ui| {
                save = ui.button(t("Save")).clicked();
                cancel = ui.button(t("Cancel")).clicked();
            });
        });
        if let Some(picker) = &mut form.picker {
            if picker.show(ui.ctx()).selected() {
                form.photo = picker.path().map(|p| p.to_path_buf());
                form.picker = None;
            } else if !picker.visible() {
                form.picker = None;
            }
        }
        if cancel {
            self.edit = None;
        } else if save {
            let c = &record.cardholder;
            let site = c.site_id.and_then(|id| {
                env.snapshot
                    .sites
                    .iter()
                    .find(|s| s.id == id)
                    .map(|s| s.name.clone())
            });
            let input = CardholderInput {
                first_name: form.first.clone(),
                last_name: form.last.clone(),
                email: Some(form.email.clone()),
                department: Some(form.department.clone()),
                photo: None,
                site,
                activation: form.activation.map(|d| d.to_string()),
                expiry: form.expiry.map(|d| d.to_string()),
            };
            self.busy = true;
            self.result = None;
            env.worker.send(DeskCommand::UpdateCardholder {
                id: self.id,
                input: Box::new(input),
                photo_path: form.photo.clone(),
            });
        }
    }

    fn request_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let Some(form) = &mut self.request else {
            return;
        };
        let mut send = false;
        let mut cancel = false;
        ui.group(|ui| {
            labelled_edit(ui, t("Why a card is needed"), &mut form.reason, false);
            ui.horizontal(|ui| {
                let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("Badge template")));
                egui::ComboBox::from_id_salt(("record-template", self.id))
                    .selected_text(form.template.clone())
                    .show_ui(ui, |ui| {
                        for name in env.snapshot.templates.iter() {
                            ui.selectable_value(&mut form.template, name.clone(), name);
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            ui.checkbox(&mut form.notify, t("Email me when the card is ready"));
            ui.horizontal(|ui| {
                send = ui.button(t("Request card")).clicked();
                cancel = ui.button(t("Cancel")).clicked();
            });
        });
        if cancel {
            self.request = None;
        } else if send {
            let fields = RequestFields {
                reason: form.reason.trim().to_string(),
                badge_template: form.template.clone(),
                notify_requester: form.notify,
                ship_to_site_id: None,
            };
            self.busy = true;
            self.result = None;
            env.worker.send(DeskCommand::RequestCard {
                cardholder_id: self.id,
                fields,
            });
        }
    }
}

fn state_text(state: CredentialState) -> &'static str {
    state.as_str()
}

/// "closed by olga at 2026-12-04 10:12" (and a denial's reason).
pub fn answered(r: &crate::desk::CardRequest) -> String {
    match (&r.answered_by_name, &r.answered_at) {
        (Some(by), Some(at)) => {
            let at = at.get(..16).unwrap_or(at).replace('T', " ");
            match &r.deny_reason {
                Some(why) => tf(
                    "{by} at {at}: {reason}",
                    &[("by", by), ("at", &at), ("reason", why)],
                ),
                None => tf("{by} at {at}", &[("by", by), ("at", &at)]),
            }
        }
        _ => "—".into(),
    }
}
