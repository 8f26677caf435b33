//! The card printer's encoder: writes a temporary card's credential data
//! into the card's chip and reads it back. [`CardEncoder`] is the seam; the
//! PC/SC adapter talks to a MIFARE Classic card through the encoder's PC/SC
//! reader.

use thiserror::Error;

/// What to write on one card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodeRequest {
    /// PC/SC reader name of the encoder.
    pub reader: String,
    /// The credential's PACS bits as '0'/'1' text (its card format's encoding).
    pub pacs_bits: String,
    pub card_number: u64,
    /// The sector keys after encoding (derived from the site key); never
    /// the transport key.
    pub key_a: [u8; 6],
    pub key_b: [u8; 6],
}

/// What the encoder found on the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The chip's UID (hex), when the reader reports one.
    pub uid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("encoder {reader:?} is not available ({reason}); check the reader name with `carddesk reader list`")]
    NoReader { reader: String, reason: String },
    #[error("no card in encoder {reader:?}; put the card into the encoder and repeat production")]
    NoCard { reader: String },
    #[error("encoder {reader}: {step} failed ({status}); the card may not be a MIFARE Classic 1K or uses other keys")]
    Command {
        reader: String,
        step: String,
        status: String,
    },
    #[error("encoder {reader}: read-back verification failed for block {block}: wrote {wrote}, read {read}")]
    Verify {
        reader: String,
        block: u8,
        wrote: String,
        read: String,
    },
}

/// An encoder: writes the credential and verifies it (blocking).
pub trait CardEncoder: Send + Sync {
    fn encode(&self, request: &EncodeRequest) -> Result<Encoded, EncodeError>;
}
