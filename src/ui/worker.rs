//! The desk worker: one thread that owns the window's desk connection. The
//! window sends it [`DeskCommand`]s and the list views it shows; it answers
//! with typed replies and fresh snapshots of what the screens show, so no
//! query ever runs on the UI thread. Changes made by other processes (the
//! CLI, a second desk) are noticed through `PRAGMA data_version` and trigger
//! a new snapshot.
//!
//! Nothing is loaded before an operator logs in, and a snapshot holds only
//! what that operator may see, page by page.

use crate::desk::station::CardPrinter;
use crate::desk::station::Notify;
use crate::desk::SmtpSettings;
use crate::desk::{
    AuditEvent, CardRequest, Cardholder, Credential, Desk, DeskCommand, DeskError, DeskOutcome,
    DeskResult, LoginPolicy, Operator, OutboxCounts, OutboxMessage, Page, PageRequest, Session,
    Site,
};
use crate::desk::{CardFormat, CredentialState, Privilege, RequestStatus};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

/// How often the worker looks for changes made by other processes.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);
/// How often the running app expires cards whose time has passed.
const EXPIRY_SWEEP: Duration = Duration::from_secs(10 * 60);
/// Rows of each list the window keeps (the visible part and a margin).
const LIST_PAGE: usize = 200;

/// What the screens show, loaded in one go on the worker thread.
#[derive(Clone, Default)]
pub struct Snapshot {
    /// Pending requests, oldest first; `total` is the tray count.
    pub pending: Arc<Page<CardRequest>>,
    /// The cards connected to the pending requests shown, by id.
    pub request_cards: Arc<HashMap<i64, Credential>>,
    pub cardholders: Arc<Page<Cardholder>>,
    pub credentials: Arc<Page<Credential>>,
    /// Unassigned credentials (Connect card → Existing credential).
    pub stock: Arc<Page<Credential>>,
    pub audit: Arc<Page<AuditEvent>>,
    pub sites: Arc<Vec<Site>>,
    pub formats: Arc<Vec<CardFormat>>,
    pub templates: Arc<Vec<String>>,
    pub outbox: OutboxCounts,
    /// Answered requests for the Card requests dialog's history filter.
    pub request_history: Arc<Page<CardRequest>>,
    /// The most recent outbox messages, newest first.
    pub mail: Arc<Page<OutboxMessage>>,
    pub smtp: Option<SmtpSettings>,
    pub has_operators: bool,
    /// A database made with --demo (shown in the title bar).
    pub is_demo: bool,
    /// Files around the database that others can read (shown as warnings).
    pub file_warnings: Arc<Vec<String>>,
    pub policy: LoginPolicy,
    /// Every operator (for administrators' Operators screen).
    pub operators: Arc<Vec<Operator>>,
    /// The session as the database has it now (role, privileges).
    pub session: Option<Session>,
}

impl Snapshot {
    /// The number on the tray badge.
    pub fn pending_count(&self) -> i64 {
        self.pending.total
    }
}

/// What the lists on screen are filtered by (searched in SQL).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListView {
    pub cardholder_search: String,
    pub credential_search: String,
    pub credential_state: Option<CredentialState>,
    /// The Card requests dialog's history filter: `None` shows the pending
    /// requests only; `Some(None)` every request; `Some(Some(s))` those in s.
    pub request_history: Option<Option<RequestStatus>>,
}

/// What a command came back with: the outcome, or the desk's own error.
pub type CommandResult = DeskResult<DeskOutcome>;

