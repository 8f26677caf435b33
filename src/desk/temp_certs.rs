//! The site's local issuing CA for temporary cards (rcgen): created on
//! first use, its private key kept in a file next to the database that only
//! the owner may read; one X.509 certificate per selected profile, bound to
//! the card (and its holder once assigned); revocation and a signed CRL.

use super::keys::Purpose;
use super::tx::Tx;
use super::{DeskError, DeskResult};
use crate::store::Connection;
use crate::store::{
    self,
    temp_cards::{NewCertificate, TempCard},
};
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SerialNumber,
};
use std::path::{Path, PathBuf};
use time::OffsetDateTime;

const CA_NAME: &str = "temp_ca.name";
const CA_NOT_BEFORE: &str = "temp_ca.not_before";
const CA_CERT: &str = "temp_ca.cert_pem";
const CA_CRL_NUMBER: &str = "temp_ca.crl_number";
/// Years an issuing CA is valid.
const CA_YEARS: i64 = 10;

fn ca_error(what: &str, e: impl std::fmt::Display) -> DeskError {
    DeskError::invalid("certificate authority", format!("{what}: {e}"))
}

/// Where the CA key lives: `<database>-ca-key.pem`.
fn key_path(conn: &Connection) -> DeskResult<PathBuf> {
    match conn.path().filter(|p| !p.is_empty()) {
        Some(p) => Ok(PathBuf::from(format!("{p}-ca-key.pem"))),
        None => Err(ca_error(
            "key file",
            "an in-memory database cannot keep a CA key",
        )),
    }
}

fn ca_params(name: &str, not_before: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "CardDesk");
    dn.push(DnType::CommonName, name);
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = not_before;
    p.not_after = not_before + time::Duration::days(365 * CA_YEARS);
    p.key_identifier_method = KeyIdMethod::Sha256;
    p
}

/// Where a new CA key waits until the transaction that records its
/// certificate has committed: `<key file>.pending`.
fn pending_path(path: &Path) -> PathBuf {
    crate::store::files::sibling(path, ".pending")
}

/// Writes the (sealed) CA key: a new owner-only file, flushed to disk.
fn write_private(path: &Path, pem: &str) -> DeskResult<()> {
    crate::store::files::write_private(path, pem.as_bytes())
        .map_err(|e| ca_error(&format!("cannot write {}", path.display()), e))
}

/// Moves a new CA key from `.pending` to its place once the database records
/// the CA: call after committing a transaction that may have created it
/// (and it runs again at the CA's next use, should the process stop between).
pub(super) fn settle_key(conn: &Connection) -> DeskResult<()> {
    if store::settings::get(conn, CA_CERT)?.is_none() {
        return Ok(());
    }
    let path = key_path(conn)?;
    let pending = pending_path(&path);
    if !path.exists() && pending.exists() {
        std::fs::rename(&pending, &path)
            .map_err(|e| ca_error(&format!("cannot move {} into place", pending.display()), e))?;
    }
    Ok(())
}

/// The CA: its certificate (PEM) and an issuer to sign with. Created on
/// first use (within the caller's transaction for the settings).
pub(super) fn issuer(conn: &Tx) -> DeskResult<(String, Issuer<'static, KeyPair>)> {
    let path = key_path(conn)?;
    let stored = store::settings::get(conn, CA_CERT)?;
    let (name, not_before, cert, key) = match stored {
        Some(cert) => {
            settle_key(conn)?;
            let sealed = std::fs::read_to_string(&path).map_err(|e| {
                ca_error(&format!("the CA key {} cannot be read", path.display()), e)
            })?;
            let key_pem = conn.keys().open_text(Purpose::CaKey, sealed.trim())?;
            let key = KeyPair::from_pem(&key_pem).map_err(|e| ca_error("CA key", e))?;
            let name = store::settings::get(conn, CA_NAME)?.unwrap_or_default();
            let nb: i64 = store::settings::get(conn, CA_NOT_BEFORE)?
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| ca_error("settings", "temp_ca.not_before is missing"))?;
            let nb =
                OffsetDateTime::from_unix_timestamp(nb).map_err(|e| ca_error("settings", e))?;
            (name, nb, cert, key)
        }
        None => {
            let site = store::sites::list(conn)?
                .into_iter()
                .next()
                .map(|s| s.name)
                .unwrap_or_else(|| "site".into());
            let name = format!("CardDesk temporary cards CA ({site})");
            let key = KeyPair::generate().map_err(|e| ca_error("key generation", e))?;
            let now = OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .expect("0 is valid");
            let cert = ca_params(&name, now)
                .self_signed(&key)
                .map_err(|e| ca_error("self-signing", e))?
                .pem();
            if path.exists() {
                return Err(ca_error(
                    "key file",
                    format!(
                        "{} exists but the database has no CA certificate; move it away",
                        path.display()
                    ),
                ));
            }
            // The key file proper appears only once the database says the CA
            // exists (see above); a pending key left by a transaction that
            // rolled back belongs to no certificate and is replaced.
            let pending = pending_path(&path);
            let _ = std::fs::remove_file(&pending);
            write_private(
                &pending,
                &conn
                    .keys()
                    .seal(Purpose::CaKey, key.serialize_pem().as_bytes()),
            )?;
            store::settings::set(conn, CA_NAME, &name)?;
            store::settings::set(conn, CA_NOT_BEFORE, &now.unix_timestamp().to_string())?;
            store::settings::set(conn, CA_CERT, &cert)?;
            (name, now, cert, key)
        }
    };
    Ok((cert, Issuer::new(ca_params(&name, not_before), key)))
}

