//! The PIN letter of a temporary card: one page at ID-1 size (so the card
//! printer can print it too) with the card number, its PIN and its PUK.

use super::template::{Align, Color, Element, Orientation, Side, Template};
use super::{render_pdf, BadgeData, BadgeError};

/// Renders the one-page PIN letter of temporary card `card_number`.
pub fn pin_letter_pdf(card_number: &str, pin: &str, puk: &str) -> Result<Vec<u8>, BadgeError> {
    pin_letters_pdf(&[(card_number.to_string(), pin.to_string(), puk.to_string())])
}

/// The PIN letters of several cards (card number, PIN, PUK) as one PDF, a
/// page each: what the desk prints or saves at the end of a production run.
pub fn pin_letters_pdf(letters: &[(String, String, String)]) -> Result<Vec<u8>, BadgeError> {
    let text = |y: f32, size: f32, bold: bool, t: String| Element::Text {
        x: 4.0,
        y,
        w: 77.6,
        size,
        text: t,
        bold,
        align: Align::Left,
        color: Color::BLACK,
    };
    let t = Template {
        name: super::template::PIN_LETTER.into(),
        description: "PIN letter of a temporary card".into(),
        orientation: Orientation::Landscape,
        front: Side {
            background: Color::WHITE,
            elements: vec![
                text(4.0, 11.0, true, "PIN letter — confidential".into()),
                text(12.0, 8.0, false, "Temporary card {card_number}".into()),
                text(20.0, 12.0, true, "PIN  {pin}".into()),
                text(28.0, 12.0, true, "PUK  {puk}".into()),
                text(
                    38.0,
                    6.5,
                    false,
                    "Keep this letter apart from the card.".into(),
                ),
                text(
                    42.5,
                    6.5,
                    false,
                    "The desk cannot show the PIN again.".into(),
                ),
            ],
        },
        back: None,
    };
    let pages: Vec<BadgeData> = letters
        .iter()
        .map(|(card_number, pin, puk)| {
            let mut d = BadgeData::default();
            d.set("card_number", card_number.as_str());
            d.set("pin", pin.as_str());
            d.set("puk", puk.as_str());
            d
        })
        .collect();
    render_pdf(&t, &pages)
}
