//! E-mail to requesters, against the real SMTP sink (aiosmtpd, smtp_sink.py):
//! the shared one on 127.0.0.1:8025 (started by tests/support/start-smtp.sh or
//! CI) for normal delivery, and private instances of the same sink on a free
//! port for faults (451, 550, server down, a sender killed mid-send), so that
//! injecting a fault never disturbs anyone else using the shared sink.
//!
//! Each test writes to its own unique recipient address and only looks at
//! messages for that address. Tests are serialised by a mutex.

mod common;

use carddesk::desk::outbox::{self, MailEvent, MailWorker, PassReport};
use carddesk::desk::{Desk, PageRequest, Session};
use carddesk::devices::mailer::{SimulatedMailer, SmtpMailer};
use carddesk::domain::{OutboxStatus, Role, Secret, Security, SmtpSettings};
use carddesk::store;
use common::smtp::{delivered_to, unique_address, PrivateSink};
use common::{harness_state, manual, person, TestDesk};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const SINK_PORT: u16 = 8025;

fn shared_sink_dir() -> PathBuf {
    std::env::var_os("SMTP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness_state().join("mail"))
}

/// The shared sink must be running: fail (not skip) with what to do.
fn shared_sink() -> PathBuf {
    if TcpStream::connect(("127.0.0.1", SINK_PORT)).is_err() {
        panic!(
            "the SMTP sink is not listening on 127.0.0.1:{SINK_PORT}; start it with \
             tests/support/start-smtp.sh (HARNESS_STATE={}, SMTP_DIR={})",
            harness_state().display(),
            shared_sink_dir().display()
        );
    }
    shared_sink_dir()
}

fn smtp(port: u16) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        security: Security::None,
        user: None,
        password: None,
        from: "carddesk@desk.example".into(),
    }
}

/// A desk with a mail server, and a requester (a supervisor) whose address
/// is unique to this test.
struct MailDesk {
    t: TestDesk,
    requester: Session,
    to: String,
}

impl MailDesk {
    fn new(tag: &str, port: u16, language: &str) -> MailDesk {
        let mut t = TestDesk::new();
        let to = unique_address(tag);
        t.desk
            .add_operator(
                &t.admin,
                &carddesk::desk::NewOperatorInput {
                    name: "rita",
                    email: Some(&to),
                    role: Role::Supervisor,
                    password: common::PASSWORD,
                    language,
                },
            )
            .unwrap();
        let requester = t.desk.login("rita", common::PASSWORD).unwrap();
        t.desk.configure_mail(&t.admin, &smtp(port)).unwrap();
        MailDesk { t, requester, to }
    }

    fn desk(&mut self) -> &mut Desk {
        &mut self.t.desk
    }

    /// A request raised by the requester, card connected and closed by admin.
    fn complete(&mut self, first: &str, last: &str, notify: bool) -> i64 {
        let id = self.t.request_for(&self.requester, first, last, notify);
        let admin = self.t.admin.clone();
        self.t
            .desk
            .connect_card(
                &admin,
                id,
                &manual("H10301", &[("facility", "42"), ("card", "4242")]),
            )
            .unwrap();
        self.t.desk.close_request(&admin, id).unwrap();
        id
    }

    fn deny(&mut self, first: &str, last: &str, reason: &str) -> i64 {
        let id = self.t.request_for(&self.requester, first, last, true);
        let admin = self.t.admin.clone();
        self.t.desk.deny_request(&admin, id, Some(reason)).unwrap();
        id
    }

    fn only_outbox_row(&self, request: i64) -> store::outbox::OutboxMessage {
        let rows = store::outbox::for_request(&self.t.db(), request).unwrap();
        assert_eq!(rows.len(), 1, "{rows:#?}");
        rows.into_iter().next().unwrap()
    }

    fn row(&self, id: i64) -> store::outbox::OutboxMessage {
        store::outbox::get(&self.t.db(), id).unwrap().unwrap()
    }

    fn pass(&self, due_by: chrono::DateTime<chrono::Utc>) -> PassReport {
        self.t.desk.send_due_mail(&SmtpMailer, due_by).unwrap()
    }
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Far enough ahead to be past any back-off.
fn later() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::hours(3)
}

fn bare(id: &str) -> &str {
    id.trim_start_matches('<').trim_end_matches('>')
}

