//! The Card requests dialog: the pending requests, multi-selection, and the
//! answers — Modify, Deny request, Connect card, Print cards, Close.

use super::connect_card::ConnectDialog;
use super::i18n::{t, tf};
use super::print_cards::PrintDialog;
use super::request_forms::{DenyForm, ModifyForm, ShipForm};
use super::selection::Selection;
use super::widgets::{action_button, message};
use super::worker::CommandResult;
use super::Env;
use crate::desk::CardRequest;
use crate::desk::Privilege;
use crate::desk::{DeskCommand, DeskOutcome};
use egui_extras::{Column, TableBuilder};

/// Which requests the dialog lists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum History {
    #[default]
    Pending,
    Completed,
    Denied,
    All,
}

impl History {
    const ALL: [History; 4] = [
        History::Pending,
        History::Completed,
        History::Denied,
        History::All,
    ];

    fn label(self) -> &'static str {
        match self {
            History::Pending => t("Pending"),
            History::Completed => t("Completed"),
            History::Denied => t("Denied"),
            History::All => t("All"),
        }
    }

    /// What the worker loads besides the pending requests (see `ListView`).
    pub fn status(self) -> Option<Option<crate::desk::RequestStatus>> {
        use crate::desk::RequestStatus;
        match self {
            History::Pending => None,
            History::Completed => Some(Some(RequestStatus::Completed)),
            History::Denied => Some(Some(RequestStatus::Denied)),
            History::All => Some(None),
        }
    }
}

#[derive(Default)]
pub struct CardRequestsDialog {
    pub selection: Selection,
    /// Pending (to answer) or the history of answered requests.
    pub history: History,
    sub: Option<Sub>,
    pub message: Option<Result<String, String>>,
    busy: bool,
}

enum Sub {
    Ship(ShipForm),
    Print(PrintDialog),
    Modify(ModifyForm),
    Deny(DenyForm),
    Connect(Box<ConnectDialog>),
}

/// Why a button is disabled, or None when it may be used.
fn needs(
    env: &Env,
    privilege: Privilege,
    selected: &[&CardRequest],
    exactly_one: bool,
    with_card: bool,
) -> Option<&'static str> {
    if !env.session.may(privilege) {
        Some(t("Your privileges do not allow this."))
    } else if exactly_one && selected.len() != 1 {
        Some(t("Select exactly one request."))
    } else if selected.is_empty() {
        Some(t("Select one or more requests."))
    } else if with_card && selected.iter().any(|r| r.credential_id.is_none()) {
        Some(t("Connect a card to every selected request first."))
    } else {
        None
    }
}

