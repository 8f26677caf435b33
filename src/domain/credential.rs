//! Credential states and the rules about who may hold a credential.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialState {
    /// Registered, in stock, held by nobody.
    Unassigned,
    Active,
    Inactive,
    Lost,
    Stolen,
    Expired,
    /// Returned by its holder or revoked: it must not be handed out again.
    Revoked,
}

impl CredentialState {
    pub const ALL: [CredentialState; 7] = [
        Self::Unassigned,
        Self::Active,
        Self::Inactive,
        Self::Lost,
        Self::Stolen,
        Self::Expired,
        Self::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unassigned => "unassigned",
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Lost => "lost",
            Self::Stolen => "stolen",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    /// A card in one of these states is never enrolled or assigned again:
    /// presenting it at the desk is refused, naming the state.
    pub fn is_blocked(self) -> bool {
        matches!(
            self,
            Self::Lost | Self::Stolen | Self::Revoked | Self::Expired
        )
    }

    pub fn can_transition_to(self, to: CredentialState) -> bool {
        use CredentialState::*;
        match (self, to) {
            (a, b) if a == b => false,
            (Unassigned, Active) => true,
            (Unassigned, Revoked) => true,
            // Returned intact: back in stock, held by nobody.
            (Active, Unassigned | Inactive | Lost | Stolen | Expired | Revoked) => true,
            (Inactive, Unassigned | Active | Lost | Stolen | Expired | Revoked) => true,
            // A found card goes back to its holder's inactive state for review.
            (Lost, Inactive | Revoked) => true,
            (Stolen, Revoked) => true,
            (Expired, Revoked) => true,
            _ => false,
        }
    }
}

impl fmt::Display for CredentialState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CredentialState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        if s == "returned" {
            return Ok(Self::Revoked);
        }
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown credential state {s:?} (one of: {})",
                    Self::ALL.map(|s| s.as_str()).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unassigned_cards_can_be_handed_out() {
        for s in CredentialState::ALL {
            assert_eq!(
                s.can_transition_to(CredentialState::Active),
                matches!(s, CredentialState::Unassigned | CredentialState::Inactive),
                "{s}"
            );
        }
    }

    #[test]
    fn parse_accepts_returned_as_revoked() {
        assert_eq!("returned".parse(), Ok(CredentialState::Revoked));
        assert!("gone"
            .parse::<CredentialState>()
            .unwrap_err()
            .contains("unassigned"));
    }
}

/// Why a credential cannot be connected to a cardholder's request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ineligible {
    /// Held by another cardholder (their id).
    HeldByOther(i64),
    /// Lost, stolen, expired, revoked, or inactive (locked).
    Blocked(CredentialState),
    /// Already active, for this very cardholder (on another request).
    AlreadyActive,
    /// The credential of a temporary card: those are handed out with the
    /// temporary-card actions (assign, return), never through a request.
    TemporaryCard,
}

/// The one rule for connecting a card to a request for `cardholder`: only a
/// card in stock (unassigned) that is not a temporary card. A card held by
/// someone else is never taken from them, a blocked card is never issued
/// again, and a card already active — even the holder's own — is not
/// connected a second time (denying that second request would otherwise put
/// the holder's working card back in stock).
pub fn check_eligible(
    state: CredentialState,
    holder: Option<i64>,
    cardholder: i64,
    temporary: bool,
) -> Result<(), Ineligible> {
    if temporary {
        return Err(Ineligible::TemporaryCard);
    }
    // A lost or stolen card is refused as such, whoever it was issued to.
    if state.is_blocked() {
        return Err(Ineligible::Blocked(state));
    }
    if let Some(h) = holder.filter(|&h| h != cardholder) {
        return Err(Ineligible::HeldByOther(h));
    }
    match state {
        CredentialState::Unassigned => Ok(()),
        CredentialState::Active => Err(Ineligible::AlreadyActive),
        blocked => Err(Ineligible::Blocked(blocked)),
    }
}

#[cfg(test)]
mod eligibility_tests {
    use super::*;

    #[test]
    fn held_by_other_wins_over_state() {
        assert_eq!(
            check_eligible(CredentialState::Active, Some(7), 1, false),
            Err(Ineligible::HeldByOther(7))
        );
        assert_eq!(
            check_eligible(CredentialState::Stolen, None, 1, false),
            Err(Ineligible::Blocked(CredentialState::Stolen))
        );
        assert_eq!(
            check_eligible(CredentialState::Unassigned, None, 1, false),
            Ok(())
        );
    }

    #[test]
    fn only_a_card_in_stock_is_connected() {
        // The holder's own active card is not connected to a second request.
        assert_eq!(
            check_eligible(CredentialState::Active, Some(1), 1, false),
            Err(Ineligible::AlreadyActive)
        );
        // A locked card (inactive) is refused naming its state.
        assert_eq!(
            check_eligible(CredentialState::Inactive, None, 1, false),
            Err(Ineligible::Blocked(CredentialState::Inactive))
        );
        for s in CredentialState::ALL {
            let ok = check_eligible(s, None, 1, false).is_ok();
            assert_eq!(ok, s == CredentialState::Unassigned, "{s:?}");
            // A temporary card's credential never, whatever its state.
            assert_eq!(
                check_eligible(s, None, 1, true),
                Err(Ineligible::TemporaryCard)
            );
        }
    }
}
