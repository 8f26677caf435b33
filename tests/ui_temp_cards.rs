//! A temporary card's whole life in the window (egui_kittest, real
//! database file, the simulated card printer): five cards requested on the
//! Temporary cards form, issued on Batch orders with PINs, their PIN
//! letters saved as one PDF (read back with pdftotext), one card found by
//! its chip UID at the reader and lent until a chosen day, taken back by
//! presenting it again, and its PUK revealed once (audited). The same flow
//! with a real encoder and certificates is in tests/temp_cards.rs.

mod common;

use carddesk::desk::{PageRequest, TempCardState};
use carddesk::devices::printer::{CardPrinter, SimulatedPrinter};
use common::ui::*;
use common::TestDesk;
use egui_kittest::kittest::Queryable;
use std::sync::Arc;
use std::time::Duration;

/// The PINs printed in a PIN-letter PDF, in page order.
fn pins_in(pdf: &std::path::Path) -> Vec<String> {
    let out = std::process::Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("PIN"))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn five_cards_requested_issued_with_pin_letters_lent_by_reader_taken_back_and_puk_revealed() {
    let mut t = TestDesk::new();
    let admin = t.admin.clone();
    t.cardholder("Tom", "Temp");
    let printer: Arc<dyn CardPrinter> = Arc::new(SimulatedPrinter::new(Duration::ZERO));
    let mut h = open_app(&t, Some(printer));
    h.state_mut().set_readers(vec!["Desk reader".into()]);
    log_in(&mut h);

    // B1: the request form.
    h.get_by_label("Temporary cards").click();
    wait_for(&mut h, "Request temporary cards");
    for (field, value) in [("Count", "5"), ("Note", "Visitors")] {
        let node = h.get_by_role_and_label(egui::accesskit::Role::TextInput, field);
        node.click();
        node.type_text(value);
    }
    h.get_by_label("Request").click();
    wait_for_text(
        &mut h,
        "Requested 5 temporary card(s): #1000, #1001, #1002, #1003, #1004.",
    );

    // B2–B5: Batch orders finds them, issues them; PINs are made.
    h.get_by_label("Batch orders").click();
    wait_for_text(&mut h, "Search");
    h.get_by_label("Search").click();
    wait_for_text(&mut h, "5 requested card(s), 0 ticked");
    for id in ["#1", "#2", "#3", "#4", "#5"] {
        h.get_by_label(id).click();
        h.step();
    }
    wait_for_text(&mut h, "5 requested card(s), 5 ticked");
    h.get_by_role_and_label(
        egui::accesskit::Role::Button,
        "Issue multiple temporary cards",
    )
    .click();
    wait_for_text(&mut h, "Batch order 1");
    h.get_by_label("Next").click();
    wait_for_text(&mut h, "5 card(s) produced.");
    wait_for_text(&mut h, "5 PIN letter(s) are ready");
    // The order cannot be completed while its letters are unhandled.
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, "5 PIN letter(s) are ready");
    assert!(!shows_text(&h, "Batch order 1 completed."));
    h.ctx
        .set_missing_glyph_policy(egui::epaint::text::MissingGlyphPolicy::Tofu);
    h.get_by_label("Save PIN letters as one PDF…").click();
    wait_for(&mut h, "Save the PIN letters");
    h.get_by_label("Save the PIN letters").click();
    wait_for_text(&mut h, "PIN letters saved to");
    let pins = pins_in(&t.dir.path().join("pin-letters.pdf"));
    assert_eq!(pins.len(), 5, "{pins:?}");
    let cards = t.desk.temp_cards(&admin, &Default::default()).unwrap();
    assert_eq!(cards.len(), 5);
    for (card, pin) in cards.iter().zip(&pins) {
        assert_eq!(card.state, TempCardState::Unassigned);
        assert!(t.desk.check_temp_pin(&admin, card.id, pin).unwrap());
    }
    step_until(&mut h, "letters handled", |h| {
        !shows_text(h, "PIN letter(s) are ready")
    });
    h.get_by_label("Complete order").click();
    wait_for_text(&mut h, "Batch order 1 completed.");

    // B6: the chip UID encoding records finds #1002 at the reader.
    let lent = cards.iter().find(|c| c.card_number == 1002).unwrap();
    carddesk::store::temp_cards::set_credential_uid(&t.db(), lent.credential_id, "04C0FFEE000003")
        .unwrap();
    h.get_by_label("Temporary cards").click();
    wait_for(&mut h, "#1004");
    h.state_mut()
        .on_card_presented("Desk reader", "04C0FFEE000003");
    step_until(&mut h, "the card found by its UID", |h| {
        !shows(h, "#1004") && shows(h, "#1002")
    });
    wait_for(&mut h, "Assign to");
    h.get_by_role_and_label(egui::accesskit::Role::ComboBox, "Assign to")
        .click();
    wait_for(&mut h, "Tom Temp");
    h.get_by_label("Tom Temp").click();
    h.step();
    h.get_by_label("Assign").click();
    wait_for_text(&mut h, "#1002 is now assigned.");
    // Lent as long as the card is valid (no other day picked).
    let card = t.desk.temp_cards(&admin, &Default::default()).unwrap();
    let card = card.iter().find(|c| c.id == lent.id).unwrap();
    assert_eq!(card.holder_name.as_deref(), Some("Tom Temp"));
    assert_eq!(card.assigned_until, card.valid_until);
    wait_for_text(&mut h, "Lent until the end of");

    // Presented again, it is taken back.
    h.state_mut()
        .on_card_presented("Desk reader", "04C0FFEE000003");
    wait_for(&mut h, "Take back");
    h.get_by_label("Take back").click();
    wait_for_text(&mut h, "#1002 is now unassigned.");

    h.get_by_label("Reveal PUK").click();
    wait_for_text(&mut h, "PUK of #1002:");
    let trail = t
        .desk
        .audit_events(&admin, PageRequest::first(50))
        .unwrap()
        .items;
    for action in [
        "temp_card.assign",
        "temp_card.return",
        "temp_card.reveal_puk",
    ] {
        assert!(trail.iter().any(|e| e.action == action), "{action}");
    }
}
