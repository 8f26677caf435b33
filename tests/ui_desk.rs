//! The desk window driven the way an operator uses it, by visible labels,
//! on a real database file (egui_kittest, no GPU needed).

mod common;

use carddesk::desk::Desk;
use carddesk::devices::printer::SimulatedPrinter;
use carddesk::domain::RequestStatus;
use carddesk::store::print_jobs::PrintStatus;
use carddesk::ui::{DeskApp, Options};
use common::ui::*;
use common::*;
use egui_kittest::kittest::{NodeT, Queryable};
use egui_kittest::Harness;
use std::sync::Arc;
use std::time::Duration;

/// A second desk on the test's database, as another process would open it,
/// and the administrator's session: to check what the window wrote.
fn check(t: &TestDesk) -> (Desk, &carddesk::desk::Session) {
    (Desk::open(&t.db_path()).unwrap(), &t.admin)
}

/// A desk with `n` pending requests for Person 1..n, raised by admin.
fn desk_with_requests(n: usize) -> (TestDesk, Vec<i64>) {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let ids = (1..=n)
        .map(|i| t.request_for(&admin, "Person", &i.to_string(), i == 1))
        .collect();
    (t, ids)
}

fn open_requests_from_tray(h: &mut Harness<'_, DeskApp>, pending: usize) {
    let tray = format!("Pending card requests: {pending}");
    wait_for(h, &tray);
    h.get_by_label(&tray).click();
    wait_for(h, "Deny request");
}

#[test]
fn login_shows_the_pending_count_in_tray_and_credential_management() {
    let (t, _) = desk_with_requests(3);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (3)");
    assert!(shows(&h, "Pending card requests: 3"));
    h.get_by_label("Card requests (3)").click();
    wait_for(&mut h, "Person 1");
}

#[test]
fn wrong_password_is_refused_on_screen() {
    let t = TestDesk::new();
    let mut h = open_app(&t, None);
    wait_for(&mut h, "Log in");
    h.get_by_label("Operator").click();
    h.get_by_label("Operator").type_text("admin");
    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text("wrong");
    h.get_by_label("Log in").click();
    wait_for(&mut h, "unknown operator or wrong password");
}

#[test]
fn shift_select_three_and_deny_with_a_reason() {
    let (t, ids) = desk_with_requests(5);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    open_requests_from_tray(&mut h, 5);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 2")
        .click();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 4")
        .click_modifiers(egui::Modifiers::SHIFT);
    wait_for(&mut h, "3 selected");
    h.get_by_label("Deny request").click();
    wait_for(&mut h, "Deny 3 request(s)");
    h.get_by_label("Reason (optional)").click();
    h.get_by_label("Reason (optional)")
        .type_text("duplicate requests");
    h.get_by_label("Deny 3 request(s)").click();
    wait_for(&mut h, "Denied 3 request(s).");
    wait_for(&mut h, "Pending card requests: 2");

    let (check, admin) = check(&t);
    for (i, id) in ids.iter().enumerate() {
        let r = check.request(admin, *id).unwrap();
        if (1..=3).contains(&i) {
            assert_eq!(r.status, RequestStatus::Denied);
            assert_eq!(r.deny_reason.as_deref(), Some("duplicate requests"));
        } else {
            assert_eq!(r.status, RequestStatus::Pending);
        }
    }
}

#[test]
fn ctrl_click_toggles_selection() {
    let (t, _) = desk_with_requests(4);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    open_requests_from_tray(&mut h, 4);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 1")
        .click();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 3")
        .click_modifiers(egui::Modifiers::COMMAND);
    wait_for(&mut h, "2 selected");
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 1")
        .click_modifiers(egui::Modifiers::COMMAND);
    wait_for(&mut h, "1 selected");
    // Ctrl+A selects them all.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    wait_for(&mut h, "4 selected");
}

