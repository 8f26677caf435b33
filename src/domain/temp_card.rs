//! Temporary cards: a stock of cards printed in advance (batch orders) and
//! handed to visitors or staff who forgot their card. The lifecycle:
//!
//! `requested` → (produced) `unassigned` → `assigned` → (returned) `unassigned`
//!
//! plus `failed` (production failed; may be produced again), `aborted`
//! (taken out of circulation), `expired` (its validity ran out) and
//! `locked` (blocked for now; can be unlocked back to stock).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TempCardState {
    /// Requested, not produced yet.
    Requested,
    /// Produced and in stock, held by nobody.
    Unassigned,
    /// Handed to a cardholder.
    Assigned,
    /// Production failed (the error is kept); may be produced again.
    Failed,
    /// Taken out of circulation for good.
    Aborted,
    /// Its validity ran out.
    Expired,
    /// Blocked for now (e.g. reported missing); unlocks back to stock.
    Locked,
}

impl TempCardState {
    pub const ALL: [TempCardState; 7] = [
        Self::Requested,
        Self::Unassigned,
        Self::Assigned,
        Self::Failed,
        Self::Aborted,
        Self::Expired,
        Self::Locked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Unassigned => "unassigned",
            Self::Assigned => "assigned",
            Self::Failed => "failed",
            Self::Aborted => "aborted",
            Self::Expired => "expired",
            Self::Locked => "locked",
        }
    }

    /// The transitions that make sense. Producing a card again (repeat
    /// production of a badly printed card) is `unassigned → unassigned`.
    pub fn can_transition_to(self, to: TempCardState) -> bool {
        use TempCardState::*;
        matches!(
            (self, to),
            (Requested, Unassigned | Failed | Aborted)
                | (Failed, Unassigned | Failed | Requested | Aborted)
                | (
                    Unassigned,
                    Unassigned | Failed | Assigned | Locked | Expired | Aborted
                )
                | (Assigned, Unassigned | Locked | Expired)
                | (Locked, Unassigned | Aborted)
                | (Expired, Aborted)
        )
    }

    /// Whether a card in this state may be (re)produced in a batch order.
    pub fn producible(self) -> bool {
        matches!(self, Self::Requested | Self::Failed | Self::Unassigned)
    }

    /// Checks a transition, with an error naming both states and what is allowed.
    pub fn check_transition(self, to: TempCardState) -> Result<(), TransitionError> {
        if self.can_transition_to(to) {
            Ok(())
        } else {
            Err(TransitionError {
                from: self,
                to,
                allowed: Self::ALL
                    .into_iter()
                    .filter(|s| self.can_transition_to(*s))
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
    }
}

impl fmt::Display for TempCardState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TempCardState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "produced" | "returned" => "unassigned",
            other => other,
        };
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown temporary card state {s:?} (requested, unassigned, assigned, failed, aborted, expired or locked)"
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a temporary card that is {from} cannot become {to} (allowed: {})", if .allowed.is_empty() { "none" } else { .allowed.as_str() })]
pub struct TransitionError {
    pub from: TempCardState,
    pub to: TempCardState,
    pub allowed: String,
}

/// Default validity of a produced temporary card.
pub const DEFAULT_VALIDITY_DAYS: u32 = 14;
/// Default number of active temporary cards one person may hold.
pub const DEFAULT_MAX_PER_PERSON: u32 = 1;
pub const DEFAULT_PIN_LENGTH: u8 = 6;
pub const DEFAULT_PUK_LENGTH: u8 = 8;
pub const PIN_LENGTHS: std::ops::RangeInclusive<u8> = 4..=8;
pub const PUK_LENGTHS: std::ops::RangeInclusive<u8> = 8..=16;

/// Checks a PIN length (4–8).
pub fn check_pin_length(n: u8) -> Result<u8, String> {
    if PIN_LENGTHS.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "PIN length {n} is not allowed (4 to 8 digits, default {DEFAULT_PIN_LENGTH})"
        ))
    }
}

/// Checks a PUK length (8–16).
pub fn check_puk_length(n: u8) -> Result<u8, String> {
    if PUK_LENGTHS.contains(&n) {
        Ok(n)
    } else {
        Err(format!(
            "PUK length {n} is not allowed (8 to 16 digits, default {DEFAULT_PUK_LENGTH})"
        ))
    }
}

/// When a card produced at `produced` stops being valid.
pub fn valid_until(
    produced: chrono::DateTime<chrono::Utc>,
    validity_days: u32,
) -> chrono::DateTime<chrono::Utc> {
    produced + chrono::Duration::days(i64::from(validity_days))
}

