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
    /// The site's card printer and PIN letter printer.
    pub printers: crate::desk::PrinterChoice,
    /// The first-run set-up's later steps are still to be done.
    pub set_up_pending: bool,
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
    /// The first row of the cardholder page held (the list scrolls through
    /// every row; the window holds only the page around what is shown).
    pub cardholder_offset: usize,
    pub credential_search: String,
    pub credential_state: Option<CredentialState>,
    pub credential_offset: usize,
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

/// Which parts of the snapshot must be read again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stale {
    pending: bool,
    cardholders: bool,
    credentials: bool,
    history: bool,
    audit: bool,
    outbox: bool,
    /// Sites, formats, templates, settings, operators: small, read whole.
    small: bool,
}

impl Stale {
    fn all() -> Stale {
        Stale {
            pending: true,
            cardholders: true,
            credentials: true,
            history: true,
            audit: true,
            outbox: true,
            small: true,
        }
    }

    /// What writes to `tables` make stale (the lists that show them).
    fn tables(tables: &[&str]) -> Stale {
        let mut s = Stale::default();
        for t in tables {
            match *t {
                "card_request" => (s.pending, s.history) = (true, true),
                // Names appear in every list; card numbers are searched
                // with the cardholders.
                "cardholder" | "credential" => {
                    (s.pending, s.history, s.cardholders, s.credentials) = (true, true, true, true)
                }
                "audit_event" => s.audit = true,
                "outbox" => s.outbox = true,
                // A role or privilege changed: what may be seen changed.
                "operator" => return Stale::all(),
                _ => s.small = true,
            }
        }
        s
    }

    /// Stale in either.
    fn or(self, o: Stale) -> Stale {
        Stale {
            pending: self.pending || o.pending,
            cardholders: self.cardholders || o.cardholders,
            credentials: self.credentials || o.credentials,
            history: self.history || o.history,
            audit: self.audit || o.audit,
            outbox: self.outbox || o.outbox,
            small: self.small || o.small,
        }
    }

    /// What a new view makes stale.
    fn view(old: &ListView, new: &ListView) -> Stale {
        Stale {
            cardholders: (&old.cardholder_search, old.cardholder_offset)
                != (&new.cardholder_search, new.cardholder_offset),
            credentials: (
                &old.credential_search,
                old.credential_state,
                old.credential_offset,
            ) != (
                &new.credential_search,
                new.credential_state,
                new.credential_offset,
            ),
            history: old.request_history != new.request_history,
            ..Stale::default()
        }
    }
}

