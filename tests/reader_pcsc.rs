//! Automatic entry against the real pcscd with the vsmartcard vpcd driver and
//! a virtual card (`tests/support/present_card.py`): the operator picks a
//! request, presents a card, and the card is registered and assigned — or
//! refused with a reason.
//!
//! Needs pcscd with vpcd: `tests/support/start-pcsc.sh` (as root). The tests
//! share the one virtual reader, so they run one at a time (`SERIAL`).

mod common;

use carddesk::desk::{DeskError, Enrolment};
use carddesk::devices::reader::{list_pcsc_readers, CardPresented, ReaderEvent, ReaderWorker};
use carddesk::domain::{CredentialState, Role};
use common::cli::Cli;
use common::pcsc::{wait_for_reader, VirtualCard as Card, PATIENCE, READER};
use common::{harness_state, TestDesk};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SUPPORT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support");

static SERIAL: Mutex<()> = Mutex::new(());

/// Takes the virtual reader for one test, after checking pcscd is there.
fn reader_lock() -> (MutexGuard<'static, ()>, common::DeviceLock) {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Also across processes: tests/temp_cards.rs encodes on this reader.
    let device = common::device_lock("virtual-reader");
    match list_pcsc_readers() {
        Ok(readers) if readers.iter().any(|r| r == READER) => {}
        Ok(readers) => panic!(
            "pcscd runs but has no reader {READER:?} (it has {readers:?}); \
             start it with the vpcd driver: HARNESS_STATE={} {SUPPORT}/start-pcsc.sh",
            harness_state().display()
        ),
        Err(e) => panic!(
            "{e}. These tests need pcscd with vsmartcard vpcd: run (as root) \
             HARNESS_STATE={} {SUPPORT}/start-pcsc.sh",
            harness_state().display()
        ),
    }
    wait_for_reader(false);
    (guard, device)
}

fn worker() -> ReaderWorker {
    let w = ReaderWorker::spawn_pcsc(Arc::new(|| {}));
    until(
        &w,
        "the reader list",
        |e| matches!(e, ReaderEvent::ReadersChanged(l) if l.iter().any(|r| r == READER)),
    );
    w
}

/// Events up to and including the first one matching `want`.
fn until_all(
    w: &ReaderWorker,
    what: &str,
    want: impl Fn(&ReaderEvent) -> bool,
) -> Vec<ReaderEvent> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if let Some(e) = w.recv_timeout(left) {
            let done = want(&e);
            seen.push(e);
            if done {
                return seen;
            }
        }
    }
    panic!("no event for {what}; saw {seen:#?}")
}

fn until(w: &ReaderWorker, what: &str, want: impl Fn(&ReaderEvent) -> bool) -> ReaderEvent {
    until_all(w, what, want).pop().unwrap()
}

fn presented(w: &ReaderWorker) -> CardPresented {
    match until(
        w,
        "a card on the reader",
        |e| matches!(e, ReaderEvent::CardPresented(c) if c.reader == READER),
    ) {
        ReaderEvent::CardPresented(c) => c,
        _ => unreachable!(),
    }
}

fn removed(w: &ReaderWorker) -> Vec<ReaderEvent> {
    until_all(
        w,
        "the card taken off the reader",
        |e| matches!(e, ReaderEvent::CardRemoved { reader } if reader == READER),
    )
}

fn on_our_reader(e: &ReaderEvent) -> bool {
    match e {
        ReaderEvent::CardPresented(c) => c.reader == READER,
        ReaderEvent::CardRemoved { reader } => reader == READER,
        ReaderEvent::ReaderError { reader, .. } => reader.as_deref() != Some("Virtual PCD 00 01"),
        ReaderEvent::ReadersChanged(_) => false,
    }
}

