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
    // The PINs exist only in the letters: Complete waits until they are
    // printed, saved or (confirmed) discarded.
    wait_for_text(&mut h, "3 PIN letter(s) are ready");
    h.get_by_label("Discard").click();
    wait_for_text(&mut h, "Discard them? The PINs cannot be shown again.");
    h.get_by_label("Yes, discard").click();
    step_until(&mut h, "letters discarded", |h| {
        !shows_text(h, "PIN letter(s) are ready")
    });
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

#[test]
fn pin_letters_are_saved_as_one_pdf_holding_every_pin() {
    let printer = Arc::new(SimulatedPrinter::new(Duration::ZERO));
    let (t, mut h) = order_of_three(printer);
    let admin = t.admin.clone();
    h.get_by_label("Next").click();
    wait_for_text(&mut h, "3 card(s) produced.");
    wait_for_text(&mut h, "3 PIN letter(s) are ready");
    // The file dialog crate draws emoji icons no bundled font has: boxes,
    // as in the window (egui's default policy); the harness would panic.
    h.ctx
        .set_missing_glyph_policy(egui::epaint::text::MissingGlyphPolicy::Tofu);
    h.get_by_label("Save PIN letters as one PDF…").click();
    wait_for(&mut h, "Save the PIN letters");
    h.get_by_label("Save the PIN letters").click();
    wait_for_text(&mut h, "PIN letters saved to");
    let pdf = t.dir.path().join("pin-letters.pdf");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pdf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let out = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    let text = String::from_utf8_lossy(&out.stdout);
    let pins: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PIN"))
        .map(|p| p.trim().to_string())
        .filter(|p| p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty())
        .collect();
    assert_eq!(pins.len(), 3, "{text}");
    let check = Desk::open(&t.db_path()).unwrap();
    let cards = check
        .temp_cards(&admin, &TempCardFilter::default())
        .unwrap();
    for (card, pin) in cards.iter().zip(&pins) {
        assert!(
            check.check_temp_pin(&admin, card.id, pin).unwrap(),
            "PIN of {}",
            card.card_number
        );
    }
    // Handled: the order can be completed.
    step_until(&mut h, "letters gone", |h| {
        !shows_text(h, "PIN letter(s) are ready")
    });
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, "Batch order 1 completed.");
}

#[test]
fn an_order_a_stopped_app_left_open_is_resumed_and_completes() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    let cards = t
        .desk
        .request_temp_cards(
            &admin,
            &TempCardRequest {
                count: 3,
                ..Default::default()
            },
        )
        .unwrap();
    let ids: Vec<i64> = cards.iter().map(|c| c.id).collect();
    let order = t
        .desk
        .issue_temp_cards(
            &admin,
            &ids,
            &carddesk::desk::IssueOptions::printer(SimulatedPrinter::QUEUE),
        )
        .unwrap();
    // The first card was produced, then the app stopped.
    let printer = Arc::new(SimulatedPrinter::new(Duration::ZERO));
    t.desk
        .produce_temp_card(&admin, order.id, ids[0], printer.as_ref(), None)
        .unwrap();
    let printer: Arc<dyn CardPrinter> = printer;
    let mut h = open_app(&t, Some(printer));
    log_in(&mut h);
    h.get_by_label("Batch orders").click();
    let resume = format!("Batch order {} of", order.id);
    wait_for_text(&mut h, &resume);
    h.query_all_by_label_contains(&resume)
        .next()
        .unwrap()
        .click();
    wait_for_text(&mut h, &format!("Batch order {}", order.id));
    // The state each card reached.
    wait_for(&mut h, "unassigned");
    assert_eq!(h.query_all_by_label("requested").count(), 2);
    h.get_by_label("Next").click();
    wait_for_text(&mut h, "2 card(s) produced.");
    wait_for_text(&mut h, "2 PIN letter(s) are ready");
    h.get_by_label("Discard").click();
    wait_for(&mut h, "Yes, discard");
    h.get_by_label("Yes, discard").click();
    step_until(&mut h, "letters discarded", |h| {
        !shows_text(h, "PIN letter(s) are ready")
    });
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, &format!("Batch order {} completed.", order.id));
}
