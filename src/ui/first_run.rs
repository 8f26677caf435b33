//! The first-run set-up after the first administrator is created (that
//! step, with the site's name and language, is on the login screen): the
//! card printer with a test card, the PIN letter printer, and the mail
//! server with a test message (skippable). Every step is also in Settings,
//! so leaving half-way loses nothing.

use super::i18n::{t, tf};
use super::settings::SettingsView;
use super::Env;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Step {
    #[default]
    Printers,
    Mail,
    Done,
}

#[derive(Default)]
pub struct FirstRun {
    step: Step,
}

impl FirstRun {
    /// Draws the current step; true when the operator is done.
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env, settings: &mut SettingsView) -> bool {
        let (n, title) = match self.step {
            Step::Printers => (2, t("Printers")),
            Step::Mail => (3, t("Mail server")),
            Step::Done => (4, t("Ready")),
        };
        ui.heading(t("Set up CardDesk"));
        ui.label(tf(
            "Step {n} of 4: {title}",
            &[("n", &n), ("title", &title)],
        ));
        ui.add_space(8.0);
        let mut finished = false;
        match self.step {
            Step::Printers => {
                ui.label(t(
                    "Choose the card printer and print a test card. PIN letters for temporary cards go to an ordinary printer, never the card printer.",
                ));
                ui.add_space(4.0);
                settings.printers.ui(ui, env);
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    if ui.button(t("Next")).clicked() {
                        self.step = Step::Mail;
                    }
                    if !settings.printers.saved() {
                        ui.weak(t(
                            "Save the printers first, or choose them later in Settings.",
                        ));
                    }
                });
            }
            Step::Mail => {
                ui.label(t(
                    "Requesters who ask for it are e-mailed when their card is ready. Without a mail server, nothing is sent; you can set it up later in Settings.",
                ));
                ui.add_space(4.0);
                settings.mail_ui(ui, env);
                ui.add_space(8.0);
                ui.horizontal(|ui| {
                    let label = if env.snapshot.smtp.is_some() {
                        t("Next")
                    } else {
                        t("Skip")
                    };
                    if ui.button(label).clicked() {
                        self.step = Step::Done;
                    }
                });
            }
            Step::Done => {
                ui.label(t(
                    "CardDesk is ready. Pending card requests are counted on the tray badge and on the Card requests button. Printers, mail, door readers and operators can be changed in Settings.",
                ));
                ui.add_space(8.0);
                finished = ui.button(t("Start")).clicked();
            }
        }
        finished
    }
}
