//! The window as a security product: it locks after idle time without
//! losing the open dialog, a disabled operator is sent back to the login at
//! once, a reset password must be changed first, administrators manage
//! operators in Settings, and demo data is offered only in a demo database.

mod common;

use carddesk::desk::{Desk, Role};
use carddesk::ui::Options;
use common::ui::{
    log_in, log_in_as, open_app, open_app_on, shows, step_until, wait_for, wait_for_text,
};
use common::{TestDesk, PASSWORD};
use egui_kittest::kittest::Queryable;

#[test]
fn the_window_locks_when_idle_and_unlocks_where_it_was() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.request_for(&admin, "Ida", "Idle", false);
    let mut h = open_app_on(
        t.db_path(),
        Options {
            idle_lock: Some(std::time::Duration::from_secs(2)),
            ..Default::default()
        },
    );
    log_in(&mut h);
    wait_for(&mut h, "Card requests (1)");
    h.get_by_label("Card requests (1)").click();
    wait_for_text(&mut h, "Ida Idle");
    // No input for longer than the idle time: locked, nothing of the desk
    // on screen.
    step_until(&mut h, "the lock", |h| h.state().is_locked());
    wait_for(&mut h, "CardDesk is locked");
    assert!(!common::ui::shows_text(&h, "Ida Idle"));

    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text("not my password");
    h.get_by_label("Unlock").click();
    wait_for_text(&mut h, "unknown operator or wrong password");
    assert!(h.state().is_locked());

    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text(PASSWORD);
    h.get_by_label("Unlock").click();
    step_until(&mut h, "unlocked", |h| !h.state().is_locked());
    // The dialog that was open is open again, as it was.
    wait_for_text(&mut h, "Ida Idle");
    assert!(h.state().requests_open);
    let trail = t
        .desk
        .audit_events(&admin, carddesk::desk::PageRequest::first(10))
        .unwrap()
        .items;
    assert!(trail.iter().any(|e| e.action == "login.failed"));
}

#[test]
fn a_disabled_operator_is_sent_back_to_the_login_at_once() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.operator("olga", Role::Operator, None);
    let mut h = open_app(&t, None);
    log_in_as(&mut h, "olga", PASSWORD);
    // Another desk (this test's own connection) disables her.
    t.desk.set_operator_active(&admin, "olga", false).unwrap();
    wait_for_text(&mut h, "olga has been disabled");
    assert!(h.state().session.is_none());
    assert!(shows(&h, "Log in"));
}

#[test]
fn a_reset_password_is_changed_before_the_desk_opens() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.operator("olga", Role::Operator, None);
    t.desk
        .reset_operator_password(&admin, "olga", "given-by-admin")
        .unwrap();
    let mut h = open_app(&t, None);
    wait_for(&mut h, "Log in");
    h.get_by_label("Operator").click();
    h.get_by_label("Operator").type_text("olga");
    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text("given-by-admin");
    h.get_by_label("Log in").click();
    wait_for(&mut h, "Choose a new password");
    assert!(!shows(&h, "Card requests (0)"));
    for (field, value) in [
        ("Current password", "given-by-admin"),
        ("New password", "olga-own-pass"),
        ("Repeat password", "olga-own-pass"),
    ] {
        h.get_by_label(field).click();
        h.get_by_label(field).type_text(value);
    }
    h.get_by_label("Change password").click();
    wait_for(&mut h, "Card requests (0)");
    t.desk.login("olga", "olga-own-pass").unwrap();
}

#[test]
fn administrators_manage_operators_in_settings() {
    let mut t = TestDesk::new();
    t.operator("olga", Role::Operator, None);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    h.get_by_label("Settings").click();
    wait_for(&mut h, "Operators");
    h.get_by_label("Operators").click();
    wait_for(&mut h, "Add an operator");
    // olga's row: disable her.
    step_until(&mut h, "olga's row", |h| shows(h, "olga"));
    let disable = h.query_all_by_label("Disable").count();
    assert_eq!(disable, 2, "admin and olga are active");
    // The first row is admin's own (sorted by name), whose button is off.
    h.query_all_by_label("Disable").nth(1).unwrap().click();
    wait_for_text(&mut h, "olga disabled");
    wait_for(&mut h, "Enable");
    assert!(t.desk.login("olga", PASSWORD).is_err());

    // Add an operator.
    for (field, value) in [
        ("Operator name", "vic"),
        ("Operator e-mail", "vic@site.example"),
        ("First password", "vic-first-pass"),
    ] {
        h.get_by_label(field).click();
        h.get_by_label(field).type_text(value);
    }
    h.get_by_label("Add operator").click();
    wait_for_text(&mut h, "Operator vic added");
    t.desk.login("vic", "vic-first-pass").unwrap();
    // That login (another connection) refreshes the list within the watch
    // interval; let it land before typing, as an operator would see it.
    for _ in 0..60 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(10));
    }

    // A too short password is refused with the rule.
    h.get_by_label("Operator name").click();
    h.get_by_label("Operator name").type_text("2");
    h.get_by_label("First password").click();
    h.key_press(egui::Key::Backspace);
    for _ in 0..20 {
        h.key_press(egui::Key::Backspace);
    }
    h.get_by_label("First password").type_text("short");
    h.get_by_label("Add operator").click();
    wait_for_text(&mut h, "at least 8 characters");
}

#[test]
fn demo_data_is_offered_only_in_a_demo_database() {
    // A site's new database: no demo data, only the way to the demo.
    let dir = common::private_dir();
    let db = dir.path().join("site.db");
    Desk::open(&db).unwrap();
    let mut h = open_app_on(db, Options::default());
    wait_for(&mut h, "Set up CardDesk");
    assert!(!shows(&h, "Load demo data"));
    assert!(shows(&h, "Open the demo instead"));
    assert!(!shows(&h, "DEMO database"));

    // A demo database offers it and says what it is.
    let db = dir.path().join("demo.db");
    Desk::open(&db).unwrap().mark_demo().unwrap();
    let mut h = open_app_on(db, Options::default());
    wait_for(&mut h, "Set up CardDesk");
    assert!(shows(&h, "Load demo data"));
    assert!(shows(&h, "DEMO database"));
}