fn connect_dialog_for(h: &mut Harness<'_, DeskApp>, pending: usize, who: &str) {
    open_requests_from_tray(h, pending);
    h.get_by_role_and_label(egui::accesskit::Role::Button, who)
        .click();
    wait_for(h, "1 selected");
    h.get_by_label("Connect card").click();
    wait_for(h, "Manual entry");
}

#[test]
fn manual_entry_shows_the_range_error_then_registers_and_close_completes() {
    let (t, ids) = desk_with_requests(2);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    connect_dialog_for(&mut h, 2, "Person 1");
    h.get_by_label("Manual entry").click();
    wait_for(&mut h, "Format");
    h.get_by_label("Format").click();
    wait_for(
        &mut h,
        "H10301 — HID 26-bit standard (8-bit facility, 16-bit card)",
    );
    h.get_by_label("H10301 — HID 26-bit standard (8-bit facility, 16-bit card)")
        .click();
    wait_for(&mut h, "facility");
    h.get_by_label("facility").click();
    h.get_by_label("facility").type_text("12");
    h.get_by_label("card").click();
    h.get_by_label("card").type_text("70000");
    wait_for(&mut h, "card 70000 is out of range for H10301 (0–65535)");
    assert!(shows(
        &h,
        "The system cannot confirm that this data matches a physical card."
    ));
    h.get_by_label("card").click();
    for _ in 0..5 {
        h.key_press(egui::Key::Backspace);
    }
    h.get_by_label("card").type_text("345");
    wait_for(&mut h, "00000110000000001010110010");
    h.get_by_label("Register").click();
    wait_for(&mut h, "Registered and assigned H10301 12:345 to Person 1.");
    h.get_by_label("Done").click();
    wait_for(&mut h, "H10301 12:345");

    // Close completes the request; the count drops and the mail is queued.
    h.get_by_label("Close").click();
    wait_for(&mut h, "Closed 1 request(s).");
    wait_for(&mut h, "Pending card requests: 1");
    wait_for(&mut h, "Outbox: 1 queued, 0 sent, 0 failed");
    let (check, admin) = check(&t);
    assert_eq!(
        check.request(admin, ids[0]).unwrap().status,
        RequestStatus::Completed
    );
}

#[test]
fn existing_credential_is_assigned_by_double_click() {
    let (mut t, ids) = desk_with_requests(1);
    let admin = t.admin.clone();
    t.desk
        .register_credential(
            &admin,
            "H10306",
            &[
                ("facility".into(), "100".into()),
                ("card".into(), "77".into()),
            ],
        )
        .unwrap();
    let mut h = open_app(&t, None);
    log_in(&mut h);
    connect_dialog_for(&mut h, 1, "Person 1");
    h.get_by_label("Existing credential").click();
    wait_for(&mut h, "H10306 100:77");
    // Two clicks in consecutive frames, well inside the double-click delay.
    // Let the click on the tab age past the double-click delay first.
    h.run_steps(10);
    let node = h.get_by_role_and_label(egui::accesskit::Role::Button, "H10306 100:77");
    node.click();
    node.click();
    wait_for(&mut h, "Assigned H10306 100:77 to Person 1.");
    let (check, admin) = check(&t);
    assert!(check
        .request(admin, ids[0])
        .unwrap()
        .credential_id
        .is_some());
}

#[test]
fn automatic_entry_enrols_the_card_presented_at_the_chosen_reader() {
    let (t, _) = desk_with_requests(1);
    let mut h = open_app(&t, None);
    h.state_mut().set_readers(vec!["Simulated reader".into()]);
    log_in(&mut h);
    connect_dialog_for(&mut h, 1, "Person 1");
    wait_for(&mut h, "Present the card to Simulated reader…");
    // A card at another reader is ignored; at the chosen one it is enrolled.
    h.state_mut().on_card_presented("Door 3", "04A1B2C3D4E5F6");
    h.run_steps(3);
    assert!(!shows(
        &h,
        "Registered and assigned UID 04A1B2C3D4E5F6 to Person 1."
    ));
    h.state_mut()
        .on_card_presented("Simulated reader", "04A1B2C3D4E5F6");
    wait_for(
        &mut h,
        "Registered and assigned UID 04A1B2C3D4E5F6 to Person 1.",
    );
}

