//! Settings: the language of the desk.

use super::i18n::{lang, set_lang, t, Lang};

#[derive(Default)]
pub struct SettingsView;

impl SettingsView {
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        ui.heading(t("Settings"));
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
}