impl CardRequestsDialog {
    pub fn show(&mut self, ctx: &egui::Context, env: &Env, open: &mut bool) {
        let pending = &env.snapshot.pending.items;
        let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
        self.selection.retain(&ids);
        let mut window_open = *open;
        egui::Window::new(t("Card requests"))
            .id(egui::Id::unique("card-requests-dialog"))
            .open(&mut window_open)
            .default_size([960.0, 560.0])
            .default_pos([210.0, 60.0])
            .resizable(true)
            .collapsible(false)
            .show(ctx, |ui| self.contents(ui, env, &ids));
        if self.sub.is_none() {
            if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
                window_open = false;
            }
            // Ctrl+A selects every pending request (unless typing somewhere).
            let select_all = ctx.input(|i| i.modifiers.command && i.key_pressed(egui::Key::A));
            if select_all && !ctx.egui_wants_keyboard_input() {
                self.selection.select_all(&ids);
            }
        }
        *open = window_open;
        self.show_sub(ctx, env);
    }

    fn contents(&mut self, ui: &mut egui::Ui, env: &Env, ids: &[i64]) {
        let pending = &env.snapshot.pending.items;
        ui.horizontal(|ui| {
            ui.strong(tf(
                "Card requests ({n})",
                &[("n", &env.snapshot.pending_count())],
            ));
            ui.separator();
            ui.label(tf("{n} selected", &[("n", &self.selection.len())]));
            ui.separator();
            let l = ui.label(t("Show"));
            egui::ComboBox::from_id_salt("request-history")
                .selected_text(self.history.label())
                .show_ui(ui, |ui| {
                    for h in History::ALL {
                        ui.selectable_value(&mut self.history, h, h.label());
                    }
                })
                .response
                .labelled_by(l.id);
        });
        if self.history != History::Pending {
            self.history_table(ui, env);
            return;
        }
        let selected: Vec<&CardRequest> = pending
            .iter()
            .filter(|r| self.selection.is_selected(r.id))
            .collect();
        ui.horizontal(|ui| {
            let busy = self.busy.then_some(t("Working…"));
            let modify = busy.or(needs(
                env,
                Privilege::AnswerRequests,
                &selected,
                true,
                false,
            ));
            if action_button(ui, t("Modify"), modify).clicked() {
                self.sub = Some(Sub::Modify(ModifyForm::new(selected[0])));
            }
            let deny = busy.or(needs(env, Privilege::DenyRequests, &selected, false, false));
            if action_button(ui, t("Deny request"), deny).clicked() {
                self.sub = Some(Sub::Deny(DenyForm::new(self.selection.ids())));
            }
            let connect = busy.or(needs(
                env,
                Privilege::AnswerRequests,
                &selected,
                false,
                false,
            ));
            if action_button(ui, t("Connect card"), connect).clicked() {
                let walk: Vec<CardRequest> = selected.iter().map(|r| (*r).clone()).collect();
                self.sub = Some(Sub::Connect(Box::new(ConnectDialog::walk(walk))));
            }
            let print = busy.or(needs(env, Privilege::PrintCards, &selected, false, true));
            if action_button(ui, t("Print cards"), print).clicked() {
                self.sub = Some(Sub::Print(PrintDialog::new(&selected, env)));
            }
            let close = busy.or(needs(
                env,
                Privilege::AnswerRequests,
                &selected,
                false,
                true,
            ));
            if action_button(ui, t("Close"), close).clicked() {
                if selected.iter().any(|r| r.ship_to_site.is_some()) {
                    self.sub = Some(Sub::Ship(ShipForm::new(&selected)));
                } else {
                    self.close_selected(env);
                }
            }
        });
        message(ui, &self.message);
        let o = env.snapshot.outbox;
        ui.weak(tf(
            "Outbox: {pending} queued, {sent} sent, {failed} failed",
            &[
                ("pending", &o.pending),
                ("sent", &o.sent),
                ("failed", &o.failed),
            ],
        ));
        ui.separator();
        if pending.is_empty() {
            ui.label(t("No pending card requests."));
            return;
        }
        self.table(ui, env, ids);
    }

    fn table(&mut self, ui: &mut egui::Ui, env: &Env, ids: &[i64]) {
        let pending = &env.snapshot.pending.items;
        let modifiers = ui.input(|i| i.modifiers);
        let mut clicked = None;
        TableBuilder::new(ui)
            .id_salt("pending-requests")
            .striped(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(190.0).resizable(true))
            .column(Column::initial(110.0).resizable(true))
            .column(Column::initial(130.0))
            .column(Column::initial(220.0).resizable(true).clip(true))
            .column(Column::initial(90.0))
            .column(Column::initial(110.0))
            .column(Column::initial(50.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                for title in [
                    "Cardholder",
                    "Requested by",
                    "Created",
                    "Reason",
                    "Badge template",
                    "Ship to site",
                    "Mail",
                    "Credential",
                ] {
                    h.col(|ui| {
                        ui.strong(t(title));
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, pending.len(), |mut row| {
                    let r = &pending[row.index()];
                    let selected = self.selection.is_selected(r.id);
                    row.set_selected(selected);
                    let (_, name) = row.col(|ui| {
                        let label = r.cardholder_name.as_str();
                        if ui.add(egui::Button::selectable(selected, label)).clicked() {
                            clicked = Some(r.id);
                        }
                    });
                    row.col(|ui| {
                        ui.label(&r.requester_name);
                    });
                    row.col(|ui| {
                        ui.label(
                            r.created_at
                                .get(..16)
                                .unwrap_or(&r.created_at)
                                .replace('T', " "),
                        );
                    });
                    row.col(|ui| {
                        ui.label(&r.reason);
                    });
                    row.col(|ui| {
                        ui.label(&r.badge_template);
                    });
                    row.col(|ui| {
                        ui.label(r.ship_to_site.as_deref().unwrap_or(""));
                    });
                    row.col(|ui| {
                        if r.notify_requester {
                            ui.label(t("Yes"));
                        }
                    });
                    row.col(|ui| {
                        if let Some(c) = r.credential_id.and_then(|id| env.credential(id)) {
                            ui.label(c.label());
                        }
                    });
                    if row.response().clicked() || name.clicked() {
                        clicked = Some(r.id);
                    }
                });
            });
        if let Some(id) = clicked {
            self.selection.click(
                ids,
                id,
                modifiers.shift,
                modifiers.command || modifiers.ctrl,
            );
        }
    }

    /// Answered requests: read-only, with who answered, when and why.
    fn history_table(&mut self, ui: &mut egui::Ui, env: &Env) {
        let page = &env.snapshot.request_history;
        ui.separator();
        if page.items.is_empty() {
            ui.label(t("No requests."));
            return;
        }
        TableBuilder::new(ui)
            .id_salt("request-history-table")
            .striped(true)
            .column(Column::initial(190.0).resizable(true))
            .column(Column::initial(90.0))
            .column(Column::initial(220.0).resizable(true).clip(true))
            .column(Column::initial(110.0))
            .column(Column::remainder())
            .header(22.0, |mut h| {
                for title in ["Cardholder", "Status", "Reason", "Requested by", "Answered"] {
                    h.col(|ui| {
                        ui.strong(t(title));
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, page.items.len(), |mut row| {
                    let r = &page.items[row.index()];
                    row.col(|ui| {
                        ui.label(&r.cardholder_name);
                    });
                    row.col(|ui| {
                        ui.label(r.status.as_str());
                    });
                    row.col(|ui| {
                        ui.label(&r.reason);
                    });
                    row.col(|ui| {
                        ui.label(&r.requester_name);
                    });
                    row.col(|ui| {
                        ui.label(super::cardholder_record::answered(r));
                    });
                });
            });
    }

    fn close_selected(&mut self, env: &Env) {
        self.busy = true;
        self.message = None;
        env.worker.send(DeskCommand::CloseRequests {
            ids: self.selection.ids(),
            shipping: Vec::new(),
        });
    }

    fn show_sub(&mut self, ctx: &egui::Context, env: &Env) {
        let keep = match &mut self.sub {
            None => return,
            Some(Sub::Modify(f)) => f.show(ctx, env),
            Some(Sub::Deny(f)) => f.show(ctx, env),
            Some(Sub::Ship(f)) => f.show(ctx, env),
            Some(Sub::Connect(d)) => d.show(ctx, env),
            Some(Sub::Print(d)) => d.show(ctx, env),
        };
        if !keep {
            self.sub = None;
        }
    }

    /// Opens Connect card for one request (start-up and screenshots).
    pub fn open_connect(&mut self, request: CardRequest) {
        let mut dialog = ConnectDialog::new(request);
        dialog.mode = super::connect_card::Mode::Manual;
        dialog.preset_format("H10301", &[("facility", "42"), ("card", "3001")]);
        self.sub = Some(Sub::Connect(Box::new(dialog)));
    }

    /// Opens Connect card walking through these requests (screenshots).
    pub fn open_walk(&mut self, requests: Vec<CardRequest>) {
        self.sub = Some(Sub::Connect(Box::new(ConnectDialog::walk(requests))));
    }

    /// Opens Print cards for these requests (start-up and screenshots).
    pub fn open_print(&mut self, requests: &[CardRequest], env: &Env) {
        let refs: Vec<&CardRequest> = requests.iter().collect();
        self.sub = Some(Sub::Print(PrintDialog::new(&refs, env)));
    }

    /// The print dialog, when open, for printer progress.
    pub fn print_dialog(&mut self) -> Option<&mut PrintDialog> {
        match &mut self.sub {
            Some(Sub::Print(d)) => Some(d),
            _ => None,
        }
    }

    /// The connect dialog, when open, for reader events.
    pub fn connect_dialog(&mut self) -> Option<&mut ConnectDialog> {
        match &mut self.sub {
            Some(Sub::Connect(d)) => Some(d),
            _ => None,
        }
    }

    /// A command this dialog (or one of its sub-dialogs) sent came back.
    pub fn on_reply(&mut self, ctx: &egui::Context, command: &str, result: CommandResult) {
        if command == "close_requests" {
            if let Some(Sub::Ship(f)) = &mut self.sub {
                let ok = result.is_ok();
                let n = f_len(&result);
                if !f.on_reply(result) {
                    return;
                }
                self.sub = None;
                if ok {
                    self.selection.clear();
                    self.message = Some(Ok(tf("Closed {n} request(s).", &[("n", &n)])));
                }
                return;
            }
            self.busy = false;
            self.message = Some(match result {
                Ok(DeskOutcome::RequestsClosed(n)) => {
                    self.selection.clear();
                    Ok(tf("Closed {n} request(s).", &[("n", &n)]))
                }
                Ok(_) => Ok(String::new()),
                Err(e) => Err(e.to_string()),
            });
            return;
        }
        let finished = match (command, &mut self.sub) {
            ("modify_request", Some(Sub::Modify(f))) => f.on_reply(result),
            ("deny_requests", Some(Sub::Deny(f))) => {
                let n = f.ids.len();
                let done = f.on_reply(result);
                if done {
                    self.selection.clear();
                    self.message = Some(Ok(tf("Denied {n} request(s).", &[("n", &n)])));
                }
                done
            }
            ("connect_card", Some(Sub::Connect(d))) => {
                d.on_reply(result);
                false
            }
            (
                "badge_previews" | "start_request_print" | "repeat_print_job",
                Some(Sub::Print(d)),
            ) => {
                d.on_reply(ctx, result);
                false
            }
            _ => false,
        };
        if finished {
            self.sub = None;
        }
    }
}

/// How many requests a close reply closed.
fn f_len(result: &CommandResult) -> usize {
    match result {
        Ok(DeskOutcome::RequestsClosed(n)) => *n,
        _ => 0,
    }
}
