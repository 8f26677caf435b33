//! The cardholder record in the window: opened by double-click, a card
//! reported stolen with its replacement counted on the tray badge at once,
//! a card requested for an existing cardholder, and the Card requests
//! dialog's history showing a denied request with its reason.

mod common;

use carddesk::desk::{ConnectCard, CredentialState, PageRequest};
use common::ui::{log_in, open_app, shows, step_until, wait_for, wait_for_text};
use common::TestDesk;
use egui_kittest::kittest::Queryable;

/// Jan Jansen with an active card H10301 12:345.
fn jan_with_a_card(t: &mut TestDesk) -> i64 {
    let admin = t.admin.clone();
    let request = t.request_for(&admin, "Jan", "Jansen", false);
    t.desk
        .connect_card(
            &admin,
            request,
            &ConnectCard::Manual {
                format: "H10301".into(),
                fields: vec![
                    ("facility".into(), "12".into()),
                    ("card".into(), "345".into()),
                ],
            },
        )
        .unwrap();
    t.desk.close_request(&admin, request).unwrap();
    t.desk.request(&admin, request).unwrap().cardholder_id
}

fn double_click(h: &mut egui_kittest::Harness<'_, carddesk::ui::DeskApp>, label: &str) {
    // Let earlier clicks age past the double-click delay first.
    h.run_steps(10);
    let node = h.get_by_role_and_label(egui::accesskit::Role::Label, label);
    node.click();
    node.click();
}

#[test]
fn report_a_card_stolen_from_the_record_and_the_replacement_is_counted() {
    let mut t = TestDesk::new();
    let holder = jan_with_a_card(&mut t);
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (0)");
    h.get_by_label("Cardholders").click();
    wait_for(&mut h, "Jan Jansen");
    double_click(&mut h, "Jan Jansen");
    wait_for(&mut h, "Cardholder: Jan Jansen");
    wait_for(&mut h, "H10301 12:345");
    assert!(shows(&h, "Report stolen"));
    h.get_by_label("Report stolen").click();
    wait_for(&mut h, "Request a replacement");
    h.get_by_label("What happened").click();
    h.get_by_label("What happened")
        .type_text("Bag stolen on the tram");
    h.get_by_label("Confirm").click();
    wait_for_text(&mut h, "replacement request 2 raised");
    // The tray badge counts it without a restart.
    step_until(&mut h, "the badge at 1", |h| h.state().pending_count() == 1);
    // The record shows the new state and the new request.
    wait_for(&mut h, "stolen");
    let admin = t.admin.clone();
    let record = t.desk.cardholder_record(&admin, holder).unwrap();
    assert_eq!(record.credentials[0].state, CredentialState::Stolen);
    assert_eq!(record.requests.len(), 2);
}

#[test]
fn request_a_card_for_an_existing_cardholder() {
    let mut t = TestDesk::new();
    let holder = t.cardholder("Els", "Existing");
    let mut h = open_app(&t, None);
    log_in(&mut h);
    h.get_by_label("Cardholders").click();
    wait_for(&mut h, "Els Existing");
    double_click(&mut h, "Els Existing");
    wait_for(&mut h, "Cardholder: Els Existing");
    step_until(&mut h, "the record", |h| shows(h, "Request a card"));
    h.get_by_label("Request a card").click();
    wait_for(&mut h, "Request card");
    h.get_by_label("Why a card is needed").click();
    h.get_by_label("Why a card is needed")
        .type_text("Moved to the harbour office");
    h.get_by_label("Request card").click();
    wait_for_text(&mut h, "Card request 1 raised.");
    step_until(&mut h, "the badge at 1", |h| h.state().pending_count() == 1);
    let admin = t.admin.clone();
    let r = t
        .desk
        .requests(&admin, None, PageRequest::first(10))
        .unwrap()
        .items;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].cardholder_id, holder);
    assert_eq!(r[0].reason, "Moved to the harbour office");
}

