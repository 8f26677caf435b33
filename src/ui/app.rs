//! The desk window: login, the top bar with the notification tray area, the
//! task navigation, and the screens and dialogs. Screens return what the
//! operator asked for; the app routes worker replies back to them.

use super::card_requests::CardRequestsDialog;
use super::cardholder_form::CardholderForm;
use super::i18n::{t, tf};
use super::lists::{CardholderList, CredentialList};
use super::login::LoginScreen;
use super::widgets::{message, tray_badge};
use super::worker::{DeskWorker, Outcome, Reply, Snapshot, Tag};
use super::{audit_view::AuditView, settings::SettingsView, Env};
use crate::desk::Session;
use crate::devices::printer::{CardPrinter, PrintCommand, PrintEvent, PrintWorker};
use crate::devices::reader::{ReaderEvent, ReaderWorker, SimulatedCards};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Screen {
    CredentialManagement,
    Cardholders,
    Credentials,
    BadgeTemplates,
    BatchOrders,
    AuditTrail,
    Settings,
}

impl Screen {
    const ALL: [Screen; 7] = [
        Screen::CredentialManagement,
        Screen::Cardholders,
        Screen::Credentials,
        Screen::BadgeTemplates,
        Screen::BatchOrders,
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
            Screen::AuditTrail => t("Audit trail"),
            Screen::Settings => t("Settings"),
        }
    }
}

/// A dialog to open right after start, for the screenshot script.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Startup {
    #[default]
    Nothing,
    MainWindow,
    CardRequests,
    ConnectCard,
    PrintCards,
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
    pub mail: Option<crate::devices::mailer::MailWorker>,
    /// Card readers (PC/SC, or simulated in demo mode).
    pub reader: Option<ReaderWorker>,
    /// Demo mode: lets the operator present a simulated card.
    pub simulated_cards: Option<SimulatedCards>,
    /// The card printer and the worker that runs its jobs.
    pub printer: Option<(Arc<dyn CardPrinter>, PrintWorker)>,
}

pub struct DeskApp {
    worker: DeskWorker,
    snapshot: Snapshot,
    loaded: bool,
    cred_index: HashMap<i64, usize>,
    pub session: Option<Session>,
    login: LoginScreen,
    pub screen: Screen,
    pub requests_open: bool,
    pub requests: CardRequestsDialog,
    cardholder_form: Option<CardholderForm>,
    cardholders: CardholderList,
    credentials: CredentialList,
    audit: AuditView,
    templates: super::templates_view::TemplatesView,
    batch_orders: super::batch_orders::BatchOrdersView,
    settings: SettingsView,
    status: Option<Result<String, String>>,
    readers: Vec<String>,
    demo: bool,
    mail: Option<crate::devices::mailer::MailWorker>,
    reader: Option<ReaderWorker>,
    simulated_cards: Option<SimulatedCards>,
    reader_error: Option<String>,
    printer: Option<(Arc<dyn CardPrinter>, PrintWorker)>,
    ctx: Option<egui::Context>,
    startup: Startup,
    #[cfg(feature = "tray")]
    tray: Option<super::tray::Tray>,
}

impl DeskApp {
    pub fn new(worker: DeskWorker, options: Options) -> DeskApp {
        let mut login = LoginScreen::default();
        if let Some((name, password)) = options.login_hint {
            login.hint = Some(format!("Demo: {name} / {password}"));
            login.name = name;
            login.password = password;
        }
        DeskApp {
            worker,
            snapshot: Snapshot::default(),
            loaded: false,
            cred_index: HashMap::new(),
            session: None,
            login,
            screen: Screen::CredentialManagement,
            requests_open: false,
            requests: CardRequestsDialog::default(),
            cardholder_form: None,
            cardholders: CardholderList::default(),
            credentials: CredentialList::default(),
            audit: AuditView::default(),
            templates: Default::default(),
            batch_orders: Default::default(),
            settings: SettingsView::default(),
            status: None,
            demo: options.demo,
            mail: options.mail,
            readers: options
                .reader
                .as_ref()
                .map(|r| r.readers())
                .unwrap_or_default(),
            reader: options.reader,
            simulated_cards: options.simulated_cards,
            reader_error: None,
            printer: options.printer,
            ctx: None,
            startup: options.startup,
            #[cfg(feature = "tray")]
            tray: None,
        }
    }

    #[cfg(feature = "tray")]
    pub fn set_tray(&mut self, tray: super::tray::Tray) {
        self.tray = Some(tray);
    }

