//! A large site: the lists page through it in SQL (never loaded whole), the
//! last of 100 000 cardholders is reachable by scrolling and by search,
//! counts are SQL's, search is prefix, ranked and accent-insensitive, and a
//! change made elsewhere re-reads only the lists that show it. (Speed is
//! measured by `cargo bench --bench site_scale`, never asserted here.)

mod common;

use carddesk::desk::{Desk, PageRequest, ScaleSpec, Session, DEMO_OPERATOR};
use carddesk::ui::worker::{DeskWorker, Reply, Snapshot};
use carddesk::ui::Options;
use common::ui::*;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A demo database with `n` cardholders (one card each) and the demo
/// operator.
fn demo_site(n: u64) -> (tempfile::TempDir, std::path::PathBuf, Desk, Session) {
    let dir = common::private_dir();
    let db = dir.path().join("demo.db");
    let mut desk = Desk::open(&db).unwrap();
    desk.check_demo_allowed().unwrap();
    let (name, password) = DEMO_OPERATOR;
    desk.init_admin(name, None, password).unwrap();
    let s = desk.login(name, password).unwrap();
    desk.generate_demo(
        &s,
        &ScaleSpec {
            cardholders: n,
            credentials: n,
            requests: 10,
            pending: 5,
            photos: false,
        },
    )
    .unwrap();
    (dir, db, desk, s)
}

#[test]
fn the_last_of_100_000_cardholders_is_reached_by_scrolling_and_by_search() {
    let (_dir, db, desk, s) = demo_site(100_000);
    let count: i64 = carddesk::store::connect(&db)
        .unwrap()
        .query_row("SELECT count(*) FROM cardholder", (), |r| r.get(0))
        .unwrap();
    assert_eq!(count, 100_000);
    // The last one in the list's order (by name).
    let last = desk
        .cardholders(
            &s,
            "",
            PageRequest {
                offset: 99_999,
                limit: 1,
            },
        )
        .unwrap()
        .items
        .remove(0);
    let email = last.email.clone().unwrap();

    let mut h = open_app_on(db.clone(), Options::default());
    log_in_as(&mut h, DEMO_OPERATOR.0, DEMO_OPERATOR.1);
    h.get_by_label("Cardholders").click();
    wait_for(&mut h, &format!("Cardholders: {count}"));
    assert!(!shows(&h, &email));
    // Scroll to the very end: the rows there arrive as their page loads.
    let table = h.get_by_label("E-mail").rect();
    h.event(egui::Event::PointerMoved(
        table.center() + egui::vec2(0.0, 200.0),
    ));
    // (egui scrolls smoothly: a few turns of the wheel, far past the end.)
    for _ in 0..5 {
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -3_000_000.0),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        });
        h.run_steps(10);
    }
    wait_for(&mut h, &email);

    // And by search: the e-mail's words, typed as prefixes.
    let search = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Search");
    search.click();
    search.type_text(email.split('@').next().unwrap());
    wait_for(&mut h, "Cardholders: 1");
    wait_for(&mut h, &email);
}

#[test]
fn search_is_by_prefix_accent_insensitive_and_finds_card_numbers() {
    let (_dir, _db, mut desk, s) = demo_site(200);
    // Zoë is found typing "zoe" or just "zo".
    let zoe = desk
        .cardholders(&s, "zoe", PageRequest::first(500))
        .unwrap();
    assert!(zoe.total > 0);
    assert!(
        zoe.items.iter().all(|c| c.first_name == "Zoë"),
        "{:?}",
        zoe.items
    );
    let zo = desk.cardholders(&s, "Zo", PageRequest::first(500)).unwrap();
    assert_eq!(zo.total, zoe.total);
    // Two words: both must match.
    let both = desk
        .cardholders(&s, "zoë jansen", PageRequest::first(500))
        .unwrap();
    assert!(both
        .items
        .iter()
        .all(|c| c.last_name == "Jansen" && c.first_name == "Zoë"));
    // A card number finds its holder (the demo's cards are 100:0, 100:1, …).
    let by_card = desk
        .cardholders(&s, "137", PageRequest::first(500))
        .unwrap();
    let holder = carddesk::store::connect(desk.path())
        .unwrap()
        .query_row(
            "SELECT cardholder_id FROM credential
              WHERE json_extract(fields, '$.card') = 137 AND json_extract(fields, '$.facility') = 100",
            (),
            |r| r.get::<_, i64>(0),
        )
        .unwrap();
    assert!(
        by_card.items.iter().any(|c| c.id == holder),
        "{:?}",
        by_card.items
    );
    // Counts are SQL's, and a renamed cardholder is found by the new name.
    let id = zoe.items[0].id;
    let input = carddesk::desk::CardholderInput {
        first_name: "Zora".into(),
        last_name: "Quist".into(),
        email: Some("zora.quist@example.org".into()),
        ..Default::default()
    };
    desk.update_cardholder(&s, id, &input).unwrap();
    assert_eq!(
        desk.cardholders(&s, "quist", PageRequest::first(5))
            .unwrap()
            .total,
        1
    );
    assert_eq!(
        desk.cardholders(&s, "zoe", PageRequest::first(500))
            .unwrap()
            .total,
        zoe.total - 1
    );
}

