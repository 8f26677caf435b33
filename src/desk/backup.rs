//! Backup and restore of the one database file (an offline site's only
//! copy of its data). A backup holds the secrets sealed; the key file that
//! opens them goes with it only when asked (`--with-keys`), as `<backup>.keys`.

use super::keys::{key_file_for, sibling, SiteKeys, FINGERPRINT_SETTING};
use super::{tx, Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store::files;
use crate::store::Connection;
use crate::store::{self, audit::Head};
use rusqlite::OpenFlags;
use std::path::{Path, PathBuf};

impl Desk {
    /// Writes a consistent copy of the database to `target` (which must not
    /// exist yet), readable by its owner only, and with `with_keys` the site
    /// key file beside it as `<target>.keys`. Safe while other processes use
    /// the database. Recorded in the audit trail once the copy exists.
    pub fn backup(&mut self, s: &Session, target: &Path, with_keys: bool) -> DeskResult<()> {
        self.require(s, Privilege::ManageDatabase, "back up the database")?;
        if store::server::is_connection_file(&self.path) {
            return Err(DeskError::invalid(
                "backup",
                server_backup_advice(&self.path),
            ));
        }
        let key_copy = key_file_for(target);
        for f in [target, key_copy.as_path()] {
            if f.exists() {
                return Err(DeskError::invalid(
                    "backup",
                    format!("{} already exists; choose a new file name", f.display()),
                ));
            }
        }
        let path = target
            .to_str()
            .ok_or_else(|| DeskError::invalid("backup", "the file name must be valid UTF-8"))?;
        let cannot = |e: std::io::Error| {
            DeskError::invalid("backup", format!("cannot write {}: {e}", target.display()))
        };
        // VACUUM INTO fills an empty file it finds, keeping its 0600 mode.
        files::create_private(target).map_err(cannot)?;
        if let Err(e) = self.conn.execute("VACUUM INTO ?1", [path]) {
            let _ = std::fs::remove_file(target);
            return Err(e.into());
        }
        if with_keys {
            // No half backup: without its key file the copy is taken away.
            let copied = std::fs::read(self.keys.path())
                .map_err(|e| DeskError::Keys(format!("{}: {e}", self.keys.path().display())))
                .and_then(|text| files::write_private(&key_copy, &text).map_err(cannot));
            if let Err(e) = copied {
                let _ = std::fs::remove_file(target);
                return Err(e);
            }
        }
        let tx = self.begin()?;
        tx.audit(
            s,
            "database.backup",
            "database",
            None,
            None,
            Some(serde_json::json!({
                "to": path,
                "with_keys": with_keys.then(|| key_copy.display().to_string()),
            })),
        )?;
        tx.commit()
    }
}

impl Desk {
    /// Writes the head file anew at the newest event, after `audit verify`
    /// found it missing or damaged (a stop between a first start's or a
    /// restore's commit and its head, or a file removed by hand). The keyed
    /// chain must hold; the event records the head that was there.
    pub fn reanchor_audit(&mut self, s: &Session) -> DeskResult<u64> {
        self.require(s, Privilege::ManageDatabase, "re-anchor the audit trail")?;
        let previous = match tx::read_head(&self.path, &self.keys) {
            Ok(Some(h)) => head_json(Some(&h)),
            Ok(None) => serde_json::json!("missing"),
            Err(e) => serde_json::json!(e.to_string()),
        };
        let path = self.path.clone();
        let keys = self.keys.clone();
        let newest = store::audit::newest(&self.conn)?;
        let count = store::audit::verify(&self.conn, self.keys.audit_key(), newest.as_ref())?
            .map_err(|b| DeskError::AuditBroken {
                id: b.id,
                reason: b.reason,
            })?;
        let tx = self.begin()?;
        tx.audit(
            s,
            "audit.reanchored",
            "database",
            None,
            None,
            Some(serde_json::json!({ "previous_head": previous })),
        )?;
        let head = store::audit::newest(&tx)?.expect("just recorded");
        // Written under the database lock, with the event committed: no
        // writer can slip in between (they wait for the lock to anchor).
        let _lock = store::DbLock::take(&path)?;
        tx.commit_without_anchor()?;
        tx::write_head(&path, &keys, &head)?;
        Ok(count + 1)
    }
}

/// What to do instead on a PostgreSQL server: its own dump and restore,
/// with the site key file kept beside the dump.
pub fn server_backup_advice(db: &Path) -> String {
    // libpq's tools check the server as CardDesk does: verify-full, with
    // the site CA when the connection file names one.
    let url = store::server::ServerSettings::read(db)
        .map(|s| match &s.ca {
            Some(ca) => format!(
                "{}?sslmode=verify-full&sslrootcert={}",
                s.describe(),
                ca.display()
            ),
            None => format!("{}?sslmode=verify-full", s.describe()),
        })
        .unwrap_or_else(|_| "postgres://USER@HOST/DATABASE".into());
    let stamp = chrono::Utc::now().format("%Y%m%d");
    format!(
        "this site's database is on a PostgreSQL server, which backs itself up: run\n  \
         pg_dump --format=custom --file=carddesk-{stamp}.dump '{url}'\n\
         and keep a copy of {keys} with it (the dump's secrets are sealed with those keys); \
         restore with\n  pg_restore --clean --if-exists --dbname='{url}' carddesk-{stamp}.dump",
        keys = key_file_for(db).display()
    )
}

fn read_only(path: &Path) -> rusqlite::Result<Connection> {
    rusqlite::Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map(Into::into)
}

/// What a backup file is: checked before anything is replaced.
struct BackupFile {
    fingerprint: Option<String>,
    head: Option<Head>,
}

fn check_backup(from: &Path) -> DeskResult<BackupFile> {
    let bad =
        |reason: String| DeskError::invalid("restore", format!("{}: {reason}", from.display()));
    let check = read_only(from).map_err(|e| bad(e.to_string()))?;
    let ok: String = check
        .query_row("PRAGMA integrity_check", (), |r| r.get(0))
        .map_err(|e| bad(format!("not a database ({e})")))?;
    if ok != "ok" {
        return Err(bad(format!("damaged ({ok})")));
    }
    let has_requests: bool = check.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'card_request'",
        (),
        |r| r.get(0),
    )?;
    if !has_requests {
        return Err(bad("not a CardDesk database".into()));
    }
    let version: i64 = check.query_row("PRAGMA user_version", (), |r| r.get(0))?;
    if version > store::schema_version() {
        return Err(bad(format!(
            "written by a newer CardDesk (schema {version}, this version knows {})",
            store::schema_version()
        )));
    }
    Ok(BackupFile {
        fingerprint: store::settings::get(&check, FINGERPRINT_SETTING)?,
        head: store::audit::newest(&check)?,
    })
}