#[test]
fn a_card_held_by_someone_else_is_rejected_in_the_dialog() {
    let (mut t, _) = desk_with_requests(2);
    let admin = t.admin.clone();
    let other = t.request_for(&admin, "Hal", "Holder", false);
    t.desk
        .connect_card(
            &admin,
            other,
            &carddesk::desk::ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap();
    let mut h = open_app(&t, None);
    h.state_mut().set_readers(vec!["Simulated reader".into()]);
    log_in(&mut h);
    connect_dialog_for(&mut h, 3, "Person 2");
    wait_for(&mut h, "Present the card to Simulated reader…");
    h.state_mut()
        .on_card_presented("Simulated reader", "04A1B2C3");
    wait_for(
        &mut h,
        "Rejected: credential UID 04A1B2C3 is already assigned to Hal Holder; it cannot be given to Person 2",
    );
}

#[test]
fn a_request_added_by_another_process_appears_without_restart() {
    let (t, _) = desk_with_requests(2);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (2)");
    // A second connection to the same file, as the CLI would be.
    let mut other = Desk::open(&t.db_path()).unwrap();
    let admin = other.login("admin", PASSWORD).unwrap();
    other
        .create_cardholder(&admin, &person("Late", "Comer"), Some(&request(false)))
        .unwrap();
    wait_for(&mut h, "Card requests (3)");
    assert!(shows(&h, "Pending card requests: 3"));
}

#[test]
fn operator_without_deny_privilege_sees_why() {
    let (mut t, _) = desk_with_requests(1);
    t.operator("olga", carddesk::domain::Role::Operator, None);
    let mut h = open_app(&t, None);
    log_in_as(&mut h, "olga", PASSWORD);
    open_requests_from_tray(&mut h, 1);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 1")
        .click();
    wait_for(&mut h, "1 selected");
    assert!(h
        .get_by_label("Deny request")
        .accesskit_node()
        .is_disabled());
    assert!(!h
        .get_by_label("Connect card")
        .accesskit_node()
        .is_disabled());
}

#[test]
fn mail_server_is_configured_in_settings_and_a_bad_port_is_refused() {
    let t = TestDesk::new();
    let mut h = open_app(&t, None);
    log_in(&mut h);
    h.get_by_label("Settings").click();
    wait_for(&mut h, "Save mail settings");
    for (field, value) in [
        ("Host", "smtp.site.example"),
        ("From address", "desk@site.example"),
    ] {
        h.get_by_label(field).click();
        h.get_by_label(field).type_text(value);
    }
    h.get_by_label("Port").click();
    h.get_by_label("Port").type_text("x");
    h.get_by_label("Save mail settings").click();
    wait_for(&mut h, "port: 587x is not a port number (1–65535)");
    h.get_by_label("Port").click();
    h.key_press(egui::Key::Backspace);
    h.get_by_label("Save mail settings").click();
    wait_for(&mut h, "Mail settings saved.");
    let (check, admin) = check(&t);
    let stored = check.mail_settings(admin).unwrap().unwrap();
    assert_eq!(stored.host, "smtp.site.example");
    assert_eq!(stored.port, 587);
    assert_eq!(stored.from, "desk@site.example");
}

#[test]
fn print_cards_shows_the_preview_and_a_failed_job_can_be_repeated() {
    let (mut t, ids) = desk_with_requests(1);
    let admin = t.admin.clone();
    t.desk
        .connect_card(
            &admin,
            ids[0],
            &carddesk::desk::ConnectCard::Presented {
                uid: "04A1B2C3".into(),
            },
        )
        .unwrap();
    let printer = Arc::new(SimulatedPrinter::new(Duration::from_millis(50)));
    printer.fail_next("ribbon out");
    let printer: Arc<dyn carddesk::devices::printer::CardPrinter> = printer;
    let mut h = open_app(&t, Some(printer));
    log_in(&mut h);
    open_requests_from_tray(&mut h, 1);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Person 1")
        .click();
    wait_for(&mut h, "1 selected");
    h.get_by_label("Print cards").click();
    wait_for(&mut h, "Print 1 card(s)");
    h.get_by_label("Print 1 card(s)").click();
    wait_for_text(&mut h, "Person 1 — Failed:");
    assert!(shows_text(&h, "ribbon out"));
    h.get_by_label("Repeat").click();
    wait_for_text(&mut h, "Person 1 — Printed (printer job");
    let (check, admin) = check(&t);
    let jobs = check.print_jobs_for_request(admin, ids[0]).unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].status, PrintStatus::Printed);
    assert_eq!(jobs[0].attempts, 2);
}

