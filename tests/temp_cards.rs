//! Temporary cards end to end on the real CUPS queue `CardPrinter`
//! (tests/support/start-cups.sh): request, issue multiple (batch order),
//! produce, repeat, complete, cancel, assign and return. Every test here
//! uses the one printer queue (and the one virtual reader), so they run one
//! at a time (`#[serial]`, like tests/printing.rs).

mod common;

use carddesk::desk::job::JobContext;
use carddesk::desk::{IssueOptions, Progress, TempCardRequest};
use carddesk::domain::TempCardState;
use carddesk::store::print_jobs::PrintStatus;
use carddesk::store::temp_cards::{OrderStatus, TempCardFilter};
use common::cups::*;
use common::pcsc::{wait_for_reader, VirtualCard, READER};
use common::TestDesk;
use serial_test::serial;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};

fn request(t: &mut TestDesk, n: u32) -> Vec<i64> {
    let admin = t.admin.clone();
    t.desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: n,
                note: "visitors week 12".into(),
                ..Default::default()
            },
        )
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect()
}

fn states(t: &TestDesk, ids: &[i64]) -> Vec<TempCardState> {
    ids.iter()
        .map(|id| t.desk.temp_card(&t.admin, *id).unwrap().state)
        .collect()
}

/// Production progress nobody watches.
fn quiet() -> JobContext<Progress> {
    JobContext::inline(|_| {})
}

/// Production progress kept, to look at afterwards.
fn recorded() -> (JobContext<Progress>, Arc<Mutex<Vec<Progress>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    let ctx = JobContext::inline(move |p| keep.lock().unwrap().push(p));
    (ctx, seen)
}

fn audit_actions(t: &TestDesk, entity: &str) -> Vec<String> {
    let conn = t.db();
    let mut stmt = conn
        .prepare("SELECT action FROM audit_event WHERE entity = ?1 ORDER BY id")
        .unwrap();
    stmt.query_map([entity], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// How many text cells in the whole database hold exactly `value`.
fn text_cells_equal_to(t: &TestDesk, value: &str) -> usize {
    let conn = &t.db();
    let tables = carddesk::store::data_tables(conn).unwrap();
    let mut n = 0;
    for table in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let mut rows = stmt.query(()).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..row.column_count() {
                if let Ok(rusqlite::types::Value::Text(b)) = row.get_value(i) {
                    if b == value {
                        n += 1;
                    }
                }
            }
        }
    }
    n
}

#[test]
#[serial]
fn five_requested_cards_are_issued_printed_and_unassigned() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 5);
    assert_eq!(states(&t, &ids), vec![TempCardState::Requested; 5]);
    let requested = t
        .desk
        .temp_cards(
            &admin,
            &TempCardFilter {
                state: Some(TempCardState::Requested),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(requested.iter().map(|c| c.id).collect::<Vec<_>>(), ids);
    // Each card has its own number and credential in stock.
    let numbers: std::collections::BTreeSet<i64> =
        requested.iter().map(|c| c.card_number).collect();
    assert_eq!(numbers.len(), 5);

    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &IssueOptions::printer(&queue()))
        .unwrap();
    assert_eq!(order.status, OrderStatus::Open);
    let (progress, seen) = recorded();
    let produced = t
        .desk
        .produce_temp_order(&admin, order.id, &cups(), None, &progress)
        .unwrap();
    let seen: Vec<_> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|p| (p.done, p.total, p.errors))
        .collect();
    assert_eq!(
        seen,
        vec![(1, 5, 0), (2, 5, 0), (3, 5, 0), (4, 5, 0), (5, 5, 0)]
    );
    assert_eq!(states(&t, &ids), vec![TempCardState::Unassigned; 5]);
    for p in &produced {
        let job = p.print_job.as_ref().unwrap();
        assert_eq!(job.status, PrintStatus::Printed, "{:?}", job.error);
        let pdf = output_of(job.cups_job_id.as_deref().unwrap())
            .unwrap_or_else(|| panic!("no badge PDF for {} in {:?}", p.card.id, card_pdf_dir()));
        let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
        let info = String::from_utf8_lossy(&info.stdout);
        // The Visitor badge: front and back, at card size (portrait).
        assert!(info.contains("Pages:           2"), "{info}");
        assert!(info.contains("Page size:       153"), "{info}");
        assert!(p.card.valid_until.is_some() && p.card.has_pin);
    }
    let order = t.desk.complete_temp_order(&admin, order.id).unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    assert_eq!(states(&t, &ids), vec![TempCardState::Unassigned; 5]);
    let actions = audit_actions(&t, "temp_order");
    assert_eq!(actions, ["temp_order.issue", "temp_order.complete"]);
}

#[test]
#[serial]
fn a_card_the_printer_fails_is_repeated_then_the_order_completes() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 5);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &IssueOptions::printer(&queue()))
        .unwrap();
    let _clear = Fault::clear_on_drop();
    // The printer fails the third card only.
    let produced = t
        .desk
        .produce_temp_order(
            &admin,
            order.id,
            &cups(),
            None,
            &JobContext::inline(|p: Progress| match p.done {
                2 => {
                    printer_fault("fail");
                }
                3 => {
                    printer_fault("ok");
                }
                _ => {}
            }),
        )
        .unwrap();
    let failed: Vec<_> = produced.iter().filter(|p| !p.ok()).collect();
    assert_eq!(failed.len(), 1);
    let failed_id = failed[0].card.id;
    assert_eq!(failed_id, ids[2]);
    assert_eq!(failed[0].card.state, TempCardState::Failed);
    let error = failed[0].card.error.clone().unwrap();
    assert!(error.starts_with("printing failed: print job"), "{error}");
    assert!(failed[0].pin_letter.is_none());
    let mut expected = vec![TempCardState::Unassigned; 5];
    expected[2] = TempCardState::Failed;
    assert_eq!(states(&t, &ids), expected);

    // Repeat production of the failed cards (none chosen = all failed).
    let again = t
        .desk
        .repeat_temp_production(&admin, order.id, &[], &cups(), None, &quiet())
        .unwrap();
    assert_eq!(again.len(), 1);
    assert!(again[0].ok(), "{:?}", again[0].card.error);
    assert_eq!(again[0].card.error, None);
    assert_eq!(states(&t, &ids), vec![TempCardState::Unassigned; 5]);
    let order = t.desk.complete_temp_order(&admin, order.id).unwrap();
    assert_eq!(order.status, OrderStatus::Completed);
    let err = t
        .desk
        .complete_temp_order(&admin, order.id)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already completed"), "{err}");
    let actions = audit_actions(&t, "temp_card");
    assert_eq!(
        actions.iter().filter(|a| *a == "temp_card.produce").count(),
        5
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "temp_card.produce_failed")
            .count(),
        1
    );
}

