//! Pure types and rules: no I/O. Everything here is unit-tested.

pub mod card_format;
pub mod card_request;
pub mod credential;
pub mod mail;
pub mod privilege;
pub mod temp_card;

pub use card_format::{
    builtin_formats, fits, known_formats, CardFormat, FieldValues, FormatError, ReadFit, UID_FORMAT,
};
pub use card_request::RequestStatus;
pub use credential::{check_eligible, CredentialState, Ineligible};
pub use mail::{OutboxStatus, Secret, Security, SmtpSettings};
pub use privilege::{Privilege, Role};
pub use temp_card::TempCardState;
