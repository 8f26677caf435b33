//! Door readers through the real protocol: the desk's OSDP control panel
//! (libosdp over the serial port) against the test door reader
//! (tests/support/osdp_pd.py: an OSDP peripheral built on PyPI's libosdp
//! on a pseudo-terminal). Card reads become enrolments decoded through the
//! card formats; the reader shows the answer on its LED and buzzer; secure
//! channel keys are checked; a reader that goes away comes back.

mod common;

use carddesk::desk::station::{CardData, ReaderEvent, ReaderWorker};
use carddesk::desk::{ConnectCard, NewDoorReader, Secret};
use carddesk::devices::reader::OsdpReader;
use carddesk::domain::{builtin_formats, FieldValues};
use carddesk::ui::Options;
use common::cli::Cli;
use common::osdp::DoorReaderDouble;
use common::ui::*;
use common::TestDesk;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};

const KEY: &str = "000102030405060708090A0B0C0D0E0F";

/// The bits a card in `format` with these field values sends.
fn bits(format: &str, fields: &[(&str, u64)]) -> String {
    let values: FieldValues = fields.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    builtin_formats()
        .into_iter()
        .find(|f| f.name() == format)
        .unwrap()
        .encode(&values)
        .unwrap()
}

fn add_reader(t: &mut TestDesk, name: &str, pd: &DoorReaderDouble, key: Option<&str>) {
    let admin = t.admin.clone();
    t.desk
        .add_door_reader(
            &admin,
            &NewDoorReader {
                name: name.into(),
                port: pd.link.display().to_string(),
                baud: 9600,
                address: 101,
                scbk: key.map(|k| Secret::new(k.to_string())),
            },
        )
        .unwrap();
}

fn worker(t: &TestDesk) -> ReaderWorker {
    let configs = t.desk.door_reader_configs().unwrap();
    ReaderWorker::spawn(Box::new(OsdpReader::new(configs)), Arc::new(|| {}))
}

/// Waits for an event `want` accepts, up to 20 s; returns it.
fn wait_event(w: &ReaderWorker, what: &str, want: impl Fn(&ReaderEvent) -> bool) -> ReaderEvent {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Some(e) = w.recv_timeout(Duration::from_millis(100)) {
            if want(&e) {
                return e;
            }
            seen.push(e);
        }
    }
    panic!("no {what}; saw {seen:?}")
}

fn online(w: &ReaderWorker, name: &str) {
    wait_event(
        w,
        &format!("{name} online"),
        |e| matches!(e, ReaderEvent::ReadersChanged(l) if l.iter().any(|r| r == name)),
    );
}

