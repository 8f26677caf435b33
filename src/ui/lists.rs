//! The cardholder and credential lists: virtualised tables (only the visible
//! rows are laid out) with a search box and a state filter. The search runs
//! in SQL on the desk worker: the window holds one page of each list, and
//! the app sends a new view when a search box changes.

use super::i18n::{t, tf};
use super::Env;
use crate::desk::CredentialState;
use crate::desk::Page;
use egui_extras::{Column, TableBuilder};

#[derive(Default)]
pub struct CardholderList {
    pub search: String,
}

/// "N" or "first n of N" above a list.
fn count_text<T>(label: &str, page: &Page<T>) -> String {
    if page.has_more() {
        tf(
            "{label}: {total} (first {n} shown; search to narrow)",
            &[
                ("label", &label),
                ("total", &page.total),
                ("n", &page.items.len()),
            ],
        )
    } else {
        format!("{label}: {}", page.total)
    }
}

impl CardholderList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let page = &env.snapshot.cardholders;
        ui.horizontal(|ui| {
            ui.strong(count_text(t("Cardholders"), page));
            let l = ui.label(t("Search"));
            ui.add(egui::TextEdit::singleline(&mut self.search).id_salt("cardholder-search"))
                .labelled_by(l.id);
        });
        let rows = &page.items;
        TableBuilder::new(ui)
            .id_salt("cardholders")
            .striped(true)
            .column(Column::initial(60.0))
            .column(Column::initial(220.0).resizable(true).clip(true))
            .column(Column::initial(260.0).resizable(true).clip(true))
            .column(Column::initial(140.0).resizable(true))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["#", "Name", "E-mail", "Department", "Expiry"] {
                    h.col(|ui| {
                        ui.strong(if title == "#" { "#" } else { t(title) });
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let c = &rows[row.index()];
                    row.col(|ui| {
                        ui.label(c.id.to_string());
                    });
                    row.col(|ui| {
                        ui.label(c.full_name());
                    });
                    row.col(|ui| {
                        ui.label(c.email.as_deref().unwrap_or(""));
                    });
                    row.col(|ui| {
                        ui.label(c.department.as_deref().unwrap_or(""));
                    });
                    row.col(|ui| {
                        ui.label(c.expiry.as_deref().unwrap_or(""));
                    });
                });
            });
    }
}

#[derive(Default)]
pub struct CredentialList {
    pub search: String,
    pub state: Option<CredentialState>,
}

impl CredentialList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let page = &env.snapshot.credentials;
        ui.horizontal(|ui| {
            ui.strong(count_text(t("Credentials"), page));
            let l = ui.label(t("Search"));
            ui.add(egui::TextEdit::singleline(&mut self.search).id_salt("credential-search"))
                .labelled_by(l.id);
            let l = ui.label(t("State"));
            egui::ComboBox::from_id_salt("credential-state")
                .selected_text(self.state.map_or(t("All states"), |s| s.as_str()))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.state, None, t("All states"));
                    for s in CredentialState::ALL {
                        ui.selectable_value(&mut self.state, Some(s), s.as_str());
                    }
                })
                .response
                .labelled_by(l.id);
        });
        let rows = &page.items;
        TableBuilder::new(ui)
            .id_salt("credentials")
            .striped(true)
            .column(Column::initial(60.0))
            .column(Column::initial(240.0).resizable(true).clip(true))
            .column(Column::initial(100.0))
            .column(Column::remainder())
            .header(20.0, |mut h| {
                for title in ["#", "Credential", "State", "Holder"] {
                    h.col(|ui| {
                        ui.strong(if title == "#" { "#" } else { t(title) });
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, rows.len(), |mut row| {
                    let c = &rows[row.index()];
                    row.col(|ui| {
                        ui.label(c.id.to_string());
                    });
                    row.col(|ui| {
                        ui.label(c.label());
                    });
                    row.col(|ui| {
                        ui.label(c.state.as_str());
                    });
                    row.col(|ui| {
                        ui.label(c.holder_name.as_deref().unwrap_or(""));
                    });
                });
            });
    }
}