#[test]
fn completed_request_with_email_me_sends_exactly_one_mail_with_the_details() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("ready", SINK_PORT, "en");
    let id = d.complete("Ada", "Lovelace", true);
    let row = d.only_outbox_row(id);
    assert_eq!(row.status, OutboxStatus::Pending);

    let report = d.pass(now());
    assert_eq!(report.sent, vec![row.id], "{report:?}");
    // A second pass finds nothing to send.
    assert!(d.pass(later()).is_empty());

    let mails = delivered_to(&dir, &d.to);
    assert_eq!(mails.len(), 1, "exactly one mail to the requester");
    let m = &mails[0];
    assert_eq!(m.rcpt, d.to);
    assert_eq!(m.message_id, bare(&row.message_id));
    assert!(m.subject.contains("Ada Lovelace"), "{}", m.subject);
    assert!(m.subject.to_lowercase().contains("ready"), "{}", m.subject);
    for needle in [
        "Hello rita",
        "Cardholder: Ada Lovelace",
        "Credential: H10301 42:4242",
        "Pick it up at the security desk.",
        "Handled by: admin",
        &format!("Card request: #{id}"),
    ] {
        assert!(
            m.text.contains(needle),
            "{needle:?} missing from:\n{}",
            m.text
        );
    }
    assert!(m.html.contains("<table>"), "{}", m.html);
    assert!(m.html.contains("Ada Lovelace") && m.html.contains("H10301 42:4242"));

    let row = d.row(row.id);
    assert_eq!(row.status, OutboxStatus::Sent);
    assert_eq!(row.attempts, 1);
    assert!(row.sent_at.is_some());
    let attempts = store::outbox::attempts(&d.t.db(), row.id).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].result, "sent");
}

#[test]
fn dutch_requester_gets_dutch_mail_naming_the_site_it_ships_to() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("verzonden", SINK_PORT, "nl");
    let admin = d.t.admin.clone();
    let site = d.desk().add_site(&admin, "Rotterdam Noord").unwrap();
    let id =
        d.t.request_for(&d.requester.clone(), "Joost", "Bakker", true);
    let mut fields = common::request(true);
    fields.ship_to_site_id = Some(site);
    d.desk().modify_request(&admin, id, &fields).unwrap();
    d.desk()
        .connect_card(
            &admin,
            id,
            &manual("H10301", &[("facility", "7"), ("card", "77")]),
        )
        .unwrap();
    // How it was sent is recorded at Close (only for a shipped card, and
    // only with something said) and told in the mail.
    let err = d
        .desk()
        .close_requests_shipped(&admin, &[id], &[(id, "  ".into())])
        .unwrap_err();
    assert!(err.to_string().contains("say how it was sent"), "{err}");
    let other = d.t.request_for(&admin, "Piet", "Pickup", false);
    d.desk()
        .connect_card(
            &admin,
            other,
            &manual("H10301", &[("facility", "7"), ("card", "78")]),
        )
        .unwrap();
    let err = d
        .desk()
        .close_requests_shipped(&admin, &[other], &[(other, "DHL".into())])
        .unwrap_err();
    assert!(
        err.to_string().contains("is not shipped to a site"),
        "{err}"
    );
    d.desk()
        .close_requests_shipped(&admin, &[id], &[(id, "DHL 1Z999AA10123456784".into())])
        .unwrap();
    assert_eq!(
        d.desk()
            .request(&admin, id)
            .unwrap()
            .shipping_note
            .as_deref(),
        Some("DHL 1Z999AA10123456784")
    );
    assert_eq!(d.pass(now()).sent.len(), 1);

    let mails = delivered_to(&dir, &d.to);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.subject, "Kaart klaar voor Joost Bakker");
    for needle in [
        "Beste rita",
        "Kaarthouder: Joost Bakker",
        "Kaart: H10301 7:77",
        "Wordt verzonden naar locatie Rotterdam Noord.",
        "Verzonden: DHL 1Z999AA10123456784",
        "Behandeld door: admin",
    ] {
        assert!(
            m.text.contains(needle),
            "{needle:?} missing from:\n{}",
            m.text
        );
    }
    assert!(m.html.contains("lang=\"nl\""));
}