/// Whether a card valid until `until` has expired at `now`.
pub fn is_expired(
    until: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> bool {
    now >= until
}

/// The last second of `day` in the desk's local time: a card lent "until
/// Friday" opens doors all Friday.
pub fn end_of_local_day(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    let end = day.and_hms_opt(23, 59, 59).expect("a valid time");
    end.and_local_timezone(chrono::Local)
        .latest()
        .map_or_else(|| end.and_utc(), |d| d.to_utc())
}

/// The end of a holder's use of a card: `wanted` (or, if none, the card's
/// own validity), which must lie after `now` and not past `card_until`.
pub fn assignment_until(
    wanted: Option<chrono::DateTime<chrono::Utc>>,
    card_until: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, String> {
    let Some(wanted) = wanted else {
        return Ok(card_until);
    };
    let day = |d: chrono::DateTime<chrono::Utc>| d.format("%Y-%m-%d %H:%M UTC").to_string();
    if wanted <= now {
        return Err(format!(
            "the holder's use must end after now; {} has passed",
            day(wanted)
        ));
    }
    match card_until {
        // The card's own last day: the holder's use ends with the card.
        Some(card) if wanted > card && wanted - card < chrono::Duration::days(1) => Ok(Some(card)),
        Some(card) if wanted > card => Err(format!(
            "the card itself is valid only until {}; choose that day or earlier",
            day(card)
        )),
        _ => Ok(Some(wanted)),
    }
}

/// The one-card-per-person rule (the limit is configurable; 0 = no limit).
pub fn check_holder_limit(held: u32, limit: u32) -> Result<(), String> {
    if limit == 0 || held < limit {
        Ok(())
    } else {
        Err(format!(
            "the person already holds {held} active temporary card(s); the limit is {limit} (return one first)"
        ))
    }
}

/// A random string of `len` decimal digits from the operating system's
/// CSPRNG.
pub fn random_digits(len: u8) -> String {
    use rand::{rngs::OsRng, Rng};
    (0..len)
        .map(|_| char::from(b'0' + OsRng.gen_range(0..10u8)))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn assignment_ends_after_now_and_within_the_card() {
        use chrono::{Duration, Utc};
        let now = Utc::now();
        let card = now + Duration::days(14);
        let day = now + Duration::days(1);
        assert_eq!(
            super::assignment_until(None, Some(card), now),
            Ok(Some(card))
        );
        assert_eq!(
            super::assignment_until(Some(day), Some(card), now),
            Ok(Some(day))
        );
        assert_eq!(super::assignment_until(Some(day), None, now), Ok(Some(day)));
        let past = super::assignment_until(Some(now - Duration::hours(1)), Some(card), now);
        assert!(past.unwrap_err().contains("has passed"));
        let same_day = super::assignment_until(Some(card + Duration::hours(3)), Some(card), now);
        assert_eq!(same_day, Ok(Some(card)));
        let late = super::assignment_until(Some(card + Duration::days(1)), Some(card), now);
        assert!(late.unwrap_err().contains("valid only until"));
    }

    use super::TempCardState::*;
    use super::*;

    #[test]
    fn lifecycle_produce_assign_return() {
        assert!(Requested.can_transition_to(Unassigned));
        assert!(Unassigned.can_transition_to(Assigned));
        assert!(Assigned.can_transition_to(Unassigned));
    }

    #[test]
    fn failed_cards_are_produced_again_or_put_back() {
        assert!(Requested.can_transition_to(Failed));
        assert!(Failed.can_transition_to(Unassigned));
        assert!(Failed.can_transition_to(Requested));
        assert!(Failed.producible() && Requested.producible() && Unassigned.producible());
        assert!(!Assigned.producible() && !Aborted.producible());
    }

    #[test]
    fn forbidden_transitions() {
        for (a, b) in [
            (Requested, Assigned),
            (Failed, Assigned),
            (Assigned, Requested),
            (Assigned, Assigned),
            (Aborted, Unassigned),
            (Expired, Unassigned),
            (Expired, Assigned),
            (Locked, Assigned),
            (Unassigned, Requested),
        ] {
            assert!(!a.can_transition_to(b), "{a} -> {b}");
        }
        let e = Aborted.check_transition(Unassigned).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a temporary card that is aborted cannot become unassigned (allowed: none)"
        );
        let e = Requested.check_transition(Assigned).unwrap_err();
        assert!(
            e.to_string()
                .contains("allowed: unassigned, failed, aborted"),
            "{e}"
        );
    }

    #[test]
    fn parses_states_and_synonyms() {
        for s in TempCardState::ALL {
            assert_eq!(s.as_str().parse::<TempCardState>().unwrap(), s);
        }
        assert_eq!("Produced".parse::<TempCardState>().unwrap(), Unassigned);
        assert_eq!("returned".parse::<TempCardState>().unwrap(), Unassigned);
        let e = "lost".parse::<TempCardState>().unwrap_err();
        assert!(e.contains("requested, unassigned"), "{e}");
    }

    #[test]
    fn validity_defaults_to_fourteen_days() {
        let t0 = chrono::DateTime::parse_from_rfc3339("2026-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let until = valid_until(t0, DEFAULT_VALIDITY_DAYS);
        assert_eq!(until.to_rfc3339(), "2026-01-15T10:00:00+00:00");
        assert!(!is_expired(until, until - chrono::Duration::seconds(1)));
        assert!(is_expired(until, until));
    }

    #[test]
    fn one_active_card_per_person_by_default() {
        assert!(check_holder_limit(0, DEFAULT_MAX_PER_PERSON).is_ok());
        let e = check_holder_limit(1, DEFAULT_MAX_PER_PERSON).unwrap_err();
        assert!(e.contains("limit is 1"), "{e}");
        assert!(check_holder_limit(1, 2).is_ok());
        assert!(check_holder_limit(9, 0).is_ok());
    }

    #[test]
    fn pin_and_puk_lengths() {
        assert_eq!(check_pin_length(DEFAULT_PIN_LENGTH), Ok(6));
        assert!(check_pin_length(4).is_ok() && check_pin_length(8).is_ok());
        assert!(check_pin_length(3).unwrap_err().contains("4 to 8"));
        assert!(check_pin_length(9).is_err());
        assert!(check_puk_length(DEFAULT_PUK_LENGTH).is_ok());
        assert!(check_puk_length(7).unwrap_err().contains("8 to 16"));
    }

    #[test]
    fn random_digits_have_the_length_and_vary() {
        let a = random_digits(8);
        assert_eq!(a.len(), 8);
        assert!(a.bytes().all(|b| b.is_ascii_digit()));
        let many: std::collections::HashSet<String> = (0..20).map(|_| random_digits(8)).collect();
        assert!(many.len() > 1);
    }
}