#[test]
fn create_cardholder_with_a_card_request_raises_the_count() {
    let (t, _) = desk_with_requests(1);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (1)");
    h.get_by_label("Create cardholder").click();
    wait_for(&mut h, "First name");
    h.get_by_label("First name").click();
    h.get_by_label("First name").type_text("Zoë");
    h.get_by_label("Last name").click();
    h.get_by_label("Last name").type_text("Ğüneş-Ødegård");
    h.get_by_label("Expiry (YYYY-MM-DD)").click();
    h.get_by_label("Expiry (YYYY-MM-DD)")
        .type_text("31-12-2030");
    h.get_by_label("Request a card").click();
    wait_for(&mut h, "Email me when the card is ready");
    h.get_by_label("Reason").click();
    h.get_by_label("Reason").type_text("printer offline");
    h.get_by_label("Create").click();
    wait_for(
        &mut h,
        "expiry date: \"31-12-2030\" is not a date (YYYY-MM-DD)",
    );
    h.get_by_label("Expiry (YYYY-MM-DD)").click();
    for _ in 0..10 {
        h.key_press(egui::Key::Backspace);
    }
    h.get_by_label("Expiry (YYYY-MM-DD)")
        .type_text("2030-12-31");
    h.get_by_label("Create").click();
    wait_for(
        &mut h,
        "Cardholder Zoë Ğüneş-Ødegård created; card request 2 raised.",
    );
    wait_for(&mut h, "Card requests (2)");
    assert!(shows(&h, "Pending card requests: 2"));
}

#[test]
fn first_run_creates_the_administrator_and_offers_demo_data() {
    let dir = common::private_dir();
    let db = dir.path().join("new.db");
    // A new, empty demo database (demo data goes only into one): opened
    // (created and migrated) as the program does before the window starts.
    Desk::open(&db).unwrap().mark_demo().unwrap();
    let mut h = open_app_on(db, Options::default());
    wait_for(&mut h, "Set up CardDesk");
    for (field, value) in [
        ("Name", "alice"),
        ("E-mail", "alice@site.example"),
        ("Password", "long-enough-1"),
        ("Repeat password", "long-enough-2"),
    ] {
        h.get_by_label(field).click();
        h.get_by_label(field).type_text(value);
    }
    h.get_by_label("Create").click();
    wait_for(&mut h, "The passwords differ.");
    h.get_by_label("Repeat password").click();
    h.key_press(egui::Key::Backspace);
    h.get_by_label("Repeat password").type_text("1");
    h.get_by_label("Load demo data").click();
    h.get_by_label("Create").click();
    wait_for(&mut h, "Logged in as alice");
    wait_for(&mut h, "Card requests (12)");
    assert!(shows(&h, "Cardholders: 200"));
    assert!(shows(&h, "Credentials: 44"));
}
