//! The desk worker: one thread that owns the database connection. The UI
//! sends it jobs (desk actions, logins) and receives their results and fresh
//! snapshots of what the screens show, so no query ever runs on the UI
//! thread. Changes made by other processes (the CLI, a second desk) are
//! noticed through `PRAGMA data_version` and trigger a new snapshot.

use crate::desk::{Assigned, Desk, DeskError, Session};
use crate::devices::Notify;
use crate::domain::mail::SmtpSettings;
use crate::domain::{CardFormat, RequestStatus};
use crate::store::outbox::{OutboxCounts, OutboxMessage};
use crate::store::temp_cards::{TempCard, TempOrder};
use crate::store::{
    self, audit::AuditEvent, cardholders::Cardholder, credentials::Credential,
    requests::CardRequest, sites::Site,
};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

/// How often the worker looks for changes made by other processes.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

/// What the screens show, loaded in one go on the worker thread.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub pending: Arc<Vec<CardRequest>>,
    pub cardholders: Arc<Vec<Cardholder>>,
    pub credentials: Arc<Vec<Credential>>,
    pub audit: Arc<Vec<AuditEvent>>,
    pub sites: Arc<Vec<Site>>,
    pub formats: Arc<Vec<CardFormat>>,
    pub templates: Arc<Vec<String>>,
    pub outbox: OutboxCounts,
    /// The most recent outbox messages, newest first.
    pub mail: Arc<Vec<OutboxMessage>>,
    pub smtp: Option<SmtpSettings>,
    pub has_operators: bool,
}

/// Which screen asked, so the reply goes back to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Login,
    Setup,
    CreateCardholder,
    Modify,
    Deny,
    Connect,
    Close,
    Print,
    VerifyAudit,
    Mail,
    Templates,
    BatchOrders,
}

pub enum Outcome {
    Session(Session),
    Assigned(Assigned),
    Message(String),
    Previews(Vec<super::print_cards::Preview>),
    Queues(Vec<String>),
    /// A print job was recorded; its document goes to the print worker.
    PrintPrepared(Box<crate::desk::PreparedPrint>),
    /// A print job's verdict was recorded.
    PrintJob(crate::store::print_jobs::PrintJob),
    /// Requested temporary cards, the certificate profiles and the
    /// printers (queue names).
    TempCards(Vec<TempCard>, Vec<String>, Vec<String>),
    /// A batch order and its cards.
    TempOrder(TempOrder, Vec<TempCard>),
}

pub type JobResult = Result<Outcome, String>;
type Job = Box<dyn FnOnce(&mut Desk) -> Result<Outcome, DeskError> + Send>;

pub enum Reply {
    Snapshot(Snapshot),
    Done(Tag, JobResult),
}

enum Msg {
    Job(Tag, Job),
    Refresh,
}

pub struct DeskWorker {
    tx: Sender<Msg>,
    rx: Receiver<Reply>,
    pub db: PathBuf,
}

fn load(desk: &Desk) -> Result<Snapshot, DeskError> {
    let c = desk.conn();
    let outbox = store::outbox::counts(c)?;
    let mut mail: Vec<OutboxMessage> = store::outbox::list(c)?;
    // Newest first; the desk needs the recent ones, not years of history.
    mail.reverse();
    mail.truncate(200);
    Ok(Snapshot {
        pending: Arc::new(store::requests::list(c, Some(RequestStatus::Pending))?),
        cardholders: Arc::new(store::cardholders::list(c, "", usize::MAX >> 1, 0)?),
        credentials: Arc::new(store::credentials::list(c, None, "", usize::MAX >> 1)?),
        audit: Arc::new(store::audit::list(c, 500)?),
        sites: Arc::new(store::sites::list(c)?),
        formats: Arc::new(store::formats::list(c)?),
        templates: Arc::new(desk.badge_template_names()?),
        outbox,
        mail: Arc::new(mail),
        smtp: desk.mail_settings()?,
        has_operators: desk.has_operators()?,
    })
}

impl DeskWorker {
    /// Opens the database (on the caller's thread, so a bad path is reported
    /// before any window opens) and starts the worker.
    pub fn spawn(db: PathBuf, notify: Notify) -> Result<DeskWorker, DeskError> {
        let mut desk = Desk::open(&db)?;
        let (tx, jobs) = mpsc::channel::<Msg>();
        let (replies, rx) = mpsc::channel::<Reply>();
        std::thread::Builder::new()
            .name("desk-worker".into())
            .spawn(move || {
                let send_snapshot = |desk: &Desk| {
                    match load(desk) {
                        Ok(s) => {
                            let _ = replies.send(Reply::Snapshot(s));
                        }
                        Err(e) => tracing::error!("cannot load the desk lists: {e}"),
                    }
                    notify();
                };
                let mut seen = store::data_version(desk.conn()).unwrap_or(0);
                send_snapshot(&desk);
                loop {
                    match jobs.recv_timeout(WATCH_INTERVAL) {
                        Ok(Msg::Job(tag, job)) => {
                            let result = job(&mut desk).map_err(|e| e.to_string());
                            if replies.send(Reply::Done(tag, result)).is_err() {
                                return;
                            }
                            send_snapshot(&desk);
                        }
                        Ok(Msg::Refresh) => send_snapshot(&desk),
                        Err(RecvTimeoutError::Timeout) => {
                            let now = store::data_version(desk.conn()).unwrap_or(seen);
                            if now != seen {
                                seen = now;
                                send_snapshot(&desk);
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .expect("spawn desk worker");
        Ok(DeskWorker { tx, rx, db })
    }

    pub fn submit(
        &self,
        tag: Tag,
        job: impl FnOnce(&mut Desk) -> Result<Outcome, DeskError> + Send + 'static,
    ) {
        let _ = self.tx.send(Msg::Job(tag, Box::new(job)));
    }

    pub fn refresh(&self) {
        let _ = self.tx.send(Msg::Refresh);
    }

    pub fn poll(&self) -> Vec<Reply> {
        self.rx.try_iter().collect()
    }
}