/// The LED colour and beep count of the reader's last feedback, once it has
/// had `n` LED commands.
fn feedback(pd: &DoorReaderDouble, n: usize) -> (String, u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let commands = pd.commands();
        let leds: Vec<_> = commands.iter().filter(|c| c["command"] == "led").collect();
        let buzzers: Vec<_> = commands
            .iter()
            .filter(|c| c["command"] == "buzzer")
            .collect();
        if leds.len() >= n && buzzers.len() >= n {
            return (
                leds[n - 1]["color"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                buzzers[n - 1]["count"].as_u64().unwrap_or_default(),
            );
        }
        assert!(Instant::now() < deadline, "reader got {commands:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_26_bit_read_enrols_facility_12_card_345_and_a_card_held_elsewhere_is_refused_in_red() {
    let dir = common::private_dir();
    let pd = DoorReaderDouble::start(dir.path(), 101, None);
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let jan = t.request_for(&admin, "Jan", "Jansen", false);
    let kim = t.request_for(&admin, "Kim", "Keller", false);
    let hal = t.request_for(&admin, "Hal", "Holder", false);
    t.desk
        .connect_card(
            &admin,
            hal,
            &ConnectCard::Manual {
                format: "H10301".into(),
                fields: vec![
                    ("facility".into(), "12".into()),
                    ("card".into(), "999".into()),
                ],
            },
        )
        .unwrap();
    add_reader(&mut t, "Front door", &pd, None);
    let reader = worker(&t);
    let mut pd = pd;
    let mut h = open_app_on(
        t.db_path(),
        Options {
            reader: Some(reader),
            ..Default::default()
        },
    );
    log_in(&mut h);

    let open_connect = |h: &mut egui_kittest::Harness<'_, carddesk::ui::DeskApp>, who: &str| {
        h.get_by_label("Credential management").click();
        wait_for_text(h, "Card requests (");
        h.query_all_by_label_contains("Card requests (")
            .next()
            .unwrap()
            .click();
        wait_for(h, "Deny request");
        h.get_by_role_and_label(egui::accesskit::Role::Button, who)
            .click();
        wait_for(h, "1 selected");
        h.get_by_label("Connect card").click();
        wait_for(h, "Present the card to Front door…");
    };
    open_connect(&mut h, "Jan Jansen");
    pd.card(&bits("H10301", &[("facility", 12), ("card", 345)]));
    wait_for(
        &mut h,
        "Registered and assigned H10301 12:345 to Jan Jansen.",
    );
    assert_eq!(feedback(&pd, 1), ("green".to_string(), 1));
    let c = t.desk.request(&admin, jan).unwrap().credential_id.unwrap();
    let c = carddesk::store::credentials::get(&t.db(), c)
        .unwrap()
        .unwrap();
    assert_eq!(c.format, "H10301");

    h.key_press(egui::Key::Escape);
    open_connect(&mut h, "Kim Keller");
    pd.card(&bits("H10301", &[("facility", 12), ("card", 999)]));
    wait_for_text(&mut h, "is already assigned to Hal Holder");
    assert_eq!(feedback(&pd, 2), ("red".to_string(), 2));
    assert_eq!(t.desk.request(&admin, kim).unwrap().credential_id, None);
}

#[test]
fn a_35_bit_read_enrols_from_the_command_line_with_its_company_and_card() {
    let cli = Cli::new();
    let dir = common::private_dir();
    let mut pd = DoorReaderDouble::start(dir.path(), 101, None);
    let port = pd.link.display().to_string();
    let out = cli.ok(&[
        "reader",
        "add-osdp",
        "Turnstile",
        "--port",
        &port,
        "--address",
        "101",
    ]);
    assert_eq!(
        out,
        format!("added door reader Turnstile ({port} address 101, 9600 baud)\n")
    );
    let id = cli.ok(&["cardholder", "add", "--first", "Cor", "--last", "Porate"]);
    let request = cli.ok(&["request", "add", "--cardholder", id.trim()]);
    let request = request.split_whitespace().last().unwrap().to_string();

    let child = cli
        .command(&[
            "request",
            "enrol",
            &request,
            "--reader",
            "Turnstile",
            "--timeout",
            "30",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader queues the read until the control panel polls it.
    std::thread::sleep(Duration::from_millis(500));
    pd.card(&bits("C1K35", &[("company", 1234), ("card", 567890)]));
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.ends_with("\tC1K35 1234:567890\tregistered and assigned\n"),
        "{stdout}"
    );
    assert_eq!(feedback(&pd, 1), ("green".to_string(), 1));
}

#[test]
fn a_read_of_an_unknown_length_names_its_bits_and_the_formats_that_could_be_added() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let r = t.request_for(&admin, "Ken", "Tech", false);
    // Casi-Rusco 40-bit card 5: no parity; no format of the site has 40
    // bits.
    let read = format!("0{:038b}0", 5);
    let err = t
        .desk
        .enrol_presented(
            &admin,
            r,
            &carddesk::desk::station::CardPresented {
                reader: "Front door".into(),
                data: CardData::Wiegand(read.clone()),
                atr: String::new(),
                at: chrono::Utc::now(),
            },
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "a 40-bit read ({read}) matches none of the site's card formats"
        )),
        "{err}"
    );
    assert!(err.contains("CASI40 (card 5)"), "{err}");
    assert!(err.contains("carddesk format add-known NAME"), "{err}");
    // Added, the same read enrols.
    t.desk.add_known_format(&admin, "casi40").unwrap();
    let done = t
        .desk
        .connect_card(&admin, r, &ConnectCard::Read { bits: read })
        .unwrap();
    assert_eq!(done.credential.label(), "CASI40 5");
}

#[test]
fn secure_channel_with_the_right_key_reads_cards_and_a_wrong_key_is_reported() {
    let dir = common::private_dir();
    let mut pd = DoorReaderDouble::start(dir.path(), 101, Some(KEY));
    let mut t = TestDesk::new();
    add_reader(&mut t, "Secure door", &pd, Some(KEY));
    // The key is sealed in the database, never stored clear.
    let stored: String = t
        .db()
        .query_row("SELECT scbk_sealed FROM door_reader", (), |r| r.get(0))
        .unwrap();
    assert!(!stored.to_uppercase().contains(KEY), "{stored}");
    let w = worker(&t);
    online(&w, "Secure door");
    pd.card(&bits("H10301", &[("facility", 1), ("card", 2)]));
    wait_event(&w, "the read over the secure channel", |e| {
        matches!(e, ReaderEvent::CardPresented(c) if c.reader == "Secure door"
            && c.data == CardData::Wiegand(bits("H10301", &[("facility", 1), ("card", 2)])))
    });
    drop(w);

    // The same reader with another key: never online, and told why.
    let admin = t.admin.clone();
    t.desk.remove_door_reader(&admin, "Secure door").unwrap();
    add_reader(
        &mut t,
        "Secure door",
        &pd,
        Some("FFEEDDCCBBAA99887766554433221100"),
    );
    let w = worker(&t);
    let e = wait_event(&w, "the key reported", |e| {
        matches!(e, ReaderEvent::ReaderError { .. })
    });
    let ReaderEvent::ReaderError { reader, message } = e else {
        unreachable!()
    };
    assert_eq!(reader.as_deref(), Some("Secure door"));
    assert!(
        message.contains("no secure channel could be opened; check its SCBK"),
        "{message}"
    );
    assert!(!w.readers().contains(&"Secure door".to_string()));
}