#[test]
fn an_unregistered_card_is_registered_and_assigned() {
    let _reader = reader_lock();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let req = t.request_for(&admin, "Ann", "Lee", false);
    let w = worker();

    let card = Card::present("04A1B2C3D4E5F6");
    let event = presented(&w);
    assert_eq!(event.data.uid(), Some("04A1B2C3D4E5F6"));
    // present_card.py's default ATR: a PC/SC Part 3 contactless card.
    assert!(event.atr.starts_with("3B8F8001804F0CA0"), "{}", event.atr);

    let done = t.desk.enrol_presented(&admin, req, &event).unwrap();
    assert_eq!(done.enrolment, Enrolment::RegisteredAndAssigned);
    let c = &done.credential;
    assert_eq!(
        (c.format.as_str(), c.value.as_str(), c.uid.as_deref()),
        ("UID", "04A1B2C3D4E5F6", Some("04A1B2C3D4E5F6"))
    );
    assert_eq!(c.state, CredentialState::Active);
    let r = t.desk.request(&admin, req).unwrap();
    assert_eq!(r.credential_id, Some(c.id));
    assert_eq!(c.cardholder_id, Some(r.cardholder_id));
    card.remove();
}

#[test]
fn a_registered_unassigned_card_is_assigned() {
    let _reader = reader_lock();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    // The card is on record and back in stock: assigned to a request that
    // was then denied.
    let first = t.request_for(&admin, "Ann", "Lee", false);
    let stocked = t
        .desk
        .connect_card(
            &admin,
            first,
            &carddesk::desk::ConnectCard::Presented {
                uid: "11223344".into(),
            },
        )
        .unwrap()
        .credential;
    t.desk.deny_request(&admin, first, Some("left")).unwrap();
    let again = t.desk.credential(&admin, stocked.id).unwrap();
    assert_eq!(
        (again.state, again.cardholder_id),
        (CredentialState::Unassigned, None)
    );

    let req = t.request_for(&admin, "Bob", "Ray", false);
    let w = worker();
    let card = Card::present("11223344");
    let event = presented(&w);
    let done = t.desk.enrol_presented(&admin, req, &event).unwrap();
    assert_eq!(done.enrolment, Enrolment::Assigned);
    assert_eq!(done.credential.id, stocked.id);
    assert_eq!(done.credential.holder_name.as_deref(), Some("Bob Ray"));
    card.remove();
}

