//! What an operator may do. Roles are named bundles of privileges; the
//! privileges are what the desk actions check.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privilege {
    /// See cardholders (names, departments, photos).
    ViewCardholders,
    /// See credentials and temporary cards, and who holds them.
    ViewCredentials,
    /// See card requests and the pending count.
    ViewRequests,
    /// See the mail outbox (addresses and subjects of notifications).
    ViewOutbox,
    /// Create and edit cardholders, raise card requests.
    ManageCardholders,
    /// Modify requests, connect cards, close requests.
    AnswerRequests,
    DenyRequests,
    PrintCards,
    ManageFormats,
    ManageOperators,
    /// Mail server, templates, site settings.
    ManageSettings,
    ViewAudit,
    /// Show a temporary card's stored PUK (each reveal is audited).
    RevealPuk,
    /// Back up and restore the database.
    ManageDatabase,
    /// Report cards lost, stolen or damaged; deactivate, reactivate,
    /// return and revoke them.
    ManageCredentials,
}

impl Privilege {
    pub const ALL: [Privilege; 15] = [
        Self::ViewCardholders,
        Self::ViewCredentials,
        Self::ViewRequests,
        Self::ViewOutbox,
        Self::ManageCardholders,
        Self::AnswerRequests,
        Self::DenyRequests,
        Self::PrintCards,
        Self::ManageFormats,
        Self::ManageOperators,
        Self::ManageSettings,
        Self::ViewAudit,
        Self::RevealPuk,
        Self::ManageDatabase,
        Self::ManageCredentials,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewCardholders => "view_cardholders",
            Self::ViewCredentials => "view_credentials",
            Self::ViewRequests => "view_requests",
            Self::ViewOutbox => "view_outbox",
            Self::ManageCardholders => "manage_cardholders",
            Self::AnswerRequests => "answer_requests",
            Self::DenyRequests => "deny_requests",
            Self::PrintCards => "print_cards",
            Self::ManageFormats => "manage_formats",
            Self::ManageOperators => "manage_operators",
            Self::ManageSettings => "manage_settings",
            Self::ViewAudit => "view_audit",
            Self::RevealPuk => "reveal_puk",
            Self::ManageDatabase => "manage_database",
            Self::ManageCredentials => "manage_credentials",
        }
    }
}

impl fmt::Display for Privilege {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Privilege {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| format!("unknown privilege {s:?}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Administrator,
    /// Answers and denies requests, prints.
    Supervisor,
    /// Enrols cardholders and answers requests, but may not deny them.
    Operator,
    /// Reads the cardholder, credential and request lists; changes nothing.
    Viewer,
}

impl Role {
    pub fn privileges(self) -> Vec<Privilege> {
        use Privilege::*;
        match self {
            Role::Administrator => Privilege::ALL.to_vec(),
            Role::Supervisor => vec![
                ViewCardholders,
                ViewCredentials,
                ViewRequests,
                ViewOutbox,
                ManageCardholders,
                ManageCredentials,
                AnswerRequests,
                DenyRequests,
                PrintCards,
                ViewAudit,
            ],
            Role::Operator => vec![
                ViewCardholders,
                ViewCredentials,
                ViewRequests,
                ManageCardholders,
                ManageCredentials,
                AnswerRequests,
                PrintCards,
            ],
            Role::Viewer => vec![ViewCardholders, ViewCredentials, ViewRequests],
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "administrator" | "admin" => Ok(Role::Administrator),
            "supervisor" => Ok(Role::Supervisor),
            "operator" => Ok(Role::Operator),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!(
                "unknown role {other:?} (administrator, supervisor, operator or viewer)"
            )),
        }
    }
}
