//! Card numbering: which number a newly requested temporary card gets and
//! the field values (facility, card) its credential is encoded from.

use super::{SETTING_FACILITY, SETTING_FIRST_NUMBER};
use crate::desk::{DeskError, DeskResult};
use crate::domain::{CardFormat, FieldValues};
use crate::store;
use crate::store::Connection;

/// Where numbering continues: one past the highest card number so far,
/// never below `first` (setting `temp_card.first_number`).
pub(super) fn next_number(conn: &Connection, first: i64) -> DeskResult<i64> {
    Ok(store::temp_cards::max_number(conn)?
        .map(|n| n + 1)
        .unwrap_or(first)
        .max(first))
}

/// Moves `number` on to the first number whose credential bits in `format`
/// are still free, and returns that credential's field values and bits.
pub(super) fn free_number(
    conn: &Connection,
    format: &CardFormat,
    facility: u64,
    number: &mut i64,
) -> DeskResult<(FieldValues, String)> {
    loop {
        let values = field_values(format, facility, *number as u64)?;
        let bits = format.encode(&values)?;
        if store::credentials::find_by_value(conn, format.name(), &bits)?.is_none() {
            return Ok((values, bits));
        }
        *number += 1;
    }
}

/// Field values of a temporary card number in `format`: the card number in
/// the field named "card", the site's facility code in "facility", 0 in any
/// other field.
fn field_values(format: &CardFormat, facility: u64, number: u64) -> DeskResult<FieldValues> {
    let mut values = FieldValues::new();
    for (name, _min, max) in format.field_ranges() {
        let v = match name.as_str() {
            "card" => number,
            "facility" => facility,
            _ => 0,
        };
        if v > max {
            return Err(DeskError::invalid(
                "temporary card",
                format!(
                    "{name} {v} does not fit format {} (0 to {max}); lower {SETTING_FIRST_NUMBER} or {SETTING_FACILITY}",
                    format.name()
                ),
            ));
        }
        values.insert(name, v);
    }
    if !format.field_ranges().iter().any(|(n, _, _)| n == "card") {
        return Err(DeskError::invalid(
            "card format",
            format!(
                "{} has no field named card; temporary cards need a format with a card number",
                format.name()
            ),
        ));
    }
    Ok(values)
}