#[test]
fn completed_request_without_email_me_sends_nothing() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("quiet", SINK_PORT, "en");
    let id = d.complete("Grace", "Hopper", false);
    assert!(store::outbox::for_request(&d.t.db(), id)
        .unwrap()
        .is_empty());
    let report = d.pass(later());
    assert!(report.is_empty(), "{report:?}");
    assert_eq!(delivered_to(&dir, &d.to).len(), 0);
}

#[test]
fn denied_request_with_email_me_sends_one_mail_with_the_reason() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("denied", SINK_PORT, "en");
    let id = d.deny("Alan", "Turing", "contract ended <before start>");
    let row = d.only_outbox_row(id);
    assert_eq!(d.pass(now()).sent, vec![row.id]);

    let mails = delivered_to(&dir, &d.to);
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.subject, "Card request for Alan Turing denied");
    assert!(
        m.text.contains("Reason: contract ended <before start>"),
        "{}",
        m.text
    );
    assert!(m.text.contains("Handled by: admin"), "{}", m.text);
    assert!(
        m.html.contains("contract ended &lt;before start&gt;"),
        "reason is escaped in HTML: {}",
        m.html
    );
}

#[test]
fn server_down_keeps_mail_pending_with_the_error_and_delivers_when_it_is_back() {
    let _g = serial();
    let mut sink = PrivateSink::start();
    sink.down(); // the port is now closed
    let mut d = MailDesk::new("down", sink.port, "en");
    let id = d.complete("Edsger", "Dijkstra", true);
    let row = d.only_outbox_row(id);

    let report = d.pass(now());
    assert_eq!(report.deferred.len(), 1, "{report:?}");
    let r = d.row(row.id);
    assert_eq!(r.status, OutboxStatus::Pending);
    assert_eq!(r.attempts, 1);
    let err = r.last_error.clone().unwrap();
    assert!(err.contains(&format!("127.0.0.1:{}", sink.port)), "{err}");
    assert!(r.next_attempt_at > r.created_at, "backed off: {r:?}");
    let attempts = store::outbox::attempts(&d.t.db(), row.id).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].result, "deferred");
    assert_eq!(attempts[0].error.as_deref(), Some(err.as_str()));
    let admin = d.t.admin.clone();
    assert_eq!(d.desk().outbox_counts(&admin).unwrap().pending, 1);

    // Still down on the next try: a second attempt, a longer back-off.
    assert_eq!(d.pass(later()).deferred.len(), 1);
    assert_eq!(d.row(row.id).attempts, 2);

    sink.up();
    let report = d.pass(later());
    assert_eq!(report.sent, vec![row.id], "{report:?}");
    let mails = delivered_to(sink.dir.path(), &d.to);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].message_id, bare(&row.message_id));
    let r = d.row(row.id);
    assert_eq!((r.status, r.attempts), (OutboxStatus::Sent, 3));
    assert_eq!(r.last_error, None);
}

#[test]
fn server_answering_451_keeps_mail_pending_and_delivers_once_it_recovers() {
    let _g = serial();
    let sink = PrivateSink::start();
    sink.fail_with("451 4.3.0 mailbox busy, try later");
    let mut d = MailDesk::new("busy", sink.port, "en");
    let id = d.deny("Barbara", "Liskov", "duplicate request");
    let row = d.only_outbox_row(id);

    assert_eq!(d.pass(now()).deferred.len(), 1);
    let r = d.row(row.id);
    assert_eq!(r.status, OutboxStatus::Pending);
    let err = r.last_error.unwrap();
    assert!(err.contains("451"), "{err}");
    assert_eq!(delivered_to(sink.dir.path(), &d.to).len(), 0);

    sink.heal();
    assert_eq!(d.pass(later()).sent, vec![row.id]);
    assert_eq!(delivered_to(sink.dir.path(), &d.to).len(), 1);
    assert_eq!(d.row(row.id).status, OutboxStatus::Sent);
}

