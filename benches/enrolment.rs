//! Automatic entry, timed against the real pcscd + vpcd virtual card.
//!
//! For each iteration a fresh card (new UID) is put on `Virtual PCD 00 00`
//! and three clocks run from the moment `present_card.py` reports it inserted:
//! - the reader worker's `CardPresented` event reaching its receiver,
//! - a bare `pcsc` loop (get_status_change + FF CA on its own context, in
//!   the same process, watching the same card) reading the UID,
//! - the desk committing the assignment to a pending request.
//!
//! Run: `cargo bench --bench enrolment` (pcscd with vpcd must be running:
//! `tests/support/start-pcsc.sh`). `BENCH_ITERATIONS` (default 15).

use carddesk::desk::{CardholderInput, Desk, RequestFields};
use carddesk::devices::reader::{list_pcsc_readers, ReaderEvent, ReaderWorker};
use pcsc::{Context, Protocols, ReaderState, Scope, ShareMode, State};
use std::ffi::CString;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

const READER: &str = "Virtual PCD 00 00";
const PRESENT_CARD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/present_card.py");
const PATIENCE: Duration = Duration::from_secs(20);

/// The bare loop: the least any PC/SC client can do to learn a card's UID.
/// Sends the instant each new card's UID was read.
fn bare_loop(ctx: Context, read: mpsc::Sender<Instant>) {
    let name = CString::new(READER).unwrap();
    let mut states = vec![ReaderState::new(name.clone(), State::UNAWARE)];
    let mut present = false;
    loop {
        states[0].sync_current_state();
        if ctx.get_status_change(None, &mut states).is_err() {
            return; // cancelled at the end of the run
        }
        let now_present = states[0].event_state().contains(State::PRESENT);
        if now_present && !present {
            if let Ok(card) = ctx.connect(&name, ShareMode::Shared, Protocols::ANY) {
                let mut buf = [0u8; 64];
                if card
                    .transmit(&[0xFF, 0xCA, 0x00, 0x00, 0x00], &mut buf)
                    .is_ok()
                {
                    let _ = read.send(Instant::now());
                }
                let _ = card.disconnect(pcsc::Disposition::LeaveCard);
            }
        }
        present = now_present;
    }
}

fn present(uid: &str) -> (Child, Instant) {
    let mut child = Command::new(PRESENT_CARD)
        .args(["--uid", uid])
        .stdout(Stdio::piped())
        .spawn()
        .expect("run present_card.py");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("CARD_INSERTED"),
        "present_card.py: {line:?}"
    );
    (child, Instant::now())
}

fn remove(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(what: &str, mut samples: Vec<f64>) {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what:<44} n={:<3} median {:>8.2} ms   p95 {:>8.2} ms   min {:>8.2} ms   max {:>8.2} ms",
        samples.len(),
        at(0.5),
        at(0.95),
        samples[0],
        samples[samples.len() - 1]
    );
}

fn main() {
    let iterations: usize = std::env::var("BENCH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    match list_pcsc_readers() {
        Ok(r) if r.iter().any(|r| r == READER) => {}
        other => panic!(
            "needs pcscd with the vpcd reader {READER:?} (tests/support/start-pcsc.sh); got {other:?}"
        ),
    }

    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desk::open(&dir.path().join("bench.db")).unwrap();
    let admin = desk.init_admin("admin", None, "bench password").unwrap();

    let bare_ctx = Context::establish(Scope::User).unwrap();
    let (bare_tx, bare_rx) = mpsc::channel();
    let bare = {
        let ctx = bare_ctx.clone();
        std::thread::spawn(move || bare_loop(ctx, bare_tx))
    };
    let worker = ReaderWorker::spawn_pcsc(Arc::new(|| {}));

    let (mut worker_lat, mut bare_lat, mut to_commit, mut event_to_commit) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..iterations {
        let (_, request) = desk
            .create_cardholder(
                &admin,
                &CardholderInput {
                    first_name: format!("Bench{i}"),
                    last_name: "Holder".into(),
                    ..Default::default()
                },
                Some(&RequestFields {
                    reason: "bench".into(),
                    badge_template: "Standard".into(),
                    notify_requester: false,
                    ship_to_site_id: None,
                }),
            )
            .unwrap();
        let request = request.unwrap();
        let uid = format!("04A1B2C3D4{:04X}", i);

        while bare_rx.try_recv().is_ok() {}
        while worker.try_recv().is_some() {}
        let (card, inserted) = present(&uid);
        let deadline = Instant::now() + PATIENCE;
        let event = loop {
            let left = deadline
                .checked_duration_since(Instant::now())
                .expect("no CardPresented event from the worker");
            match worker.recv_timeout(left) {
                Some(ReaderEvent::CardPresented(c)) if c.reader == READER => break c,
                Some(ReaderEvent::ReaderError { reader, message }) => {
                    eprintln!("reader error ({reader:?}): {message}")
                }
                _ => {}
            }
        };
        let received = Instant::now();
        let done = desk.enrol_presented(&admin, request, &event).unwrap();
        let committed = Instant::now();
        assert_eq!(done.credential.value, uid);
        let bare_read = bare_rx
            .recv_timeout(PATIENCE)
            .expect("the bare loop saw no card");

        worker_lat.push(ms(received - inserted));
        bare_lat.push(ms(bare_read.saturating_duration_since(inserted)));
        to_commit.push(ms(committed - inserted));
        event_to_commit.push(ms(committed - received));

        remove(card);
        // Wait for the removal so the next card is a new presence for both.
        let deadline = Instant::now() + PATIENCE;
        while !matches!(
            worker.recv_timeout(deadline.saturating_duration_since(Instant::now())),
            Some(ReaderEvent::CardRemoved { .. })
        ) {
            assert!(Instant::now() < deadline, "no CardRemoved event");
        }
    }
    drop(worker);
    // A cancel can land between two waits; repeat until the loop has seen one.
    while !bare.is_finished() {
        let _ = bare_ctx.cancel();
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = bare.join();

    println!("\nautomatic enrolment, {iterations} cards on {READER:?} (pcscd + vpcd)");
    report(
        "card-present event -> committed assignment",
        event_to_commit,
    );
    report("card inserted -> committed assignment", to_commit);
    let (worker_lat_copy, bare_copy) = (worker_lat.clone(), bare_lat.clone());
    report("card inserted -> worker event received", worker_lat);
    report("card inserted -> bare pcsc loop read UID", bare_lat);
    let diff: Vec<f64> = worker_lat_copy
        .iter()
        .zip(&bare_copy)
        .map(|(w, b)| w - b)
        .collect();
    report("worker event - bare loop read (same card)", diff);
    println!(
        "(\"inserted\" = present_card.py connected to vpcd; pcscd polls the virtual reader about every 400 ms)"
    );
}