/// The worker's next snapshot, after `send` (a command or a change made
/// elsewhere).
fn next_snapshot(w: &DeskWorker, what: &str, done: impl Fn(&Snapshot) -> bool) -> Snapshot {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        for reply in w.poll() {
            if let Reply::Snapshot(s) = reply {
                if done(&s) {
                    return s;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no snapshot with {what}")
}

#[test]
fn a_change_elsewhere_rereads_only_the_lists_that_show_it() {
    let (_dir, db, mut desk, s) = demo_site(1_000);
    let w = DeskWorker::spawn(db.clone(), Arc::new(|| {})).unwrap();
    w.send(carddesk::desk::DeskCommand::Login {
        name: DEMO_OPERATOR.0.into(),
        password: carddesk::desk::Secret::new(DEMO_OPERATOR.1.to_string()),
    });
    let before = next_snapshot(&w, "the lists", |s| s.cardholders.total == 1_000);
    let first = before.cardholders.items[0].clone();

    // Another process (here: another connection) renames the first
    // cardholder on the visible page.
    let mut input = carddesk::desk::CardholderInput {
        first_name: "Aaron".into(),
        last_name: "Aardvark".into(),
        ..Default::default()
    };
    input.email = first.email.clone();
    desk.update_cardholder(&s, first.id, &input).unwrap();
    let after = next_snapshot(&w, "the renamed cardholder", |s| {
        s.cardholders
            .items
            .iter()
            .any(|c| c.last_name == "Aardvark")
    });
    // Lists that do not show cardholders were not read again: the very
    // same pages are shared.
    assert!(Arc::ptr_eq(&before.mail, &after.mail));
    assert!(Arc::ptr_eq(&before.sites, &after.sites));
    assert!(Arc::ptr_eq(&before.formats, &after.formats));
    assert!(Arc::ptr_eq(&before.templates, &after.templates));
    assert!(!Arc::ptr_eq(&before.cardholders, &after.cardholders));
    assert_eq!(after.cardholders.total, 1_000);
}

#[test]
fn demo_generate_from_the_command_line_needs_demo_and_reports_the_totals() {
    let dir = common::private_dir();
    let db = dir.path().join("big.db");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_carddesk"))
            .arg("--db")
            .arg(&db)
            .args(args)
            .env_remove("CARDDESK_OPERATOR")
            .env_remove("CARDDESK_PASSWORD")
            .output()
            .unwrap()
    };
    let out = run(&["demo", "generate", "--cardholders", "10"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --demo"));
    let args = [
        "--demo",
        "demo",
        "generate",
        "--cardholders",
        "300",
        "--credentials",
        "900",
        "--requests",
        "2000",
        "--pending",
        "40",
    ];
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("300 cardholders, 900 credentials, 2000 answered and 40 pending requests"));
    // Again: it extends.
    let out = run(&args);
    assert!(String::from_utf8_lossy(&out.stdout)
        .starts_with("600 cardholders, 1800 credentials, 4000 answered and 80 pending requests"));
    let desk = Desk::open(&db).unwrap();
    let s = desk.login(DEMO_OPERATOR.0, DEMO_OPERATOR.1).unwrap();
    assert_eq!(desk.pending_count(&s).unwrap(), 80);
    // A real site's database is never filled with demo data.
    let site = dir.path().join("site.db");
    let mut real = Desk::open(&site).unwrap();
    let admin = real.init_admin("admin", None, "correct horse").unwrap();
    let err = real
        .generate_demo(
            &admin,
            &ScaleSpec {
                cardholders: 1,
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("only into a database created with --demo"),
        "{err}"
    );
}