#[test]
fn the_history_shows_a_denied_request_with_its_reason() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let denied = t.request_for(&admin, "Dirk", "Denied", false);
    t.request_for(&admin, "Piet", "Pending", false);
    t.desk
        .deny_requests(&admin, &[denied], Some("Contract not signed"))
        .unwrap();
    let mut h = open_app(&t, None);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (1)");
    h.get_by_label("Card requests (1)").click();
    wait_for(&mut h, "Piet Pending");
    assert!(!common::ui::shows_text(&h, "Contract not signed"));
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Show")
        .click();
    wait_for(&mut h, "Denied");
    h.get_by_label("Denied").click();
    wait_for_text(&mut h, "Contract not signed");
    assert!(common::ui::shows_text(&h, "admin at 20"));
}

#[test]
fn three_selected_requests_get_their_cards_in_one_pass_printed_and_closed() {
    use carddesk::desk::station::SimulatedPrinter;
    use std::sync::Arc;
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    for last in ["One", "Two", "Three"] {
        t.request_for(&admin, "Starter", last, false);
    }
    let printer = Arc::new(SimulatedPrinter::new(std::time::Duration::ZERO));
    let mut h = open_app(&t, Some(printer));
    h.state_mut().set_readers(vec!["Desk reader".into()]);
    log_in(&mut h);
    wait_for(&mut h, "Card requests (3)");
    h.get_by_label("Card requests (3)").click();
    wait_for(&mut h, "Starter One");
    // One selection of all three (Ctrl+A), one click.
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Starter One")
        .click();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    wait_for(&mut h, "3 selected");
    h.get_by_label("Connect card").click();
    wait_for(&mut h, "Connect card for Starter One (1 of 3)");
    h.get_by_label("Print and close each one").click();
    step_until(&mut h, "the printer", |h| {
        h.query_all_by_value(SimulatedPrinter::QUEUE)
            .next()
            .is_some()
    });
    // One tap per person.
    for (uid, next) in [
        (
            "04000000000001",
            Some("Connect card for Starter Two (2 of 3)"),
        ),
        (
            "04000000000002",
            Some("Connect card for Starter Three (3 of 3)"),
        ),
        ("04000000000003", None),
    ] {
        h.state_mut().on_card_presented("Desk reader", uid);
        match next {
            Some(heading) => wait_for(&mut h, heading),
            None => wait_for_text(&mut h, "3 of 3 requests have their card."),
        }
    }
    // Each badge printed, each request closed.
    step_until(&mut h, "all closed", |h| h.state().pending_count() == 0);
    let done = t
        .desk
        .requests(
            &admin,
            Some(carddesk::desk::RequestStatus::Completed),
            PageRequest::first(10),
        )
        .unwrap();
    assert_eq!(done.total, 3);
    for r in &done.items {
        let c = t.desk.credential(&admin, r.credential_id.unwrap()).unwrap();
        assert_eq!(c.state, CredentialState::Active);
        assert_eq!(c.holder_name.as_deref(), Some(r.cardholder_name.as_str()));
    }
}

#[test]
fn edit_a_cardholder_s_details_in_the_record() {
    let mut t = TestDesk::new();
    let holder = t.cardholder("Erik", "Edit");
    let mut h = open_app(&t, None);
    log_in(&mut h);
    h.get_by_label("Cardholders").click();
    wait_for(&mut h, "Erik Edit");
    double_click(&mut h, "Erik Edit");
    wait_for(&mut h, "Cardholder: Erik Edit");
    step_until(&mut h, "the record", |h| shows(h, "Edit details"));
    h.get_by_label("Edit details").click();
    wait_for(&mut h, "Choose photo…");
    let field = h.get_by_role_and_label(egui::accesskit::Role::TextInput, "Department");
    field.click();
    field.type_text("Logistics");
    h.get_by_label("Save").click();
    wait_for_text(&mut h, "Saved Erik Edit.");
    let admin = t.admin.clone();
    let c = t.desk.cardholder_record(&admin, holder).unwrap().cardholder;
    assert_eq!(c.department.as_deref(), Some("Logistics"));
}
