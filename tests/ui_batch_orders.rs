//! The Batch orders page driven by its visible labels (egui_kittest) on a
//! real database file, with the simulated printer (the CUPS adapter is
//! exercised in tests/temp_cards.rs): Search, tick, Issue, Next with one
//! failure, Repeat production, Complete order.

mod common;

use carddesk::desk::{Desk, TempCardRequest};
use carddesk::devices::printer::{CardPrinter, PrintWorker, SimulatedPrinter};
use carddesk::domain::TempCardState;
use carddesk::store::temp_cards::{OrderStatus, TempCardFilter};
use carddesk::ui::{DeskApp, DeskWorker, Options};
use common::*;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn open_app(t: &TestDesk, printer: Arc<SimulatedPrinter>) -> Harness<'static, DeskApp> {
    let db = t.db_path();
    Harness::builder()
        .with_size([1280.0, 800.0])
        .with_step_dt(0.05)
        .build_eframe(move |cc| {
            let ctx = cc.egui_ctx.clone();
            let notify: carddesk::devices::Notify = Arc::new(move || ctx.request_repaint());
            let worker = DeskWorker::spawn(db, notify.clone()).unwrap();
            let p: Arc<dyn CardPrinter> = printer;
            let w = PrintWorker::spawn(p.clone(), notify);
            DeskApp::new(
                worker,
                Options {
                    printer: Some((p, w)),
                    ..Default::default()
                },
            )
        })
}

fn step_until(
    h: &mut Harness<'_, DeskApp>,
    what: &str,
    done: impl Fn(&Harness<'_, DeskApp>) -> bool,
) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        h.step();
        if done(h) {
            h.step();
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("timed out waiting for {what}");
}

fn wait_for(h: &mut Harness<'_, DeskApp>, label: &str) {
    let l = label.to_string();
    step_until(h, label, move |h| {
        h.query_all_by_label_contains(&l).next().is_some()
    });
}

#[test]
fn issue_multiple_temporary_cards_with_a_failure_repeated() {
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
    let printer = Arc::new(SimulatedPrinter::new(Duration::from_millis(20)));
    printer.fail_next("ribbon out");
    let mut h = open_app(&t, printer);
    wait_for(&mut h, "Log in");
    h.get_by_label("Operator").click();
    h.get_by_label("Operator").type_text("admin");
    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text(PASSWORD);
    h.get_by_label("Log in").click();
    wait_for(&mut h, "Log out");

    h.get_by_label("Batch orders").click();
    wait_for(&mut h, "Search");
    h.get_by_label("Search").click();
    wait_for(&mut h, "3 requested card(s), 0 ticked");
    for id in ["#1", "#2", "#3"] {
        h.get_by_label(id).click();
        h.step();
    }
    wait_for(&mut h, "3 requested card(s), 3 ticked");
    h.get_by_role_and_label(
        egui::accesskit::Role::Button,
        "Issue multiple temporary cards",
    )
    .click();
    wait_for(&mut h, "Batch order 1");
    h.get_by_label("Next").click();
    wait_for(
        &mut h,
        "1 of 3 card(s) failed; tick them and choose Repeat production.",
    );
    assert!(h.query_all_by_label_contains("ribbon out").next().is_some());

    let check = Desk::open(&t.db_path()).unwrap();
    let states: Vec<TempCardState> = check
        .temp_cards(&TempCardFilter::default())
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
    wait_for(&mut h, "1 card(s) produced.");
    h.get_by_label("Complete order").click();
    wait_for(&mut h, "Batch order 1 completed.");
    let cards = check.temp_cards(&TempCardFilter::default()).unwrap();
    assert!(cards.iter().all(|c| c.state == TempCardState::Unassigned));
    assert_eq!(check.temp_order(1).unwrap().status, OrderStatus::Completed);
}

#[test]
fn cancel_while_producing_leaves_every_card_whole() {
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
    let printer = Arc::new(SimulatedPrinter::new(Duration::from_millis(400)));
    let mut h = open_app(&t, printer);
    wait_for(&mut h, "Log in");
    h.get_by_label("Operator").click();
    h.get_by_label("Operator").type_text("admin");
    h.get_by_label("Password").click();
    h.get_by_label("Password").type_text(PASSWORD);
    h.get_by_label("Log in").click();
    wait_for(&mut h, "Log out");
    h.get_by_label("Batch orders").click();
    wait_for(&mut h, "Search");
    h.get_by_label("Search").click();
    wait_for(&mut h, "3 requested card(s), 0 ticked");
    for id in ["#1", "#2", "#3"] {
        h.get_by_label(id).click();
        h.step();
    }
    h.get_by_role_and_label(
        egui::accesskit::Role::Button,
        "Issue multiple temporary cards",
    )
    .click();
    wait_for(&mut h, "Batch order 1");
    h.get_by_label("Next").click();
    wait_for(&mut h, "Producing 1 of 3");
    h.get_by_label("Cancel").click();
    wait_for(&mut h, "Batch order 1 cancelled.");

    let check = Desk::open(&t.db_path()).unwrap();
    let cards = check.temp_cards(&TempCardFilter::default()).unwrap();
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
    assert_eq!(check.temp_order(1).unwrap().status, OrderStatus::Cancelled);
}
