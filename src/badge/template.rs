//! Badge templates as data: a CR80 card, portrait or landscape, a front and
//! an optional back, each a list of elements placed in millimetres from the
//! card's top-left corner. Stored as JSON in the `badge_template` table.

use super::{BadgeError, FIELDS};
use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO/IEC 7810 ID-1 (CR80) card, long edge.
pub const CARD_LONG_MM: f32 = 85.60;
/// ISO/IEC 7810 ID-1 (CR80) card, short edge.
pub const CARD_SHORT_MM: f32 = 53.98;

/// The templates shipped with CardDesk (seeded into every database).
pub const BUILTIN_JSON: [(&str, &str); 2] = [
    (
        "Standard",
        include_str!("../../assets/templates/standard.json"),
    ),
    (
        "Visitor",
        include_str!("../../assets/templates/visitor.json"),
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Orientation {
    Portrait,
    Landscape,
}

impl fmt::Display for Orientation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Orientation::Portrait => "portrait",
            Orientation::Landscape => "landscape",
        })
    }
}

/// An sRGB colour, written "#RRGGBB" in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
}

impl Color {
    pub const BLACK: Color = Color { r: 0, g: 0, b: 0 };
    pub const WHITE: Color = Color {
        r: 255,
        g: 255,
        b: 255,
    };
}

impl TryFrom<String> for Color {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let hex = s.trim().strip_prefix('#').unwrap_or(s.trim());
        let bad = || format!("colour {s:?} must be written #RRGGBB (e.g. #1F4E8C)");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|_| bad());
        Ok(Color {
            r: byte(0)?,
            g: byte(2)?,
            b: byte(4)?,
        })
    }
}

impl From<Color> for String {
    fn from(c: Color) -> String {
        c.to_string()
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02X}{:02X}{:02X}", self.r, self.g, self.b)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

fn black() -> Color {
    Color::BLACK
}
fn white() -> Color {
    Color::WHITE
}

/// One thing drawn on a card side. Positions and sizes are millimetres from
/// the side's top-left corner; text sizes are points.
///
/// `text` and `value` may contain `{field}` placeholders (see
/// [`super::FIELDS`]), e.g. `"Valid until {expiry}"` or `"{card_number}"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Element {
    /// A filled rectangle or band.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Color,
    },
    /// One line of text in a box `w` wide whose top is at `y`; shrunk to fit.
    Text {
        x: f32,
        y: f32,
        w: f32,
        size: f32,
        text: String,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        align: Align,
        #[serde(default = "black")]
        color: Color,
    },
    /// The cardholder's photo, cropped to fill the box.
    Photo { x: f32, y: f32, w: f32, h: f32 },
    /// A logo image, fitted into the box. `image` is a base64 PNG or JPEG;
    /// without it the CardDesk logo from `assets/logo.png` is used.
    Logo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        image: Option<String>,
    },
    /// A QR code `size` mm square (including its quiet zone).
    Qr {
        x: f32,
        y: f32,
        size: f32,
        value: String,
    },
    /// A Code 128 barcode filling the box (quiet zones included).
    Code128 {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        value: String,
    },
}