#[test]
#[serial]
fn cancel_midway_leaves_unproduced_cards_requested() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 4);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &IssueOptions::printer(&queue()))
        .unwrap();
    // Produce two cards, then the operator cancels.
    for id in &ids[..2] {
        let p = t
            .desk
            .produce_temp_card(&admin, order.id, *id, &cups(), None)
            .unwrap();
        assert!(p.ok(), "{:?}", p.card.error);
    }
    let order = t.desk.cancel_temp_order(&admin, order.id).unwrap();
    assert_eq!(order.status, OrderStatus::Cancelled);
    assert_eq!(
        states(&t, &ids),
        [
            TempCardState::Unassigned,
            TempCardState::Unassigned,
            TempCardState::Requested,
            TempCardState::Requested
        ]
    );
    // The unproduced cards carry nothing of the order: no PIN, no validity,
    // no print job, and they can be issued again.
    for id in &ids[2..] {
        let c = t.desk.temp_card(&admin, *id).unwrap();
        assert_eq!(c.order_id, None);
        assert!(!c.has_pin && c.valid_until.is_none() && c.produced_at.is_none());
        assert!(t
            .desk
            .print_jobs_for_credential(&admin, c.credential_id)
            .unwrap()
            .is_empty());
    }
    let err = t
        .desk
        .produce_temp_card(&admin, order.id, ids[2], &cups(), None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already cancelled"), "{err}");
    let next = t
        .desk
        .issue_temp_cards(&admin, &ids[2..], &IssueOptions::printer(&queue()))
        .unwrap();
    assert_eq!(t.desk.temp_order_cards(&admin, next.id).unwrap().len(), 2);
}

#[test]
#[serial]
fn pin_and_puk_have_the_configured_lengths_and_the_pin_is_not_stored() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 1);
    let mut options = IssueOptions::printer(&queue());
    options.pin_length = 4;
    options.puk_length = 10;
    let order = t.desk.issue_temp_cards(&admin, &ids, &options).unwrap();
    let p = t
        .desk
        .produce_temp_card(&admin, order.id, ids[0], &cups(), None)
        .unwrap();
    let letter = p.pin_letter.clone().expect("PIN letter");
    assert_eq!(letter.pin.len(), 4);
    assert_eq!(letter.puk.len(), 10);
    assert!(letter.pin.bytes().all(|b| b.is_ascii_digit()));
    assert!(letter.pdf.starts_with(b"%PDF"));
    // The PIN is only kept as a hash; nothing in the database holds it.
    assert!(t.desk.check_temp_pin(&admin, ids[0], &letter.pin).unwrap());
    let hash: String = t
        .db()
        .query_row(
            "SELECT pin_hash FROM temp_card WHERE id = ?1",
            [ids[0]],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2"), "{hash}");
    assert!(!t.desk.check_temp_pin(&admin, ids[0], "0000x").unwrap());
    assert_eq!(text_cells_equal_to(&t, &letter.pin), 0);
    // The PUK is revealed to a privileged operator, and each reveal audited.
    assert_eq!(t.desk.reveal_temp_puk(&admin, ids[0]).unwrap(), letter.puk);
    assert_eq!(
        audit_actions(&t, "temp_card").last().unwrap(),
        "temp_card.reveal_puk"
    );
    let op = t.operator("olga", carddesk::domain::Role::Supervisor, None);
    let err = t.desk.reveal_temp_puk(&op, ids[0]).unwrap_err().to_string();
    assert_eq!(
        err,
        "operator olga may not reveal PUKs (needs the reveal_puk privilege)"
    );
    // Lengths outside the allowed range are refused before anything happens.
    let before = t.dump();
    for (pin, puk, msg) in [
        (
            3,
            8,
            "PIN length: PIN length 3 is not allowed (4 to 8 digits, default 6)",
        ),
        (
            9,
            8,
            "PIN length: PIN length 9 is not allowed (4 to 8 digits, default 6)",
        ),
        (
            6,
            7,
            "PUK length: PUK length 7 is not allowed (8 to 16 digits, default 8)",
        ),
    ] {
        let mut o = IssueOptions::printer(&queue());
        o.pin_length = pin;
        o.puk_length = puk;
        let ids = t
            .desk
            .temp_cards(
                &admin,
                &TempCardFilter {
                    state: Some(TempCardState::Requested),
                    ..Default::default()
                },
            )
            .unwrap();
        assert!(ids.is_empty());
        let err = t.desk.check_issue_options(&o).unwrap_err().to_string();
        assert_eq!(err, msg);
    }
    assert_eq!(t.dump(), before);
}

#[test]
#[serial]
fn certificates_without_encoding_are_refused() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 2);
    let before = t.dump();
    let mut o = IssueOptions::printer(&queue());
    o.cert_profiles = vec!["authentication".into()];
    let err = t
        .desk
        .issue_temp_cards(&admin, &ids, &o)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "certificates: certificates can only be issued when the cards are encoded; turn on Encode the temporary card (--encode --reader NAME) or select no certificates"
    );
    assert_eq!(t.dump(), before, "nothing was issued");
    // Unknown profiles are named with the configured ones.
    o.encode = true;
    o.reader = Some("Virtual PCD 00 00".into());
    o.cert_profiles = vec!["vpn".into()];
    let err = t
        .desk
        .issue_temp_cards(&admin, &ids, &o)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "certificate profile: \"vpn\" is not configured (profiles: authentication, signature)"
    );
}

