//! The site's key file: the key that encrypts the secrets kept in the
//! database (PUKs, MIFARE site keys, the SMTP password, the CA key), the key
//! that seals the audit trail (HMAC-SHA-256), and the key that signs audit
//! exports (Ed25519). It lives beside the database as `<db>.keys`, readable
//! by its owner only, so a copy of the database alone reveals no secret and
//! cannot be re-chained by anyone who edits it.
//!
//! The database records the keys' fingerprint: a key file that belongs to
//! another database, or a missing one, is explained instead of silently
//! making new keys (which would lose every stored secret).

use super::{DeskError, DeskResult};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use ring::signature::{Ed25519KeyPair, KeyPair};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The setting that ties a database to its key file.
pub(crate) const FINGERPRINT_SETTING: &str = "site_keys.fingerprint";
/// Every sealed value starts with this, so a clear value is never mistaken
/// for one (and old clear values are found and sealed on upgrade).
const SEALED_PREFIX: &str = "sealed1:";

/// What a sealed value is; bound into its authentication tag, so a sealed
/// PUK cannot be passed off as the SMTP password.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Puk,
    SiteKey,
    SmtpPassword,
    CaKey,
    DoorReaderKey,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Puk => b"carddesk/puk",
            Purpose::SiteKey => b"carddesk/mifare-site-key",
            Purpose::SmtpPassword => b"carddesk/smtp-password",
            Purpose::CaKey => b"carddesk/ca-key",
            Purpose::DoorReaderKey => b"carddesk/osdp-scbk",
        }
    }
}

pub struct SiteKeys {
    encryption: [u8; 32],
    audit: [u8; 32],
    signing_seed: [u8; 32],
    path: PathBuf,
}

impl std::fmt::Debug for SiteKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteKeys")
            .field("path", &self.path)
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

/// `<db>.keys`.
pub fn key_file_for(db: &Path) -> PathBuf {
    sibling(db, ".keys")
}

pub(crate) use crate::store::files::sibling;

fn key_error(path: &Path, reason: impl std::fmt::Display) -> DeskError {
    DeskError::Keys(format!("{}: {reason}", path.display()))
}

impl SiteKeys {
    fn generate(path: PathBuf) -> SiteKeys {
        let mut k = SiteKeys {
            encryption: [0; 32],
            audit: [0; 32],
            signing_seed: [0; 32],
            path,
        };
        rand::rngs::OsRng.fill_bytes(&mut k.encryption);
        rand::rngs::OsRng.fill_bytes(&mut k.audit);
        rand::rngs::OsRng.fill_bytes(&mut k.signing_seed);
        k
    }

    /// Reads the key file at `path`.
    pub fn read(path: &Path) -> DeskResult<SiteKeys> {
        let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
        let mut k = SiteKeys {
            encryption: [0; 32],
            audit: [0; 32],
            signing_seed: [0; 32],
            path: path.to_path_buf(),
        };
        let mut seen = [false; 3];
        for line in text.lines().map(str::trim) {
            let Some((name, value)) = line.split_once('=') else {
                continue;
            };
            let (slot, n) = match name.trim() {
                "encryption" => (&mut k.encryption, 0),
                "audit" => (&mut k.audit, 1),
                "signing" => (&mut k.signing_seed, 2),
                _ => continue,
            };
            if seen[n] {
                return Err(key_error(path, format!("{name} is given twice")));
            }
            hex::decode_to_slice(value.trim(), slot)
                .map_err(|_| key_error(path, format!("{name} is not 64 hex digits")))?;
            seen[n] = true;
        }
        if seen != [true; 3] {
            return Err(key_error(
                path,
                "not a CardDesk key file (needs encryption=, audit= and signing=)",
            ));
        }
        Ok(k)
    }

