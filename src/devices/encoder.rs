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
    #[error("encoder {reader}: the card (UID {uid}) was not written: {reason}")]
    Refused {
        reader: String,
        uid: String,
        reason: String,
    },
    #[error("encoder {reader}: read-back verification failed for block {block}: wrote {wrote}, read {read}")]
    Verify {
        reader: String,
        block: u8,
        wrote: String,
        read: String,
    },
}

/// Says whether the card with this UID (hex) may be written, before
/// anything is: e.g. not a card already issued to someone.
pub type Admit<'a> = &'a dyn Fn(&str) -> Result<(), String>;

/// An encoder: writes the credential and verifies it (blocking).
pub trait CardEncoder: Send + Sync {
    fn encode(&self, request: &EncodeRequest, admit: Admit) -> Result<Encoded, EncodeError>;
}

/// Sector 1 of a MIFARE Classic 1K holds the credential: block 4 the
/// record, block 5 its checksum, block 7 the sector trailer.
pub const RECORD_BLOCK: u8 = 4;
pub const CHECKSUM_BLOCK: u8 = 5;
pub const TRAILER_BLOCK: u8 = 7;
/// The factory key every new card ships with.
pub const TRANSPORT_KEY: [u8; 6] = [0xFF; 6];
/// Access bits 78 77 88 (+ GPB 69), per NXP MF1S50 section 8.7: data blocks
/// C1C2C3 = 100 (read with key A or B, write with key B only: a reader
/// holding key A cannot change the credential); trailer 011 (keys and access
/// bits written with key B only; access bits readable with A or B; key B
/// never readable, so it reads back as zeros and is never compared).
pub const ACCESS_BITS: [u8; 4] = [0x78, 0x77, 0x88, 0x69];
const MAGIC: [u8; 2] = *b"CD";
const RECORD_VERSION: u8 = 1;

/// Block 4: "CD", version, bit count, the PACS bits left-aligned in 8
/// bytes, the card number (big-endian u32).
pub fn credential_record(pacs_bits: &str, card_number: u64) -> Result<[u8; 16], String> {
    let n = pacs_bits.len();
    if n == 0 || n > 64 || !pacs_bits.bytes().all(|b| b == b'0' || b == b'1') {
        return Err(format!(
            "PACS bits {pacs_bits:?} must be 1 to 64 characters of 0 and 1"
        ));
    }
    let number = u32::try_from(card_number)
        .map_err(|_| format!("card number {card_number} does not fit 32 bits"))?;
    let bits = u64::from_str_radix(pacs_bits, 2).expect("checked binary") << (64 - n);
    let mut b = [0u8; 16];
    b[0..2].copy_from_slice(&MAGIC);
    b[2] = RECORD_VERSION;
    b[3] = n as u8;
    b[4..12].copy_from_slice(&bits.to_be_bytes());
    b[12..16].copy_from_slice(&number.to_be_bytes());
    Ok(b)
}

/// Block 5: the first 16 bytes of SHA-256 over the card's UID and block 4,
/// so a record copied to another card does not verify.
pub fn record_checksum(uid: &[u8], record: &[u8; 16]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(uid);
    h.update(record);
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// The sector trailer: key A, access bits, key B.
pub fn sector_trailer(key_a: &[u8; 6], key_b: &[u8; 6]) -> [u8; 16] {
    let mut t = [0u8; 16];
    t[0..6].copy_from_slice(key_a);
    t[6..10].copy_from_slice(&ACCESS_BITS);
    t[10..16].copy_from_slice(key_b);
    t
}

/// The encoder as a PC/SC reader with MIFARE Classic support (PC/SC Part 3
/// storage-card commands: Load Key FF 82, General Authenticate FF 86,
/// Update Binary FF D6, Read Binary FF B0).
#[derive(Debug, Default)]
pub struct PcscEncoder;

impl PcscEncoder {
    pub fn new() -> PcscEncoder {
        PcscEncoder
    }
}

struct Session<'a> {
    card: pcsc::Card,
    reader: &'a str,
}