#[test]
fn a_reader_that_stops_goes_offline_then_online_again_and_enrols() {
    let dir = common::private_dir();
    let mut pd = DoorReaderDouble::start(dir.path(), 101, None);
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    add_reader(&mut t, "Back door", &pd, None);
    let w = worker(&t);
    online(&w, "Back door");

    pd.stop();
    let e = wait_event(
        &w,
        "the reader reported offline",
        |e| matches!(e, ReaderEvent::ReaderError { reader: Some(r), .. } if r == "Back door"),
    );
    let ReaderEvent::ReaderError { message, .. } = e else {
        unreachable!()
    };
    assert!(message.starts_with("offline"), "{message}");
    wait_event(
        &w,
        "the reader gone from the list",
        |e| matches!(e, ReaderEvent::ReadersChanged(l) if l.is_empty()),
    );

    pd.restart();
    online(&w, "Back door");
    let r = t.request_for(&admin, "Bo", "Back", false);
    pd.card(&bits("H10301", &[("facility", 7), ("card", 77)]));
    let ReaderEvent::CardPresented(card) = wait_event(&w, "the read", |e| {
        matches!(e, ReaderEvent::CardPresented(_))
    }) else {
        unreachable!()
    };
    let done = t.desk.enrol_presented(&admin, r, &card).unwrap();
    assert_eq!(done.credential.label(), "H10301 7:77");
}

#[test]
fn door_readers_are_added_in_settings_shown_online_and_removed() {
    let dir = common::private_dir();
    let pd = DoorReaderDouble::start(dir.path(), 101, None);
    let t = TestDesk::new();
    let mut h = open_app_on(
        t.db_path(),
        Options {
            // The window's readers (none yet); they restart with the door
            // readers once one is added.
            reader: Some(ReaderWorker::spawn_all(Vec::new(), Arc::new(|| {}))),
            ..Default::default()
        },
    );
    log_in(&mut h);
    h.get_by_label("Settings").click();
    wait_for(&mut h, "Door readers");
    h.get_by_label("Door readers").click();
    wait_for(&mut h, "No door readers yet.");
    let port = pd.link.display().to_string();
    for (field, value) in [
        ("Name", "Lobby"),
        ("Serial port (e.g. /dev/ttyUSB0)", port.as_str()),
        ("OSDP address (0–126)", "1o1"),
    ] {
        let node = h.get_by_role_and_label(egui::accesskit::Role::TextInput, field);
        node.click();
        node.type_text(value);
    }
    h.get_by_label("Add door reader").click();
    wait_for_text(&mut h, "OSDP address: 1o1 is not a number from 0 to 126.");
    let node = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "OSDP address (0–126)");
    node.click();
    for _ in 0..3 {
        h.key_press(egui::Key::Backspace);
    }
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, "OSDP address (0–126)")
        .type_text("101");
    h.get_by_label("Add door reader").click();
    wait_for_text(&mut h, "Door reader Lobby added.");
    // The readers restarted with it: online, live.
    wait_for(&mut h, "online");
    let admin = t.admin.clone();
    let listed = t.desk.door_readers(&admin).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].address, listed[0].secure), (101, false));

    h.get_by_label("Remove").click();
    wait_for_text(&mut h, "Door reader Lobby removed.");
    wait_for(&mut h, "No door readers yet.");
    assert!(t.desk.door_readers(&admin).unwrap().is_empty());
}

#[test]
fn a_read_with_stray_bits_is_still_the_card_its_fields_name() {
    // Kantech 32-bit leaves bits 0–6 unused: a read (or a cloned card)
    // with them set is the same facility and card, so a revoked card
    // cannot come back as a new credential.
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.desk.add_known_format(&admin, "KANTECH").unwrap();
    let first = t.request_for(&admin, "Rev", "Oked", false);
    let c = t
        .desk
        .connect_card(
            &admin,
            first,
            &ConnectCard::Manual {
                format: "KANTECH".into(),
                fields: vec![("facility".into(), "1".into()), ("card".into(), "2".into())],
            },
        )
        .unwrap()
        .credential;
    t.desk.close_request(&admin, first).unwrap();
    t.desk
        .change_credential_state(
            &admin,
            c.id,
            carddesk::desk::CredentialAction::Revoke,
            Some("cloned"),
            false,
        )
        .unwrap();
    let other = t.request_for(&admin, "Cl", "One", false);
    let stray = format!("1010101{:08b}{:016b}0", 1, 2);
    // 32 bits fit CSN32 too: the card on record decides.
    let err = t
        .desk
        .connect_card(&admin, other, &ConnectCard::Read { bits: stray })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("KANTECH 1:2") && err.contains("revoked"),
        "{err}"
    );
    assert_eq!(t.desk.request(&admin, other).unwrap().credential_id, None);
}