/// The keys that open the backup: its own key file (`<backup>.keys`) when
/// there is one, else the current site's, which must be the same keys.
fn keys_for_backup(db: &Path, from: &Path, backup: &BackupFile) -> DeskResult<Option<SiteKeys>> {
    let Some(fp) = backup.fingerprint.as_deref() else {
        return Ok(None); // written before key files: keyed when opened
    };
    let own = key_file_for(from);
    let keys = if own.exists() {
        SiteKeys::read(&own)?
    } else if key_file_for(db).exists() {
        SiteKeys::read(&key_file_for(db))?
    } else {
        return Err(DeskError::Keys(format!(
            "{} was made with site keys {fp}, and neither {} nor {} is here; restore it \
             together with the key file written by `carddesk backup --with-keys`",
            from.display(),
            own.display(),
            key_file_for(db).display()
        )));
    };
    if keys.fingerprint() != fp {
        return Err(DeskError::Keys(format!(
            "{} was made with site keys {fp}, but {} holds keys {}; restore it together with \
             its own key file (`carddesk backup --with-keys` writes <backup>.keys)",
            from.display(),
            keys.path().display(),
            keys.fingerprint()
        )));
    }
    // A backup whose trail does not verify is not put in place.
    let check = read_only(from)?;
    if let Err(b) = store::audit::verify(&check, keys.audit_key(), backup.head.as_ref())? {
        return Err(DeskError::invalid(
            "restore",
            format!(
                "{}: its audit trail is broken at event {}: {}",
                from.display(),
                b.id,
                b.reason
            ),
        ));
    }
    Ok(Some(keys))
}

