//! Start-up requests (`--open …`, for the screenshot script): log in with
//! the demo operator and open a screen or dialog once the lists are loaded.

use super::{DeskApp, Screen};

/// A dialog to open right after start, for the screenshot script.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Startup {
    #[default]
    Nothing,
    MainWindow,
    CardRequests,
    ConnectCard,
    PrintCards,
    /// Settings → Operators.
    Operators,
    /// The idle lock, over the Card requests dialog.
    Locked,
    /// A cardholder's record (the first cardholder).
    Record,
    /// Connect card walking through three selected requests.
    ConnectWalk,
    /// The Temporary cards page, its lent card selected.
    TempCards,
    /// Batch orders producing every requested temporary card, to the
    /// end-of-run PIN letter prompt.
    PinLetters,
}

impl DeskApp {
    /// Carries out the start-up request once the lists are loaded.
    pub(super) fn run_startup(&mut self) {
        if self.startup == Startup::Nothing || !self.loaded {
            return;
        }
        if self.session.is_none() {
            if !self.login.busy {
                self.login.busy = true;
                self.worker.send(crate::desk::DeskCommand::Login {
                    name: self.login.name.clone(),
                    password: crate::desk::Secret::new(self.login.password.clone()),
                });
            }
            return;
        }
        if self.startup == Startup::Operators {
            self.screen = Screen::Settings;
            self.settings.show_operators();
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup == Startup::Record {
            let session = self.session.clone().expect("logged in");
            let env = self.env(&session);
            let record = crate::ui::cardholder_record::CardholderRecordView::open(1, &env);
            self.record = Some(record);
            self.screen = Screen::Cardholders;
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup == Startup::ConnectWalk {
            self.open_card_requests();
            let pending = self.snapshot.pending.items.clone();
            let walk: Vec<_> = pending.iter().take(3).cloned().collect();
            for r in &walk {
                let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
                self.requests.selection.click(&ids, r.id, false, true);
            }
            if !walk.is_empty() {
                self.requests.open_walk(walk);
            }
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup == Startup::TempCards {
            self.screen = Screen::TemporaryCards;
            self.temp_cards.select_first_assigned();
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup == Startup::PinLetters {
            self.screen = Screen::BatchOrders;
            self.batch_orders.produce_all_requested();
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup == Startup::Locked {
            self.open_card_requests();
            self.lock = Some(Default::default());
            self.startup = Startup::Nothing;
            return;
        }
        if self.startup != Startup::MainWindow {
            self.open_card_requests();
            let pending = self.snapshot.pending.items.clone();
            let ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
            if let Some(&first) = ids.first() {
                self.requests.selection.click(&ids, first, false, false);
                if ids.len() > 2 {
                    self.requests.selection.click(&ids, ids[2], true, false);
                }
                if self.startup == Startup::PrintCards {
                    let session = self.session.clone().expect("logged in");
                    let mut requests = std::mem::take(&mut self.requests);
                    requests.open_print(&pending[..1], &self.env(&session));
                    self.requests = requests;
                }
                if self.startup == Startup::ConnectCard {
                    self.requests.selection.click(&ids, first, false, false);
                    self.requests.open_connect(pending[0].clone());
                }
            }
        }
        self.startup = Startup::Nothing;
    }
}
