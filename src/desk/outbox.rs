//! Sends the outbox. A pass claims each due row (marks it `sending` in its own
//! committed transaction), hands it to a [`MailTransport`], and records the
//! outcome with the attempt:
//!
//! - accepted by the server → `sent` (only now, never before the server's 250);
//! - 4xx, connection refused, timeout, TLS trouble → stays `pending`, error
//!   recorded, next try after exponential back-off with jitter;
//! - 5xx, or an address that cannot be parsed → `failed`, not retried until
//!   the operator fixes it and asks again (`Desk::retry_mail`).
//!
//! Crash safety: a row left in `sending` by a process that is gone (or whose
//! claim is older than [`CLAIM_LEASE`]) is sent again with the SAME
//! Message-ID fixed at enqueue. If the crash came before the server accepted
//! the DATA, the message is delivered exactly once; only a crash in the few
//! microseconds between the server's 250 and our commit of `sent` can produce
//! a second copy, and that copy carries the same Message-ID, so mail clients
//! and the recipient can recognise it as the same message.
//!
//! [`MailWorker`] runs passes on its own thread (its own connection),
//! periodically and when kicked. The transport is the device's
//! (`devices::mailer`): it only delivers one message.

use crate::desk::keys::SiteKeys;
use crate::desk::DeskResult;
use crate::devices::mailer::{MailTransport, SendError, SMTP_TIMEOUT};
use crate::devices::Notify;
use crate::domain::mail::retry_delay;
use crate::domain::OutboxStatus;
use crate::store::Connection;
use crate::store::{self, outbox::OutboxMessage};
use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::Message;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A `sending` claim older than this is taken over even if its process
/// cannot be shown to be gone (many SMTP timeouts).
pub const CLAIM_LEASE: Duration = Duration::from_secs(10 * 60);
/// The worker looks for new rows (e.g. written by the CLI) at least this often.
pub const POLL_INTERVAL: Duration = Duration::from_secs(30);

const _: () = assert!(CLAIM_LEASE.as_secs() > 4 * SMTP_TIMEOUT.as_secs());

/// Builds the RFC 5322 message for a row, with the Message-ID and date fixed
/// at enqueue so a resend is recognisably the same message.
pub fn build_message(m: &OutboxMessage, from: &str) -> Result<Message, SendError> {
    let from: Mailbox = from.trim().parse().map_err(|e| {
        SendError::Transient(format!(
            "from address {from:?} is not valid ({e}); fix it in the mail settings"
        ))
    })?;
    let to: Mailbox = m.to_address.trim().parse().map_err(|e| {
        SendError::Permanent(format!(
            "recipient address {:?} is not valid ({e}); correct it and retry",
            m.to_address
        ))
    })?;
    let date = DateTime::parse_from_rfc3339(&m.created_at)
        .map(|d| std::time::SystemTime::from(d.with_timezone(&Utc)))
        .unwrap_or_else(|_| std::time::SystemTime::now());
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(m.message_id.clone()))
        .date(date)
        .multipart(MultiPart::alternative_plain_html(
            m.body_text.clone(),
            m.body_html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}

/// What one pass did. Ids are outbox ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub sent: Vec<i64>,
    /// Temporary failure: still pending, with the error.
    pub deferred: Vec<(i64, String)>,
    /// Permanent failure: needs the operator.
    pub failed: Vec<(i64, String)>,
    /// Nothing was tried because no mail server is configured.
    pub not_configured: bool,
}

impl PassReport {
    pub fn is_empty(&self) -> bool {
        self.sent.is_empty() && self.deferred.is_empty() && self.failed.is_empty()
    }
}

/// This process, as recorded in `claimed_by`: "pid:N@machine", so desks
/// on several machines sharing one server database tell their claims apart.
pub fn this_process() -> String {
    format!("pid:{}@{}", std::process::id(), this_host())
}

