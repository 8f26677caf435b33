//! The README's first command on a brand-new machine: the window starts on
//! a database file that does not exist yet (so the mailer, the desk worker
//! and the migration all start together, the race that used to break every
//! first start), and the operator walks the first-run set-up: the site and
//! its first administrator, the printers (real CUPS, a test card), the mail
//! server (a test message the window's own mailer delivers, no restart).

mod common;

use carddesk::desk::{Desk, Security};
use carddesk::ui::{boot, DeskApp, Startup};
use common::smtp::{delivered_to, unique_address, PrivateSink};
use common::ui::{step_until, wait_for};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::sync::Arc;

const PASSWORD: &str = "first-start-1";

/// The window as `carddesk` starts it (`ui::boot`: open and migrate, then
/// mailer, readers, printer and desk worker), on `db`.
fn start_window(db: std::path::PathBuf) -> Harness<'static, DeskApp> {
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_step_dt(0.05)
        .build_eframe(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let notify: carddesk::desk::station::Notify = Arc::new(move || ctx.request_repaint());
            boot(&db, false, Startup::Nothing, notify).expect("the window starts")
        })
}

fn type_into(h: &mut Harness<'_, DeskApp>, label: &str, text: &str) {
    h.get_by_label(label).click();
    h.get_by_label(label).type_text(text);
}

/// Step 1 of the set-up: the administrator alice, the site's name as offered.
fn create_alice(h: &mut Harness<'_, DeskApp>) {
    type_into(h, "Name", "alice");
    type_into(h, "Password", PASSWORD);
    type_into(h, "Repeat password", PASSWORD);
    h.get_by_label("Create").click();
    wait_for(h, "Step 2 of 4: Printers");
}

/// From step 2 of the set-up to the desk, choosing nothing.
fn skip_to_the_desk(h: &mut Harness<'_, DeskApp>) {
    h.get_by_label("Next").click();
    wait_for(h, "Step 3 of 4: Mail server");
    h.get_by_label("Skip").click();
    wait_for(h, "Step 4 of 4: Ready");
    h.get_by_label("Start").click();
    wait_for(h, "Logged in as alice");
}

/// Picks `option` in the combo box labelled `label`.
fn choose(h: &mut Harness<'_, DeskApp>, label: &str, option: &str) {
    h.get_by_label(label).click();
    h.run();
    h.get_by_label(option).click();
    h.run();
}

#[test]
fn a_first_start_sets_up_the_site_printers_and_mail_and_its_mailer_delivers() {
    let sink = PrivateSink::start();
    let dir = common::private_dir();
    // Where the per-user store would be: the folder is there, the file not.
    let db = dir.path().join("data").join("carddesk.db");
    assert!(!db.exists());
    let mut h = start_window(db.clone());

    // Step 1: the site's name and the first administrator.
    wait_for(&mut h, "Set up CardDesk");
    wait_for(&mut h, "Step 1 of 4: Site and administrator");
    h.get_by_label("Site name").click();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Site name").type_text("Amsterdam HQ");
    type_into(&mut h, "Name", "alice");
    type_into(&mut h, "E-mail", "alice@site.example");
    type_into(&mut h, "Password", PASSWORD);
    type_into(&mut h, "Repeat password", PASSWORD);
    h.get_by_label("Create").click();

    // Step 2: the real CUPS queues; a test card printed on the card printer,
    // PIN letters on the ordinary printer.
    wait_for(&mut h, "Step 2 of 4: Printers");
    let card_queue = std::env::var("CARD_QUEUE").unwrap_or_else(|_| "CardPrinter".into());
    let letter_queue = std::env::var("LETTER_QUEUE").unwrap_or_else(|_| "OfficePrinter".into());
    step_until(&mut h, "the print system's queues", |h| {
        h.query_by_label("Card printer").is_some()
    });
    choose(&mut h, "Card printer", &card_queue);
    choose(&mut h, "PIN letter printer", &letter_queue);
    {
        let _printer = common::device_lock("card-printer");
        h.get_by_label("Print a test card").click();
        common::ui::wait_for_text(&mut h, "The test card was printed on");
    }
    h.get_by_label("Save printers").click();
    wait_for(&mut h, "Printers saved.");
    h.get_by_label("Next").click();

    // Step 3: the mail server, and a test message through the window's own
    // mailer, started at the first start (no restart).
    wait_for(&mut h, "Step 3 of 4: Mail server");
    type_into(&mut h, "Host", "127.0.0.1");
    h.get_by_label("Port").click();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Port").type_text(&sink.port.to_string());
    choose(&mut h, "Security", "none");
    type_into(&mut h, "From address", "desk@site.example");
    h.get_by_label("Save mail settings").click();
    wait_for(&mut h, "Mail settings saved.");
    let to = unique_address("first-start");
    type_into(&mut h, "Send a test message to", &to);
    h.get_by_label("Send test message").click();
    step_until(&mut h, "the test message at the SMTP server", |_| {
        !delivered_to(sink.dir.path(), &to).is_empty()
    });
    let got = delivered_to(sink.dir.path(), &to);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, carddesk::desk::TEST_SUBJECT);
    h.get_by_label("Next").click();

    // Step 4, then the desk.
    wait_for(&mut h, "Step 4 of 4: Ready");
    h.get_by_label("Start").click();
    wait_for(&mut h, "Logged in as alice");

    // All of it is the site's, as another desk reads it.
    let other = Desk::connect(&db).unwrap();
    let alice = other.login("alice", PASSWORD).unwrap();
    let sites: Vec<String> = other
        .sites(&alice)
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(sites, ["Amsterdam HQ"]);
    let printers = other.printer_choice(&alice).unwrap();
    assert_eq!(printers.card.as_deref(), Some(card_queue.as_str()));
    assert_eq!(printers.letters.as_deref(), Some(letter_queue.as_str()));
    let tested: Vec<_> = other
        .audit_events(&alice, carddesk::desk::PageRequest::first(100))
        .unwrap()
        .items
        .into_iter()
        .filter(|e| e.action == "printer.test_card")
        .collect();
    assert_eq!(tested.len(), 1, "the test card is in the audit trail");
    assert_eq!(tested[0].actor, "alice");
    let mail = other
        .mail_settings(&alice)
        .unwrap()
        .expect("mail configured");
    assert_eq!(
        (mail.host.as_str(), mail.port, mail.security),
        ("127.0.0.1", sink.port, Security::None)
    );
}

