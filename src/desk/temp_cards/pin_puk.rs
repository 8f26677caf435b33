//! PIN and PUK of a temporary card: fresh ones (and their letter) for each
//! produced card, revealing the PUK to a privileged operator, and checking
//! a PIN against its stored hash.

use super::{get_card, PinLetter};
use crate::badge;
use crate::desk::{Desk, DeskError, DeskResult, Session};
use crate::devices::printer::PrintDocument;
use crate::domain::temp_card as rules;
use crate::domain::Privilege;
use crate::store::{self, temp_cards::TempCard};

/// A fresh PIN and PUK for `card` and the PIN letter that hands them over.
pub(super) fn new_pin_letter(
    card: &TempCard,
    pin_length: u8,
    puk_length: u8,
) -> DeskResult<PinLetter> {
    let pin = rules::random_digits(pin_length);
    let puk = rules::random_digits(puk_length);
    let pdf = badge::pin_letter_pdf(&card.card_number.to_string(), &pin, &puk)?;
    Ok(PinLetter { pin, puk, pdf })
}

impl Desk {
    /// Shows a card's PUK to an operator with the reveal_puk privilege; each
    /// reveal is audited (without the PUK itself).
    pub fn reveal_temp_puk(&mut self, s: &Session, card_id: i64) -> DeskResult<String> {
        self.require(s, Privilege::RevealPuk, "reveal PUKs")?;
        let card = get_card(&self.conn, card_id)?;
        let puk = store::temp_cards::puk(&self.conn, card_id)?.ok_or_else(|| {
            DeskError::invalid(
                "temporary card",
                format!("{} has no PUK (it was never produced)", card.label()),
            )
        })?;
        let puk = self.keys.open_text(crate::desk::keys::Purpose::Puk, &puk)?;
        let tx = self.begin()?;
        tx.audit(
            s,
            "temp_card.reveal_puk",
            "temp_card",
            Some(card_id),
            None,
            None,
        )?;
        tx.commit()?;
        Ok(puk)
    }

    /// Whether `pin` is the card's PIN (checked against the stored hash).
    pub fn check_temp_pin(&self, s: &Session, card_id: i64, pin: &str) -> DeskResult<bool> {
        self.require(s, Privilege::ViewCredentials, "check a PIN")?;
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let Some(hash) = store::temp_cards::pin_hash(&self.conn, card_id)? else {
            return Ok(false);
        };
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| DeskError::invalid("PIN", format!("stored hash unreadable: {e}")))?;
        Ok(argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok())
    }
}

/// The PIN letters of a production run (card number, PIN, PUK) as one
/// document, a page each, to print on an ordinary printer or save.
pub fn pin_letters_document(letters: &[(String, String, String)]) -> DeskResult<PrintDocument> {
    Ok(PrintDocument {
        title: format!("PIN letters ({} cards)", letters.len()),
        pdf: badge::pin_letters_pdf(letters)?,
        page_mm: (crate::badge::CARD_LONG_MM, crate::badge::CARD_SHORT_MM),
    })
}