#[test]
fn server_answering_550_fails_the_mail_which_is_not_retried_until_the_operator_fixes_it() {
    let _g = serial();
    let sink = PrivateSink::start();
    sink.fail_with("550 5.1.1 no such user");
    let mut d = MailDesk::new("nouser", sink.port, "en");
    let id = d.complete("Niklaus", "Wirth", true);
    let row = d.only_outbox_row(id);

    let report = d.pass(now());
    assert_eq!(report.failed.len(), 1, "{report:?}");
    let r = d.row(row.id);
    assert_eq!(r.status, OutboxStatus::Failed);
    assert!(r.last_error.as_deref().unwrap().contains("550"), "{r:?}");
    let admin = d.t.admin.clone();
    let counts = d.desk().outbox_counts(&admin).unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1));

    // Not retried, however long we wait, even once the server would accept.
    sink.heal();
    assert!(d.pass(later() + chrono::Duration::days(30)).is_empty());
    assert_eq!(d.row(row.id).attempts, 1);
    assert_eq!(delivered_to(sink.dir.path(), &d.to).len(), 0);

    // A sent mail cannot be "retried"; a failed one can, to a fixed address.
    let err = d
        .desk()
        .retry_mail(&admin, row.id, Some("not an address"))
        .unwrap_err();
    assert!(err.to_string().contains("not an e-mail address"), "{err}");
    let fixed = unique_address("fixed");
    d.desk().retry_mail(&admin, row.id, Some(&fixed)).unwrap();
    assert_eq!(d.pass(now()).sent, vec![row.id]);
    let mails = delivered_to(sink.dir.path(), &fixed);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].message_id, bare(&row.message_id));
    let err = d.desk().retry_mail(&admin, row.id, None).unwrap_err();
    assert!(err.to_string().contains("already accepted"), "{err}");
    let audit = d
        .desk()
        .audit_events(&admin, PageRequest::first(5))
        .unwrap();
    assert!(audit.items.iter().any(|e| e.action == "mail.retry"));
}

fn carddesk(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carddesk"));
    c.arg("--db")
        .arg(db)
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", common::PASSWORD)
        .env_remove("CARDDESK_DB")
        .env_remove("CARDDESK_SMTP_PASSWORD")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} {pid}");
}

