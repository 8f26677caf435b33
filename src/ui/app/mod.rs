//! The desk window: login, the top bar with the notification tray area, the
//! task navigation, and the screens and dialogs. Screens send desk commands;
//! the app applies every reply, job event and device event in one place
//! (`apply_reply`, `poll_print_jobs`, `poll_reader`).

mod command_handling;
mod set_up;
mod startup;
#[cfg(feature = "tray")]
mod tray_icon;

pub use startup::Startup;

use super::card_requests::CardRequestsDialog;
use super::cardholder_form::CardholderForm;
use super::i18n::{t, tf};
use super::lists::{CardholderList, CredentialList};
use super::login::LoginScreen;
use super::widgets::{message, tray_badge};
use super::worker::{DeskWorker, ListView, Snapshot};
use super::{audit_view::AuditView, settings::SettingsView, Devices, Env};
use crate::desk::job::JobHandle;
use crate::desk::outbox::{MailEvent, MailWorker};
use crate::desk::station::CardData;
use crate::desk::station::CardPrinter;
use crate::desk::station::{ReaderEvent, ReaderWorker, SimulatedCards};
use crate::desk::{PrintJob, PrintProgress, Session};
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Screen {
    CredentialManagement,
    Cardholders,
    Credentials,
    BadgeTemplates,
    BatchOrders,
    TemporaryCards,
    AuditTrail,
    Settings,
}

impl Screen {
    const ALL: [Screen; 8] = [
        Screen::CredentialManagement,
        Screen::Cardholders,
        Screen::Credentials,
        Screen::BadgeTemplates,
        Screen::BatchOrders,
        Screen::TemporaryCards,
        Screen::AuditTrail,
        Screen::Settings,
    ];

    fn title(self) -> &'static str {
        match self {
            Screen::CredentialManagement => t("Credential management"),
            Screen::Cardholders => t("Cardholders"),
            Screen::Credentials => t("Credentials"),
            Screen::BadgeTemplates => t("Badge templates"),
            Screen::BatchOrders => t("Batch orders"),
            Screen::TemporaryCards => t("Temporary cards"),
            Screen::AuditTrail => t("Audit trail"),
            Screen::Settings => t("Settings"),
        }
    }
}

/// What the app is started with besides the database.
#[derive(Default)]
pub struct Options {
    pub demo: bool,
    /// Pre-filled login (demo mode).
    pub login_hint: Option<(String, String)>,
    /// Log in with the hint and open a dialog at start (screenshots).
    pub startup: Startup,
    /// Sends the outbox; kicked when a request is answered.
    pub mail: Option<MailWorker>,
    /// Card readers (PC/SC, or simulated in demo mode).
    pub reader: Option<ReaderWorker>,
    /// Demo mode: lets the operator present a simulated card.
    pub simulated_cards: Option<SimulatedCards>,
    /// The card printer (print jobs run on threads of their own).
    pub printer: Option<Arc<dyn CardPrinter>>,
    /// Locks after this much idle time instead of the login policy's
    /// minutes (tests).
    pub idle_lock: Option<std::time::Duration>,
    /// Told at login and on the desk: the database was upgraded.
    pub notice: Option<String>,
}

pub struct DeskApp {
    worker: DeskWorker,
    snapshot: Snapshot,
    loaded: bool,
    pub session: Option<Session>,
    login: LoginScreen,
    pub screen: Screen,
    pub requests_open: bool,
    pub requests: CardRequestsDialog,
    cardholder_form: Option<CardholderForm>,
    /// Requests to close once their badge is printed (Connect card's walk).
    close_when_printed: std::collections::HashSet<i64>,
    temp_cards: super::temp_cards_page::TempCardsPage,
    /// The cardholder record open, if any.
    record: Option<super::cardholder_record::CardholderRecordView>,
    cardholders: CardholderList,
    credentials: CredentialList,
    audit: AuditView,
    templates: super::templates_view::TemplatesView,
    batch_orders: super::batch_orders::BatchOrdersView,
    settings: SettingsView,
    status: Option<Result<String, String>>,
    demo: bool,
    mail: Option<MailWorker>,
    reader: Option<ReaderWorker>,
    devices: Devices,
    /// Print jobs running, whoever started them.
    print_jobs: Vec<JobHandle<PrintProgress, PrintJob>>,
    /// Settling print jobs a previous run left printing (after login).
    reconcile: Option<JobHandle<(), Vec<PrintJob>>>,
    /// What the lists were last asked to show.
    view: ListView,
    ctx: Option<egui::Context>,
    startup: Startup,
    /// Locked after idle time (the open dialogs wait underneath).
    lock: Option<super::lock::LockScreen>,
    password_change: super::lock::PasswordChange,
    /// egui's clock at the operator's last input.
    last_input: f64,
    idle_lock: Option<std::time::Duration>,
    /// The window title says which database this is.
    titled: Option<bool>,
    /// The rest of the first-run set-up, after the first administrator.
    first_run: Option<super::first_run::FirstRun>,
    /// Finished here: not shown again while the snapshot catches up.
    set_up_finished: bool,
    #[cfg(feature = "tray")]
    tray: Option<super::tray::Tray>,
    /// Frames left before the window hides in the tray (`--minimized`);
    /// eframe shows every window after its first frame, so it is hidden
    /// on the one after.
    #[cfg(feature = "tray")]
    hide_in: Option<u8>,
}