impl Session<'_> {
    fn apdu(&self, step: &str, cmd: &[u8]) -> Result<Vec<u8>, EncodeError> {
        let mut buf = [0u8; pcsc::MAX_BUFFER_SIZE];
        let r = self
            .card
            .transmit(cmd, &mut buf)
            .map_err(|e| EncodeError::Command {
                reader: self.reader.into(),
                step: step.into(),
                status: e.to_string(),
            })?;
        match r {
            [data @ .., 0x90, 0x00] => Ok(data.to_vec()),
            [.., a, b] => Err(EncodeError::Command {
                reader: self.reader.into(),
                step: step.into(),
                status: format!("status {a:02X}{b:02X}"),
            }),
            _ => Err(EncodeError::Command {
                reader: self.reader.into(),
                step: step.into(),
                status: "empty answer".into(),
            }),
        }
    }

    /// Loads `key` into slot 0 and authenticates `block`'s sector with it.
    fn authenticate(&self, block: u8, key_type: u8, key: &[u8; 6]) -> Result<(), EncodeError> {
        let mut load = vec![0xFF, 0x82, 0x00, 0x00, 0x06];
        load.extend_from_slice(key);
        self.apdu("load key", &load)?;
        self.apdu(
            "authenticate",
            &[
                0xFF, 0x86, 0x00, 0x00, 0x05, 0x01, 0x00, block, key_type, 0x00,
            ],
        )
        .map(drop)
    }

    fn write(&self, block: u8, data: &[u8; 16]) -> Result<(), EncodeError> {
        let mut cmd = vec![0xFF, 0xD6, 0x00, block, 0x10];
        cmd.extend_from_slice(data);
        self.apdu(&format!("update binary block {block}"), &cmd)
            .map(drop)
    }

    /// Resets the card (a real MIFARE Classic halts after a failed
    /// authentication and answers nothing until it is selected again).
    fn wake(&mut self) -> Result<(), EncodeError> {
        self.card
            .reconnect(
                pcsc::ShareMode::Shared,
                pcsc::Protocols::ANY,
                pcsc::Disposition::ResetCard,
            )
            .map_err(|e| EncodeError::Command {
                reader: self.reader.into(),
                step: "reselect the card".into(),
                status: e.to_string(),
            })
    }

    fn read(&self, block: u8) -> Result<Vec<u8>, EncodeError> {
        self.apdu(
            &format!("read binary block {block}"),
            &[0xFF, 0xB0, 0x00, block, 0x10],
        )
    }
}

const KEY_A: u8 = 0x60;
const KEY_B: u8 = 0x61;

impl CardEncoder for PcscEncoder {
    fn encode(&self, req: &EncodeRequest, admit: Admit) -> Result<Encoded, EncodeError> {
        if req.key_a == TRANSPORT_KEY || req.key_b == TRANSPORT_KEY {
            return Err(EncodeError::Command {
                reader: req.reader.clone(),
                step: "choose keys".into(),
                status: "the site key must not be the transport key FFFFFFFFFFFF".into(),
            });
        }
        let record = credential_record(&req.pacs_bits, req.card_number).map_err(|status| {
            EncodeError::Command {
                reader: req.reader.clone(),
                step: "build record".into(),
                status,
            }
        })?;
        let no_reader = |e: pcsc::Error| EncodeError::NoReader {
            reader: req.reader.clone(),
            reason: e.to_string(),
        };
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(no_reader)?;
        let name =
            std::ffi::CString::new(req.reader.as_str()).map_err(|_| EncodeError::NoReader {
                reader: req.reader.clone(),
                reason: "the name contains a NUL byte".into(),
            })?;
        let card = match ctx.connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY) {
            Ok(c) => c,
            Err(pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard) => {
                return Err(EncodeError::NoCard {
                    reader: req.reader.clone(),
                })
            }
            Err(e) => return Err(no_reader(e)),
        };
        let mut s = Session {
            card,
            reader: &req.reader,
        };
        let uid = s.apdu("get UID", &[0xFF, 0xCA, 0x00, 0x00, 0x00])?;
        let uid_hex = hex::encode_upper(&uid);
        // Before any write: a card that is already someone's is not touched.
        admit(&uid_hex).map_err(|reason| EncodeError::Refused {
            reader: req.reader.clone(),
            uid: uid_hex.clone(),
            reason,
        })?;
        let checksum = record_checksum(&uid, &record);
        // A card produced before (repeat production) opens with the site's
        // key B, which may write it; a new one with the transport key A.
        // A failed authentication halts a real card: wake it before the next.
        if s.authenticate(RECORD_BLOCK, KEY_B, &req.key_b).is_err() {
            s.wake()?;
            s.authenticate(RECORD_BLOCK, KEY_A, &TRANSPORT_KEY)?;
        }
        s.write(RECORD_BLOCK, &record)?;
        s.write(CHECKSUM_BLOCK, &checksum)?;
        s.write(TRAILER_BLOCK, &sector_trailer(&req.key_a, &req.key_b))?;
        // Verify as a door reader will use the card: key A opens the sector
        // and reads the data back as written; key B opens it and the access
        // bits are ours (the keys themselves never read back).
        let verify = |block: u8, wrote: &[u8], read: &[u8]| {
            if wrote == read {
                Ok(())
            } else {
                Err(EncodeError::Verify {
                    reader: req.reader.clone(),
                    block,
                    wrote: hex::encode_upper(wrote),
                    read: hex::encode_upper(read),
                })
            }
        };
        s.authenticate(RECORD_BLOCK, KEY_A, &req.key_a)?;
        verify(RECORD_BLOCK, &record, &s.read(RECORD_BLOCK)?)?;
        verify(CHECKSUM_BLOCK, &checksum, &s.read(CHECKSUM_BLOCK)?)?;
        s.authenticate(RECORD_BLOCK, KEY_B, &req.key_b)?;
        let trailer = s.read(TRAILER_BLOCK)?;
        verify(
            TRAILER_BLOCK,
            &ACCESS_BITS,
            trailer.get(6..10).unwrap_or_default(),
        )?;
        // Last, as it halts the card: the transport key no longer opens it.
        s.wake()?;
        if s.authenticate(RECORD_BLOCK, KEY_A, &TRANSPORT_KEY).is_ok() {
            return Err(EncodeError::Verify {
                reader: req.reader.clone(),
                block: TRAILER_BLOCK,
                wrote: "site key A".into(),
                read: "transport key still accepted".into(),
            });
        }
        let _ = s.card.disconnect(pcsc::Disposition::LeaveCard);
        Ok(Encoded { uid: Some(uid_hex) })
    }
}

