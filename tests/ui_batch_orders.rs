//! The Batch orders page driven by its visible labels (egui_kittest) on a
//! real database file, with the simulated printer (the CUPS adapter is
//! exercised in tests/temp_cards.rs): Search, tick, Issue, Next with one
//! failure, Repeat production, Complete order.

mod common;

use carddesk::desk::{Desk, TempCardRequest};
use carddesk::devices::printer::{CardPrinter, SimulatedPrinter};
use carddesk::domain::TempCardState;
use carddesk::store::temp_cards::{OrderStatus, TempCardFilter};
use carddesk::ui::DeskApp;
use common::ui::*;
use common::*;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::sync::Arc;
use std::time::Duration;

/// Three temporary cards requested, then issued on the Batch orders page
/// (Search, tick all three, Issue) as batch order 1, printed by `printer`.
fn order_of_three(printer: Arc<SimulatedPrinter>) -> (TestDesk, Harness<'static, DeskApp>) {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: 3,
                ..Default::default()
            },
        )
        .unwrap();
    let printer: Arc<dyn CardPrinter> = printer;
    let mut h = open_app(&t, Some(printer));
    log_in(&mut h);

    h.get_by_label("Batch orders").click();
    wait_for_text(&mut h, "Search");
    h.get_by_label("Search").click();
    wait_for_text(&mut h, "3 requested card(s), 0 ticked");
    for id in ["#1", "#2", "#3"] {
        h.get_by_label(id).click();
        h.step();
    }
    wait_for_text(&mut h, "3 requested card(s), 3 ticked");
    h.get_by_role_and_label(
        egui::accesskit::Role::Button,
        "Issue multiple temporary cards",
    )
    .click();
    wait_for_text(&mut h, "Batch order 1");
    (t, h)
}

#[test]
fn issue_multiple_temporary_cards_with_a_failure_repeated() {
    let printer = Arc::new(SimulatedPrinter::new(Duration::from_millis(20)));
    printer.fail_next("ribbon out");
    let (t, mut h) = order_of_three(printer);
    let admin = t.admin.clone();
    h.get_by_label("Next").click();
    wait_for_text(
        &mut h,
        "1 of 3 card(s) failed; tick them and choose Repeat production.",
    );
    assert!(shows_text(&h, "ribbon out"));

    let check = Desk::open(&t.db_path()).unwrap();
    let states: Vec<TempCardState> = check
        .temp_cards(&admin, &TempCardFilter::default())
        .unwrap()
        .iter()
        .map(|c| c.state)
        .collect();
    assert_eq!(
        states,
        [
            TempCardState::Failed,
            TempCardState::Unassigned,
            TempCardState::Unassigned
        ]
    );

    h.get_by_label("#1").click();
    h.step();
    h.get_by_label("Repeat production").click();
    wait_for_text(&mut h, "1 card(s) produced.");
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, "Batch order 1 completed.");
    let cards = check
        .temp_cards(&admin, &TempCardFilter::default())
        .unwrap();
    assert!(cards.iter().all(|c| c.state == TempCardState::Unassigned));
    assert_eq!(
        check.temp_order(&admin, 1).unwrap().status,
        OrderStatus::Completed
    );
}

#[test]
fn cancel_while_producing_leaves_every_card_whole() {
    let printer = Arc::new(SimulatedPrinter::new(Duration::from_millis(400)));
    let (t, mut h) = order_of_three(printer);
    let admin = t.admin.clone();
    h.get_by_label("Next").click();
    wait_for_text(&mut h, "Producing 1 of 3");
    h.get_by_label("Cancel").click();
    wait_for_text(&mut h, "Batch order 1 cancelled.");

    let check = Desk::open(&t.db_path()).unwrap();
    let cards = check
        .temp_cards(&admin, &TempCardFilter::default())
        .unwrap();
    // Each card is either produced (in stock) or still requested, outside
    // any order; the one being printed when Cancel was pressed finished.
    for c in &cards {
        match c.state {
            TempCardState::Unassigned => assert!(c.has_pin && c.produced_at.is_some()),
            TempCardState::Requested => {
                assert_eq!(c.order_id, None);
                assert!(!c.has_pin && c.produced_at.is_none());
            }
            other => panic!("card {} is {other}", c.id),
        }
    }
    assert!(cards.iter().any(|c| c.state == TempCardState::Requested));
    assert_eq!(
        check.temp_order(&admin, 1).unwrap().status,
        OrderStatus::Cancelled
    );
}