impl DeskApp {
    pub fn new(worker: DeskWorker, options: Options) -> DeskApp {
        let mut login = LoginScreen::default();
        login.site = t("Main site").into();
        // An upgrade is told on the login screen and again on the desk.
        login.error = options.notice.clone().map(Ok);
        if let Some((name, password)) = options.login_hint {
            login.hint = Some(format!("Demo: {name} / {password}"));
            login.name = name;
            login.password = password;
        }
        DeskApp {
            worker,
            snapshot: Snapshot::default(),
            loaded: false,
            session: None,
            login,
            screen: Screen::CredentialManagement,
            requests_open: false,
            requests: CardRequestsDialog::default(),
            cardholder_form: None,
            record: None,
            temp_cards: Default::default(),
            close_when_printed: Default::default(),
            cardholders: CardholderList::default(),
            credentials: CredentialList::default(),
            audit: AuditView::default(),
            templates: Default::default(),
            batch_orders: Default::default(),
            settings: SettingsView::default(),
            status: options.notice.map(Ok),
            demo: options.demo,
            mail: options.mail,
            devices: Devices {
                readers: options
                    .reader
                    .as_ref()
                    .map(|r| r.readers())
                    .unwrap_or_default(),
                reader_error: None,
                reader_problems: Default::default(),
                simulated_cards: options.simulated_cards,
                printer: options.printer,
                // Until the first frame gives the window's context.
                notify: Arc::new(|| {}),
            },
            reader: options.reader,
            print_jobs: Vec::new(),
            reconcile: None,
            view: ListView::default(),
            ctx: None,
            startup: options.startup,
            lock: None,
            password_change: Default::default(),
            last_input: 0.0,
            idle_lock: options.idle_lock,
            first_run: None,
            set_up_finished: false,
            titled: None,
            #[cfg(feature = "tray")]
            tray: None,
            #[cfg(feature = "tray")]
            hide_in: None,
        }
    }

    /// The pending count as the app currently shows it.
    pub fn pending_count(&self) -> usize {
        self.snapshot.pending_count() as usize
    }

    /// What a screen needs to draw itself and send commands.
    fn env<'a>(&'a self, session: &'a Session) -> Env<'a> {
        Env {
            snapshot: &self.snapshot,
            session,
            worker: &self.worker,
            devices: &self.devices,
        }
    }

    /// The lists follow their search boxes: a new view goes to the worker,
    /// which re-queries just those pages.
    fn sync_view(&mut self) {
        let view = ListView {
            cardholder_search: self.cardholders.search.trim().to_string(),
            cardholder_offset: self.cardholders.offset,
            credential_search: self.credentials.search.trim().to_string(),
            credential_state: self.credentials.state,
            credential_offset: self.credentials.offset,
            request_history: self.requests.history.status(),
        };
        if view != self.view {
            self.view = view.clone();
            self.worker.set_view(view);
        }
    }

    /// Ends the session: the worker records the logout and forgets it, and
    /// the lists are dropped.
    pub fn log_out(&mut self) {
        self.session = None;
        self.requests_open = false;
        self.lock = None;
        self.password_change = Default::default();
        // The next operator starts from what is stored, not from this
        // one's unsaved edits.
        self.first_run = None;
        self.settings = Default::default();
        self.worker.logout();
    }

    /// Whether the window is locked after idle time.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Locks the window after the idle time the login policy sets, counting
    /// from the operator's last input (egui's clock, so tests can run it).
    fn idle_logic(&mut self, ctx: &egui::Context) {
        let (now, input) = ctx.input(|i| (i.time, !i.events.is_empty()));
        if input || self.session.is_none() {
            self.last_input = now;
        }
        if self.session.is_none() || self.lock.is_some() {
            return;
        }
        let limit = self.idle_lock.unwrap_or_else(|| {
            std::time::Duration::from_secs(
                60 * self.snapshot.policy.idle_lock_minutes.max(1) as u64,
            )
        });
        let idle = now - self.last_input;
        if idle >= limit.as_secs_f64() {
            tracing::info!("window locked after {:.0} s idle", idle);
            self.lock = Some(Default::default());
        } else {
            ctx.request_repaint_after(std::time::Duration::from_secs_f64(
                limit.as_secs_f64() - idle,
            ));
        }
    }

