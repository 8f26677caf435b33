//! The cardholder and credential lists: virtualised tables (only the visible
//! rows are laid out) with a search box and a state filter. The search runs
//! in SQL on the desk worker. Each list scrolls through every matching row,
//! but the window holds only one page of it: when the rows shown leave that
//! page, the list asks for the page around them (its `offset`), and the app
//! sends the new view to the worker.

use super::i18n::t;
use super::Env;
use crate::desk::CredentialState;
use crate::desk::Page;
use egui_extras::{Column, TableBuilder};

#[derive(Default)]
pub struct CardholderList {
    pub search: String,
    /// The first row of the page to hold.
    pub offset: usize,
}

/// Rows kept above the first row shown when a new page is asked for.
const MARGIN: usize = 50;

/// What the operator asked of a cardholder in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// Double-click: their record.
    Record(i64),
    /// Context menu: their record, with Request a card open.
    RequestCard(i64),
}

/// "N" above a list.
fn count_text<T>(label: &str, page: &Page<T>) -> String {
    format!("{label}: {}", page.total)
}

impl CardholderList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) -> Option<Open> {
        let page = &env.snapshot.cardholders;
        ui.horizontal(|ui| {
            ui.strong(count_text(t("Cardholders"), page));
            let l = ui.label(t("Search"));
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.search).id_salt("cardholder-search"))
                .labelled_by(l.id);
            if r.changed() {
                self.offset = 0; // a new search starts at its best match
            }
        });
        let (open, offset) = text_table(
            ui,
            "cardholders",
            &[(60.0, false), (220.0, true), (260.0, true), (140.0, true)],
            &["#", "Name", "E-mail", "Department", "Expiry"],
            page,
            |c| {
                [
                    c.id.to_string(),
                    c.full_name(),
                    c.email.clone().unwrap_or_default(),
                    c.department.clone().unwrap_or_default(),
                    c.expiry.clone().unwrap_or_default(),
                ]
                .to_vec()
            },
            |c| Some(c.id),
        );
        if let Some(offset) = offset {
            self.offset = offset;
        }
        open
    }
}

/// A virtualised table of text cells: only the visible rows are laid out.
/// `widths` are the initial widths (and whether resizable) of all columns
/// but the last, which takes the rest. The second column names a
/// cardholder (`holder` of the row): double-clicking it opens their record,
/// its context menu also offers to request a card.
/// All `page.total` rows scroll; rows outside the page held are drawn as
/// "…" until it arrives. Returns what was opened, and the offset of the
/// page to ask for when the rows shown are not (all) in the one held.
#[allow(clippy::too_many_arguments)]
fn text_table<T>(
    ui: &mut egui::Ui,
    id: &str,
    widths: &[(f32, bool)],
    titles: &[&'static str],
    page: &Page<T>,
    cells: impl Fn(&T) -> Vec<String>,
    holder: impl Fn(&T) -> Option<i64>,
) -> (Option<Open>, Option<usize>) {
    let mut opened = None;
    // The rows drawn this frame: (first, past the last).
    let mut shown: Option<(usize, usize)> = None;
    let total = usize::try_from(page.total).unwrap_or(0);
    let mut table = TableBuilder::new(ui).id_salt(id).striped(true);
    for &(width, resizable) in widths {
        table = table.column(Column::initial(width).resizable(resizable).clip(true));
    }
    table
        .column(Column::remainder())
        .header(20.0, |mut h| {
            for title in titles {
                h.col(|ui| {
                    ui.strong(if *title == "#" { "#" } else { t(title) });
                });
            }
        })
        .body(|body| {
            body.rows(20.0, total, |mut row| {
                let i = row.index();
                shown = Some(shown.map_or((i, i + 1), |(a, b)| (a.min(i), b.max(i + 1))));
                let Some(item) = i.checked_sub(page.offset).and_then(|k| page.items.get(k)) else {
                    row.col(|ui| {
                        ui.weak("…");
                    });
                    return;
                };
                let who = holder(item);
                for (i, cell) in cells(item).into_iter().enumerate() {
                    row.col(|ui| match who.filter(|_| i == 1 && !cell.is_empty()) {
                        Some(id) => {
                            // A label that answers clicks (not a button, so
                            // the request dialog's buttons keep their names).
                            let r = ui.add(egui::Label::new(cell).sense(egui::Sense::click()));
                            if r.double_clicked() {
                                opened = Some(Open::Record(id));
                            }
                            r.context_menu(|ui| {
                                if ui.button(t("Open record")).clicked() {
                                    opened = Some(Open::Record(id));
                                    ui.close();
                                }
                                if ui.button(t("Request a card")).clicked() {
                                    opened = Some(Open::RequestCard(id));
                                    ui.close();
                                }
                            });
                        }
                        None => {
                            ui.label(cell);
                        }
                    });
                }
            });
        });
    let held = (page.offset, page.offset + page.items.len());
    let wanted = shown
        .filter(|&(first, end)| first < held.0 || end > held.1)
        .map(|(first, _)| first.saturating_sub(MARGIN));
    (opened, wanted.filter(|&o| o != page.offset))
}

#[derive(Default)]
pub struct CredentialList {
    pub search: String,
    pub state: Option<CredentialState>,
    /// The first row of the page to hold.
    pub offset: usize,
}

impl CredentialList {
    pub fn ui(&mut self, ui: &mut egui::Ui, env: &Env) -> Option<Open> {
        let page = &env.snapshot.credentials;
        let before = self.state;
        ui.horizontal(|ui| {
            ui.strong(count_text(t("Credentials"), page));
            let l = ui.label(t("Search"));
            let r = ui
                .add(egui::TextEdit::singleline(&mut self.search).id_salt("credential-search"))
                .labelled_by(l.id);
            if r.changed() {
                self.offset = 0;
            }
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
        let (open, offset) = text_table(
            ui,
            "credentials",
            &[(60.0, false), (220.0, true), (240.0, true)],
            &["#", "Holder", "Credential", "State"],
            page,
            |c| {
                [
                    c.id.to_string(),
                    c.holder_name.clone().unwrap_or_default(),
                    c.label(),
                    c.state.as_str().to_string(),
                ]
                .to_vec()
            },
            |c| c.cardholder_id,
        );
        if let Some(offset) = offset {
            self.offset = offset;
        }
        if before != self.state {
            self.offset = 0;
        }
        open
    }
}
