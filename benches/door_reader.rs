//! A card read at a door reader to a committed assignment: the test door
//! reader (tests/support/osdp_pd.py, OSDP over a pty) reports a 26-bit read,
//! the desk's OSDP control panel delivers it, and the enrolment commits.
//! Timed from the moment the read is handed to the reader to the commit.
//!
//! Run (after tests/support/start-osdp.sh and `. tests/support/env.sh`):
//! `cargo bench --bench door_reader`. `BENCH_READS` (default 50) reads;
//! prints the median and the 95th percentile.

#[path = "../tests/common/osdp.rs"]
#[allow(dead_code)] // the tests use all of it
mod osdp;

use carddesk::desk::station::{ReaderEvent, ReaderWorker};
use carddesk::desk::{CardholderInput, Desk, NewDoorReader};
use carddesk::devices::reader::OsdpReader;
use carddesk::domain::builtin_formats;
use carddesk::store::requests::RequestFields;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::var("BENCH_READS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let mut pd = osdp::DoorReaderDouble::start(dir.path(), 101, None);
    let mut desk = Desk::open(&dir.path().join("bench.db")).unwrap();
    let admin = desk.init_admin("admin", None, "bench-password").unwrap();
    desk.add_door_reader(
        &admin,
        &NewDoorReader {
            name: "Bench door".into(),
            port: pd.link.display().to_string(),
            baud: 9600,
            address: 101,
            scbk: None,
        },
    )
    .unwrap();
    let w = ReaderWorker::spawn(
        Box::new(OsdpReader::new(desk.door_reader_configs().unwrap())),
        Arc::new(|| {}),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !w.readers().contains(&"Bench door".to_string()) {
        assert!(
            Instant::now() < deadline,
            "the door reader never came online"
        );
        w.recv_timeout(Duration::from_millis(100));
    }
    let h10301 = builtin_formats()
        .into_iter()
        .find(|f| f.name() == "H10301")
        .unwrap();
    let mut times = Vec::new();
    for i in 0..n {
        let (_, request) = desk
            .create_cardholder(
                &admin,
                &CardholderInput {
                    first_name: "Bench".into(),
                    last_name: format!("Person {i}"),
                    ..Default::default()
                },
                Some(&RequestFields {
                    reason: "New employee".into(),
                    badge_template: "Standard".into(),
                    notify_requester: false,
                    ship_to_site_id: None,
                }),
            )
            .unwrap();
        let values = [
            ("facility".to_string(), 12),
            ("card".to_string(), 1000 + i as u64),
        ]
        .into_iter()
        .collect();
        let bits = h10301.encode(&values).unwrap();
        let start = Instant::now();
        pd.card(&bits);
        let card = loop {
            match w.recv_timeout(Duration::from_secs(10)) {
                Some(ReaderEvent::CardPresented(c)) => break c,
                Some(_) => {}
                None => panic!("read {i} never arrived"),
            }
        };
        desk.enrol_presented(&admin, request.expect("a request"), &card)
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "door reader read -> committed assignment, {n} reads: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        ms(times[n / 2]),
        ms(times[(n * 95 / 100).min(n - 1)]),
        ms(times[n - 1])
    );
}