/// This machine: its systemd machine id (unique even between machines
/// cloned from one image with one host name), else its host name.
fn this_host() -> String {
    ["/etc/machine-id", "/proc/sys/kernel/hostname"]
        .iter()
        .find_map(|f| {
            std::fs::read_to_string(f)
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".into())
}

/// Whether the process that claimed a row may still be sending it.
fn claimant_alive(claimed_by: Option<&str>) -> bool {
    let Some(claimant) = claimed_by.and_then(|c| c.strip_prefix("pid:")) else {
        return false;
    };
    // "N" (written before hosts were named) is a process on this machine.
    let (pid, host) = match claimant.split_once('@') {
        Some((pid, host)) => (pid, Some(host)),
        None => (claimant, None),
    };
    if host.is_some_and(|h| h != this_host()) {
        // Another workstation's process: only its lease running out tells.
        return true;
    }
    if pid == std::process::id().to_string() {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid).exists()
    } else {
        // Cannot tell: wait for the lease to run out.
        true
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A row in `sending` may be taken over when its sender is gone.
fn abandoned(m: &OutboxMessage, now: DateTime<Utc>) -> bool {
    let stale = m
        .claimed_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_none_or(|t| {
            now.signed_duration_since(t.with_timezone(&Utc))
                .to_std()
                .is_ok_and(|age| age > CLAIM_LEASE)
        });
    stale || !claimant_alive(m.claimed_by.as_deref())
}

/// One pass over the outbox: sends every pending row whose next attempt is
/// due by `due_by` (normally `Utc::now()`; a later time skips the back-off),
/// and every row an interrupted sender left behind.
fn send_due(
    conn: &Connection,
    keys: &SiteKeys,
    transport: &dyn MailTransport,
    due_by: DateTime<Utc>,
) -> DeskResult<PassReport> {
    let rows = store::outbox::due(conn, &stamp(due_by))?;
    send_rows(conn, keys, transport, rows)
}

/// Sends one row now, whatever its back-off says (for "send test message"
/// and "retry"). Rows already sent or failed are left alone.
fn send_now(
    conn: &Connection,
    keys: &SiteKeys,
    transport: &dyn MailTransport,
    id: i64,
) -> DeskResult<PassReport> {
    let rows = store::outbox::get(conn, id)?.into_iter().collect();
    send_rows(conn, keys, transport, rows)
}

impl super::Desk {
    /// One sending pass over the outbox (the mailer's work; for scripts,
    /// `carddesk mail send-pending`): every row due by `due_by`.
    pub fn send_due_mail(
        &self,
        transport: &dyn MailTransport,
        due_by: DateTime<Utc>,
    ) -> super::DeskResult<PassReport> {
        send_due(&self.conn, &self.keys, transport, due_by)
    }

    /// An operator's sending pass (the CLI's `mail send-pending`): it changes
    /// the outbox, so only for those who may see it.
    pub fn send_outbox(
        &self,
        s: &super::Session,
        transport: &dyn MailTransport,
        due_by: DateTime<Utc>,
    ) -> super::DeskResult<PassReport> {
        self.require(s, crate::domain::Privilege::ViewOutbox, "send the outbox")?;
        self.send_due_mail(transport, due_by)
    }

    /// Sends one message now, whatever its back-off says (the test message,
    /// a retry the operator asked for).
    pub fn send_mail_now(
        &self,
        s: &super::Session,
        transport: &dyn MailTransport,
        id: i64,
    ) -> super::DeskResult<PassReport> {
        self.require(s, crate::domain::Privilege::ManageSettings, "send mail now")?;
        send_now(&self.conn, &self.keys, transport, id)
    }
}

fn send_rows(
    conn: &Connection,
    keys: &SiteKeys,
    transport: &dyn MailTransport,
    rows: Vec<OutboxMessage>,
) -> DeskResult<PassReport> {
    let mut report = PassReport::default();
    let settings = super::mail::smtp_settings(conn, keys)?;
    if settings.is_none() && transport.needs_settings() {
        report.not_configured = !rows.is_empty();
        return Ok(report);
    }
    let from = settings
        .as_ref()
        .map(|s| s.from.clone())
        .unwrap_or_else(|| "carddesk@demo.invalid".into());
    let me = this_process();
    for m in rows {
        match m.status {
            OutboxStatus::Pending => {}
            OutboxStatus::Sending if abandoned(&m, Utc::now()) => {
                tracing::warn!(
                    "outbox {}: resending after an interrupted attempt by {} (same Message-ID {})",
                    m.id,
                    m.claimed_by.as_deref().unwrap_or("?"),
                    m.message_id
                );
            }
            _ => continue,
        }
        // The claim is committed before the SMTP conversation starts, so a
        // crash from here on leaves a row that says "maybe sent".
        if !store::outbox::claim(conn, &m, &me, &stamp(Utc::now()))? {
            continue; // another sender got it first
        }
        let result =
            build_message(&m, &from).and_then(|msg| transport.send(settings.as_ref(), &msg));
        let at = stamp(Utc::now());
        let tx = conn.begin()?;
        let taken_over = |what: &str| {
            tracing::warn!(
                "outbox {}: {what}, but another sender took the message over meanwhile; its outcome stands",
                m.id
            )
        };
        match result {
            Ok(()) => {
                if store::outbox::mark_sent(&tx, m.id, &me, &at)? {
                    tracing::info!("outbox {}: sent to {}", m.id, m.to_address);
                    report.sent.push(m.id);
                } else {
                    taken_over("sent");
                }
            }
            Err(SendError::Transient(e)) => {
                let tries = u32::try_from(m.attempts + 1).unwrap_or(u32::MAX);
                let delay = retry_delay(tries, rand::random::<f64>());
                let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
                if store::outbox::mark_deferred(&tx, m.id, &me, &at, &e, &stamp(next))? {
                    tracing::warn!("outbox {}: will retry at {}: {e}", m.id, stamp(next));
                    report.deferred.push((m.id, e));
                } else {
                    taken_over("deferred");
                }
            }
            Err(SendError::Permanent(e)) => {
                if store::outbox::mark_failed(&tx, m.id, &me, &at, &e)? {
                    tracing::error!("outbox {}: failed, not retried: {e}", m.id);
                    report.failed.push((m.id, e));
                } else {
                    taken_over("failed");
                }
            }
        }
        tx.commit()?;
    }
    Ok(report)
}

/// What the worker reports after each pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailEvent {
    Pass(PassReport),
    /// The database could not be used; the worker keeps trying.
    Error(String),
}

enum Command {
    Kick,
    Stop,
}

/// Sends the outbox on its own thread: at start, every [`POLL_INTERVAL`],
/// when the next deferred row is due, and whenever [`MailWorker::kick`] is
/// called (e.g. right after a request was answered). Stops on drop (after
/// finishing the message it is sending, at most one SMTP timeout).
pub struct MailWorker {
    commands: Sender<Command>,
    events: Receiver<MailEvent>,
    thread: Option<JoinHandle<()>>,
    transport: String,
}

impl MailWorker {
    pub fn spawn(
        db_path: impl Into<PathBuf>,
        transport: Arc<dyn MailTransport>,
        notify: Notify,
    ) -> MailWorker {
        let db_path = db_path.into();
        let (commands, rx) = mpsc::channel();
        let (ev_tx, events) = mpsc::channel();
        let description = transport.describe();
        let thread = std::thread::Builder::new()
            .name("mailer".into())
            .spawn(move || run(&db_path, transport.as_ref(), &rx, &ev_tx, &notify))
            .expect("spawn mailer thread");
        MailWorker {
            commands,
            events,
            thread: Some(thread),
            transport: description,
        }
    }

    /// Run a pass now.
    pub fn kick(&self) {
        let _ = self.commands.send(Command::Kick);
    }

    /// Events since the last call, oldest first; never blocks.
    pub fn events(&self) -> Vec<MailEvent> {
        self.events.try_iter().collect()
    }

    /// What kind of transport this worker uses (to label a simulated one).
    pub fn transport(&self) -> &str {
        &self.transport
    }
}

impl Drop for MailWorker {
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(
    db_path: &Path,
    transport: &dyn MailTransport,
    commands: &Receiver<Command>,
    events: &Sender<MailEvent>,
    notify: &Notify,
) {
    let mut desk: Option<super::Desk> = None;
    let mut wait_for_settings = false;
    loop {
        let mut wait = POLL_INTERVAL;
        if desk.is_none() {
            match super::Desk::connect(db_path) {
                Ok(d) => desk = Some(d),
                Err(e) => {
                    let _ = events.send(MailEvent::Error(e.to_string()));
                    notify();
                }
            }
        }
        if let Some(d) = &desk {
            let c = &d.conn;
            match d.send_due_mail(transport, Utc::now()) {
                Ok(report) => {
                    if report.not_configured {
                        // Nothing can go out until mail is configured: no hurry.
                        wait_for_settings = true;
                    }
                    if !report.is_empty() || report.not_configured {
                        let _ = events.send(MailEvent::Pass(report));
                        notify();
                    }
                }
                Err(e) => {
                    let _ = events.send(MailEvent::Error(format!("outbox: {e}")));
                    notify();
                }
            }
            if wait_for_settings {
                wait_for_settings = false;
            } else if let Ok(Some(next)) = store::outbox::next_due(c) {
                if let Ok(next) = DateTime::parse_from_rfc3339(&next) {
                    let until = next
                        .with_timezone(&Utc)
                        .signed_duration_since(Utc::now())
                        .to_std()
                        .unwrap_or(Duration::ZERO);
                    wait = wait.min(until.max(Duration::from_millis(200)));
                }
            }
        }
        match commands.recv_timeout(wait) {
            Ok(Command::Kick) | Err(RecvTimeoutError::Timeout) => {}
            Ok(Command::Stop) | Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