    /// Writes a new key file; fails if one exists (two first starts at the
    /// same moment: the second reads the first's file). The file appears
    /// whole or not at all: written aside, then linked into place.
    fn create(&self) -> std::io::Result<bool> {
        let text = format!(
            "# CardDesk site keys. Keep this file secret, and keep a copy apart from the\n\
             # database backups (carddesk backup --with-keys writes one). Without it the\n\
             # PUKs, card keys, mail password and CA key in the database cannot be read\n\
             # and the audit trail cannot be verified.\n\
             encryption={}\naudit={}\nsigning={}\n",
            hex::encode(self.encryption),
            hex::encode(self.audit),
            hex::encode(self.signing_seed)
        );
        let aside = sibling(&self.path, &format!(".new-{}", std::process::id()));
        crate::store::files::write_private(&aside, text.as_bytes())?;
        let linked = std::fs::hard_link(&aside, &self.path);
        let _ = std::fs::remove_file(&aside);
        crate::store::files::sync_parent(&self.path);
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The key file for a database being opened: read it, or make it when
    /// the database has never had one. `recorded` is the fingerprint the
    /// database holds (None for a new or pre-keys database).
    pub(crate) fn for_database(db: &Path, recorded: Option<&str>) -> DeskResult<SiteKeys> {
        let path = key_file_for(db);
        if !path.exists() {
            if let Some(fp) = recorded {
                return Err(DeskError::Keys(format!(
                    "the key file {} is missing. It holds the key to the PUKs, card keys, mail \
                     password and CA key stored in this database and to its audit trail \
                     (fingerprint {fp}). Put back the copy written by `carddesk backup \
                     --with-keys` (or restore a backup together with its .keys file); CardDesk \
                     will not make a new one, as that would lose those secrets for good",
                    path.display()
                )));
            }
            let new = SiteKeys::generate(path.clone());
            if new.create().map_err(|e| key_error(&path, e))? {
                return Ok(new);
            }
        }
        let keys = SiteKeys::read(&path)?;
        if let Some(fp) = recorded {
            if fp != keys.fingerprint() {
                return Err(DeskError::Keys(format!(
                    "the key file {} belongs to another database (its fingerprint is {}, this \
                     database's is {fp}); put back this database's own key file",
                    path.display(),
                    keys.fingerprint()
                )));
            }
        }
        Ok(keys)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Names the keys without revealing them (recorded in the database).
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"carddesk site keys v1");
        h.update(self.encryption);
        h.update(self.audit);
        h.update(self.signing_seed);
        hex::encode(&h.finalize()[..8])
    }

    pub(crate) fn audit_key(&self) -> &[u8; 32] {
        &self.audit
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.encryption).into())
    }

    /// Encrypts `plain` (XChaCha20-Poly1305, random nonce) for storing.
    pub fn seal(&self, purpose: Purpose, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: purpose.label(),
                },
            )
            .expect("encrypting in memory cannot fail");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!(
            "{SEALED_PREFIX}{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    /// Decrypts what [`SiteKeys::seal`] stored.
    pub fn open(&self, purpose: Purpose, stored: &str) -> DeskResult<Vec<u8>> {
        let bad = |why: &str| {
            DeskError::Keys(format!(
                "a stored secret ({}) cannot be read: {why}",
                String::from_utf8_lossy(purpose.label())
            ))
        };
        let body = stored
            .strip_prefix(SEALED_PREFIX)
            .ok_or_else(|| bad("it is not encrypted"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| bad("it is damaged"))?;
        if bytes.len() < 24 {
            return Err(bad("it is damaged"));
        }
        let (nonce, sealed) = bytes.split_at(24);
        self.cipher()
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: purpose.label(),
                },
            )
            .map_err(|_| bad("it was not sealed with this site's key file, or it was altered"))
    }

    pub fn open_text(&self, purpose: Purpose, stored: &str) -> DeskResult<String> {
        String::from_utf8(self.open(purpose, stored)?)
            .map_err(|_| DeskError::Keys("a stored secret is not text".into()))
    }

    fn signer(&self) -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&self.signing_seed)
            .expect("a 32-byte seed is a valid Ed25519 key")
    }

    /// Signs an audit export line (Ed25519).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.signer().sign(message).as_ref().to_vec()
    }

    /// The public half of the export signing key, for a SIEM to check lines.
    pub fn signing_public_key(&self) -> Vec<u8> {
        self.signer().public_key().as_ref().to_vec()
    }
}

/// True for a value that [`SiteKeys::seal`] produced.
pub(crate) fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let dir = tempfile::tempdir().unwrap();
        let k = SiteKeys::generate(dir.path().join("a.keys"));
        let other = SiteKeys::generate(dir.path().join("b.keys"));
        let sealed = k.seal(Purpose::Puk, b"12345678");
        assert!(!sealed.contains("12345678"));
        assert_eq!(k.open(Purpose::Puk, &sealed).unwrap(), b"12345678");
        assert!(k.open(Purpose::SmtpPassword, &sealed).is_err());
        assert!(other.open(Purpose::Puk, &sealed).is_err());
        assert!(k.open(Purpose::Puk, "12345678").is_err());
    }

    #[test]
    fn a_written_key_file_reads_back_and_a_second_creator_loses() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("x.db");
        let a = SiteKeys::for_database(&db, None).unwrap();
        let b = SiteKeys::for_database(&db, None).unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let err = SiteKeys::for_database(&db, Some("0011223344556677")).unwrap_err();
        assert!(
            err.to_string().contains("belongs to another database"),
            "{err}"
        );
        std::fs::remove_file(key_file_for(&db)).unwrap();
        let err = SiteKeys::for_database(&db, Some(&a.fingerprint())).unwrap_err();
        assert!(err.to_string().contains("is missing"), "{err}");
    }
}