#[test]
fn the_pin_letter_printer_is_never_the_card_printer() {
    let dir = common::private_dir();
    let db = dir.path().join("carddesk.db");
    let mut desk = Desk::open(&db).unwrap();
    let admin = desk.init_admin("alice", None, PASSWORD).unwrap();
    let same = carddesk::desk::PrinterChoice {
        card: Some("CardPrinter".into()),
        letters: Some("CardPrinter".into()),
    };
    let e = desk.choose_printers(&admin, &same).unwrap_err().to_string();
    assert!(e.contains("must not be the card printer"), "{e}");
    let odd = carddesk::desk::PrinterChoice {
        card: Some("Card Printer/1".into()),
        letters: None,
    };
    let e = desk.choose_printers(&admin, &odd).unwrap_err().to_string();
    assert!(e.contains("is not a printer queue name"), "{e}");
    assert_eq!(desk.printer_choice(&admin).unwrap(), Default::default());
}

#[test]
fn two_first_starts_at_once_both_open_the_new_database() {
    // Two processes (here: two threads with their own connections) opening
    // a database that does not exist yet: one migrates, the other waits for
    // it and finds it ready; neither fails with "table already exists".
    for round in 0..20 {
        let dir = common::private_dir();
        let db = dir.path().join("carddesk.db");
        let barrier = std::sync::Barrier::new(2);
        std::thread::scope(|s| {
            let opened: Vec<_> = (0..2)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        Desk::open(&db).map(|_| ())
                    })
                })
                .collect();
            for o in opened {
                if let Err(e) = o.join().unwrap() {
                    panic!("round {round}: a first start failed: {e}");
                }
            }
        });
    }
}

#[test]
fn an_upgrade_is_told_at_login_and_on_the_desk() {
    // A database an older CardDesk left (one schema behind), with its
    // administrator, started as `carddesk` starts it.
    let dir = common::private_dir();
    let db = dir.path().join("carddesk.db");
    let old = carddesk::store::schema_version() - 1;
    carddesk::store::create_at_schema(&db, old).unwrap();
    let mut h = start_window(db.clone());
    let backup = format!("carddesk.db.before-{}", env!("CARGO_PKG_VERSION"));
    common::ui::wait_for_text(
        &mut h,
        &format!(
            "the database went from schema {old} to {}",
            carddesk::store::schema_version()
        ),
    );
    common::ui::wait_for_text(&mut h, &backup);
    assert!(dir.path().join(&backup).exists());
    // The older database had no operator: set up, then the desk says it too.
    create_alice(&mut h);
    skip_to_the_desk(&mut h);
    common::ui::wait_for_text(&mut h, &backup);
}

#[test]
fn a_set_up_left_half_way_resumes_after_a_restart_until_finished() {
    let dir = common::private_dir();
    let db = dir.path().join("carddesk.db");
    let mut h = start_window(db.clone());
    wait_for(&mut h, "Set up CardDesk");
    create_alice(&mut h);
    // The window closes here (a power cut, the operator called away).
    drop(h);

    let mut h = start_window(db.clone());
    wait_for(&mut h, "Log in");
    type_into(&mut h, "Operator", "alice");
    type_into(&mut h, "Password", PASSWORD);
    h.get_by_label("Log in").click();
    wait_for(&mut h, "Step 2 of 4: Printers");
    skip_to_the_desk(&mut h);
    drop(h);

    // Finished: the next start goes straight to the desk.
    let mut h = start_window(db.clone());
    common::ui::log_in_as(&mut h, "alice", PASSWORD);
    wait_for(&mut h, "Logged in as alice");
    // Long enough for the worker's snapshot after login to arrive.
    for _ in 0..25 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!common::ui::shows_text(&h, "Step 2 of 4"));
    assert!(common::ui::shows(&h, "Log out"));
    let events: Vec<String> = Desk::connect(&db)
        .unwrap()
        .audit_events(
            &Desk::connect(&db)
                .unwrap()
                .login("alice", PASSWORD)
                .unwrap(),
            carddesk::desk::PageRequest::first(100),
        )
        .unwrap()
        .items
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("setup."))
        .collect();
    assert_eq!(events, ["setup.finished", "setup.started"]);
}
