//! The cardholder and credential lists: virtualised tables (only the visible
//! rows are laid out) with a search box and a state filter. Filtering runs
//! only when the search or the data changes, never per frame.

use super::i18n::{t, tf};
use super::Env;
use crate::domain::CredentialState;
use egui_extras::{Column, TableBuilder};
use std::sync::Arc;

/// Indices into a list that match the current search, recomputed lazily.
#[derive(Default)]
struct Filtered {
    key: Option<(String, Option<CredentialState>, usize)>,
    rows: Vec<usize>,
}

#[derive(Default)]
pub struct CardholderList {
    pub search: String,
    filtered: Filtered,
}

fn list_id<T>(list: &Arc<Vec<T>>) -> usize {
    Arc::as_ptr(list) as usize
}

impl CardholderList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let all = &env.snapshot.cardholders;
        ui.horizontal(|ui| {
            ui.strong(tf("Cardholders: {n}", &[("n", &all.len())]));
            let l = ui.label(t("Search"));
            ui.add(egui::TextEdit::singleline(&mut self.search).id_salt("cardholder-search"))
                .labelled_by(l.id);
        });
        let key = (self.search.to_lowercase(), None, list_id(all));
        if self.filtered.key.as_ref() != Some(&key) {
            let needle = &key.0;
            self.filtered.rows = (0..all.len())
                .filter(|&i| {
                    let c = &all[i];
                    needle.is_empty()
                        || c.full_name().to_lowercase().contains(needle)
                        || c.email
                            .as_deref()
                            .unwrap_or("")
                            .to_lowercase()
                            .contains(needle)
                        || c.department
                            .as_deref()
                            .unwrap_or("")
                            .to_lowercase()
                            .contains(needle)
                })
                .collect();
            self.filtered.key = Some(key);
        }
        let rows = &self.filtered.rows;
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
                    let c = &all[rows[row.index()]];
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
    filtered: Filtered,
}

impl CredentialList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) {
        let all = &env.snapshot.credentials;
        ui.horizontal(|ui| {
            ui.strong(tf("Credentials: {n}", &[("n", &all.len())]));
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
        let key = (self.search.to_lowercase(), self.state, list_id(all));
        if self.filtered.key.as_ref() != Some(&key) {
            let needle = &key.0;
            self.filtered.rows = (0..all.len())
                .filter(|&i| {
                    let c = &all[i];
                    self.state.is_none_or(|s| c.state == s)
                        && (needle.is_empty()
                            || c.label().to_lowercase().contains(needle)
                            || c.holder_name
                                .as_deref()
                                .unwrap_or("")
                                .to_lowercase()
                                .contains(needle))
                })
                .collect();
            self.filtered.key = Some(key);
        }
        let rows = &self.filtered.rows;
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
                    let c = &all[rows[row.index()]];
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