    /// The title bar names a demo database, so it is never taken for a site's.
    fn title_logic(&mut self, ctx: &egui::Context) {
        if !self.loaded || self.titled == Some(self.snapshot.is_demo) {
            return;
        }
        self.titled = Some(self.snapshot.is_demo);
        let title = if self.snapshot.is_demo {
            format!("CardDesk — {}", t("DEMO database"))
        } else {
            "CardDesk".to_string()
        };
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(title));
    }

    pub fn set_readers(&mut self, readers: Vec<String>) {
        self.devices.readers = readers;
    }

    /// Opens the Card requests dialog (from the tray icon or the button).
    pub fn open_card_requests(&mut self) {
        self.requests_open = true;
        self.screen = Screen::CredentialManagement;
    }

    /// Applies reader events: the reader list, cards presented, outages.
    fn poll_reader(&mut self) {
        let events: Vec<ReaderEvent> = match &self.reader {
            Some(r) => std::iter::from_fn(|| r.try_recv()).collect(),
            None => return,
        };
        for event in events {
            match event {
                ReaderEvent::ReadersChanged(list) => {
                    self.devices
                        .reader_problems
                        .retain(|r, _| !list.contains(r));
                    self.devices.readers = list;
                    self.devices.reader_error = None;
                }
                ReaderEvent::CardPresented(card) => {
                    self.devices.reader_error = None;
                    self.on_card_read(&card.reader, &card.data);
                }
                ReaderEvent::CardRemoved { .. } => {}
                ReaderEvent::ReaderError { reader, message } => {
                    tracing::warn!("reader {reader:?}: {message}");
                    if let Some(r) = &reader {
                        self.devices
                            .reader_problems
                            .insert(r.clone(), message.clone());
                    }
                    self.devices.reader_error = Some(match reader {
                        Some(r) => format!("{r}: {message}"),
                        None => message,
                    });
                }
            }
        }
    }

    /// The door readers changed: the readers' worker starts again with
    /// them (a simulated one in demo mode, or one a test gave, is kept).
    fn restart_readers(&mut self) {
        if self.demo || self.reader.is_none() {
            return;
        }
        self.reader = None; // stops the old threads, closing their ports
        self.devices.readers.clear();
        self.devices.reader_problems.clear();
        let (worker, _) =
            crate::desk::station::readers(&self.worker.db, false, self.devices.notify.clone());
        self.reader = Some(worker);
    }

    /// A card with this UID was presented at a reader.
    pub fn on_card_presented(&mut self, reader: &str, uid: &str) {
        self.on_card_read(reader, &CardData::Uid(uid.to_string()));
    }

    /// A card was read at a reader (its UID, or a door reader's bits).
    pub fn on_card_read(&mut self, reader: &str, card: &CardData) {
        let Some(session) = self.session.clone() else {
            return;
        };
        let env = Env {
            snapshot: &self.snapshot,
            session: &session,
            worker: &self.worker,
            devices: &self.devices,
        };
        if let Some(d) = self.requests.connect_dialog() {
            d.on_card(reader, card, &env);
        } else if self.screen == Screen::TemporaryCards {
            self.temp_cards.on_card(card, &env);
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, session: &Session) {
        ui.horizontal(|ui| {
            ui.heading("CardDesk");
            if self.snapshot.is_demo {
                ui.colored_label(ui.visuals().warn_fg_color, t("DEMO database"));
            }
            if self.demo {
                ui.weak(t("Demo mode: simulated reader and printer."));
            }
            for warning in self.snapshot.file_warnings.iter() {
                ui.colored_label(ui.visuals().error_fg_color, "⚠")
                    .on_hover_text(warning.as_str());
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(t("Log out")).clicked() {
                    self.log_out();
                }
                ui.label(tf(
                    "Logged in as {name}",
                    &[("name", &session.operator().name)],
                ));
                ui.separator();
                // The notification tray area.
                if tray_badge(ui, self.snapshot.pending_count()).clicked() {
                    self.open_card_requests();
                }
            });
        });
    }

    fn navigation(&mut self, ui: &mut egui::Ui) {
        ui.add_space(6.0);
        for screen in Screen::ALL {
            if ui
                .add_sized(
                    [ui.available_width(), 26.0],
                    egui::Button::selectable(self.screen == screen, screen.title()),
                )
                .clicked()
            {
                if screen == Screen::TemporaryCards && self.screen != screen {
                    self.temp_cards.refresh(); // cards change on other pages
                }
                self.screen = screen;
            }
        }
    }

    fn desk_ui(&mut self, ui: &mut egui::Ui, session: &Session) {
        let ctx = ui.ctx().clone();
        egui::Panel::top("top-bar").show(ui, |ui| self.top_bar(ui, session));
        egui::Panel::left("tasks")
            .resizable(false)
            .exact_size(215.0)
            .show(ui, |ui| self.navigation(ui));
        self.sync_view();
        let env = Env {
            snapshot: &self.snapshot,
            session,
            worker: &self.worker,
            devices: &self.devices,
        };
        let mut opened = None;
        egui::CentralPanel::default().show(ui, |ui| {
            message(ui, &self.status);
            match self.screen {
                Screen::CredentialManagement => {
                    ui.horizontal(|ui| {
                        let label = tf(
                            "Card requests ({n})",
                            &[("n", &self.snapshot.pending_count())],
                        );
                        if ui.button(label).clicked() {
                            self.requests_open = true;
                        }
                        if ui.button(t("Create cardholder")).clicked() {
                            self.cardholder_form = Some(CardholderForm::new());
                        }
                    });
                    ui.separator();
                    let half = (ui.available_height() / 2.0 - 30.0).max(120.0);
                    ui.allocate_ui(egui::vec2(ui.available_width(), half), |ui| {
                        opened = opened.or(self.credentials.ui(ui, &env));
                    });
                    ui.separator();
                    opened = opened.or(self.cardholders.ui(ui, &env));
                }
                Screen::Cardholders => {
                    if ui.button(t("Create cardholder")).clicked() {
                        self.cardholder_form = Some(CardholderForm::new());
                    }
                    opened = opened.or(self.cardholders.ui(ui, &env));
                }
                Screen::Credentials => opened = opened.or(self.credentials.ui(ui, &env)),
                Screen::BadgeTemplates => self.templates.ui(ui, &env),
                Screen::BatchOrders => self.batch_orders.ui(ui, &env),
                Screen::TemporaryCards => self.temp_cards.ui(ui, &env),
                Screen::AuditTrail => self.audit.ui(ui, &env),
                Screen::Settings => self.settings.ui(ui, &env),
            }
        });
        if self.requests_open {
            let mut open = true;
            self.requests.show(&ctx, &env, &mut open);
            self.requests_open = open;
        }
        if let Some(form) = &mut self.cardholder_form {
            if !form.show(&ctx, &env) {
                self.cardholder_form = None;
            }
        }
        use super::cardholder_record::CardholderRecordView;
        use super::lists::Open;
        match opened {
            Some(Open::Record(id)) => self.record = Some(CardholderRecordView::open(id, &env)),
            Some(Open::RequestCard(id)) => {
                self.record = Some(CardholderRecordView::open(id, &env).with_request_form())
            }
            None => {}
        }
        if let Some(record) = &mut self.record {
            if !record.show(&ctx, &env) {
                self.record = None;
            }
        }
    }
}