#[test]
#[serial]
fn assigned_card_is_returned_to_stock() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 2);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &IssueOptions::printer(&queue()))
        .unwrap();
    t.desk
        .produce_temp_order(&admin, order.id, &cups(), None, &quiet())
        .unwrap();
    t.desk.complete_temp_order(&admin, order.id).unwrap();
    let ann = t.cardholder("Ann", "Visitor");

    // A requested card cannot be handed out.
    let spare = request(&mut t, 1)[0];
    let err = t
        .desk
        .assign_temp_card(&admin, spare, ann, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is requested cannot become assigned"), "{err}");

    let card = t.desk.assign_temp_card(&admin, ids[0], ann, None).unwrap();
    assert_eq!(card.state, TempCardState::Assigned);
    assert_eq!(card.cardholder_id, Some(ann));
    assert_eq!(card.holder_name.as_deref(), Some("Ann Visitor"));
    let cred = carddesk::store::credentials::get(&t.db(), card.credential_id)
        .unwrap()
        .unwrap();
    assert_eq!(cred.state, carddesk::domain::CredentialState::Active);
    assert_eq!(cred.cardholder_id, Some(ann));

    // One active temporary card per person.
    let err = t
        .desk
        .assign_temp_card(&admin, ids[1], ann, None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "temporary card: Ann Visitor: the person already holds 1 active temporary card(s); the limit is 1 (return one first)"
    );

    let card = t.desk.return_temp_card(&admin, ids[0]).unwrap();
    assert_eq!(card.state, TempCardState::Unassigned);
    assert_eq!(card.cardholder_id, None);
    let cred = carddesk::store::credentials::get(&t.db(), card.credential_id)
        .unwrap()
        .unwrap();
    assert_eq!(cred.state, carddesk::domain::CredentialState::Unassigned);
    assert_eq!(cred.cardholder_id, None);
    let err = t
        .desk
        .return_temp_card(&admin, ids[0])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is unassigned (last changed by admin at "),
        "{err}"
    );
    assert!(err.ends_with("only assigned cards are returned"), "{err}");
    // Now the second card may go to Ann.
    t.desk.assign_temp_card(&admin, ids[1], ann, None).unwrap();
    assert_eq!(
        audit_actions(&t, "temp_card")
            .iter()
            .filter(|a| a.starts_with("temp_card.assign") || *a == "temp_card.return")
            .collect::<Vec<_>>(),
        ["temp_card.assign", "temp_card.return", "temp_card.assign"]
    );
    t.desk.verify_audit(&admin).unwrap();
}

// ---- Encoding on the virtual MIFARE Classic card (pcscd + vpcd) ----

/// A virtual MIFARE Classic 1K on the reader while this lives, its memory
/// kept in `memory` and every APDU it answered logged to `log`.
fn mifare_card(uid: &str, memory: &std::path::Path, log: &std::path::Path) -> VirtualCard {
    wait_for_reader(false);
    let card = VirtualCard::present_with(
        uid,
        &[
            "--memory".as_ref(),
            memory.as_os_str(),
            "--log-apdus".as_ref(),
            log.as_os_str(),
        ],
    );
    wait_for_reader(true);
    card
}

fn encoding_options() -> IssueOptions {
    let mut o = IssueOptions::printer(&queue());
    o.encode = true;
    o.reader = Some(READER.into());
    o
}

fn block(memory: &[u8], n: usize) -> &[u8] {
    &memory[n * 16..(n + 1) * 16]
}

#[test]
#[serial]
fn encoding_writes_the_credential_and_replaces_the_transport_keys() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 1);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &encoding_options())
        .unwrap();
    let _reader = common::device_lock("virtual-reader");
    let dir = common::private_dir();
    let memory = dir.path().join("card.bin");
    let log = dir.path().join("apdus.log");
    let card = mifare_card("04A1B2C3D4E5F6", &memory, &log);
    let p = t
        .desk
        .produce_temp_card(
            &admin,
            order.id,
            ids[0],
            &cups(),
            Some(&carddesk::devices::encoder::PcscEncoder::new()),
        )
        .unwrap();
    drop(card);
    assert!(p.ok(), "{:?}", p.card.error);
    assert!(p.card.encoded);
    // The chip's UID now identifies the card (assign by presenting it).
    assert_eq!(
        t.desk
            .temp_card_by_uid(&admin, "04:a1:b2:c3:d4:e5:f6")
            .unwrap()
            .id,
        ids[0]
    );

    let mem = std::fs::read(&memory).unwrap();
    assert_eq!(mem.len(), 1024);
    let cred = carddesk::store::credentials::get(&t.db(), p.card.credential_id)
        .unwrap()
        .unwrap();
    let record =
        carddesk::devices::encoder::credential_record(&cred.value, p.card.card_number as u64)
            .unwrap();
    assert_eq!(block(&mem, 4), record);
    assert_eq!(&block(&mem, 4)[..2], b"CD");
    let uid = hex::decode("04A1B2C3D4E5F6").unwrap();
    assert_eq!(
        block(&mem, 5),
        carddesk::devices::encoder::record_checksum(&uid, &record)
    );
    // The keys are the site's, not the transport key.
    // They are stored sealed: the database alone does not hold them.
    let site_key: String = carddesk::store::settings::get(&t.db(), "temp_card.site_key")
        .unwrap()
        .unwrap();
    let trailer = block(&mem, 7);
    assert!(site_key.starts_with("sealed1:"), "{site_key}");
    let raw = common::database_bytes(&t.db_path());
    for key in [&trailer[0..6], &trailer[10..16]] {
        let hex_key = hex::encode_upper(key);
        assert!(
            !common::contains(&raw, hex_key.as_bytes()),
            "key {hex_key} in clear"
        );
    }
    assert_ne!(&trailer[0..6], &trailer[10..16]);
    assert_ne!(&trailer[0..6], &[0xFF; 6]);
    assert_ne!(&trailer[10..16], &[0xFF; 6]);
    // Access bits 78 77 88: key A reads, only key B writes (MF1S50 8.7).
    assert_eq!(&trailer[6..10], &carddesk::devices::encoder::ACCESS_BITS);
    assert_eq!(&trailer[6..10], &[0x78, 0x77, 0x88, 0x69]);
    // Other sectors are untouched (still transport configuration).
    assert_eq!(&block(&mem, 11)[0..6], &[0xFF; 6]);

    // The app used the PC/SC Part 3 storage commands and verified by reading.
    let log = std::fs::read_to_string(&log).unwrap();
    for prefix in ["FF820000", "FF860000", "FFD60004", "FFD60007", "FFB00004"] {
        assert!(
            log.lines().any(|l| l.starts_with(prefix)),
            "no {prefix} in the APDU log:\n{log}"
        );
    }
    // The read-back of block 4 answered with the record.
    let readback = log.lines().rfind(|l| l.starts_with("FFB0000410 ")).unwrap();
    assert!(
        readback.ends_with(&format!("{}9000", hex::encode_upper(record))),
        "{readback}"
    );
}