pub enum Reply {
    Snapshot(Snapshot),
    /// The answer to a command, by the command's name.
    Done(&'static str, DeskResult<DeskOutcome>),
    /// The card printer's queues (listing them runs `lpstat`).
    Queues(Result<Vec<String>, String>),
    /// The operator was disabled (or removed) meanwhile: back to login.
    SessionEnded(String),
}

enum Msg {
    Command(DeskCommand),
    View(ListView),
    Queues(Arc<dyn CardPrinter>),
    Logout,
    Refresh,
}

pub struct DeskWorker {
    tx: Sender<Msg>,
    rx: Receiver<Reply>,
    pub db: PathBuf,
}

fn load(desk: &Desk, session: Option<&Session>, view: &ListView) -> DeskResult<Snapshot> {
    // Before login (or before a forced password change): only whether this
    // is a first run, a demo database, and what is wrong with its files.
    let base = Snapshot {
        has_operators: desk.has_operators()?,
        is_demo: desk.is_demo()?,
        file_warnings: Arc::new(crate::desk::files::loose_permissions(desk.path())),
        policy: desk.login_policy()?,
        session: session.cloned(),
        ..Snapshot::default()
    };
    let Some(s) = session.filter(|s| !s.must_change_password()) else {
        return Ok(base);
    };
    let page = PageRequest::first(LIST_PAGE);
    let pending = desk.requests(s, Some(RequestStatus::Pending), PageRequest::first(1000))?;
    // The cards connected to the requests shown, in one query.
    let ids: Vec<i64> = pending
        .items
        .iter()
        .filter_map(|r| r.credential_id)
        .collect();
    let request_cards: HashMap<i64, Credential> = desk
        .credentials_by_id(s, &ids)?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let may = |p| s.may(p);
    Ok(Snapshot {
        pending: Arc::new(pending),
        request_cards: Arc::new(request_cards),
        cardholders: Arc::new(desk.cardholders(s, &view.cardholder_search, page)?),
        credentials: Arc::new(desk.credentials(
            s,
            view.credential_state,
            &view.credential_search,
            page,
        )?),
        stock: Arc::new(desk.stock_credentials(s, page)?),
        request_history: Arc::new(match view.request_history {
            Some(status) => desk.requests(s, status, page)?,
            None => Page::default(),
        }),
        audit: Arc::new(if may(Privilege::ViewAudit) {
            desk.audit_events(s, PageRequest::first(500))?
        } else {
            Page::default()
        }),
        sites: Arc::new(desk.sites(s)?),
        formats: Arc::new(desk.card_formats(s)?),
        templates: Arc::new(desk.badge_template_names(s)?),
        outbox: if may(Privilege::ViewOutbox) {
            desk.outbox_counts(s)?
        } else {
            OutboxCounts::default()
        },
        mail: Arc::new(if may(Privilege::ViewOutbox) {
            desk.outbox(s, None, PageRequest::first(LIST_PAGE))?
        } else {
            Page::default()
        }),
        smtp: if may(Privilege::ManageSettings) {
            desk.mail_settings(s)?
        } else {
            None
        },
        operators: Arc::new(if may(Privilege::ManageOperators) {
            desk.operators(s)?
        } else {
            Vec::new()
        }),
        ..base
    })
}

impl DeskWorker {
    /// Starts the worker on a database that `Desk::open` has already
    /// prepared (migrated) on the caller's thread.
    pub fn spawn(db: PathBuf, notify: Notify) -> Result<DeskWorker, DeskError> {
        let mut desk = Desk::connect(&db)?;
        let (tx, jobs) = mpsc::channel::<Msg>();
        let (replies, rx) = mpsc::channel::<Reply>();
        std::thread::Builder::new()
            .name("desk-worker".into())
            .spawn(move || {
                let mut session: Option<Session> = None;
                let mut view = ListView::default();
                let send_snapshot = |desk: &Desk, session: Option<&Session>, view: &ListView| {
                    match load(desk, session, view) {
                        Ok(s) => {
                            let _ = replies.send(Reply::Snapshot(s));
                        }
                        Err(e) => tracing::error!("cannot load the desk lists: {e}"),
                    }
                    notify();
                };
                // The session as the database has it now: a disabled
                // operator's session ends here, and the window is told.
                let refresh = |desk: &Desk, session: &mut Option<Session>| {
                    if let Some(s) = session.as_ref() {
                        match desk.current_session(s) {
                            Ok(fresh) => *session = Some(fresh),
                            Err(e) => {
                                *session = None;
                                let _ = replies.send(Reply::SessionEnded(e.to_string()));
                            }
                        }
                    }
                };
                // Cards whose holder's expiry date (or a temporary card's
                // validity) has passed are expired while the app runs, by
                // the logged-in operator when they may.
                let sweep = |desk: &mut Desk, session: &Option<Session>| {
                    let Some(s) = session.as_ref() else { return };
                    if s.may(Privilege::ManageCredentials) {
                        match desk.expire_due_credentials(s) {
                            Ok(c) if !c.is_empty() => {
                                tracing::info!("{} credential(s) expired", c.len())
                            }
                            Ok(_) => {}
                            Err(e) => tracing::warn!("expiry sweep: {e}"),
                        }
                    }
                    if s.may(Privilege::PrintCards) {
                        if let Err(e) = desk.expire_temp_cards(s) {
                            tracing::warn!("temporary card expiry sweep: {e}");
                        }
                    }
                };
                let mut last_sweep: Option<std::time::Instant> = None;
                let mut seen = desk.data_version().unwrap_or(0);
                send_snapshot(&desk, None, &view);
                loop {
                    match jobs.recv_timeout(WATCH_INTERVAL) {
                        Ok(Msg::Command(command)) => {
                            let name = command.name();
                            tracing::debug!("desk command {name}");
                            let result = desk.execute(session.as_ref(), command);
                            if let Ok(DeskOutcome::Session(s)) = &result {
                                session = Some(s.clone());
                            }
                            if replies.send(Reply::Done(name, result)).is_err() {
                                return;
                            }
                            refresh(&desk, &mut session);
                            send_snapshot(&desk, session.as_ref(), &view);
                        }
                        Ok(Msg::View(v)) => {
                            if v != view {
                                view = v;
                                send_snapshot(&desk, session.as_ref(), &view);
                            }
                        }
                        Ok(Msg::Queues(printer)) => {
                            let queues = printer
                                .queues()
                                .map(|q| q.into_iter().map(|q| q.name).collect())
                                .map_err(|e| e.to_string());
                            let _ = replies.send(Reply::Queues(queues));
                            notify();
                        }
                        Ok(Msg::Logout) => {
                            if let Some(s) = session.take() {
                                if let Err(e) = desk.logout(&s) {
                                    tracing::warn!("logout not recorded: {e}");
                                }
                            }
                            send_snapshot(&desk, None, &view);
                        }
                        Ok(Msg::Refresh) => send_snapshot(&desk, session.as_ref(), &view),
                        Err(RecvTimeoutError::Timeout) => {
                            if session.is_some()
                                && last_sweep.is_none_or(|t| t.elapsed() >= EXPIRY_SWEEP)
                            {
                                last_sweep = Some(std::time::Instant::now());
                                sweep(&mut desk, &session);
                            }
                            if session.is_none() {
                                last_sweep = None;
                            }
                            let now = desk.data_version().unwrap_or(seen);
                            if now != seen {
                                seen = now;
                                refresh(&desk, &mut session);
                                send_snapshot(&desk, session.as_ref(), &view);
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .expect("spawn desk worker");
        Ok(DeskWorker { tx, rx, db })
    }

    /// Runs a command; its reply comes back through [`DeskWorker::poll`].
    pub fn send(&self, command: DeskCommand) {
        let _ = self.tx.send(Msg::Command(command));
    }

    /// Sets what the lists are filtered by; a new snapshot follows.
    pub fn set_view(&self, view: ListView) {
        let _ = self.tx.send(Msg::View(view));
    }

    /// Lists the printer's queues off the UI thread.
    pub fn list_queues(&self, printer: Arc<dyn CardPrinter>) {
        let _ = self.tx.send(Msg::Queues(printer));
    }

    /// Forgets the session: the next snapshot holds nothing but the login.
    pub fn logout(&self) {
        let _ = self.tx.send(Msg::Logout);
    }

    pub fn refresh(&self) {
        let _ = self.tx.send(Msg::Refresh);
    }

    pub fn poll(&self) -> Vec<Reply> {
        self.rx.try_iter().collect()
    }
}
