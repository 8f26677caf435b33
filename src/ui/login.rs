//! Log in, or on a brand-new database, the first step of the set-up: the
//! language, the site's name and the first administrator (the printers and
//! the mail server follow, `ui::first_run`). Demo data is offered only in a
//! demo database (made with `--demo`); a real site's first run offers to
//! open the separate demo instead.

use super::i18n::{t, tf};
use super::widgets::{centred_column, labelled_edit, message};
use super::worker::DeskWorker;
use crate::desk::DeskCommand;
use crate::desk::Secret;
use egui::Ui;

#[derive(Default)]
pub struct LoginScreen {
    pub name: String,
    pub password: String,
    pub email: String,
    pub repeat: String,
    /// The first site's name (first run).
    pub site: String,
    pub load_demo: bool,
    pub busy: bool,
    pub error: Option<Result<String, String>>,
    pub hint: Option<String>,
    /// The first-run set-up was logged (the package check waits for it).
    announced: bool,
}

impl LoginScreen {
    pub fn ui(
        &mut self,
        ui: &mut Ui,
        worker: &DeskWorker,
        first_run: bool,
        demo: bool,
        warnings: &[String],
    ) {
        ui.add_space(60.0);
        ui.vertical_centered(|ui| {
            ui.heading("CardDesk");
            if demo {
                ui.colored_label(ui.visuals().warn_fg_color, t("DEMO database"));
            }
            for warning in warnings {
                ui.colored_label(ui.visuals().error_fg_color, format!("⚠ {warning}"));
            }
            ui.add_space(12.0);
        });
        centred_column(ui, 460.0, |ui| {
            if first_run {
                if !self.announced {
                    self.announced = true;
                    tracing::info!("no operator yet: showing the first-run set-up");
                }
                self.setup_ui(ui, worker, demo);
            } else {
                self.login_ui(ui, worker);
            }
        });
    }

    fn login_ui(&mut self, ui: &mut Ui, worker: &DeskWorker) {
        let name = labelled_edit(ui, t("Operator"), &mut self.name, false);
        if self.name.is_empty() && !self.busy {
            name.request_focus();
        }
        let pw = labelled_edit(ui, t("Password"), &mut self.password, true);
        let enter = pw.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        if let Some(hint) = &self.hint {
            ui.weak(hint);
        }
        ui.add_space(6.0);
        let clicked = ui
            .add_enabled(!self.busy, egui::Button::new(t("Log in")))
            .clicked();
        if (clicked || enter) && !self.busy {
            self.busy = true;
            self.error = None;
            worker.send(DeskCommand::Login {
                name: self.name.clone(),
                password: Secret::new(self.password.clone()),
            });
        }
        if self.busy {
            ui.spinner();
        }
        message(ui, &self.error);
    }

    fn setup_ui(&mut self, ui: &mut Ui, worker: &DeskWorker, demo: bool) {
        ui.heading(t("Set up CardDesk"));
        ui.label(tf(
            "Step {n} of 4: {title}",
            &[("n", &1), ("title", &t("Site and administrator"))],
        ));
        ui.label(t(
            "This database is new. Name the site and create the first administrator.",
        ));
        ui.add_space(6.0);
        super::settings::language_ui(ui);
        labelled_edit(ui, t("Site name"), &mut self.site, false);
        ui.add_space(4.0);
        labelled_edit(ui, t("Name"), &mut self.name, false);
        labelled_edit(ui, t("E-mail"), &mut self.email, false);
        labelled_edit(ui, t("Password"), &mut self.password, true);
        labelled_edit(ui, t("Repeat password"), &mut self.repeat, true);
        if demo {
            ui.checkbox(&mut self.load_demo, t("Load demo data"));
            ui.weak(t(
                "Demo data: about 200 cardholders, 40 credentials and 12 pending requests.",
            ));
        } else {
            self.load_demo = false;
            ui.weak(t(
                "Demo data never goes into a site's database. To try CardDesk first, open the demo: a separate database with simulated devices.",
            ));
            if ui.button(t("Open the demo instead")).clicked() {
                match open_demo() {
                    Ok(()) => ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close),
                    Err(e) => self.error = Some(Err(e)),
                }
            }
        }
        ui.add_space(6.0);
        if ui
            .add_enabled(!self.busy, egui::Button::new(t("Create")))
            .clicked()
        {
            if self.password != self.repeat {
                self.error = Some(Err(t("The passwords differ.").into()));
                return;
            }
            self.busy = true;
            self.error = None;
            worker.send(DeskCommand::SetUp {
                name: self.name.clone(),
                email: Some(self.email.trim().to_string()).filter(|e| !e.is_empty()),
                password: Secret::new(self.password.clone()),
                language: match super::i18n::lang() {
                    super::i18n::Lang::En => "en",
                    super::i18n::Lang::Nl => "nl",
                }
                .into(),
                site: self.site.trim().to_string(),
                demo_data: self.load_demo,
            });
        }
        if self.busy {
            ui.spinner();
        }
        message(ui, &self.error);
    }
}

/// Starts `carddesk --demo` (its own demo database) in place of this window.
fn open_demo() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    std::process::Command::new(exe)
        .arg("--demo")
        .env_remove("CARDDESK_DB")
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the demo: {e}"))
}