#[test]
#[serial]
fn a_card_the_encoder_cannot_open_fails_and_is_repeated_on_a_fresh_card() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 1);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &encoding_options())
        .unwrap();
    let _reader = common::device_lock("virtual-reader");
    let dir = common::private_dir();
    // A card whose sector 1 uses someone else's keys.
    let foreign = dir.path().join("foreign.bin");
    let log = dir.path().join("apdus.log");
    drop(mifare_card("04112233445566", &foreign, &log));
    let mut mem = std::fs::read(&foreign).unwrap();
    mem[7 * 16..7 * 16 + 6].copy_from_slice(&[0x12; 6]);
    mem[7 * 16 + 10..8 * 16].copy_from_slice(&[0x34; 6]);
    std::fs::write(&foreign, &mem).unwrap();
    let encoder = carddesk::devices::encoder::PcscEncoder::new();

    let card = mifare_card("04112233445566", &foreign, &log);
    let p = t
        .desk
        .produce_temp_card(&admin, order.id, ids[0], &cups(), Some(&encoder))
        .unwrap();
    drop(card);
    assert_eq!(p.card.state, TempCardState::Failed);
    let error = p.card.error.unwrap();
    assert!(error.starts_with("encoding failed: encoder"), "{error}");
    assert!(
        error.contains("authenticate failed (status 6300)"),
        "{error}"
    );
    assert_eq!(std::fs::read(&foreign).unwrap(), mem, "nothing written");

    let fresh = dir.path().join("fresh.bin");
    let card = mifare_card("04998877665544", &fresh, &log);
    let again = t
        .desk
        .repeat_temp_production(
            &admin,
            order.id,
            &[ids[0]],
            &cups(),
            Some(&encoder),
            &quiet(),
        )
        .unwrap();
    drop(card);
    assert!(again[0].ok(), "{:?}", again[0].card.error);
    assert_eq!(&std::fs::read(&fresh).unwrap()[64..66], b"CD");
}

#[test]
#[serial]
fn an_issued_card_put_in_the_encoder_is_refused_and_left_unchanged() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 2);
    let encoder = carddesk::devices::encoder::PcscEncoder::new();
    let _reader = common::device_lock("virtual-reader");
    let dir = common::private_dir();
    let memory = dir.path().join("issued.bin");
    let log = dir.path().join("apdus.log");

    // The first card is produced and encoded on this chip...
    let first = t
        .desk
        .issue_temp_cards(&admin, &ids[..1], &encoding_options())
        .unwrap();
    let card = mifare_card("04C0FFEE000001", &memory, &log);
    let p = t
        .desk
        .produce_temp_card(&admin, first.id, ids[0], &cups(), Some(&encoder))
        .unwrap();
    drop(card);
    assert!(p.ok(), "{:?}", p.card.error);
    let issued = std::fs::read(&memory).unwrap();

    // ...and the same chip, put in the encoder again for another card, is
    // refused before anything is written to it.
    let second = t
        .desk
        .issue_temp_cards(&admin, &ids[1..], &encoding_options())
        .unwrap();
    std::fs::write(&log, "").unwrap();
    let card = mifare_card("04C0FFEE000001", &memory, &log);
    let p = t
        .desk
        .produce_temp_card(&admin, second.id, ids[1], &cups(), Some(&encoder))
        .unwrap();
    drop(card);
    assert_eq!(p.card.state, TempCardState::Failed);
    let error = p.card.error.unwrap();
    assert!(
        error.contains("(UID 04C0FFEE000001) was not written: it is already registered as"),
        "{error}"
    );
    assert_eq!(std::fs::read(&memory).unwrap(), issued, "card unchanged");
    let apdus = std::fs::read_to_string(&log).unwrap();
    assert!(
        !apdus.lines().any(|l| l.starts_with("FFD6")),
        "no write was sent:\n{apdus}"
    );
    // The first card still belongs to its chip.
    assert_eq!(
        t.desk
            .temp_card_by_uid(&admin, "04C0FFEE000001")
            .unwrap()
            .id,
        ids[0]
    );
}

#[test]
#[serial]
fn a_card_produced_again_opens_with_the_site_key_b_and_keys_a_cannot_write() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 1);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &encoding_options())
        .unwrap();
    let encoder = carddesk::devices::encoder::PcscEncoder::new();
    let _reader = common::device_lock("virtual-reader");
    let dir = common::private_dir();
    let memory = dir.path().join("card.bin");
    let log = dir.path().join("apdus.log");
    let card = mifare_card("04AB0000000002", &memory, &log);
    let p = t
        .desk
        .produce_temp_card(&admin, order.id, ids[0], &cups(), Some(&encoder))
        .unwrap();
    assert!(p.ok(), "{:?}", p.card.error);
    // Repeat production (the badge printed badly): the chip now has the
    // site's keys and access bits; the encoder opens it with key B.
    let again = t
        .desk
        .repeat_temp_production(&admin, order.id, &ids, &cups(), Some(&encoder), &quiet())
        .unwrap();
    drop(card);
    assert!(again[0].ok(), "{:?}", again[0].card.error);
    let apdus = std::fs::read_to_string(&log).unwrap();
    // The second write of block 4 followed an authentication with key B.
    let lines: Vec<&str> = apdus.lines().collect();
    let second_write = lines
        .iter()
        .rposition(|l| l.starts_with("FFD6000410"))
        .unwrap();
    let auth = lines[..second_write]
        .iter()
        .rfind(|l| l.starts_with("FF860000"))
        .unwrap();
    assert!(auth.starts_with("FF86000005010004610"), "{auth}");
    // Key B never reads back: every read of the trailer shows zeros for it.
    for l in lines.iter().filter(|l| l.starts_with("FFB0000710 ")) {
        let answer = l.split(' ').nth(1).unwrap();
        if answer.ends_with("9000") {
            assert_eq!(&answer[20..32], "000000000000", "{l}");
        }
    }
}

