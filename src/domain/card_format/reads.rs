//! Door reader reads: which formats a read of Wiegand bits fits, among the
//! site's and the known ones.

use super::{CardFormat, FieldValues};

/// The Wiegand formats door readers are known to send beyond the built-in
/// ones: the formats Proxmark3 documents in `client/src/wiegand_formats.c`
/// (RfidResearchGroup/proxmark3 at 1c8c3b78d4d8503cfa2888238427065efb4b8638),
/// written as our own data in `assets/wiegand_formats.json` and checked
/// against vectors from that reference implementation
/// (`tests/data/wiegand_vectors.json`). A site adds the ones its cards use
/// (`carddesk format add-known NAME`). Not expressible as bit ranges, so not
/// here: Indala ASC 27 and Tecom 27 (scattered bits), HID S12906b (a fixed
/// facility), H10320 (decimal digits), HPP32 (broken in the reference).
pub fn known_formats() -> Vec<CardFormat> {
    static KNOWN: std::sync::LazyLock<Vec<CardFormat>> = std::sync::LazyLock::new(|| {
        serde_json::from_str(include_str!("../../../assets/wiegand_formats.json"))
            .expect("assets/wiegand_formats.json holds format definitions")
    });
    KNOWN.clone()
}

/// A Wiegand read decoded by one format: its name, field values, and the
/// bits those values encode to (the read itself may differ in bits no
/// field or parity covers; the card is the one with these fields).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadFit {
    pub format: String,
    pub fields: Vec<(String, u64)>,
    pub bits: String,
}

impl std::fmt::Display for ReadFit {
    /// "H10301 (facility 12, card 345)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        write!(f, "{} ({})", self.format, fields.join(", "))
    }
}

/// The Wiegand formats among `formats` that a read of `bits` fits: the
/// right length and every parity bit right.
pub fn fits(formats: &[CardFormat], bits: &str) -> Vec<ReadFit> {
    formats
        .iter()
        .filter_map(|f| match f {
            CardFormat::Wiegand(w) if usize::from(w.bits) == bits.len() => {
                let d = w.decode(bits).ok()?;
                if !d.parity_ok {
                    return None;
                }
                let values: FieldValues = d.fields.iter().cloned().collect();
                Some(ReadFit {
                    format: w.name.clone(),
                    bits: w.encode(&values).ok()?,
                    fields: d.fields,
                })
            }
            _ => None,
        })
        .collect()
}
