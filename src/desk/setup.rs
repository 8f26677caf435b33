//! Setting up a database's site keys when it is opened: a new database gets
//! a key file and records its fingerprint; a database written before key
//! files existed has its audit trail keyed and its clear secrets sealed, in
//! one audited transaction.

use super::keys::{is_sealed, Purpose, SiteKeys, FINGERPRINT_SETTING};
use super::temp_cards::SETTING_SITE_KEY;
use super::{tx, DeskError, DeskResult};
use crate::store;
use crate::store::{params, Connection};
use std::path::Path;

pub(super) const SMTP_PASSWORD: &str = "smtp.password";

/// The keys of the database at `path` (open on `conn`), set up on first use.
pub(super) fn keys_for(conn: &Connection, path: &Path) -> DeskResult<SiteKeys> {
    // Two first starts at once: one sets the keys up, the other reads them.
    let _lock = store::DbLock::take(path)?;
    let recorded = store::settings::get(conn, FINGERPRINT_SETTING)?;
    if recorded.is_none() && tx::head_file_for(path).exists() {
        // Only a keyed database ever had a head file: the fingerprint was
        // removed from it, perhaps to pass a re-chained trail off as old.
        return Err(DeskError::Keys(format!(
            "{} no longer records its site keys, but {} shows it had them: the database was \
             altered outside CardDesk; restore a backup",
            path.display(),
            tx::head_file_for(path).display()
        )));
    }
    if recorded.is_none() {
        refuse_if_once_keyed(conn, path)?;
    }
    let keys = SiteKeys::for_database(path, recorded.as_deref())?;
    if recorded.is_none() {
        key_database(conn, path, &keys)?;
    }
    seal_ca_key_file(path, &keys)?;
    Ok(keys)
}

/// A database that records no site keys is either new or from before key
/// files. Anything else that says it had keys means its fingerprint was
/// taken out, perhaps to pass a rewritten trail off as an old one: then it
/// is not keyed again.
fn refuse_if_once_keyed(conn: &Connection, path: &Path) -> DeskResult<()> {
    let altered = |evidence: String| {
        Err(DeskError::Keys(format!(
            "{} records no site keys, but {evidence}: the database was altered outside \
             CardDesk; restore a backup",
            path.display()
        )))
    };
    let events = store::audit::count(conn)?;
    // A key file with a trail already written: the fingerprint is gone. (A
    // key file and an empty trail is a first start that stopped half-way.)
    if events > 0 && super::keys::key_file_for(path).exists() {
        return altered(format!(
            "{} exists beside it",
            super::keys::key_file_for(path).display()
        ));
    }
    let sealed: i64 = conn.query_row(
        "SELECT (SELECT count(*) FROM setting WHERE value LIKE 'sealed1:%')
              + (SELECT count(*) FROM temp_card WHERE puk LIKE 'sealed1:%')",
        (),
        |r| r.get(0),
    )?;
    if sealed > 0 {
        return altered(format!("it holds {sealed} value(s) sealed with site keys"));
    }
    if let Some(broken) = store::audit::check_legacy_trail(conn)? {
        return altered(format!(
            "its audit trail does not hold at event {} ({})",
            broken.id, broken.reason
        ));
    }
    Ok(())
}

/// Records the fingerprint, keys an existing trail and seals clear secrets.
fn key_database(conn: &Connection, path: &Path, keys: &SiteKeys) -> DeskResult<()> {
    let t = conn.begin()?;
    // Read again under the write lock: on a server, another workstation
    // may have set the site up since (the file lock is this machine's).
    if let Some(fp) = store::settings::get(&t, FINGERPRINT_SETTING)? {
        if fp != keys.fingerprint() {
            return Err(DeskError::Keys(format!(
                "another workstation set up this site's keys (fingerprint {fp}) at the same \
                 moment; {} (fingerprint {}) is not them: replace it with a copy of that \
                 workstation's key file",
                keys.path().display(),
                keys.fingerprint()
            )));
        }
        return Ok(());
    }
    store::settings::set(&t, FINGERPRINT_SETTING, &keys.fingerprint())?;
    let events = store::audit::count(&t)?;
    store::audit::key_legacy_trail(&t, keys.audit_key())?;
    let sealed = seal_clear_secrets(&t, keys)?;
    let head = store::audit::record(
        &t,
        keys.audit_key(),
        "system",
        "site_keys.created",
        "database",
        None,
        None,
        Some(&serde_json::json!({
            "fingerprint": keys.fingerprint(),
            "key_file": keys.path().display().to_string(),
            "earlier_events_keyed": events,
            "secrets_sealed": sealed,
        })),
    )?;
    t.commit()?;
    // Under the lock already: write the head directly.
    tx::write_head(path, keys, &head)
}

/// Seals the SMTP password, the MIFARE site key and the PUKs stored in clear
/// by earlier versions. Returns how many values it sealed.
fn seal_clear_secrets(conn: &Connection, keys: &SiteKeys) -> DeskResult<u64> {
    let mut sealed = 0;
    for (setting, purpose) in [
        (SMTP_PASSWORD, Purpose::SmtpPassword),
        (SETTING_SITE_KEY, Purpose::SiteKey),
    ] {
        if let Some(v) = store::settings::get(conn, setting)?.filter(|v| !is_sealed(v)) {
            store::settings::set(conn, setting, &keys.seal(purpose, v.as_bytes()))?;
            sealed += 1;
        }
    }
    let puks: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT id, puk FROM temp_card WHERE puk IS NOT NULL")?;
        let rows = stmt.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<crate::store::Result<_>>()?
    };
    for (id, puk) in puks.into_iter().filter(|(_, p)| !is_sealed(p)) {
        conn.execute(
            "UPDATE temp_card SET puk = ?2 WHERE id = ?1",
            params![id, keys.seal(Purpose::Puk, puk.as_bytes())],
        )?;
        sealed += 1;
    }
    Ok(sealed)
}

/// An earlier version kept the CA key as a clear PEM file: seal it in place.
fn seal_ca_key_file(path: &Path, keys: &SiteKeys) -> DeskResult<()> {
    let file = super::keys::sibling(path, "-ca-key.pem");
    let Ok(text) = std::fs::read_to_string(&file) else {
        return Ok(());
    };
    if is_sealed(text.trim()) {
        return Ok(());
    }
    crate::store::files::replace_private(
        &file,
        keys.seal(Purpose::CaKey, text.as_bytes()).as_bytes(),
    )
    .map_err(|e| DeskError::Keys(format!("{}: {e}", file.display())))
}
