//! Badges: templates (data), layout, PDF rendering and a preview image.
//!
//! One layout step turns a [`Template`] and a card's [`BadgeData`] into
//! positioned shapes, text runs and images; the PDF writer ([`render_pdf`])
//! and the preview rasteriser ([`preview`]) both draw exactly that layout with
//! the same embedded font (DejaVu Sans from `assets/fonts/`), so the preview
//! shows what will be printed.

mod layout;
mod pdf;
mod pin_letter;
mod preview;
mod template;

pub use layout::{check_photo, photo_in_frame, MAX_PHOTO_SIDE};
pub use pdf::render_pdf;
pub use pin_letter::{pin_letter_pdf, pin_letters_pdf};
pub use preview::{preview, preview_at, PREVIEW_PX_PER_MM};
pub use template::{
    Align, Color, Element, Orientation, Side, Template, BUILTIN_JSON, CARD_LONG_MM, CARD_SHORT_MM,
};

use std::collections::BTreeMap;
use thiserror::Error;

/// Millimetres per PostScript point.
pub const MM_PER_PT: f32 = 25.4 / 72.0;

pub(crate) const FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");
pub(crate) const LOGO_PNG: &[u8] = include_bytes!("../../assets/logo.png");
/// A placeholder portrait for demos and samples.
pub const DEMO_PHOTO_PNG: &[u8] = include_bytes!("../../assets/demo-photo.png");

/// The fields a template can bind with `{field}`.
pub const FIELDS: [&str; 15] = [
    "full_name",
    "first_name",
    "last_name",
    "department",
    "email",
    "cardholder_id",
    "site",
    "activation",
    "expiry",
    "card_number",
    "credential",
    "card_format",
    "uid",
    "request_id",
    "printed_on",
];

#[derive(Debug, Error)]
pub enum BadgeError {
    #[error("badge template {template}: {reason}")]
    Template { template: String, reason: String },
    #[error("{symbology} cannot encode {value:?}: {reason}")]
    Barcode {
        symbology: &'static str,
        value: String,
        reason: String,
    },
    #[error("the photo of {holder} cannot be read ({reason}); replace it with a JPEG or PNG")]
    Photo { holder: String, reason: String },
    #[error("no badges to render")]
    Empty,
}

/// What one card shows: values for the template's `{field}` placeholders
/// and the cardholder's photo. Built by the desk
/// (`Desk::badge_data_for_request` / `badge_data_for_cardholder`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BadgeData {
    pub values: BTreeMap<String, String>,
    /// JPEG or PNG bytes.
    pub photo: Option<Vec<u8>>,
}

impl BadgeData {
    /// Sets a field (trimmed; empty values count as missing).
    pub fn set(&mut self, field: &str, value: impl Into<String>) -> &mut Self {
        let v: String = value.into();
        let v = v.trim();
        if v.is_empty() {
            self.values.remove(field);
        } else {
            self.values.insert(field.to_string(), v.to_string());
        }
        self
    }

    /// The field's value, or "" when the card has none.
    pub fn get(&self, field: &str) -> &str {
        self.values.get(field).map(String::as_str).unwrap_or("")
    }

    /// Example data for template previews (and the README screenshot).
    pub fn sample() -> BadgeData {
        let mut d = BadgeData::default();
        d.set("first_name", "Zoë")
            .set("last_name", "Ğüneş-Ødegård")
            .set("full_name", "Zoë Ğüneş-Ødegård")
            .set("department", "Facilities & Security")
            .set("cardholder_id", "1042")
            .set("site", "Amsterdam HQ")
            .set("activation", "2026-01-05")
            .set("expiry", "2027-12-31")
            .set("card_number", "12345")
            .set("credential", "H10301 12:12345")
            .set("card_format", "H10301")
            .set("printed_on", "2026-11-22");
        d.photo = Some(DEMO_PHOTO_PNG.to_vec());
        d
    }

    /// Fills `{field}` placeholders. `None` when the text binds fields and
    /// every one of them is empty (the element is then left off the card).
    pub(crate) fn fill(&self, text: &str) -> Option<String> {
        let parts = template::parts(text).ok()?;
        let mut out = String::new();
        let mut bound = 0;
        let mut filled = 0;
        for p in parts {
            match p {
                template::Part::Literal(s) => out.push_str(s),
                template::Part::Field(f) => {
                    bound += 1;
                    let v = self.get(f);
                    if !v.is_empty() {
                        filled += 1;
                    }
                    out.push_str(v);
                }
            }
        }
        (bound == 0 || filled > 0).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_binds_fields_and_drops_empty_ones() {
        let mut d = BadgeData::default();
        d.set("expiry", "2027-01-31").set("department", "  ");
        assert_eq!(
            d.fill("Valid until {expiry}").as_deref(),
            Some("Valid until 2027-01-31")
        );
        assert_eq!(d.fill("{department}"), None);
        assert_eq!(d.fill("VISITOR").as_deref(), Some("VISITOR"));
    }
}
