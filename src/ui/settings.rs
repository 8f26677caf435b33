//! Settings: the desk's language, starting in the tray at login, the
//! printers (`ui::printer_settings`), the mail server, and the outbox (what
//! was sent, what waits, what failed and can be retried); for
//! administrators, door readers and operators.

use super::i18n::{lang, set_lang, t, tf, Lang};
use super::widgets::{labelled_edit, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::{DeskCommand, DeskOutcome};
use crate::desk::{OutboxStatus, Privilege};
use crate::desk::{Secret, Security, SmtpSettings};
use egui_extras::{Column, TableBuilder};

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Tab {
    #[default]
    General,
    DoorReaders,
    Operators,
}

#[derive(Default)]
pub struct SettingsView {
    /// Administrators see Door readers and Operators beside the general
    /// settings.
    tab: Tab,
    pub operators: super::operators::OperatorsView,
    pub door_readers: super::door_readers::DoorReadersView,
    pub printers: super::printer_settings::PrinterSettings,
    /// Starting in the tray at login, as last read or set.
    autostart: Option<bool>,
    form: Option<MailForm>,
    test_to: String,
    busy: bool,
    result: Option<Result<String, String>>,
}

struct MailForm {
    host: String,
    port: String,
    security: Security,
    user: String,
    password: String,
    from: String,
}

impl MailForm {
    fn from_settings(s: Option<&SmtpSettings>) -> MailForm {
        MailForm {
            host: s.map(|s| s.host.clone()).unwrap_or_default(),
            port: s.map_or("587".into(), |s| s.port.to_string()),
            security: s.map_or(Security::StartTls, |s| s.security),
            user: s.and_then(|s| s.user.clone()).unwrap_or_default(),
            // The stored password is never shown; empty keeps it.
            password: String::new(),
            from: s.map(|s| s.from.clone()).unwrap_or_default(),
        }
    }
}

impl SettingsView {
    /// Opens the Operators tab (the screenshot start-up).
    pub fn show_operators(&mut self) {
        self.tab = Tab::Operators;
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.heading(t("Settings"));
        let doors = env.session.may(Privilege::ManageSettings);
        let operators = env.session.may(Privilege::ManageOperators);
        if doors || operators {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::General, t("General"));
                if doors {
                    ui.selectable_value(&mut self.tab, Tab::DoorReaders, t("Door readers"));
                }
                if operators {
                    ui.selectable_value(&mut self.tab, Tab::Operators, t("Operators"));
                }
            });
            ui.separator();
            match self.tab {
                Tab::Operators if operators => {
                    egui::ScrollArea::vertical()
                        .id_salt("operators-scroll")
                        .show(ui, |ui| self.operators.ui(ui, env));
                    return;
                }
                Tab::DoorReaders if doors => {
                    egui::ScrollArea::vertical()
                        .id_salt("door-readers-scroll")
                        .show(ui, |ui| self.door_readers.ui(ui, env));
                    return;
                }
                _ => {}
            }
        }
        egui::ScrollArea::vertical()
            .id_salt("settings-general")
            .show(ui, |ui| self.general_ui(ui, env));
    }

    fn general_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        language_ui(ui);
        let autostart = self.autostart.get_or_insert_with(super::autostart::enabled);
        let mut on = *autostart;
        if ui
            .checkbox(
                &mut on,
                t("Start in the tray when I log in to this computer (the pending count on the tray badge)"),
            )
            .changed()
        {
            match super::autostart::set_enabled(on) {
                Ok(()) => *autostart = on,
                Err(e) => {
                    self.result = Some(Err(tf(
                        "Cannot change starting at login: {error}",
                        &[("error", &e)],
                    )))
                }
            }
        }
        ui.separator();
        ui.strong(t("Printers"));
        self.printers.ui(ui, env);
        ui.separator();
        self.mail_ui(ui, env);
        ui.separator();
        self.outbox(ui, env);
    }

    /// The mail server form with its test message (Settings, first run).
    pub fn mail_ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        ui.strong(t("Mail server"));
        let may = env.session.may(Privilege::ManageSettings);
        let form = self
            .form
            .get_or_insert_with(|| MailForm::from_settings(env.snapshot.smtp.as_ref()));
        let test_to = &mut self.test_to;
        let (mut save, mut send_test) = (false, false);
        ui.add_enabled_ui(may && !self.busy, |ui| {
            labelled_edit(ui, t("Host"), &mut form.host, false);
            labelled_edit(ui, t("Port"), &mut form.port, false);
            ui.horizontal(|ui| {
                let l = ui.add_sized([170.0, 20.0], egui::Label::new(t("Security")));
                egui::ComboBox::from_id_salt("smtp-security")
                    .selected_text(form.security.as_str())
                    .show_ui(ui, |ui| {
                        for s in [Security::None, Security::StartTls, Security::Tls] {
                            ui.selectable_value(&mut form.security, s, s.as_str());
                        }
                    })
                    .response
                    .labelled_by(l.id);
            });
            labelled_edit(ui, t("User (optional)"), &mut form.user, false);
            labelled_edit(ui, t("Password"), &mut form.password, true);
            labelled_edit(ui, t("From address"), &mut form.from, false);
            ui.horizontal(|ui| {
                save = ui.button(t("Save mail settings")).clicked();
            });
            ui.horizontal(|ui| {
                labelled_edit(ui, t("Send a test message to"), test_to, false);
                send_test = ui.button(t("Send test message")).clicked();
            });
        });
        if save {
            self.save(env);
        }
        if send_test {
            self.busy = true;
            env.worker.send(DeskCommand::QueueTestMail {
                to: self.test_to.clone(),
            });
        }
        if !may {
            ui.weak(t("Your privileges do not allow this."));
        }
        message(ui, &self.result);
    }

    fn save(&mut self, env: &Env) {
        let Some(form) = &self.form else { return };
        let port = match form.port.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                self.result = Some(Err(tf(
                    "port: {value} is not a port number (1–65535)",
                    &[("value", &form.port)],
                )));
                return;
            }
        };
        let keep = env.snapshot.smtp.as_ref().and_then(|s| s.password.clone());
        let user = Some(form.user.trim().to_string()).filter(|u| !u.is_empty());
        let settings = SmtpSettings {
            host: form.host.trim().to_string(),
            port,
            security: form.security,
            password: if form.password.is_empty() {
                keep.filter(|_| user.is_some())
            } else {
                Some(Secret::new(form.password.clone()))
            },
            user,
            from: form.from.trim().to_string(),
        };
        self.busy = true;
        env.worker.send(DeskCommand::ConfigureMail(settings));
    }

    fn outbox(&mut self, ui: &mut egui::Ui, env: &Env) {
        let o = env.snapshot.outbox;
        ui.strong(tf(
            "Outbox: {pending} queued, {sent} sent, {failed} failed",
            &[
                ("pending", &o.pending),
                ("sent", &o.sent),
                ("failed", &o.failed),
            ],
        ));
        let mail = &env.snapshot.mail.items;
        let may_retry = env.session.may(Privilege::AnswerRequests);
        let mut retry = None;
        TableBuilder::new(ui)
            .id_salt("outbox")
            .striped(true)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(50.0))
            .column(Column::initial(200.0).clip(true))
            .column(Column::initial(260.0).clip(true))
            .column(Column::initial(70.0))
            .column(Column::initial(60.0))
            .column(Column::remainder().clip(true))
            .header(20.0, |mut h| {
                for title in ["#", "To", "Subject", "State", "Tries", "Last error"] {
                    h.col(|ui| {
                        ui.strong(if title == "#" { "#" } else { t(title) });
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, mail.len(), |mut row| {
                    let m = &mail[row.index()];
                    row.col(|ui| {
                        ui.label(m.id.to_string());
                    });
                    row.col(|ui| {
                        ui.label(&m.to_address);
                    });
                    row.col(|ui| {
                        ui.label(&m.subject);
                    });
                    row.col(|ui| {
                        ui.label(m.status.as_str());
                    });
                    row.col(|ui| {
                        ui.label(m.attempts.to_string());
                    });
                    row.col(|ui| {
                        if m.status == OutboxStatus::Failed
                            && may_retry
                            && ui.small_button(t("Retry")).clicked()
                        {
                            retry = Some(m.id);
                        }
                        ui.label(m.last_error.as_deref().unwrap_or(""));
                    });
                });
            });
        if let Some(id) = retry {
            self.busy = true;
            env.worker.send(DeskCommand::RetryMail { id, to: None });
        }
    }

    pub fn on_reply(&mut self, result: CommandResult) {
        self.busy = false;
        if result.is_ok() {
            // Show what is now stored.
            self.form = None;
        }
        self.result = Some(match result {
            Ok(DeskOutcome::MailConfigured) => Ok(t("Mail settings saved.").to_string()),
            Ok(DeskOutcome::TestMailQueued(id)) => {
                Ok(tf("Test message {id} queued.", &[("id", &id)]))
            }
            Ok(DeskOutcome::MailRequeued(id)) => Ok(tf("Mail {id} queued again.", &[("id", &id)])),
            Ok(_) => Ok(String::new()),
            Err(e) => Err(e.to_string()),
        });
    }
}

/// The language radio buttons; a change applies at once.
pub fn language_ui(ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        ui.label(t("Language"));
        let mut current = lang();
        ui.radio_value(&mut current, Lang::En, "English");
        ui.radio_value(&mut current, Lang::Nl, "Nederlands");
        if current != lang() {
            set_lang(current);
        }
    });
}