/// The `--demo` encoder: accepts every card.
#[derive(Debug, Default)]
pub struct SimulatedEncoder;

impl CardEncoder for SimulatedEncoder {
    fn encode(&self, request: &EncodeRequest, _admit: Admit) -> Result<Encoded, EncodeError> {
        credential_record(&request.pacs_bits, request.card_number).map_err(|status| {
            EncodeError::Command {
                reader: request.reader.clone(),
                step: "build record".into(),
                status,
            }
        })?;
        Ok(Encoded { uid: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_layout() {
        let bits = "10000000100000000000000001"; // 26 bits
        let r = credential_record(bits, 1000).unwrap();
        assert_eq!(&r[0..4], &[b'C', b'D', 1, 26]);
        assert_eq!(&r[4..8], &[0x80, 0x80, 0x00, 0x40]);
        assert_eq!(&r[8..12], &[0, 0, 0, 0]);
        assert_eq!(&r[12..16], &1000u32.to_be_bytes());
        assert!(credential_record("012", 1).is_err());
        assert!(credential_record("", 1).is_err());
        assert!(credential_record("1", u64::from(u32::MAX) + 1).is_err());
    }

    #[test]
    fn checksum_binds_the_uid() {
        let r = credential_record("1", 1).unwrap();
        assert_ne!(
            record_checksum(&[1, 2, 3, 4], &r),
            record_checksum(&[1, 2, 3, 5], &r)
        );
    }

    #[test]
    fn trailer_has_the_keys_and_consistent_access_bits() {
        let t = sector_trailer(&[1; 6], &[2; 6]);
        assert_eq!(&t[0..6], &[1; 6]);
        assert_eq!(&t[10..16], &[2; 6]);
        // byte 6 = ~C2|~C1, byte 7 = C1|~C3, byte 8 = C3|C2 (nibbles).
        let (b6, b7, b8) = (t[6], t[7], t[8]);
        assert_eq!(!b6 & 0x0F, b7 >> 4);
        assert_eq!(!b6 >> 4, b8 & 0x0F);
        assert_eq!(!b7 & 0x0F, b8 >> 4);
    }

    #[test]
    fn access_conditions_are_the_ones_verified() {
        // C1 C2 C3 of block n: bit n of byte 7's high nibble, of byte 8's
        // low nibble, of byte 8's high nibble (MF1S50 section 8.7.1).
        let t = sector_trailer(&[1; 6], &[2; 6]);
        let cond = |n: u8| {
            (
                (t[7] >> (4 + n)) & 1,
                (t[8] >> n) & 1,
                (t[8] >> (4 + n)) & 1,
            )
        };
        // Data blocks: read with A or B, write with B only (table 8, 100).
        for block in 0..3 {
            assert_eq!(cond(block), (1, 0, 0), "block {block}");
        }
        // Trailer: keys and access bits written with B, access bits read
        // with A or B, key B never readable (table 7, 011).
        assert_eq!(cond(3), (0, 1, 1));
    }
}
