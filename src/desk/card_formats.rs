//! Card formats the administrator adds (the built-in ones are data in
//! `domain::card_format`).

use super::{Desk, DeskResult, Session};
use crate::domain::{CardFormat, FormatError, Privilege};
use crate::store;

impl Desk {
    /// Adds a custom Wiegand format from its JSON definition (the same shape
    /// `carddesk format show` prints). Returns its name.
    pub fn add_card_format(&mut self, s: &Session, json: &str) -> DeskResult<String> {
        self.require(s, Privilege::ManageFormats, "add card formats")?;
        let format: CardFormat =
            serde_json::from_str(json).map_err(|e| FormatError::BadDefinition {
                name: "(new format)".into(),
                reason: format!("not a format definition: {e}"),
            })?;
        let CardFormat::Wiegand(w) = &format else {
            return Err(FormatError::BadDefinition {
                name: format.name().into(),
                reason: "only Wiegand formats can be added".into(),
            }
            .into());
        };
        w.validate()?;
        self.insert_format(s, format)
    }

    /// Adds one of the known formats (`domain::known_formats`: those door
    /// readers are known to send) to the site's formats, by name.
    pub fn add_known_format(&mut self, s: &Session, name: &str) -> DeskResult<String> {
        self.require(s, Privilege::ManageFormats, "add card formats")?;
        let known = crate::domain::known_formats();
        let format = known
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name.trim()))
            .cloned()
            .ok_or_else(|| FormatError::BadDefinition {
                name: name.to_string(),
                reason: format!(
                    "not a known format (known: {})",
                    known
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })?;
        self.insert_format(s, format)
    }

    fn insert_format(&mut self, s: &Session, format: CardFormat) -> DeskResult<String> {
        let CardFormat::Wiegand(w) = &format else {
            unreachable!("only Wiegand formats are added")
        };
        if store::formats::get(&self.conn, &w.name)?.is_some() {
            return Err(FormatError::BadDefinition {
                name: w.name.clone(),
                reason: "a format with this name already exists".into(),
            }
            .into());
        }
        let tx = self.begin()?;
        store::formats::insert(&tx, &format)?;
        tx.record(
            &s.operator().name,
            "format.create",
            "card_format",
            None,
            None,
            Some(&serde_json::to_value(&format).expect("serialise")),
        )?;
        tx.commit()?;
        Ok(w.name.clone())
    }
}