impl eframe::App for DeskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
            let ctx = ctx.clone();
            self.devices.notify = Arc::new(move || ctx.request_repaint());
        }
        self.poll_worker();
        self.idle_logic(ctx);
        self.title_logic(ctx);
        #[cfg(feature = "tray")]
        self.tray_logic(ctx);
        self.poll_reader();
        self.poll_print_jobs();
        self.run_startup();
        if let Some(mail) = &self.mail {
            for event in mail.events() {
                if let MailEvent::Error(e) = event {
                    tracing::warn!("mailer: {e}");
                }
            }
        }
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame_ui(ui);
    }
}

impl DeskApp {
    /// One frame of the window (what `eframe::App::ui` draws).
    pub fn frame_ui(&mut self, ui: &mut egui::Ui) {
        if !self.loaded {
            egui::CentralPanel::default().show(ui, |ui| {
                ui.spinner();
            });
            return;
        }
        use super::lock::LockChoice;
        match self.session.clone() {
            None => {
                let first_run = !self.snapshot.has_operators;
                let (demo, warnings) = (self.snapshot.is_demo, self.snapshot.file_warnings.clone());
                egui::CentralPanel::default().show(ui, |ui| {
                    self.login.ui(ui, &self.worker, first_run, demo, &warnings);
                });
            }
            Some(session) if session.must_change_password() => {
                let choice = egui::CentralPanel::default()
                    .show(ui, |ui| self.password_change.ui(ui, &self.worker))
                    .inner;
                if let LockChoice::LogOut = choice {
                    self.log_out();
                }
            }
            Some(session) if self.lock.is_some() => {
                let lock = self.lock.as_mut().expect("locked");
                let choice = egui::CentralPanel::default()
                    .show(ui, |ui| lock.ui(ui, &self.worker, session.name()))
                    .inner;
                if let LockChoice::LogOut = choice {
                    self.log_out();
                }
            }
            Some(session) if self.shows_set_up(&session) => self.set_up_ui(ui, &session),
            Some(session) => self.desk_ui(ui, &session),
        }
    }
}