fn head_json(head: Option<&Head>) -> serde_json::Value {
    head.map(|h| serde_json::json!({"event": h.event, "hash": h.hash}))
        .unwrap_or(serde_json::Value::Null)
}

/// Replaces the database at `db` with the backup `from`, after checking the
/// backup is a sound CardDesk database this version can open, whose keys
/// are here and whose audit trail verifies. The current file (with its key
/// and head files) is kept beside it; returns that path. Close the desk first.
///
/// Only an operator with the manage-database privilege may do this: one of
/// the current database, or, when there is none yet, one of the backup.
/// Both trails record it, with the head the restored trail came from and
/// the head it replaced, so rolling the trail back shows.
pub fn restore(db: &Path, from: &Path, operator: &str, password: &str) -> DeskResult<PathBuf> {
    if store::server::is_connection_file(db) {
        return Err(DeskError::invalid("restore", server_backup_advice(db)));
    }
    let bad =
        |reason: String| DeskError::invalid("restore", format!("{}: {reason}", from.display()));
    let backup = check_backup(from)?;
    let keys = keys_for_backup(db, from, &backup)?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let kept = db.with_extension(format!("db.before-restore-{stamp}"));
    let mut detail = serde_json::json!({
        "from": from.display().to_string(),
        "kept": kept.display().to_string(),
        "backup_head": head_json(backup.head.as_ref()),
    });
    let mut restored_by_backup_operator = false;
    if db.exists() {
        let mut current = Desk::open(db)?;
        let s = current.login(operator, password)?;
        current.require(&s, Privilege::ManageDatabase, "restore the database")?;
        detail["replaced_head"] = head_json(store::audit::newest(&current.conn)?.as_ref());
        let tx = current.begin()?;
        tx.audit(
            &s,
            "database.replaced",
            "database",
            None,
            None,
            Some(detail.clone()),
        )?;
        tx.commit()?;
        // Fold the WAL into the file so the kept copy is complete.
        if let Some(c) = current.conn.sqlite() {
            c.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        }
        drop(current);
        std::fs::rename(db, &kept)
            .map_err(|e| bad(format!("cannot move the current database aside: {e}")))?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(sibling(db, suffix));
        }
        // The old head belongs to the kept copy; the key file stays unless
        // the backup brings its own.
        let _ = std::fs::rename(tx::head_file_for(db), sibling(&kept, ".audit-head"));
        if key_file_for(from).exists() {
            let _ = std::fs::rename(key_file_for(db), key_file_for(&kept));
        }
    } else {
        restored_by_backup_operator = true;
    }
    files::write_private(
        db,
        &std::fs::read(from).map_err(|e| bad(format!("cannot read: {e}")))?,
    )
    .map_err(|e| bad(format!("cannot copy to {}: {e}", db.display())))?;
    let mut keys_copied = false;
    if key_file_for(from).exists() && !key_file_for(db).exists() {
        let text = std::fs::read(key_file_for(from)).map_err(|e| bad(e.to_string()))?;
        files::write_private(&key_file_for(db), &text).map_err(|e| bad(e.to_string()))?;
        keys_copied = true;
    }
    if let (Some(keys), Some(head)) = (&keys, &backup.head) {
        tx::write_head(db, keys, head)?;
    } else {
        let _ = std::fs::remove_file(tx::head_file_for(db));
    }
    // Migrates an older backup (and keys one written before key files).
    let mut desk = Desk::open(db)?;
    if restored_by_backup_operator {
        // Nothing was there to log in to: the backup's own administrator
        // must say so, or the copy is taken away again.
        let allowed = desk.login(operator, password).and_then(|s| {
            desk.require(&s, Privilege::ManageDatabase, "restore the database")?;
            Ok(s)
        });
        if let Err(e) = allowed {
            drop(desk);
            for suffix in ["", "-wal", "-shm", ".audit-head"] {
                let _ = std::fs::remove_file(sibling(db, suffix));
            }
            // The backup's keys go too: a later `init` here must not adopt
            // keys that whoever supplied the backup knows.
            if keys_copied {
                let _ = std::fs::remove_file(key_file_for(db));
            }
            return Err(e);
        }
    }
    let tx = desk.begin()?;
    tx.record(
        operator,
        "database.restore",
        "database",
        None,
        None,
        Some(&detail),
    )?;
    tx.commit()?;
    Ok(kept)
}