fn carddesk(t: &TestDesk, dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_carddesk"))
        .arg("--db")
        .arg(t.db_path())
        .args(args)
        .current_dir(dir)
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", common::PASSWORD)
        .env_remove("CARDDESK_DB")
        .env_remove("CARDDESK_PRINTER")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
#[serial]
fn cli_requests_issues_repeats_completes_assigns_and_returns() {
    let _printer = require_cups();
    let t = TestDesk::new();
    let dir = common::private_dir();
    let d = dir.path();
    let (code, out, err) = carddesk(
        &t,
        d,
        &["temp", "request", "--count", "3", "--note", "fair"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(out.starts_with("1\t#1000\tH10301\n"), "{out}");

    let (code, out, _) = carddesk(&t, d, &["temp", "list", "--state", "requested", "--json"]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(list[0]["state"], "requested");
    assert_eq!(list[0]["note"], "fair");

    // Certificates without encoding: refused, nothing issued.
    let (code, _, err) = carddesk(
        &t,
        d,
        &[
            "temp",
            "issue",
            "1",
            "2",
            "3",
            "--printer",
            &queue(),
            "--cert",
            "authentication",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.starts_with(
            "error: certificates: certificates can only be issued when the cards are encoded"
        ),
        "{err}"
    );
    let (code, _, err) = carddesk(
        &t,
        d,
        &[
            "temp",
            "issue",
            "1",
            "--printer",
            &queue(),
            "--pin-length",
            "9",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: PIN length: PIN length 9 is not allowed (4 to 8 digits, default 6)\n"
    );

    // The printer fails everything: the order stays open with failed cards.
    let clear = Fault::clear_on_drop();
    printer_fault("fail");
    let (code, out, err) = carddesk(&t, d, &["temp", "issue", "1", "2", "--printer", &queue()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("order 1\ncard 1\t#1000\tfailed\tprinting failed: "),
        "{out}"
    );
    // A script (stderr is not a terminal) gets the one error line only.
    assert_eq!(
        err,
        "error: 2 of 2 card(s) failed; fix the cause, then `carddesk temp repeat 1`\n"
    );
    drop(clear);
    let (code, out, err) = carddesk(&t, d, &["temp", "repeat", "1", "--pin-length", "4"]);
    assert_eq!(code, 2, "unknown option is a usage error: {out}{err}");
    let (code, out, err) = carddesk(&t, d, &["temp", "repeat", "1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "card 1\t#1000\tunassigned\tPIN letter ./pin-letter-card-1.pdf\ncard 2\t#1001\tunassigned\tPIN letter ./pin-letter-card-2.pdf\n"
        )
    );
    assert!(std::fs::read(d.join("pin-letter-card-1.pdf"))
        .unwrap()
        .starts_with(b"%PDF"));
    let (code, out, _) = carddesk(&t, d, &["temp", "complete", "1"]);
    assert_eq!((code, out.as_str()), (0, "order 1 completed\n"));

    // Card 3 is still requested and can go into a new order, then be cancelled.
    let (code, _, err) = carddesk(&t, d, &["temp", "cancel", "1"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("batch order 1 was already completed by admin"),
        "{err}"
    );

    let (code, out, err) = carddesk(
        &t,
        d,
        &["cardholder", "add", "--first", "Ann", "--last", "Visitor"],
    );
    if code != 0 {
        panic!("cardholder add failed: {out}{err}");
    }
    let holder = out.trim().to_string();
    let (code, _, err) = carddesk(
        &t,
        d,
        &[
            "temp",
            "assign",
            "2",
            "--cardholder",
            &holder,
            "--until",
            "fri",
        ],
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("\"fri\" is not a date; give the last day as YYYY-MM-DD"),
        "{err}"
    );
    let tomorrow = (chrono::Local::now().date_naive() + chrono::Days::new(1)).to_string();
    let (code, out, err) = carddesk(
        &t,
        d,
        &[
            "temp",
            "assign",
            "2",
            "--cardholder",
            &holder,
            "--until",
            &tomorrow,
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("card 2 assigned to Ann Visitor until the end of {tomorrow}\n")
    );
    let (code, out, _) = carddesk(&t, d, &["temp", "return", "2"]);
    assert_eq!((code, out.as_str()), (0, "card 2 unassigned\n"));
    let (code, out, _) = carddesk(&t, d, &["temp", "reveal-puk", "2"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim().len(), 8);
    let (code, out, _) = carddesk(&t, d, &["temp", "ca"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("-----BEGIN CERTIFICATE-----"), "{out}");
    let (code, out, _) = carddesk(&t, d, &["temp", "crl"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("-----BEGIN X509 CRL-----"), "{out}");
    let (code, out, _) = carddesk(&t, d, &["temp", "certs", "2"]);
    assert_eq!(
        (code, out.as_str()),
        (0, ""),
        "no certificates without encoding"
    );
}

fn openssl(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl (install the openssl package)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
#[serial]
fn certificates_are_issued_bound_to_card_and_holder_and_revoked_on_return() {
    let _printer = require_cups();
    let _reader = common::device_lock("virtual-reader");
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 1);
    let mut o = encoding_options();
    o.cert_profiles = vec!["authentication".into(), "Signature".into()];
    let order = t.desk.issue_temp_cards(&admin, &ids, &o).unwrap();
    assert_eq!(order.cert_profiles, ["authentication", "signature"]);
    let dir = common::private_dir();
    let card = mifare_card(
        "04C0FFEE000001",
        &dir.path().join("card.bin"),
        &dir.path().join("apdus.log"),
    );
    let p = t
        .desk
        .produce_temp_card(
            &admin,
            order.id,
            ids[0],
            &cups(),
            Some(&carddesk::devices::encoder::PcscEncoder::new()),
        )
        .unwrap();
    drop(card);
    assert!(p.ok(), "{:?}", p.card.error);

    // The CA key is kept outside the database, readable by its owner only.
    let key = PathBuf::from(format!("{}-ca-key.pem", t.db_path().display()));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let ca = t.desk.temp_ca_certificate(&admin).unwrap();
    assert!(!carddesk::store::settings::get(&t.db(), "temp_ca.cert_pem")
        .unwrap()
        .unwrap()
        .contains("PRIVATE KEY"));
    std::fs::write(dir.path().join("ca.pem"), &ca).unwrap();

    let certs = t.desk.temp_card_certificates(&admin, ids[0]).unwrap();
    assert_eq!(certs.len(), 2);
    let number = p.card.card_number;
    for (i, c) in certs.iter().enumerate() {
        let file = format!("card-{i}.pem");
        std::fs::write(dir.path().join(&file), &c.pem).unwrap();
        assert!(openssl(&["verify", "-CAfile", "ca.pem", &file], dir.path()).contains(": OK"));
        let text = openssl(&["x509", "-in", &file, "-noout", "-subject"], dir.path());
        assert!(
            text.contains(&format!("CN = Temporary card {number}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("serialNumber = H10301 {number}")),
            "{text}"
        );
        assert_eq!(c.cardholder_id, None);
    }
    assert_eq!(certs[0].profile, "authentication");
    assert_eq!(certs[1].profile, "signature");

    // Assigned: the certificates are re-issued bound to the holder.
    let ann = t.cardholder("Ann", "Visitor");
    t.desk.assign_temp_card(&admin, ids[0], ann, None).unwrap();
    let certs = t.desk.temp_card_certificates(&admin, ids[0]).unwrap();
    assert_eq!(certs.len(), 4);
    assert!(certs[..2]
        .iter()
        .all(|c| c.revoke_reason.as_deref() == Some("superseded")));
    for c in &certs[2..] {
        assert_eq!(c.cardholder_id, Some(ann));
        assert!(c.revoked_at.is_none());
        assert!(
            c.subject.starts_with("CN=Ann Visitor, OU="),
            "{}",
            c.subject
        );
    }

    // Returned: every certificate revoked, and the CRL lists them.
    t.desk.return_temp_card(&admin, ids[0]).unwrap();
    let certs = t.desk.temp_card_certificates(&admin, ids[0]).unwrap();
    assert!(certs.iter().all(|c| c.revoked_at.is_some()));
    let crl = t.desk.export_temp_crl(&admin).unwrap();
    std::fs::write(dir.path().join("crl.pem"), &crl).unwrap();
    let text = openssl(
        &[
            "crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text",
        ],
        dir.path(),
    );
    assert!(text.contains("verify OK"), "{text}");
    for c in &certs {
        assert!(
            text.contains(&format!("Serial Number: {}", c.serial)),
            "{} not in\n{text}",
            c.serial
        );
    }
    // A revoked certificate no longer verifies with the CRL.
    std::fs::write(dir.path().join("last.pem"), &certs[3].pem).unwrap();
    let out = Command::new("openssl")
        .args([
            "verify",
            "-crl_check",
            "-CAfile",
            "ca.pem",
            "-CRLfile",
            "crl.pem",
            "last.pem",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("certificate revoked")
            || String::from_utf8_lossy(&out.stdout).contains("certificate revoked")
    );
}

#[test]
#[serial]
fn lock_unlock_abort_and_expiry() {
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = request(&mut t, 3);
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids[..2], &IssueOptions::printer(&queue()))
        .unwrap();
    t.desk
        .produce_temp_order(&admin, order.id, &cups(), None, &quiet())
        .unwrap();
    let ann = t.cardholder("Ann", "Visitor");
    t.desk.assign_temp_card(&admin, ids[0], ann, None).unwrap();
    // Locking an assigned card takes it from its holder.
    let c = t
        .desk
        .change_temp_card_state(&admin, ids[0], TempCardState::Locked)
        .unwrap();
    assert_eq!((c.state, c.cardholder_id), (TempCardState::Locked, None));
    let c = t
        .desk
        .change_temp_card_state(&admin, ids[0], TempCardState::Unassigned)
        .unwrap();
    assert_eq!(c.state, TempCardState::Unassigned);
    let c = t
        .desk
        .change_temp_card_state(&admin, ids[0], TempCardState::Aborted)
        .unwrap();
    assert_eq!(c.state, TempCardState::Aborted);
    let cred = carddesk::store::credentials::get(&t.db(), c.credential_id)
        .unwrap()
        .unwrap();
    assert_eq!(cred.state, carddesk::domain::CredentialState::Revoked);
    let err = t
        .desk
        .change_temp_card_state(&admin, ids[0], TempCardState::Unassigned)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is aborted cannot become unassigned (allowed: none)"),
        "{err}"
    );
    // A requested card cannot be locked.
    let err = t
        .desk
        .change_temp_card_state(&admin, ids[2], TempCardState::Locked)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is requested cannot become locked"), "{err}");

    // Validity 0 days: a card produced now is already past it.
    carddesk::store::settings::set(&t.db(), "temp_card.validity_days", "0").unwrap();
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids[2..], &IssueOptions::printer(&queue()))
        .unwrap();
    t.desk
        .produce_temp_order(&admin, order.id, &cups(), None, &quiet())
        .unwrap();
    let err = t
        .desk
        .assign_temp_card(&admin, ids[2], ann, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("it is now marked expired"), "{err}");
    assert_eq!(
        t.desk.temp_card(&admin, ids[2]).unwrap().state,
        TempCardState::Expired
    );
    // The sweep expires produced cards past their validity: none yet, then
    // card 2 once its date has passed.
    assert_eq!(t.desk.expire_temp_cards(&admin).unwrap(), 0);
    t.db()
        .execute(
            "UPDATE temp_card SET valid_until = '2000-01-01T00:00:00.000Z' WHERE id = ?1",
            [ids[1]],
        )
        .unwrap();
    assert_eq!(t.desk.expire_temp_cards(&admin).unwrap(), 1);
    assert_eq!(
        t.desk.temp_card(&admin, ids[1]).unwrap().state,
        TempCardState::Expired
    );
}

#[test]
fn requested_cards_are_searched_by_format_requester_and_date() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let olga = t.operator("olga", carddesk::domain::Role::Supervisor, None);
    request(&mut t, 2);
    t.desk
        .request_temp_cards(
            &olga,
            &TempCardRequest {
                count: 1,
                format: Some("h10306".into()),
                template: Some("standard".into()),
                note: String::new(),
            },
        )
        .unwrap();
    let search = |f: TempCardFilter| -> Vec<i64> {
        t.desk
            .temp_cards(
                &admin,
                &TempCardFilter {
                    state: Some(TempCardState::Requested),
                    ..f
                },
            )
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect()
    };
    assert_eq!(search(TempCardFilter::default()), [1, 2, 3]);
    let by_format = search(TempCardFilter {
        format: Some("H10306".into()),
        ..Default::default()
    });
    assert_eq!(by_format, [3]);
    let by_olga = search(TempCardFilter {
        requested_by: Some("OLGA".into()),
        ..Default::default()
    });
    assert_eq!(by_olga, [3]);
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        search(TempCardFilter {
            since: Some(today),
            ..Default::default()
        }),
        [1, 2, 3]
    );
    assert!(search(TempCardFilter {
        since: Some("2999-01-01".into()),
        ..Default::default()
    })
    .is_empty());
    let card = t.desk.temp_card(&admin, 3).unwrap();
    assert_eq!(
        (card.format.as_str(), card.template.as_str()),
        ("H10306", "Standard")
    );
    // Bad input names the thing and what is allowed.
    let err = t
        .desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: 1,
                format: Some("UID".into()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("UID cannot be used for temporary cards"),
        "{err}"
    );
    let err = t
        .desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: 0,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
    assert_eq!(err, "count: 0 is not allowed (1 to 500 cards)");
}

/// PIN letters go to the site's ordinary printer (a second CUPS queue, not
/// the card printer) and arrive as one PDF holding every PIN.
#[test]
#[serial]
fn pin_letters_print_on_the_ordinary_printer_as_one_pdf() {
    let _printer = require_cups();
    let letter_queue = std::env::var("LETTER_QUEUE").unwrap_or_else(|_| "OfficePrinter".into());
    assert_ne!(
        letter_queue,
        queue(),
        "the letters' printer is not the card printer"
    );
    let out_dir = std::env::var("LETTER_PDF_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("/tmp/carddesk-harness/letter-pdf"));
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let cards = t
        .desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: 2,
                ..Default::default()
            },
        )
        .unwrap();
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let order = t
        .desk
        .issue_temp_cards(&admin, &ids, &IssueOptions::printer(&queue()))
        .unwrap();
    let produced = t
        .desk
        .produce_temp_order(&admin, order.id, &cups(), None, &JobContext::inline(|_| {}))
        .unwrap();
    let letters: Vec<(String, String, String)> = produced
        .iter()
        .map(|p| {
            let l = p.pin_letter.as_ref().expect("produced with a PIN");
            (p.card.card_number.to_string(), l.pin.clone(), l.puk.clone())
        })
        .collect();
    let doc = carddesk::desk::pin_letters_document(&letters).unwrap();
    use carddesk::desk::station::CardPrinter;
    let job = cups()
        .print(&letter_queue, &doc)
        .expect("printed on the office queue");
    let suffix = format!("-job_{job}.pdf");
    let mut found = None;
    for _ in 0..50 {
        found = std::fs::read_dir(&out_dir).ok().and_then(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(&suffix))
        });
        if found.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pdf = found.unwrap_or_else(|| panic!("no {suffix} in {}", out_dir.display()));
    // cups-pdf re-encodes the fonts (its text no longer extracts): the
    // printed file has a page per letter; the document sent holds the PINs.
    let info = Command::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 2")),
        "{info}"
    );
    let sent = t.dir.path().join("sent.pdf");
    std::fs::write(&sent, &doc.pdf).unwrap();
    let text = Command::new("pdftotext")
        .arg(&sent)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for (card, pin, _) in &letters {
        assert!(
            text.contains(pin.as_str()),
            "PIN of {card} missing:\n{text}"
        );
    }
    // It went to the office printer's folder, not the card printer's.
    assert!(!pdf.starts_with(card_pdf_dir()), "{}", pdf.display());
}

/// Produces `n` cards on the simulated printer (no CUPS), completes the
/// order and returns their ids.
fn produced_without_cups(t: &mut TestDesk, n: u32) -> Vec<i64> {
    use carddesk::desk::station::SimulatedPrinter;
    let admin = t.admin.clone();
    let ids = request(t, n);
    let order = t
        .desk
        .issue_temp_cards(
            &admin,
            &ids,
            &IssueOptions::printer(SimulatedPrinter::QUEUE),
        )
        .unwrap();
    let printer = SimulatedPrinter::new(std::time::Duration::ZERO);
    t.desk
        .produce_temp_order(&admin, order.id, &printer, None, &quiet())
        .unwrap();
    t.desk.complete_temp_order(&admin, order.id).unwrap();
    ids
}

#[test]
fn a_card_lent_until_a_day_stops_opening_doors_after_it_and_waits_to_be_taken_back() {
    use carddesk::domain::CredentialState;
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = produced_without_cups(&mut t, 2);
    let ann = t.cardholder("Ann", "Visitor");
    let today = chrono::Local::now().date_naive();

    // Not in the past, not past the card's own validity (14 days).
    let err = t
        .desk
        .assign_temp_card(&admin, ids[0], ann, Some(today - chrono::Days::new(1)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("must end after now"), "{err}");
    let err = t
        .desk
        .assign_temp_card(&admin, ids[0], ann, Some(today + chrono::Days::new(30)))
        .unwrap_err()
        .to_string();
    assert!(err.contains("is valid only until"), "{err}");
    assert_eq!(states(&t, &ids[..1]), [TempCardState::Unassigned]);

    // Lent through tomorrow: until the last second of that local day.
    let tomorrow = today + chrono::Days::new(1);
    let card = t
        .desk
        .assign_temp_card(&admin, ids[0], ann, Some(tomorrow))
        .unwrap();
    let until = chrono::DateTime::parse_from_rfc3339(card.assigned_until.as_deref().unwrap())
        .unwrap()
        .with_timezone(&chrono::Local);
    assert_eq!(until.date_naive(), tomorrow);
    assert_eq!(until.format("%H:%M:%S").to_string(), "23:59:59");

    // The sweep leaves it alone until then…
    assert_eq!(t.desk.expire_temp_cards(&admin).unwrap(), 0);
    // …and once the day has passed, doors refuse the card while the desk
    // still knows who has it.
    t.db()
        .execute(
            "UPDATE temp_card SET assigned_until = '2020-01-01T00:00:00.000Z' WHERE id = ?1",
            [ids[0]],
        )
        .unwrap();
    assert_eq!(t.desk.expire_temp_cards(&admin).unwrap(), 1);
    assert_eq!(t.desk.expire_temp_cards(&admin).unwrap(), 0, "once only");
    let card = t.desk.temp_card(&admin, ids[0]).unwrap();
    assert_eq!(card.state, TempCardState::Assigned);
    assert_eq!(card.holder_name.as_deref(), Some("Ann Visitor"));
    let cred = carddesk::store::credentials::get(&t.db(), card.credential_id)
        .unwrap()
        .unwrap();
    assert_eq!(cred.state, CredentialState::Expired);
    assert!(audit_actions(&t, "temp_card").contains(&"temp_card.assignment_ended".to_string()));

    // Taken back: in stock again, the lending period gone.
    let card = t.desk.return_temp_card(&admin, ids[0]).unwrap();
    assert_eq!(card.state, TempCardState::Unassigned);
    assert_eq!(card.assigned_until, None);
    let cred = carddesk::store::credentials::get(&t.db(), card.credential_id)
        .unwrap()
        .unwrap();
    assert_eq!(cred.state, CredentialState::Unassigned);
}

#[test]
#[serial]
fn in_the_window_a_certified_card_is_lent_by_its_uid_and_its_certificates_revoked_on_return() {
    use common::ui::*;
    use egui_kittest::kittest::Queryable;
    let _printer = require_cups();
    let _reader = common::device_lock("virtual-reader");
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.cardholder("Tom", "Temp");
    let ids = request(&mut t, 1);
    let mut o = encoding_options();
    o.cert_profiles = vec!["authentication".into()];
    let order = t.desk.issue_temp_cards(&admin, &ids, &o).unwrap();
    let dir = common::private_dir();
    let card = mifare_card(
        "04C0FFEE0000A1",
        &dir.path().join("card.bin"),
        &dir.path().join("apdus.log"),
    );
    let p = t
        .desk
        .produce_temp_card(
            &admin,
            order.id,
            ids[0],
            &cups(),
            Some(&carddesk::devices::encoder::PcscEncoder::new()),
        )
        .unwrap();
    drop(card);
    assert!(p.ok(), "{:?}", p.card.error);
    t.desk.complete_temp_order(&admin, order.id).unwrap();
    let number = format!("#{}", p.card.card_number);

    let mut h = open_app(&t, None);
    h.state_mut().set_readers(vec!["Desk reader".into()]);
    log_in(&mut h);
    h.get_by_label("Temporary cards").click();
    wait_for(&mut h, &number);
    // The UID the encoder read is what finds the card.
    h.state_mut()
        .on_card_presented("Desk reader", "04C0FFEE0000A1");
    wait_for(&mut h, "Assign to");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Assign to")
        .click();
    wait_for(&mut h, "Tom Temp");
    h.get_by_label("Tom Temp").click();
    h.step();
    h.get_by_label("Assign").click();
    wait_for_text(&mut h, &format!("{number} is now assigned."));
    let certs = t.desk.temp_card_certificates(&admin, ids[0]).unwrap();
    let live: Vec<_> = certs.iter().filter(|c| c.revoked_at.is_none()).collect();
    assert_eq!(live.len(), 1);
    assert!(
        live[0].subject.starts_with("CN=Tom Temp"),
        "{}",
        live[0].subject
    );

    h.state_mut()
        .on_card_presented("Desk reader", "04C0FFEE0000A1");
    wait_for(&mut h, "Take back");
    h.get_by_label("Take back").click();
    wait_for_text(&mut h, &format!("{number} is now unassigned."));
    let certs = t.desk.temp_card_certificates(&admin, ids[0]).unwrap();
    assert!(!certs.is_empty());
    assert!(certs.iter().all(|c| c.revoked_at.is_some()), "{certs:?}");
}

#[test]
#[serial]
fn a_production_run_killed_part_way_is_resumed_in_the_window_and_completes() {
    use carddesk::devices::printer::CardPrinter;
    use common::ui::*;
    use egui_kittest::kittest::Queryable;
    let _printer = require_cups();
    let mut t = TestDesk::new();
    let ids = request(&mut t, 5);
    let dir = common::private_dir();
    let letters = dir.path().join("letters");
    std::fs::create_dir(&letters).unwrap();
    // `temp issue` produces on CUPS and writes each card's PIN letter the
    // moment the card commits; the process is killed (SIGKILL: no clean
    // up of any kind) as soon as the first letter appears.
    let mut args = vec!["temp".to_string(), "issue".into()];
    args.extend(ids.iter().map(|i| i.to_string()));
    args.extend(["--printer".into(), queue(), "--pin-letters".into()]);
    args.push(letters.display().to_string());
    let mut child = Command::new(env!("CARGO_BIN_EXE_carddesk"))
        .arg("--db")
        .arg(t.db_path())
        .args(&args)
        .env("CARDDESK_OPERATOR", "admin")
        .env("CARDDESK_PASSWORD", common::PASSWORD)
        .env_remove("CARDDESK_DB")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::fs::read_dir(&letters).unwrap().count() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "no card was produced"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let produced = states(&t, &ids)
        .iter()
        .filter(|s| **s == TempCardState::Unassigned)
        .count();
    assert!(
        (1..5).contains(&produced),
        "the run was to be killed part-way; {produced} of 5 produced"
    );
    assert_eq!(
        std::fs::read_dir(&letters).unwrap().count(),
        produced,
        "a letter for every committed card"
    );

    // Reopened: Batch orders offers the open order, shows where each card
    // got to, and Next produces the rest.
    let printer: std::sync::Arc<dyn CardPrinter> = std::sync::Arc::new(cups());
    let mut h = open_app(&t, Some(printer));
    log_in(&mut h);
    h.get_by_label("Batch orders").click();
    wait_for_text(&mut h, "Batch order 1 of");
    h.query_all_by_label_contains("Batch order 1 of")
        .next()
        .unwrap()
        .click();
    wait_for(&mut h, "unassigned");
    assert_eq!(h.query_all_by_label("unassigned").count(), produced);
    assert_eq!(h.query_all_by_label("requested").count(), 5 - produced);
    h.get_by_label("Next").click();
    wait_for_text(&mut h, &format!("{} card(s) produced.", 5 - produced));
    h.get_by_label("Discard").click();
    wait_for(&mut h, "Yes, discard");
    h.get_by_label("Yes, discard").click();
    step_until(&mut h, "letters discarded", |h| {
        !shows_text(h, "PIN letter(s) are ready")
    });
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, "Batch order 1 completed.");
    assert!(states(&t, &ids)
        .iter()
        .all(|s| *s == TempCardState::Unassigned));
}