    /// Keeps the OS tray badge current and answers its clicks by raising
    /// the window on the Card requests dialog.
    #[cfg(feature = "tray")]
    fn tray_logic(&mut self, ctx: &egui::Context) {
        let pending = self.snapshot.pending.len();
        let Some(tray) = &mut self.tray else { return };
        tray.set_pending(
            pending,
            &format!("{}: {pending}", t("Pending card requests")),
        );
        if tray.clicked() {
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
            if self.session.is_some() {
                self.open_card_requests();
            }
        }
    }

    /// Carries out the start-up request once the lists are loaded.
    fn run_startup(&mut self) {
        if self.startup == Startup::Nothing || !self.loaded {
            return;
        }
        if self.session.is_none() {
            if !self.login.busy {
                self.login.busy = true;
                let (name, password) = (self.login.name.clone(), self.login.password.clone());
                self.worker.submit(Tag::Login, move |desk| {
                    desk.login(&name, &password).map(Outcome::Session)
                });
            }
            return;
        }
        if self.startup != Startup::MainWindow {
            self.open_card_requests();
            let ids: Vec<i64> = self.snapshot.pending.iter().map(|r| r.id).collect();
            if let Some(&first) = ids.first() {
                self.requests.selection.click(&ids, first, false, false);
                if ids.len() > 2 {
                    self.requests.selection.click(&ids, ids[2], true, false);
                }
                if self.startup == Startup::PrintCards {
                    let env = Env {
                        snapshot: &self.snapshot,
                        session: self.session.as_ref().expect("logged in"),
                        worker: &self.worker,
                        cred_index: &self.cred_index,
                        readers: &self.readers,
                        reader_error: None,
                        simulated_cards: None,
                        printer: self.printer.as_ref().map(|(p, _)| p),
                    };
                    self.requests.open_print(&self.snapshot.pending[..1], &env);
                }
                if self.startup == Startup::ConnectCard {
                    self.requests.selection.click(&ids, first, false, false);
                    self.requests.open_connect(self.snapshot.pending[0].clone());
                }
            }
        }
        self.startup = Startup::Nothing;
    }

    /// The pending count as the app currently shows it.
    pub fn pending_count(&self) -> usize {
        self.snapshot.pending.len()
    }

    pub fn set_readers(&mut self, readers: Vec<String>) {
        self.readers = readers;
    }

    /// Opens the Card requests dialog (from the tray icon or the button).
    pub fn open_card_requests(&mut self) {
        self.requests_open = true;
        self.screen = Screen::CredentialManagement;
    }