#[test]
fn a_card_held_by_someone_else_or_lost_is_refused_and_nothing_changes() {
    let _reader = reader_lock();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let operator = t.operator("olga", Role::Operator, None);
    let ann = t.request_for(&admin, "Ann", "Lee", false);
    let held = t
        .desk
        .connect_card(
            &admin,
            ann,
            &carddesk::desk::ConnectCard::Presented {
                uid: "04A1B2C3D4E5F6".into(),
            },
        )
        .unwrap()
        .credential;
    let bob = t.request_for(&admin, "Bob", "Ray", false);
    let w = worker();

    let before = t.dump();
    let card = Card::present("04A1B2C3D4E5F6");
    let event = presented(&w);
    let err = t.desk.enrol_presented(&operator, bob, &event).unwrap_err();
    assert!(
        matches!(&err, DeskError::HeldBySomeoneElse { holder, .. } if holder == "Ann Lee"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "credential UID 04A1B2C3D4E5F6 is already assigned to Ann Lee; it cannot be given to Bob Ray"
    );
    assert_eq!(t.dump(), before, "a refused card must change nothing");
    card.remove();
    removed(&w);

    // Ann reports the card lost and gets a replacement request in the same
    // step; the lost card, presented again, is refused naming its state
    // and who reported it when.
    let admin = t.admin.clone();
    t.desk.close_request(&admin, ann).unwrap();
    let pending_before = t.desk.pending_count(&admin).unwrap();
    let done = t
        .desk
        .change_credential_state(
            &admin,
            held.id,
            carddesk::desk::CredentialAction::ReportLost,
            Some("left on the train"),
            true,
        )
        .unwrap();
    assert_eq!(done.credential.state, CredentialState::Lost);
    let replacement = done.replacement_request.expect("a replacement request");
    assert_eq!(t.desk.pending_count(&admin).unwrap(), pending_before + 1);
    let r = t.desk.request(&admin, replacement).unwrap();
    assert_eq!(r.cardholder_name, "Ann Lee");
    assert!(r.reason.contains("left on the train"), "{}", r.reason);
    let before = t.dump();
    let card = Card::present("04A1B2C3D4E5F6");
    let event = presented(&w);
    let err = t.desk.enrol_presented(&operator, bob, &event).unwrap_err();
    assert!(
        matches!(
            &err,
            DeskError::CredentialBlocked {
                state: CredentialState::Lost,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("is lost (reported by admin at 20"),
        "{err}"
    );
    assert_eq!(t.dump(), before, "a refused card must change nothing");
    card.remove();
}

#[test]
fn one_event_per_presence_and_one_more_when_presented_again() {
    let _reader = reader_lock();
    let w = worker();

    let card = Card::present("04A1B2C3D4E5F6");
    // Leave it there for several of pcscd's polling rounds (~400 ms each):
    // a worker that repeats itself would report it again meanwhile.
    std::thread::sleep(Duration::from_secs(2));
    card.remove();
    let first: Vec<ReaderEvent> = removed(&w).into_iter().filter(on_our_reader).collect();

    let card = Card::present("04A1B2C3D4E5F6");
    std::thread::sleep(Duration::from_secs(2));
    card.remove();
    let second: Vec<ReaderEvent> = removed(&w).into_iter().filter(on_our_reader).collect();

    for events in [&first, &second] {
        assert!(
            matches!(
                events.as_slice(),
                [ReaderEvent::CardPresented(c), ReaderEvent::CardRemoved { .. }]
                    if c.data.uid() == Some("04A1B2C3D4E5F6")
            ),
            "expected exactly one presentation, then the removal: {events:#?}"
        );
    }
}

#[test]
fn a_card_snatched_away_does_not_stop_the_worker() {
    let _reader = reader_lock();
    let w = worker();
    // Cards that vanish within a fraction of pcscd's polling round: some
    // are seen, some are read, some are gone mid-read. Each may give any
    // event for the reader, but the worker must carry on.
    for ms in [20, 60, 120, 250, 400] {
        let seconds = (f64::from(ms) / 1000.0).to_string();
        let mut flash = Card::present_with("AABBCCDD", &["--seconds".as_ref(), seconds.as_ref()]);
        let _ = flash.child.wait();
    }
    wait_for_reader(false);
    let card = Card::present("01020304");
    let events = until_all(
        &w,
        "the steady card",
        |e| matches!(e, ReaderEvent::CardPresented(c) if c.data.uid() == Some("01020304")),
    );
    for e in &events {
        assert!(
            on_our_reader(e) || matches!(e, ReaderEvent::ReadersChanged(_)),
            "{e:?}"
        );
    }
    card.remove();
}

/// Stops pcscd (the one `start-pcsc.sh` recorded) and waits until it is gone.
fn stop_pcscd() {
    let pid_file = harness_state().join("pids/pcscd.pid");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}. This test restarts pcscd, so pcscd must have been started by \
                 {SUPPORT}/start-pcsc.sh with HARNESS_STATE={}",
                pid_file.display(),
                harness_state().display()
            )
        })
        .trim()
        .to_string();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(
        String::from_utf8_lossy(&cmdline).contains("pcscd"),
        "pid {pid} from {} is not pcscd",
        pid_file.display()
    );
    let ok = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(ok.success(), "kill -TERM {pid} failed");
    let gone = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.split_whitespace().nth(2) == Some("Z"))
            .unwrap_or(true)
    };
    let deadline = Instant::now() + PATIENCE;
    while !gone() {
        assert!(Instant::now() < deadline, "pcscd {pid} ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start_pcscd() -> Output {
    Command::new(format!("{SUPPORT}/start-pcsc.sh"))
        .env("HARNESS_STATE", harness_state())
        .output()
        .unwrap()
}

#[test]
fn the_worker_rides_out_a_pcscd_restart_and_then_enrols() {
    let _reader = reader_lock();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let req = t.request_for(&admin, "Ann", "Lee", false);
    let w = worker();

    stop_pcscd();
    let outage = until(&w, "the outage", |e| {
        matches!(e, ReaderEvent::ReaderError { reader: None, .. })
    });
    let ReaderEvent::ReaderError { message, .. } = &outage else {
        unreachable!()
    };
    assert!(message.starts_with("pcscd unavailable"), "{message}");
    assert!(w.readers().is_empty(), "{:?}", w.readers());

    let out = start_pcscd();
    assert!(
        out.status.success(),
        "start-pcsc.sh failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    until(
        &w,
        "the readers to come back",
        |e| matches!(e, ReaderEvent::ReadersChanged(l) if l.iter().any(|r| r == READER)),
    );
    assert!(w.readers().iter().any(|r| r == READER));

    let card = Card::present("04A1B2C3D4E5F6");
    let event = presented(&w);
    let done = t.desk.enrol_presented(&admin, req, &event).unwrap();
    assert_eq!(done.enrolment, Enrolment::RegisteredAndAssigned);
    card.remove();
}

// ---- the command line ------------------------------------------------------

#[test]
fn cli_reader_list_and_request_enrol() {
    let _reader = reader_lock();
    let cli = Cli::new();
    let readers = cli.ok(&["reader", "list"]);
    assert!(readers.lines().any(|l| l == READER), "{readers}");
    assert!(
        readers.lines().any(|l| l == "Virtual PCD 00 01"),
        "{readers}"
    );

    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Ann",
        "--last",
        "Lee",
        "--request-card",
        "--template",
        "Standard",
    ]);
    cli.ok(&[
        "cardholder",
        "add",
        "--first",
        "Bob",
        "--last",
        "Ray",
        "--request-card",
        "--template",
        "Standard",
    ]);

    // The command waits; the card arrives while it does.
    let enrol = cli
        .command(&[
            "request",
            "enrol",
            "1",
            "--reader",
            READER,
            "--timeout",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let card = Card::present("04A1B2C3D4E5F6");
    let out = enrol.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "1\tUID 04A1B2C3D4E5F6\tregistered and assigned\n"
    );

    // The same card (still on the reader) for Bob: refused, naming Ann.
    let before = cli.ok(&["credential", "list", "--json"]);
    let err = cli.fails(&[
        "request",
        "enrol",
        "2",
        "--reader",
        READER,
        "--timeout",
        "60",
    ]);
    assert_eq!(
        err,
        "error: credential UID 04A1B2C3D4E5F6 is already assigned to Ann Lee; it cannot be given to Bob Ray"
    );
    assert_eq!(cli.ok(&["credential", "list", "--json"]), before);
    card.remove();

    // No card at all: a timeout, said as such.
    let err = cli.fails(&[
        "request",
        "enrol",
        "2",
        "--reader",
        "Virtual PCD 00 01",
        "--timeout",
        "1",
    ]);
    assert_eq!(
        err,
        "error: no card was presented to \"Virtual PCD 00 01\" within 1 s"
    );

    // A reader name that is not exact: refused with the real names.
    let err = cli.fails(&[
        "request",
        "enrol",
        "2",
        "--reader",
        "Virtual PCD",
        "--timeout",
        "5",
    ]);
    assert_eq!(
        err,
        "error: no reader named \"Virtual PCD\"; readers: \"Virtual PCD 00 00\", \"Virtual PCD 00 01\""
    );

    // A request already answered is refused before anyone presents a card.
    cli.ok(&["request", "close", "1"]);
    let err = cli.fails(&[
        "request",
        "enrol",
        "1",
        "--reader",
        READER,
        "--timeout",
        "5",
    ]);
    assert!(
        err.starts_with("error: card request 1 was already completed by alice at "),
        "{err}"
    );
}