fn random_serial() -> (SerialNumber, String) {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b[0] &= 0x7F; // positive
    b[0] |= 0x01; // no leading zero byte to strip
    (SerialNumber::from_slice(&b), hex::encode_upper(b))
}

/// Issues one certificate per profile for the card (and `holder`, a full
/// name, when assigned). Runs inside the caller's transaction.
pub(super) fn issue(
    conn: &Tx,
    card: &TempCard,
    holder: Option<(i64, &str)>,
    profiles: &[String],
    valid_until: OffsetDateTime,
) -> DeskResult<usize> {
    if profiles.is_empty() {
        return Ok(0);
    }
    let (_, ca) = issuer(conn)?;
    for profile in profiles {
        let key = KeyPair::generate().map_err(|e| ca_error("key generation", e))?;
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "CardDesk");
        dn.push(DnType::OrganizationalUnitName, profile.as_str());
        // serialNumber (2.5.4.5): the card the certificate is bound to.
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 5]),
            format!("{} {}", card.format, card.card_number),
        );
        let cn = match holder {
            Some((_, name)) => name.to_string(),
            None => format!("Temporary card {}", card.card_number),
        };
        dn.push(DnType::CommonName, cn.as_str());
        p.distinguished_name = dn;
        let (serial, serial_hex) = random_serial();
        p.serial_number = Some(serial);
        p.not_before = OffsetDateTime::now_utc() - time::Duration::minutes(5);
        p.not_after = valid_until;
        p.use_authority_key_identifier_extension = true;
        p.key_usages = match profile.to_ascii_lowercase().as_str() {
            "signature" => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
            ],
            _ => vec![KeyUsagePurpose::DigitalSignature],
        };
        p.extended_key_usages = match profile.to_ascii_lowercase().as_str() {
            "authentication" => vec![ExtendedKeyUsagePurpose::ClientAuth],
            _ => vec![],
        };
        let cert = p.signed_by(&key, &ca).map_err(|e| ca_error("signing", e))?;
        let subject = format!(
            "CN={cn}, OU={profile}, serialNumber={} {}",
            card.format, card.card_number
        );
        store::temp_cards::insert_certificate(
            conn,
            &NewCertificate {
                temp_card_id: card.id,
                profile,
                serial: &serial_hex,
                subject: &subject,
                cardholder_id: holder.map(|(id, _)| id),
                pem: &cert.pem(),
                not_after: &chrono::DateTime::from_timestamp(valid_until.unix_timestamp(), 0)
                    .ok_or_else(|| ca_error("date", "out of range"))?
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            },
        )?;
    }
    Ok(profiles.len())
}

fn reason_code(reason: &str) -> RevocationReason {
    match reason {
        "superseded" => RevocationReason::Superseded,
        "cessation_of_operation" => RevocationReason::CessationOfOperation,
        "affiliation_changed" => RevocationReason::AffiliationChanged,
        _ => RevocationReason::Unspecified,
    }
}

/// A CRL (PEM) listing every revoked temporary-card certificate, signed by
/// the CA; each export gets the next CRL number.
pub(super) fn crl(conn: &Tx) -> DeskResult<String> {
    let (_, ca) = issuer(conn)?;
    let number: u64 = store::settings::get(conn, CA_CRL_NUMBER)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
        + 1;
    store::settings::set(conn, CA_CRL_NUMBER, &number.to_string())?;
    let mut revoked = Vec::new();
    for c in store::temp_cards::revoked_certificates(conn)? {
        let at = c
            .revoked_at
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp())
            .unwrap_or_default();
        revoked.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(
                &hex::decode(&c.serial).map_err(|e| ca_error("serial", e))?,
            ),
            revocation_time: OffsetDateTime::from_unix_timestamp(at)
                .map_err(|e| ca_error("date", e))?,
            reason_code: Some(reason_code(c.revoke_reason.as_deref().unwrap_or(""))),
            invalidity_date: None,
        });
    }
    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("0 is valid");
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(7),
        crl_number: SerialNumber::from(number),
        issuing_distribution_point: None,
        revoked_certs: revoked,
        key_identifier_method: KeyIdMethod::Sha256,
    };
    params
        .signed_by(&ca)
        .and_then(|c| c.pem())
        .map_err(|e| ca_error("CRL", e))
}
