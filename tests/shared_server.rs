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

#[test]
fn desks_starting_together_on_a_new_database_set_it_up_once() {
    let dir = private_dir();
    let db = common::backend::TestDb::new(dir.path(), "new");
    let barrier = std::sync::Barrier::new(8);
    let fingerprints: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    let desk = Desk::open(&db.path).unwrap_or_else(|e| panic!("{e}"));
                    desk.key_fingerprint()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        fingerprints.windows(2).all(|w| w[0] == w[1]),
        "one set of site keys: {fingerprints:?}"
    );
    let conn = store::connect(&db.path).unwrap();
    let formats: i64 = conn
        .query_row(
            "SELECT count(*) FROM card_format WHERE name = 'H10301'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(formats, 1, "the built-in formats once");
}

#[test]
fn a_database_written_by_a_newer_carddesk_is_refused_unchanged() {
    let t = TestDesk::new();
    let conn = t.db();
    match conn.dialect() {
        store::Dialect::Sqlite => conn
            .sqlite()
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap(),
        store::Dialect::Postgres => store::server::set_version(&conn, 99).unwrap(),
    }
    let before = store::copy::counts(&conn).unwrap();
    drop(conn);
    for opened in [
        Desk::open(&t.db_path()).err(),
        Desk::connect(&t.db_path()).err(),
    ] {
        let e = opened
            .expect("a newer database must be refused")
            .to_string();
        assert!(e.contains("newer CardDesk") && e.contains("99"), "{e}");
    }
    let out = carddesk(&t, &["request", "count"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer CardDesk"));
    // The pragma is read before any other statement on SQLite; nothing
    // was migrated or written on either.
    let conn = match t.db_path().extension().is_some_and(|e| e == "toml") {
        true => store::server::connect_any_version(&t.db_path()).unwrap(),
        false => rusqlite::Connection::open(t.db_path()).unwrap().into(),
    };
    assert_eq!(store::copy::counts(&conn).unwrap(), before);
}

/// The server's certificate is checked against the site CA the connection
/// file names; any other CA, or none, is refused with the reason (never an
/// unchecked encrypted session). Needs the harness server (TLS on).
#[test]
fn the_database_server_is_checked_against_the_site_ca() {
    use store::server::ServerSettings;
    let dir = private_dir();
    let db = common::backend::TestDb::on_server(dir.path(), "tls");
    assert!(
        common::backend::ca().is_some(),
        "PG_CA must name the harness server's CA (tests/support/start-postgres.sh)"
    );
    let conn = store::open(&db.path).unwrap();
    let encrypted: bool = conn
        .query_row(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert!(encrypted, "the session is not encrypted");
    drop(conn);

    let url = ServerSettings::read(&db.path).unwrap().url;
    let other_ca = {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let pem = params.self_signed(&key).unwrap().pem();
        let path = dir.path().join("other-ca.pem");
        std::fs::write(&path, pem).unwrap();
        path
    };
    for (name, ca) in [("other-ca", Some(other_ca.as_path())), ("no-ca", None)] {
        let file = dir.path().join(format!("{name}.toml"));
        ServerSettings::write(&file, &url, ca).unwrap();
        let err = store::connect(&file).unwrap_err().to_string();
        assert!(err.contains("certificate"), "{name}: {err}");
        assert!(!err.contains("carddesk-test-only"), "no password in: {err}");
    }
    // A connection file another user could edit (to send the desk to their
    // server) is refused before it is used.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&db.path, std::fs::Permissions::from_mode(0o620)).unwrap();
    let err = store::connect(&db.path).unwrap_err().to_string();
    assert!(err.contains("writable by you alone"), "{err}");
}
