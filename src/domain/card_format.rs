//! Card formats: how a credential's numbers become the bits a reader sends.
//!
//! A Wiegand format is *data*: its bit length, the position of each field and
//! which bits every parity bit covers. The standard HID formats are built in
//! here; an administrator can add a custom one as JSON without new code.
//! Bit strings are MSB first, in transmission order; index 0 is the first bit.
//!
//! The `UID` format is the odd one out: it is the raw serial number a reader
//! returns for a contactless card (4, 7 or 10 bytes), written as hex.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use thiserror::Error;

/// Name of the raw-UID format used by automatic enrolment.
pub const UID_FORMAT: &str = "UID";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    pub name: String,
    /// Index of the field's most significant bit.
    pub start: u16,
    pub len: u16,
}

impl FieldSpec {
    /// Largest value the field can hold.
    pub fn max(&self) -> u64 {
        if self.len >= 64 {
            u64::MAX
        } else {
            (1u64 << self.len) - 1
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    Even,
    Odd,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParitySpec {
    /// The parity bit itself.
    pub position: u16,
    pub kind: Parity,
    /// Bits whose count of ones (plus the parity bit) must be even or odd.
    /// May include other parity bits; parities are computed in list order.
    /// An odd parity over no bits is a bit that is always 1 (Kastle's,
    /// HID Generic 37's and Pyramid 40's fixed bits).
    pub covers: Vec<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WiegandFormat {
    pub name: String,
    pub description: String,
    pub bits: u16,
    pub fields: Vec<FieldSpec>,
    pub parity: Vec<ParitySpec>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CardFormat {
    Wiegand(WiegandFormat),
    /// Raw card serial number (UID) as read by a PC/SC reader.
    Uid {
        name: String,
        description: String,
    },
}

/// Field values of one credential, by field name.
pub type FieldValues = BTreeMap<String, u64>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// In the format's field order.
    pub fields: Vec<(String, u64)>,
    pub parity_ok: bool,
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum FormatError {
    #[error("unknown card format {0:?} (see `carddesk format list`)")]
    UnknownFormat(String),
    #[error("{field} {value} is out of range for {format} ({min}–{max})")]
    OutOfRange {
        format: String,
        field: String,
        value: String,
        min: u64,
        max: u64,
    },
    #[error("{field} {value:?} is not a number (allowed for {format}: {min}–{max})")]
    NotANumber {
        format: String,
        field: String,
        value: String,
        min: u64,
        max: u64,
    },
    #[error("{format} has no field {field:?} (its fields: {expected})")]
    UnknownField {
        format: String,
        field: String,
        expected: String,
    },
    #[error("{format} needs a value for {field}")]
    MissingField { format: String, field: String },
    #[error("{format} takes {expected} bits, got {got}")]
    WrongLength {
        format: String,
        expected: String,
        got: usize,
    },
    #[error("bit string may contain only 0 and 1, found {0:?}")]
    NotBinary(char),
    #[error("card UID {0:?} must be 4, 7 or 10 bytes of hex (e.g. 04A1B2C3D4E5F6)")]
    BadUid(String),
    #[error("format definition {name:?} is invalid: {reason}")]
    BadDefinition { name: String, reason: String },
}

impl CardFormat {
    pub fn name(&self) -> &str {
        match self {
            CardFormat::Wiegand(w) => &w.name,
            CardFormat::Uid { name, .. } => name,
        }
    }

    pub fn description(&self) -> &str {
        match self {
            CardFormat::Wiegand(w) => &w.description,
            CardFormat::Uid { description, .. } => description,
        }
    }

    /// Field names and their allowed ranges, for forms and error messages.
    pub fn field_ranges(&self) -> Vec<(String, u64, u64)> {
        match self {
            CardFormat::Wiegand(w) => w
                .fields
                .iter()
                .map(|f| (f.name.clone(), 0, f.max()))
                .collect(),
            CardFormat::Uid { .. } => Vec::new(),
        }
    }

    /// Parses `FIELD=VALUE` text values and checks them against the format.
    /// Errors name the field, the value and the allowed range.
    pub fn parse_fields(&self, input: &[(String, String)]) -> Result<FieldValues, FormatError> {
        let CardFormat::Wiegand(w) = self else {
            return Err(FormatError::UnknownField {
                format: self.name().into(),
                field: input.first().map(|(k, _)| k.clone()).unwrap_or_default(),
                expected: "none; give the UID as hex instead".into(),
            });
        };
        let mut values = FieldValues::new();
        for (name, raw) in input {
            let spec = w.field(name)?;
            let raw = raw.trim();
            let out_of_range = || FormatError::OutOfRange {
                format: w.name.clone(),
                field: spec.name.clone(),
                value: raw.to_string(),
                min: 0,
                max: spec.max(),
            };
            let value: u64 = if raw.starts_with('-')
                && raw[1..].chars().all(|c| c.is_ascii_digit())
                && raw.len() > 1
            {
                return Err(out_of_range());
            } else if !raw.is_empty() && raw.chars().all(|c| c.is_ascii_digit()) {
                // Digits only but too large for u64 is still "out of range".
                raw.parse().map_err(|_| out_of_range())?
            } else {
                return Err(FormatError::NotANumber {
                    format: w.name.clone(),
                    field: spec.name.clone(),
                    value: raw.to_string(),
                    min: 0,
                    max: spec.max(),
                });
            };
            if value > spec.max() {
                return Err(out_of_range());
            }
            values.insert(spec.name.clone(), value);
        }
        for f in &w.fields {
            if !values.contains_key(&f.name) {
                return Err(FormatError::MissingField {
                    format: w.name.clone(),
                    field: f.name.clone(),
                });
            }
        }
        Ok(values)
    }

    /// Field values as a JSON object in the format's field order, for storage.
    pub fn fields_json(&self, values: &FieldValues) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        for (name, _, _) in self.field_ranges() {
            if let Some(v) = values.get(&name) {
                map.insert(name, (*v).into());
            }
        }
        serde_json::Value::Object(map)
    }

    /// Encodes checked field values to the bit string (with parity).
    pub fn encode(&self, values: &FieldValues) -> Result<String, FormatError> {
        match self {
            CardFormat::Wiegand(w) => w.encode(values),
            CardFormat::Uid { .. } => Err(FormatError::UnknownField {
                format: self.name().into(),
                field: values.keys().next().cloned().unwrap_or_default(),
                expected: "none; give the UID as hex instead".into(),
            }),
        }
    }

    pub fn decode(&self, bits: &str) -> Result<Decoded, FormatError> {
        match self {
            CardFormat::Wiegand(w) => w.decode(bits),
            CardFormat::Uid { name, .. } => {
                let v = parse_bits(bits)?;
                if !matches!(v.len(), 32 | 56 | 80) {
                    return Err(FormatError::WrongLength {
                        format: name.clone(),
                        expected: "32, 56 or 80".into(),
                        got: v.len(),
                    });
                }
                Ok(Decoded {
                    fields: Vec::new(),
                    parity_ok: true,
                })
            }
        }
    }
}

impl WiegandFormat {
    fn field(&self, name: &str) -> Result<&FieldSpec, FormatError> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| FormatError::UnknownField {
                format: self.name.clone(),
                field: name.to_string(),
                expected: self
                    .fields
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// Checks that fields and parity bits fit the bit length and don't overlap.
    pub fn validate(&self) -> Result<(), FormatError> {
        let bad = |reason: String| FormatError::BadDefinition {
            name: self.name.clone(),
            reason,
        };
        if self.name.trim().is_empty() {
            return Err(bad("the name is empty".into()));
        }
        if self.bits == 0 || self.bits > 128 {
            return Err(bad(format!("bit length {} is not 1–128", self.bits)));
        }
        if self.fields.is_empty() {
            return Err(bad("it has no data fields".into()));
        }
        let mut used = vec![false; self.bits as usize];
        for (i, f) in self.fields.iter().enumerate() {
            if f.name.trim().is_empty() {
                return Err(bad(format!("field {} has no name", i + 1)));
            }
            if self.fields[..i].iter().any(|g| g.name == f.name) {
                return Err(bad(format!("field {} is defined twice", f.name)));
            }
            if f.len == 0 || f.len > 64 {
                return Err(bad(format!("field {} has length {} (1–64)", f.name, f.len)));
            }
            // Checked: a hostile start near u16::MAX must not wrap around.
            if f.start.checked_add(f.len).is_none_or(|end| end > self.bits) {
                return Err(bad(format!(
                    "field {} (bits {}–{}) runs past bit {}",
                    f.name,
                    f.start,
                    u32::from(f.start) + u32::from(f.len) - 1,
                    self.bits - 1
                )));
            }
            for b in f.start..f.start + f.len {
                if std::mem::replace(&mut used[b as usize], true) {
                    return Err(bad(format!("bit {b} is used twice")));
                }
            }
        }
        for p in &self.parity {
            if p.position >= self.bits {
                return Err(bad(format!("parity bit {} is past the end", p.position)));
            }
            if std::mem::replace(&mut used[p.position as usize], true) {
                return Err(bad(format!("bit {} is used twice", p.position)));
            }
            if let Some(b) = p
                .covers
                .iter()
                .find(|&&b| b >= self.bits || b == p.position)
            {
                return Err(bad(format!("parity bit {} covers bit {b}", p.position)));
            }
        }
        Ok(())
    }

    pub fn encode(&self, values: &FieldValues) -> Result<String, FormatError> {
        // A definition read back from the database is checked again: bit
        // arithmetic below relies on it.
        self.validate()?;
        let mut bits = vec![false; self.bits as usize];
        for f in &self.fields {
            let v = *values
                .get(&f.name)
                .ok_or_else(|| FormatError::MissingField {
                    format: self.name.clone(),
                    field: f.name.clone(),
                })?;
            if v > f.max() {
                return Err(FormatError::OutOfRange {
                    format: self.name.clone(),
                    field: f.name.clone(),
                    value: v.to_string(),
                    min: 0,
                    max: f.max(),
                });
            }
            for i in 0..f.len {
                bits[(f.start + i) as usize] = (v >> (f.len - 1 - i)) & 1 == 1;
            }
        }
        for p in &self.parity {
            bits[p.position as usize] = parity_bit(&bits, p);
        }
        Ok(bits.iter().map(|&b| if b { '1' } else { '0' }).collect())
    }

    pub fn decode(&self, text: &str) -> Result<Decoded, FormatError> {
        self.validate()?;
        let bits = parse_bits(text)?;
        if bits.len() != self.bits as usize {
            return Err(FormatError::WrongLength {
                format: self.name.clone(),
                expected: self.bits.to_string(),
                got: bits.len(),
            });
        }
        let fields = self
            .fields
            .iter()
            .map(|f| {
                let v = (f.start..f.start + f.len)
                    .fold(0u64, |acc, b| (acc << 1) | bits[b as usize] as u64);
                (f.name.clone(), v)
            })
            .collect();
        let parity_ok = self
            .parity
            .iter()
            .all(|p| bits[p.position as usize] == parity_bit(&bits, p));
        Ok(Decoded { fields, parity_ok })
    }
}

/// The value the parity bit must have given the bits it covers.
fn parity_bit(bits: &[bool], p: &ParitySpec) -> bool {
    let ones = p.covers.iter().filter(|&&b| bits[b as usize]).count();
    match p.kind {
        Parity::Even => ones % 2 == 1,
        Parity::Odd => ones % 2 == 0,
    }
}

pub fn parse_bits(text: &str) -> Result<Vec<bool>, FormatError> {
    text.trim()
        .chars()
        .map(|c| match c {
            '0' => Ok(false),
            '1' => Ok(true),
            other => Err(FormatError::NotBinary(other)),
        })
        .collect()
}

/// Normalises a card UID to upper-case hex; accepts spaces and colons.
pub fn normalize_uid(raw: &str) -> Result<String, FormatError> {
    let hex: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect::<String>()
        .to_ascii_uppercase();
    let ok = hex.chars().all(|c| c.is_ascii_hexdigit()) && matches!(hex.len(), 8 | 14 | 20);
    if ok {
        Ok(hex)
    } else {
        Err(FormatError::BadUid(raw.to_string()))
    }
}

fn range(from: u16, to_inclusive: u16) -> Vec<u16> {
    (from..=to_inclusive).collect()
}

fn field(name: &str, start: u16, len: u16) -> FieldSpec {
    FieldSpec {
        name: name.into(),
        start,
        len,
    }
}

fn parity(position: u16, kind: Parity, covers: Vec<u16>) -> ParitySpec {
    ParitySpec {
        position,
        kind,
        covers,
    }
}

/// The classic layout: even parity over the first half, odd over the second.
fn two_parity(
    name: &str,
    description: &str,
    bits: u16,
    fields: Vec<FieldSpec>,
    even_to: u16,
    odd_from: u16,
) -> CardFormat {
    CardFormat::Wiegand(WiegandFormat {
        name: name.into(),
        description: description.into(),
        bits,
        fields,
        parity: vec![
            parity(0, Parity::Even, range(1, even_to)),
            parity(bits - 1, Parity::Odd, range(odd_from, bits - 2)),
        ],
    })
}

/// Bits `from..=to` except those with `b % 3 == skip`: the interleaved
/// parity masks of HID Corporate 1000.
fn every_third_skipped(from: u16, to: u16, skip: u16) -> Vec<u16> {
    (from..=to).filter(|b| b % 3 != skip).collect()
}

/// The formats every site has. Order is the order shown to operators.
pub fn builtin_formats() -> Vec<CardFormat> {
    vec![
        two_parity(
            "H10301",
            "HID 26-bit standard (8-bit facility, 16-bit card)",
            26,
            vec![field("facility", 1, 8), field("card", 9, 16)],
            12,
            13,
        ),
        two_parity(
            "H10306",
            "HID 34-bit (16-bit facility, 16-bit card)",
            34,
            vec![field("facility", 1, 16), field("card", 17, 16)],
            16,
            17,
        ),
        two_parity(
            "H10302",
            "HID 37-bit, no facility code (35-bit card)",
            37,
            vec![field("card", 1, 35)],
            18,
            18,
        ),
        two_parity(
            "H10304",
            "HID 37-bit (16-bit facility, 19-bit card)",
            37,
            vec![field("facility", 1, 16), field("card", 17, 19)],
            18,
            18,
        ),
        CardFormat::Wiegand(WiegandFormat {
            name: "C1K35".into(),
            description: "HID Corporate 1000 35-bit (12-bit company, 20-bit card)".into(),
            bits: 35,
            fields: vec![field("company", 2, 12), field("card", 14, 20)],
            parity: vec![
                // Layout as in HID's spec and Proxmark3's Pack_C1k35s.
                parity(1, Parity::Even, every_third_skipped(2, 33, 1)),
                // Covers bit 1, so it is computed after it.
                parity(34, Parity::Odd, every_third_skipped(1, 32, 0)),
                // Odd over the whole card, computed last.
                parity(0, Parity::Odd, range(1, 34)),
            ],
        }),
        CardFormat::Wiegand(WiegandFormat {
            name: "C1K48".into(),
            description: "HID Corporate 1000 48-bit (22-bit company, 23-bit card)".into(),
            bits: 48,
            fields: vec![field("company", 2, 22), field("card", 24, 23)],
            parity: vec![
                // As in Proxmark3's Pack_C1k48s; unlike the 35-bit format
                // the trailing parity does not cover bit 1.
                parity(1, Parity::Even, every_third_skipped(3, 46, 2)),
                parity(47, Parity::Odd, every_third_skipped(2, 45, 1)),
                parity(0, Parity::Odd, range(1, 47)),
            ],
        }),
        CardFormat::Wiegand(WiegandFormat {
            name: "CSN32".into(),
            description: "32-bit card serial number, no parity".into(),
            bits: 32,
            fields: vec![field("card", 0, 32)],
            parity: vec![],
        }),
        CardFormat::Uid {
            name: UID_FORMAT.into(),
            description: "Raw card UID read by a PC/SC reader (4, 7 or 10 bytes, hex)".into(),
        },
    ]
}

mod reads;
pub use reads::{fits, known_formats, ReadFit};

#[cfg(test)]
mod tests;
