//! Several desks on one site database, each its own process: what the
//! reception desk does shows at the badge room's desk, and mail queued at
//! both is sent once whoever's mailer runs. On the SQLite file by default,
//! on the harness' PostgreSQL server with CARDDESK_TEST_BACKEND=postgres
//! (where live updates come by LISTEN/NOTIFY instead of data_version).

mod common;

use carddesk::desk::{Desk, NewOperatorInput};
use carddesk::domain::{OutboxStatus, Role, Security, SmtpSettings};
use carddesk::store;
use common::smtp::{delivered_to, unique_address};
use common::ui::*;
use common::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `carddesk` binary on this test's database, as `admin`.
fn carddesk(t: &TestDesk, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carddesk"));
    c.arg("--db")
        .arg(t.db_path())
        .args(args)
        .env_remove("CARDDESK_DB")
        .env_remove("RUST_LOG")
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", PASSWORD)
        .stdin(Stdio::null());
    c
}

#[test]
fn a_request_raised_at_another_desk_shows_in_the_tray_count_within_a_second() {
    let t = TestDesk::new();
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Pending card requests: 0");
    // The reception desk: another process, on another connection.
    let out = carddesk(
        &t,
        &[
            "cardholder",
            "add",
            "--first",
            "Late",
            "--last",
            "Comer",
            "--request-card",
        ],
    )
    .output()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Committed when the process exits: from then on, at most a second.
    let committed = Instant::now();
    let deadline = Duration::from_secs(1);
    while !shows(&h, "Pending card requests: 1") {
        assert!(
            committed.elapsed() < deadline,
            "the other desk's request did not show within {deadline:?}"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!(
        "request from another process shown after {:.0} ms",
        committed.elapsed().as_secs_f64() * 1000.0
    );
    h.step();
    assert!(shows(&h, "Card requests (1)"));
}

fn sink_dir() -> PathBuf {
    std::env::var_os("SMTP_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| harness_state().join("mail"))
}

#[test]
fn mail_queued_at_two_desks_is_delivered_exactly_once() {
    if std::net::TcpStream::connect(("127.0.0.1", 8025)).is_err() {
        panic!(
            "the SMTP sink is not listening on 127.0.0.1:8025; start tests/support/start-smtp.sh"
        );
    }
    const EACH: usize = 15;
    let mut t = TestDesk::new();
    let to = unique_address("two-desks");
    let admin = t.admin.clone();
    t.desk
        .add_operator(
            &admin,
            &NewOperatorInput {
                name: "rita",
                email: Some(&to),
                role: Role::Supervisor,
                password: PASSWORD,
                language: "en",
            },
        )
        .unwrap();
    t.desk
        .configure_mail(
            &admin,
            &SmtpSettings {
                host: "127.0.0.1".into(),
                port: 8025,
                security: Security::None,
                user: None,
                password: None,
                from: "carddesk@desk.example".into(),
            },
        )
        .unwrap();
    let rita = t.desk.login("rita", PASSWORD).unwrap();
    let mut other = Desk::connect(&t.db_path()).unwrap();
    let other_admin = other.login("admin", PASSWORD).unwrap();
    // Each desk denies its share of rita's requests: each queues a mail.
    for i in 0..EACH * 2 {
        let id = t.request_for(&rita, "Person", &i.to_string(), true);
        if i % 2 == 0 {
            t.desk.deny_request(&admin, id, Some("duplicate")).unwrap();
        } else {
            other
                .deny_request(&other_admin, id, Some("duplicate"))
                .unwrap();
        }
    }
    // Four mailers at once: two processes and two desks on threads.
    let processes: Vec<_> = (0..2)
        .map(|_| {
            carddesk(&t, &["mail", "send-pending"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let path = t.db_path();
    std::thread::scope(|scope| {
        for _ in 0..2 {
            let path = path.clone();
            scope.spawn(move || {
                let desk = Desk::connect(&path).unwrap();
                desk.send_due_mail(&carddesk::devices::mailer::SmtpMailer, chrono::Utc::now())
                    .unwrap();
            });
        }
    });
    for p in processes {
        let out = p.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = store::outbox::list(&t.db(), None, 1000, 0).unwrap();
    assert_eq!(rows.len(), EACH * 2);
    for r in &rows {
        assert_eq!(r.status, OutboxStatus::Sent, "{r:?}");
        assert_eq!(r.attempts, 1, "sent in one attempt: {r:?}");
    }
    // Every message arrived, none twice.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = delivered_to(&sink_dir(), &to);
    while got.len() < EACH * 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        got = delivered_to(&sink_dir(), &to);
    }
    let mut ids: Vec<&str> = got.iter().map(|d| d.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(got.len(), EACH * 2, "delivered {} messages", got.len());
    assert_eq!(ids.len(), EACH * 2, "a message was delivered twice");
}
