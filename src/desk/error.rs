use crate::domain::{CredentialState, FormatError, Privilege, RequestStatus};
use crate::store::OpenError;
use thiserror::Error;

/// Everything an operator can be told went wrong. Messages are shown verbatim
/// in the UI and on the command line, so each says what to do next.
#[derive(Debug, Error)]
pub enum DeskError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("database error: {0}")]
    Db(#[from] crate::store::Error),
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("unknown operator or wrong password")]
    BadLogin,
    #[error("operator {operator} has been disabled; ask an administrator, or log in as another operator")]
    Disabled { operator: String },
    #[error("operator {operator} must choose a new password before doing anything else (an administrator reset it)")]
    PasswordChangeRequired { operator: String },
    #[error("operator {operator} is locked after too many failed logins until {until}; try again then, or ask an administrator to reset the password")]
    Locked { operator: String, until: String },
    #[error("site keys: {0}")]
    Keys(String),
    #[error("log in first: this needs an operator's session")]
    NotLoggedIn,
    #[error("the database already has operators; log in as one of them instead of running init")]
    AlreadyInitialised,
    #[error("operator {operator} may not {action} (needs the {privilege} privilege)")]
    Forbidden {
        operator: String,
        action: &'static str,
        privilege: Privilege,
    },
    #[error("{what} {id} does not exist")]
    NotFound { what: &'static str, id: String },
    #[error("card request {id} was already {status} by {by} at {at}; only pending requests can be changed")]
    NotPending {
        id: i64,
        status: RequestStatus,
        by: String,
        at: String,
    },
    #[error("card request {0} has no card connected yet; connect a card before closing it")]
    NoCredential(i64),
    #[error("credential {credential} is already assigned to {holder}; it cannot be given to {requested_for}")]
    HeldBySomeoneElse {
        credential: String,
        holder: String,
        requested_for: String,
    },
    #[error("credential {credential} is {state}{reported} and cannot be assigned")]
    CredentialBlocked {
        credential: String,
        state: CredentialState,
        /// " (reported by olga at …)" when the trail records who.
        reported: String,
    },
    #[error("credential {credential} is already active for {holder}; a card in use is not connected to another request")]
    AlreadyActive { credential: String, holder: String },
    #[error("credential {credential} belongs to temporary card #{card}; hand it out with Temporary cards → Assign, not through a card request")]
    TemporaryCard { credential: String, card: i64 },
    #[error("{what} {id} was already {state} by {by} at {at}; nothing was changed")]
    Conflict {
        what: &'static str,
        id: i64,
        state: String,
        by: String,
        at: String,
    },
    #[error("credential {credential} is already registered (#{id}, {state}); pick it under Existing credential instead")]
    DuplicateCredential {
        credential: String,
        id: i64,
        state: CredentialState,
    },
    #[error(
        "card request {0} has no card connected yet; connect a card before printing its badge"
    )]
    NoCardToPrint(i64),
    #[error("print job {id} is {status} (last changed by {by} at {at}); only failed jobs can be repeated")]
    NotRepeatable {
        id: i64,
        status: crate::store::print_jobs::PrintStatus,
        by: String,
        at: String,
    },
    #[error(transparent)]
    Badge(#[from] crate::badge::BadgeError),
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("audit trail broken at event {id}: {reason}")]
    AuditBroken { id: i64, reason: String },
    #[error("{} bad row(s), nothing imported:\n{}", .0.len(), .0.join("\n"))]
    Import(Vec<String>),
}

impl DeskError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DeskError::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

pub type DeskResult<T> = Result<T, DeskError>;

impl From<rusqlite::Error> for DeskError {
    fn from(e: rusqlite::Error) -> Self {
        DeskError::Db(e.into())
    }
}