    /// Applies what the worker sent since the last frame.
    pub fn poll_worker(&mut self) {
        for reply in self.worker.poll() {
            match reply {
                Reply::Snapshot(s) => {
                    self.cred_index = s
                        .credentials
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.id, i))
                        .collect();
                    self.snapshot = s;
                    self.loaded = true;
                }
                Reply::Done(tag, result) => self.on_reply(tag, result),
            }
        }
    }

    fn on_reply(&mut self, tag: Tag, result: super::worker::JobResult) {
        match tag {
            Tag::Login | Tag::Setup => {
                self.login.busy = false;
                match result {
                    Ok(Outcome::Session(s)) => {
                        self.session = Some(s);
                        self.login.password.clear();
                        self.login.repeat.clear();
                        self.login.error = None;
                    }
                    Ok(_) => {}
                    Err(e) => self.login.error = Some(Err(e)),
                }
            }
            Tag::CreateCardholder => {
                if let Some(form) = &mut self.cardholder_form {
                    if let Some(done) = form.on_reply(result) {
                        self.status = Some(Ok(done));
                        self.cardholder_form = None;
                    }
                }
            }
            Tag::VerifyAudit => self.audit.on_reply(result),
            Tag::BatchOrders => self.batch_orders.on_reply(result),
            Tag::Templates => {
                let ctx = self.ctx.clone().unwrap_or_default();
                self.templates.on_reply(&ctx, result);
            }
            Tag::Mail => {
                if result.is_ok() {
                    if let Some(mail) = &self.mail {
                        mail.kick();
                    }
                }
                self.settings.on_reply(result);
            }
            Tag::Print => {
                // A recorded job goes to the printer whether or not the
                // dialog is still open; its verdict is recorded likewise.
                if let (Ok(Outcome::PrintPrepared(p)), Some((_, worker))) = (&result, &self.printer)
                {
                    worker.print(PrintCommand {
                        job_id: p.job.id,
                        queue: p.job.printer.clone(),
                        document: p.document.clone(),
                    });
                }
                let ctx = self.ctx.clone().unwrap_or_default();
                self.requests.on_reply(&ctx, tag, result);
            }
            _ => {
                // An answered request may have queued mail: send it now.
                if matches!(tag, Tag::Close | Tag::Deny) && result.is_ok() {
                    if let Some(mail) = &self.mail {
                        mail.kick();
                    }
                }
                let ctx = self.ctx.clone().unwrap_or_default();
                self.requests.on_reply(&ctx, tag, result);
            }
        }
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
                    self.readers = list;
                    self.reader_error = None;
                }
                ReaderEvent::CardPresented(card) => {
                    self.reader_error = None;
                    self.on_card_presented(&card.reader, &card.uid);
                }
                ReaderEvent::CardRemoved { .. } => {}
                ReaderEvent::ReaderError { reader, message } => {
                    tracing::warn!("reader {reader:?}: {message}");
                    self.reader_error = Some(match reader {
                        Some(r) => format!("{r}: {message}"),
                        None => message,
                    });
                }
            }
        }
    }

    /// Applies print worker events: progress, and the verdict to record.
    fn poll_printer(&mut self) {
        let events: Vec<PrintEvent> = match &self.printer {
            Some((_, w)) => std::iter::from_fn(|| w.try_recv()).collect(),
            None => return,
        };
        for event in events {
            match event {
                PrintEvent::Submitted {
                    job_id,
                    printer_job,
                } => {
                    if let Some(d) = self.requests.print_dialog() {
                        d.on_submitted(job_id, &printer_job);
                    }
                }
                PrintEvent::Finished {
                    job_id,
                    printer_job,
                    result,
                } => {
                    let Some(session) = self.session.clone() else {
                        continue;
                    };
                    self.worker.submit(Tag::Print, move |desk| {
                        desk.finish_print_job(&session, job_id, printer_job.as_deref(), &result)
                            .map(Outcome::PrintJob)
                    });
                }
            }
        }
    }

    /// A card was presented at a reader.
    pub fn on_card_presented(&mut self, reader: &str, uid: &str) {
        let Some(session) = &self.session else { return };
        let env = Env {
            snapshot: &self.snapshot,
            session,
            worker: &self.worker,
            cred_index: &self.cred_index,
            readers: &self.readers,
            reader_error: self.reader_error.as_deref(),
            simulated_cards: self.simulated_cards.as_ref(),
            printer: self.printer.as_ref().map(|(p, _)| p),
        };
        if let Some(d) = self.requests.connect_dialog() {
            d.on_card(reader, uid, &env);
        }
    }

    fn top_bar(&mut self, ui: &mut egui::Ui, session: &Session) {
        ui.horizontal(|ui| {
            ui.heading("CardDesk");
            if self.demo {
                ui.weak(t("Demo mode: simulated reader and printer."));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(t("Log out")).clicked() {
                    self.session = None;
                    self.requests_open = false;
                }
                ui.label(tf(
                    "Logged in as {name}",
                    &[("name", &session.operator.name)],
                ));
                ui.separator();
                // The notification tray area.
                if tray_badge(ui, self.snapshot.pending.len() as i64).clicked() {
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
        let env = Env {
            snapshot: &self.snapshot,
            session,
            worker: &self.worker,
            cred_index: &self.cred_index,
            readers: &self.readers,
            reader_error: self.reader_error.as_deref(),
            simulated_cards: self.simulated_cards.as_ref(),
            printer: self.printer.as_ref().map(|(p, _)| p),
        };
        egui::CentralPanel::default().show(ui, |ui| {
            message(ui, &self.status);
            match self.screen {
                Screen::CredentialManagement => {
                    ui.horizontal(|ui| {
                        let label = tf(
                            "Card requests ({n})",
                            &[("n", &self.snapshot.pending.len())],
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
                        self.credentials.ui(ui, &env);
                    });
                    ui.separator();
                    self.cardholders.ui(ui, &env);
                }
                Screen::Cardholders => {
                    if ui.button(t("Create cardholder")).clicked() {
                        self.cardholder_form = Some(CardholderForm::new());
                    }
                    self.cardholders.ui(ui, &env);
                }
                Screen::Credentials => self.credentials.ui(ui, &env),
                Screen::BadgeTemplates => self.templates.ui(ui, &env),
                Screen::BatchOrders => self.batch_orders.ui(ui, &env),
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
    }
}

impl eframe::App for DeskApp {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        if self.ctx.is_none() {
            self.ctx = Some(ctx.clone());
        }
        self.poll_worker();
        #[cfg(feature = "tray")]
        self.tray_logic(ctx);
        self.poll_reader();
        self.poll_printer();
        self.run_startup();
        if let Some(mail) = &self.mail {
            for event in mail.events() {
                if let crate::devices::mailer::MailEvent::Error(e) = event {
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
        match self.session.clone() {
            None => {
                let first_run = !self.snapshot.has_operators;
                egui::CentralPanel::default().show(ui, |ui| {
                    self.login.ui(ui, &self.worker, first_run);
                });
            }
            Some(session) => self.desk_ui(ui, &session),
        }
    }
}