impl Element {
    /// (x, y, w, h) of the element's box; text boxes are one line high.
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        match *self {
            Element::Rect { x, y, w, h, .. }
            | Element::Photo { x, y, w, h }
            | Element::Logo { x, y, w, h, .. }
            | Element::Code128 { x, y, w, h, .. } => (x, y, w, h),
            Element::Text { x, y, w, size, .. } => (x, y, w, size * super::MM_PER_PT * 1.2),
            Element::Qr { x, y, size, .. } => (x, y, size, size),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Element::Rect { .. } => "rect",
            Element::Text { .. } => "text",
            Element::Photo { .. } => "photo",
            Element::Logo { .. } => "logo",
            Element::Qr { .. } => "qr",
            Element::Code128 { .. } => "code128",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Side {
    #[serde(default = "white")]
    pub background: Color,
    #[serde(default)]
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub orientation: Orientation,
    pub front: Side,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back: Option<Side>,
}

impl Template {
    /// The size (w, h in mm) of the first photo frame, front then back.
    pub fn photo_frame(&self) -> Option<(f32, f32)> {
        std::iter::once(&self.front)
            .chain(self.back.as_ref())
            .flat_map(|side| side.elements.iter())
            .find_map(|e| match e {
                Element::Photo { w, h, .. } => Some((*w, *h)),
                _ => None,
            })
    }

    /// Parses and validates a template from its JSON definition.
    pub fn from_json(json: &str) -> Result<Template, BadgeError> {
        let t: Template = serde_json::from_str(json).map_err(|e| BadgeError::Template {
            template: "(new)".into(),
            reason: format!("not a valid template definition: {e}"),
        })?;
        t.validate()?;
        Ok(t)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("templates serialise")
    }

    /// The shipped templates, parsed.
    pub fn builtin() -> Vec<Template> {
        BUILTIN_JSON
            .iter()
            .map(|(_, json)| Template::from_json(json).expect("shipped templates are valid"))
            .collect()
    }

    /// Page size in millimetres (width, height).
    pub fn size_mm(&self) -> (f32, f32) {
        match self.orientation {
            Orientation::Landscape => (CARD_LONG_MM, CARD_SHORT_MM),
            Orientation::Portrait => (CARD_SHORT_MM, CARD_LONG_MM),
        }
    }

    /// The sides to print, front first.
    pub fn sides(&self) -> impl Iterator<Item = (&'static str, &Side)> {
        std::iter::once(("front", &self.front)).chain(self.back.iter().map(|b| ("back", b)))
    }

    /// Whether this is the PIN letter (which alone binds {pin} and {puk}).
    fn letter(&self) -> bool {
        self.name == PIN_LETTER
    }

    /// Checks names, sizes, placement and placeholders.
    pub fn validate(&self) -> Result<(), BadgeError> {
        let err = |reason: String| BadgeError::Template {
            template: self.name.clone(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(err("the template needs a name".into()));
        }
        let (cw, ch) = self.size_mm();
        for (side_name, side) in self.sides() {
            for (i, e) in side.elements.iter().enumerate() {
                let at = format!("{side_name} element {} ({})", i + 1, e.kind());
                let (x, y, w, h) = e.bounds();
                if !(w > 0.0 && h > 0.0) {
                    return Err(err(format!("{at}: width and height must be above 0 mm")));
                }
                let slack = 0.01;
                if x < -slack || y < -slack || x + w > cw + slack || y + h > ch + slack {
                    return Err(err(format!(
                        "{at}: box {x}, {y}, {w} × {h} mm does not fit on the {} card ({cw} × {ch} mm)",
                        self.orientation
                    )));
                }
                match e {
                    Element::Text { text, size, .. } => {
                        if !(*size >= 2.0 && *size <= 72.0) {
                            return Err(err(format!(
                                "{at}: text size {size} pt is outside 2–72 pt"
                            )));
                        }
                        check_placeholders(text, self.letter())
                            .map_err(|r| err(format!("{at}: {r}")))?;
                    }
                    Element::Qr { value, .. } | Element::Code128 { value, .. } => {
                        if value.trim().is_empty() {
                            return Err(err(format!(
                                "{at}: needs a value, e.g. \"{{card_number}}\""
                            )));
                        }
                        check_placeholders(value, self.letter())
                            .map_err(|r| err(format!("{at}: {r}")))?;
                    }
                    Element::Logo {
                        image: Some(b64), ..
                    } => {
                        decode_base64_image(b64).map_err(|r| err(format!("{at}: {r}")))?;
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// Splits `text` into literal and `{field}` parts.
pub(crate) fn parts(text: &str) -> Result<Vec<Part<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            out.push(Part::Literal(&rest[..open]));
        }
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in {text:?} (write {{field}})"))?;
        out.push(Part::Field(after[..close].trim()));
        rest = &after[close + 1..];
    }
    if !rest.is_empty() {
        out.push(Part::Literal(rest));
    }
    Ok(out)
}

pub(crate) enum Part<'a> {
    Literal(&'a str),
    Field(&'a str),
}

/// The name of the PIN letter's template (made in code, never stored).
pub(crate) const PIN_LETTER: &str = "PIN letter";

/// The fields only the PIN letter binds: never on a badge.
const LETTER_FIELDS: [&str; 2] = ["pin", "puk"];

fn check_placeholders(text: &str, letter: bool) -> Result<(), String> {
    for p in parts(text)? {
        if let Part::Field(f) = p {
            let allowed = FIELDS.contains(&f) || (letter && LETTER_FIELDS.contains(&f));
            if !allowed {
                return Err(format!(
                    "unknown field {{{f}}}; use one of: {}",
                    FIELDS.join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// A template's logo from its base64 text: a PNG or JPEG of at most
/// 4000 × 4000 pixels (a template is data an administrator hands in; a
/// forged header must not allocate gigabytes).
pub(crate) fn decode_base64_image(b64: &str) -> Result<image::RgbaImage, String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|e| format!("logo image is not valid base64 ({e})"))?;
    let mut reader = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .expect("reading from memory cannot fail");
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(4000);
    limits.max_image_height = Some(4000);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map(|i| i.to_rgba8()).map_err(|e| {
        format!("logo image must be a PNG or JPEG of at most 4000 × 4000 pixels ({e})")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_parse_and_round_trip() {
        for t in Template::builtin() {
            let again = Template::from_json(&t.to_json()).unwrap();
            assert_eq!(again, t);
        }
        let names: Vec<String> = Template::builtin().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["Standard", "Visitor"]);
    }

    #[test]
    fn bad_colour_is_named() {
        let e = Color::try_from("blue".to_string()).unwrap_err();
        assert!(e.contains("#RRGGBB"), "{e}");
        assert_eq!(
            Color::try_from("#1f4e8c".to_string()).unwrap().to_string(),
            "#1F4E8C"
        );
    }

    #[test]
    fn unknown_placeholder_lists_allowed_fields() {
        let mut t = Template::builtin().remove(0);
        t.front.elements.push(Element::Text {
            x: 1.0,
            y: 1.0,
            w: 10.0,
            size: 8.0,
            text: "{nickname}".into(),
            bold: false,
            align: Align::Left,
            color: Color::BLACK,
        });
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("unknown field {nickname}"), "{e}");
        assert!(e.contains("full_name"), "{e}");
    }

    #[test]
    fn element_off_the_card_is_refused() {
        let mut t = Template::builtin().remove(0);
        t.front.elements.push(Element::Rect {
            x: 80.0,
            y: 0.0,
            w: 10.0,
            h: 5.0,
            color: Color::BLACK,
        });
        let e = t.validate().unwrap_err().to_string();
        assert!(e.contains("does not fit on the landscape card"), "{e}");
    }

    #[test]
    fn unknown_json_keys_are_refused() {
        let e = Template::from_json(
            r#"{"name":"X","orientation":"landscape","front":{"elements":[{"kind":"star","x":1}]}}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown variant `star`"), "{e}");
    }
}
