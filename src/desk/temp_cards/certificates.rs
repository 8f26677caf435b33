//! Certificates of temporary cards: the profiles an order may select, a
//! card's certificates, the issuing CA's certificate and its CRL.

use super::{get_card, setting, DEFAULT_CERT_PROFILES, SETTING_CERT_PROFILES};
use crate::desk::{temp_certs, Desk, DeskResult, Session};
use crate::domain::Privilege;
use crate::store::{self, temp_cards::TempCertificate};

pub(super) fn cert_profiles(conn: &crate::store::Connection) -> DeskResult<Vec<String>> {
    Ok(setting(conn, SETTING_CERT_PROFILES)?
        .unwrap_or_else(|| DEFAULT_CERT_PROFILES.into())
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect())
}

impl Desk {
    /// The certificate profiles an order may select (setting
    /// `temp_card.cert_profiles`, comma-separated).
    pub fn temp_cert_profiles(&self, s: &Session) -> DeskResult<Vec<String>> {
        self.require(s, Privilege::ViewCredentials, "see certificate profiles")?;
        cert_profiles(&self.conn)
    }

    /// A card's certificates (PEM inside), oldest first.
    pub fn temp_card_certificates(
        &self,
        s: &Session,
        card_id: i64,
    ) -> DeskResult<Vec<TempCertificate>> {
        self.require(s, Privilege::ViewCredentials, "see certificates")?;
        get_card(&self.conn, card_id)?;
        Ok(store::temp_cards::certificates(&self.conn, card_id)?)
    }

    /// The issuing CA's certificate (PEM), creating the CA on first use.
    pub fn temp_ca_certificate(&mut self, s: &Session) -> DeskResult<String> {
        self.require(s, Privilege::PrintCards, "use the temporary card CA")?;
        let tx = self.begin()?;
        let (pem, _) = temp_certs::issuer(&tx)?;
        tx.commit()?;
        temp_certs::settle_key(&self.conn)?;
        Ok(pem)
    }

    /// A signed CRL (PEM) of every revoked temporary-card certificate.
    pub fn export_temp_crl(&mut self, s: &Session) -> DeskResult<String> {
        self.require(
            s,
            Privilege::PrintCards,
            "export the certificate revocation list",
        )?;
        let tx = self.begin()?;
        let crl = temp_certs::crl(&tx)?;
        tx.audit(s, "temp_ca.crl_export", "temp_ca", None, None, None)?;
        tx.commit()?;
        temp_certs::settle_key(&self.conn)?;
        Ok(crl)
    }
}
