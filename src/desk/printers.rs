//! The site's two printers, chosen once (first-run set-up, Settings) and
//! offered first wherever something is printed: the card printer for
//! badges, and an ordinary printer for PIN letters. PIN letters never go to
//! the card printer: a PIN printed on blank card stock is a PIN anyone
//! picking up the card can read.

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store;
use serde::Serialize;

const CARD_PRINTER: &str = "printer.card";
const LETTER_PRINTER: &str = "printer.letters";

/// The chosen CUPS queues; `None` means not chosen (the first queue is
/// offered for cards; PIN letters are saved as a PDF).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PrinterChoice {
    pub card: Option<String>,
    pub letters: Option<String>,
}

impl PrinterChoice {
    fn validate(&self) -> DeskResult<()> {
        for (field, name) in [
            ("card printer", &self.card),
            ("PIN letter printer", &self.letters),
        ] {
            if let Some(name) = name {
                // CUPS queue names: printable, no spaces, '/' or '#' (lpadmin(8)).
                if name.is_empty()
                    || name.len() > 127
                    || name
                        .chars()
                        .any(|c| c.is_control() || c.is_whitespace() || c == '/' || c == '#')
                {
                    return Err(DeskError::invalid(
                        field,
                        format!("{name:?} is not a printer queue name"),
                    ));
                }
            }
        }
        if self.card.is_some() && self.card == self.letters {
            return Err(DeskError::invalid(
                "PIN letter printer",
                "must not be the card printer: choose an ordinary printer, or none to save PIN letters as a PDF",
            ));
        }
        Ok(())
    }
}

impl Desk {
    /// The chosen printers (for whoever prints cards or PIN letters).
    pub fn printer_choice(&self, s: &Session) -> DeskResult<PrinterChoice> {
        self.require(s, Privilege::PrintCards, "see the chosen printers")?;
        Ok(PrinterChoice {
            card: store::settings::get(&self.conn, CARD_PRINTER)?,
            letters: store::settings::get(&self.conn, LETTER_PRINTER)?,
        })
    }

    /// Chooses the site's printers, audited with what they were before.
    pub fn choose_printers(&mut self, s: &Session, choice: &PrinterChoice) -> DeskResult<()> {
        self.require(s, Privilege::ManageSettings, "choose the printers")?;
        choice.validate()?;
        let tx = self.begin()?;
        let before = PrinterChoice {
            card: store::settings::get(&tx, CARD_PRINTER)?,
            letters: store::settings::get(&tx, LETTER_PRINTER)?,
        };
        for (key, value) in [
            (CARD_PRINTER, &choice.card),
            (LETTER_PRINTER, &choice.letters),
        ] {
            match value {
                Some(v) => store::settings::set(&tx, key, v)?,
                None => store::settings::delete(&tx, key)?,
            }
        }
        tx.record(
            s.name(),
            "settings.printers",
            "setting",
            None,
            Some(&serde_json::to_value(&before).expect("serialise")),
            Some(&serde_json::to_value(choice).expect("serialise")),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The test card for `printer`, for whoever may choose the printers.
    /// Card stock is counted: each test card is in the audit trail.
    pub fn prepare_test_card(
        &mut self,
        s: &Session,
        printer: &str,
    ) -> DeskResult<crate::devices::printer::PrintDocument> {
        self.require(s, Privilege::ManageSettings, "print a test card")?;
        PrinterChoice {
            card: Some(printer.to_string()),
            letters: None,
        }
        .validate()?;
        let doc = test_card()?;
        let tx = self.begin()?;
        tx.record(
            s.name(),
            "printer.test_card",
            "setting",
            None,
            None,
            Some(&serde_json::json!({ "printer": printer })),
        )?;
        tx.commit()?;
        Ok(doc)
    }
}

/// A sample badge for the card printer (the first built-in template, a
/// made-up cardholder): the set-up's test card.
fn test_card() -> DeskResult<crate::devices::printer::PrintDocument> {
    let template = crate::badge::Template::builtin()
        .into_iter()
        .next()
        .expect("built-in templates exist");
    let pdf = crate::badge::render_pdf(&template, &[crate::badge::BadgeData::sample()])?;
    Ok(crate::devices::printer::PrintDocument {
        title: "CardDesk test card".into(),
        pdf,
        page_mm: template.size_mm(),
    })
}