#[test]
fn app_killed_while_sending_delivers_after_restart_without_a_duplicate() {
    let _g = serial();
    let sink = PrivateSink::start();
    let mut d = MailDesk::new("crash", sink.port, "en");
    let id = d.complete("Tony", "Hoare", true);
    let row = d.only_outbox_row(id);

    // Freeze the server so the sender is stuck in the SMTP conversation.
    signal(sink.pid(), "-STOP");
    let mut sender = carddesk(&d.t.db_path())
        .args(["mail", "send-pending"])
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while d.row(row.id).status != OutboxStatus::Sending {
        assert!(
            sender.try_wait().unwrap().is_none(),
            "the sender exited before it claimed the mail"
        );
        assert!(
            Instant::now() < deadline,
            "the sender never claimed the mail"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // Kill it mid-send (no chance to clean up), then let the server go on.
    sender.kill().unwrap();
    sender.wait().unwrap();
    signal(sink.pid(), "-CONT");

    let r = d.row(row.id);
    assert_eq!(
        r.status,
        OutboxStatus::Sending,
        "left behind by the killed sender"
    );
    assert!(
        r.claimed_by
            .as_deref()
            .is_some_and(|c| c.starts_with(&format!("pid:{}@", sender.id()))),
        "{:?}",
        r.claimed_by
    );
    assert_eq!(delivered_to(sink.dir.path(), &d.to).len(), 0);

    // Restart: the new process takes over the abandoned row.
    let out = carddesk(&d.t.db_path())
        .args(["mail", "send-pending"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sent 1,"), "{stdout}");
    // Any further pass sends nothing again.
    let out = carddesk(&d.t.db_path())
        .args(["mail", "send-pending", "--now"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("sent 0,"));

    let mails = delivered_to(sink.dir.path(), &d.to);
    assert_eq!(mails.len(), 1, "delivered exactly once");
    assert_eq!(mails[0].message_id, bare(&row.message_id));
    let r = d.row(row.id);
    assert_eq!(r.status, OutboxStatus::Sent);
    assert_eq!(r.claimed_by, None);
}

#[test]
fn a_row_claimed_by_a_live_sender_is_left_alone() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("claimed", SINK_PORT, "en");
    let id = d.complete("Frances", "Allen", true);
    let row = d.only_outbox_row(id);
    // This test process itself is the live claimant.
    assert!(store::outbox::claim(&d.t.db(), &row, &outbox::this_process(), &store::now()).unwrap());
    assert!(d.pass(later()).is_empty());
    assert_eq!(d.row(row.id).status, OutboxStatus::Sending);
    assert_eq!(delivered_to(&dir, &d.to).len(), 0);
}

#[test]
fn worker_sends_when_kicked_and_notifies() {
    let _g = serial();
    let dir = shared_sink();
    let mut d = MailDesk::new("worker", SINK_PORT, "en");
    let notified = Arc::new(AtomicUsize::new(0));
    let n = notified.clone();
    let worker = MailWorker::spawn(
        d.t.db_path(),
        Arc::new(SmtpMailer),
        Arc::new(move || {
            n.fetch_add(1, Ordering::SeqCst);
        }),
    );
    let id = d.complete("Katherine", "Johnson", true);
    let row = d.only_outbox_row(id);
    worker.kick();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut sent = false;
    while !sent {
        for e in worker.events() {
            match e {
                MailEvent::Pass(r) => sent |= r.sent.contains(&row.id),
                MailEvent::Error(e) => panic!("{e}"),
            }
        }
        assert!(
            Instant::now() < deadline,
            "the worker did not send the mail"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(worker);
    assert!(notified.load(Ordering::SeqCst) >= 1);
    assert_eq!(d.row(row.id).status, OutboxStatus::Sent);
    assert_eq!(delivered_to(&dir, &d.to).len(), 1);
}

#[test]
fn simulated_mailer_writes_the_mail_locally_without_settings() {
    let _g = serial();
    let mut t = TestDesk::new();
    let out = common::private_dir();
    let admin = t.admin.clone();
    let id = t.desk.queue_test_mail(&admin, "demo@desk.example").unwrap();
    let sim = SimulatedMailer::new(out.path());
    let r = t.desk.send_mail_now(&admin, &sim, id).unwrap();
    assert_eq!(r.sent, vec![id]);
    let files: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(files.len(), 1);
    let name = files[0].as_ref().unwrap().file_name();
    assert!(name.to_string_lossy().starts_with("SIMULATED-"));
    // SmtpMailer without settings tries nothing.
    let id2 = t.desk.queue_test_mail(&admin, "demo@desk.example").unwrap();
    let r = t.desk.send_mail_now(&admin, &SmtpMailer, id2).unwrap();
    assert!(r.not_configured && r.is_empty());
    let _ = person("x", "y");
}

#[test]
fn cli_configure_test_status_and_the_password_stays_secret() {
    let _g = serial();
    let dir = shared_sink();
    let t = TestDesk::new();
    let db = t.db_path();
    let secret = "pw-S3CRET-do-not-log";

    let out = carddesk(&db)
        .args([
            "mail",
            "configure",
            "--host",
            "mail.site.example",
            "--port",
            "587",
        ])
        .args([
            "--security",
            "starttls",
            "--user",
            "desk",
            "--from",
            "carddesk@desk.example",
        ])
        .env("CARDDESK_SMTP_PASSWORD", secret)
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    assert!(!all.contains(secret), "{all}");
    let s = t.desk.mail_settings(&t.admin).unwrap().unwrap();
    assert_eq!(s.password, Some(Secret::new(secret)));
    assert!(!format!("{s:?}").contains(secret));
    let audit = t
        .desk
        .audit_events(&t.admin, PageRequest::first(10))
        .unwrap();
    let e = audit
        .items
        .iter()
        .find(|e| e.action == "settings.mail")
        .unwrap();
    assert!(!format!("{e:?}").contains(secret), "{e:?}");
    assert!(e.after.as_deref().unwrap().contains("***"));

    // Bad input names the allowed values.
    let out = carddesk(&db)
        .args(["mail", "configure", "--host", "h", "--port", "25"])
        .args(["--security", "ssl3", "--from", "a@b.example"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("none, starttls or tls"), "{err}");

    let out = carddesk(&db)
        .args(["mail", "configure", "--host", "127.0.0.1", "--port", "8025"])
        .args(["--security", "none", "--from", "carddesk@desk.example"])
        .output()
        .unwrap();
    assert!(out.status.success());

    let to = unique_address("clitest");
    let out = carddesk(&db)
        .args(["mail", "test", "--to", &to])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mails = delivered_to(&dir, &to);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, carddesk::desk::TEST_SUBJECT);

    let out = carddesk(&db).args(["mail", "status"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout, "pending 0\nsent 1\nfailed 0\n");

    let out = carddesk(&db)
        .args(["mail", "retry", "99"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mail 99 does not exist"));
}