/// Reads the parts of the snapshot that are `stale`, keeping the rest of
/// `prev` (shared, not copied).
fn load(
    desk: &Desk,
    session: Option<&Session>,
    view: &ListView,
    prev: &Snapshot,
    stale: Stale,
) -> DeskResult<Snapshot> {
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
    let may = |p| s.may(p);
    let page = |offset| PageRequest {
        offset,
        limit: LIST_PAGE,
    };
    let (pending, request_cards) = if stale.pending {
        let pending = desk.requests(s, Some(RequestStatus::Pending), PageRequest::first(1000))?;
        // The cards connected to the requests shown, in one query.
        let ids: Vec<i64> = pending
            .items
            .iter()
            .filter_map(|r| r.credential_id)
            .collect();
        let cards: HashMap<i64, Credential> = desk
            .credentials_by_id(s, &ids)?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        (Arc::new(pending), Arc::new(cards))
    } else {
        (prev.pending.clone(), prev.request_cards.clone())
    };
    Ok(Snapshot {
        pending,
        request_cards,
        cardholders: if stale.cardholders {
            Arc::new(desk.cardholders(s, &view.cardholder_search, page(view.cardholder_offset))?)
        } else {
            prev.cardholders.clone()
        },
        credentials: if stale.credentials {
            Arc::new(desk.credentials(
                s,
                view.credential_state,
                &view.credential_search,
                page(view.credential_offset),
            )?)
        } else {
            prev.credentials.clone()
        },
        stock: if stale.credentials {
            Arc::new(desk.stock_credentials(s, page(0))?)
        } else {
            prev.stock.clone()
        },
        request_history: if stale.history {
            Arc::new(match view.request_history {
                Some(status) => desk.requests(s, status, page(0))?,
                None => Page::default(),
            })
        } else {
            prev.request_history.clone()
        },
        audit: match (stale.audit, may(Privilege::ViewAudit)) {
            (false, _) => prev.audit.clone(),
            (true, true) => Arc::new(desk.audit_events(s, PageRequest::first(500))?),
            (true, false) => Arc::default(),
        },
        outbox: match (stale.outbox, may(Privilege::ViewOutbox)) {
            (false, _) => prev.outbox,
            (true, true) => desk.outbox_counts(s)?,
            (true, false) => OutboxCounts::default(),
        },
        mail: match (stale.outbox, may(Privilege::ViewOutbox)) {
            (false, _) => prev.mail.clone(),
            (true, true) => Arc::new(desk.outbox(s, None, page(0))?),
            (true, false) => Arc::default(),
        },
        sites: if stale.small {
            Arc::new(desk.sites(s)?)
        } else {
            prev.sites.clone()
        },
        formats: if stale.small {
            Arc::new(desk.card_formats(s)?)
        } else {
            prev.formats.clone()
        },
        templates: if stale.small {
            Arc::new(desk.badge_template_names(s)?)
        } else {
            prev.templates.clone()
        },
        smtp: match (stale.small, may(Privilege::ManageSettings)) {
            (false, _) => prev.smtp.clone(),
            (true, true) => desk.mail_settings(s)?,
            (true, false) => None,
        },
        set_up_pending: match (stale.small, may(Privilege::ManageSettings)) {
            (false, _) => prev.set_up_pending,
            (true, true) => desk.set_up_pending(s)?,
            (true, false) => false,
        },
        printers: match (stale.small, may(Privilege::PrintCards)) {
            (false, _) => prev.printers.clone(),
            (true, true) => desk.printer_choice(s)?,
            (true, false) => Default::default(),
        },
        operators: match (stale.small, may(Privilege::ManageOperators)) {
            (false, _) => prev.operators.clone(),
            (true, true) => Arc::new(desk.operators(s)?),
            (true, false) => Arc::default(),
        },
        ..base
    })
}

/// The desk worker's last snapshot and the change counts it was read at.
struct Loaded {
    last: Snapshot,
    counts: crate::desk::ChangeCounters,
    /// Who it was read for: another operator (or none) reads everything.
    operator: Option<i64>,
}

impl Loaded {
    /// Reads what changed since the last snapshot (plus `stale`) and sends
    /// the new snapshot.
    fn send(
        &mut self,
        desk: &Desk,
        session: Option<&Session>,
        view: &ListView,
        stale: Stale,
        replies: &Sender<Reply>,
        notify: &Notify,
    ) {
        let counts = desk.change_counters().unwrap_or_default();
        let changed = crate::desk::changed_tables(&self.counts, &counts);
        let stale = if session.map(|s| s.operator().id) != self.operator {
            Stale::all()
        } else {
            stale.or(Stale::tables(&changed))
        };
        match load(desk, session, view, &self.last, stale) {
            Ok(s) => {
                self.counts = counts;
                self.operator = session
                    .filter(|s| !s.must_change_password())
                    .map(|s| s.operator().id);
                self.last = s.clone();
                let _ = replies.send(Reply::Snapshot(s));
            }
            Err(e) => tracing::error!("cannot load the desk lists: {e}"),
        }
        notify();
    }
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
                let mut loaded = Loaded {
                    last: Snapshot::default(),
                    counts: Default::default(),
                    operator: None,
                };
                let mut send_snapshot =
                    |desk: &Desk, session: Option<&Session>, view: &ListView, stale: Stale| {
                        loaded.send(desk, session, view, stale, &replies, &notify)
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
                send_snapshot(&desk, None, &view, Stale::all());
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
                            send_snapshot(&desk, session.as_ref(), &view, Stale::default());
                        }
                        Ok(Msg::View(v)) => {
                            if v != view {
                                let stale = Stale::view(&view, &v);
                                view = v;
                                send_snapshot(&desk, session.as_ref(), &view, stale);
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
                            send_snapshot(&desk, None, &view, Stale::all());
                        }
                        Ok(Msg::Refresh) => {
                            send_snapshot(&desk, session.as_ref(), &view, Stale::all())
                        }
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
                                send_snapshot(&desk, session.as_ref(), &view, Stale::default());
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
