//! Backup and restore of the one database file (an offline site's only
//! copy of its data).

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store;
use std::path::{Path, PathBuf};

impl Desk {
    /// Writes a consistent copy of the database to `target` (which must not
    /// exist yet). Safe while other processes use the database. The copy is
    /// recorded in the audit trail (after it exists, so the trail never
    /// claims a backup that failed).
    pub fn backup(&mut self, s: &Session, target: &Path) -> DeskResult<()> {
        s.require(Privilege::ManageDatabase, "back up the database")?;
        if target.exists() {
            return Err(DeskError::invalid(
                "backup",
                format!(
                    "{} already exists; choose a new file name",
                    target.display()
                ),
            ));
        }
        let path = target
            .to_str()
            .ok_or_else(|| DeskError::invalid("backup", "the file name must be valid UTF-8"))?;
        self.conn.execute("VACUUM INTO ?1", [path])?;
        let tx = self.conn.transaction()?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "database.backup",
            "database",
            None,
            None,
            Some(&serde_json::json!({ "to": path })),
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Replaces the database at `db` with the backup `from`, after checking the
/// backup is a sound CardDesk database this version can open. The current
/// file is kept beside it; returns that path. Close the desk first.
///
/// Only an operator with the manage-database privilege may do this: one of
/// the current database, or, when there is none yet, one of the backup.
/// Both trails record it, with the newest event of the backup's trail (the
/// head it came from), so rolling the trail back shows.
pub fn restore(db: &Path, from: &Path, operator: &str, password: &str) -> DeskResult<PathBuf> {
    let bad =
        |reason: String| DeskError::invalid("restore", format!("{}: {reason}", from.display()));
    {
        let check =
            rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| bad(e.to_string()))?;
        let ok: String = check
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| bad(format!("not a database ({e})")))?;
        if ok != "ok" {
            return Err(bad(format!("damaged ({ok})")));
        }
        let has_requests: bool = check.query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'card_request'",
            [],
            |r| r.get(0),
        )?;
        if !has_requests {
            return Err(bad("not a CardDesk database".into()));
        }
        let version: i64 = check.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > store::schema_version() {
            return Err(bad(format!(
                "written by a newer CardDesk (schema {version}, this version knows {})",
                store::schema_version()
            )));
        }
    }
    let head: Option<(i64, String)> = {
        let check =
            rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| bad(e.to_string()))?;
        check
            .query_row(
                "SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()
    };
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let kept = db.with_extension(format!("db.before-restore-{stamp}"));
    let detail = serde_json::json!({
        "from": from.display().to_string(),
        "kept": kept.display().to_string(),
        "backup_head": head.as_ref().map(|(id, hash)| serde_json::json!({"event": id, "hash": hash})),
    });
    let mut restored_by_backup_operator = false;
    if db.exists() {
        let mut current = Desk::open(db)?;
        let s = current.login(operator, password)?;
        s.require(Privilege::ManageDatabase, "restore the database")?;
        let tx = current.conn.transaction()?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "database.replaced",
            "database",
            None,
            None,
            Some(&detail),
        )?;
        tx.commit()?;
        // Fold the WAL into the file so the kept copy is complete.
        current
            .conn
            .pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        drop(current);
        std::fs::rename(db, &kept)
            .map_err(|e| bad(format!("cannot move the current database aside: {e}")))?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    } else {
        restored_by_backup_operator = true;
    }
    std::fs::copy(from, db).map_err(|e| bad(format!("cannot copy: {e}")))?;
    // Migrates an older backup and proves it opens.
    let mut desk = Desk::open(db)?;
    if restored_by_backup_operator {
        // Nothing was there to log in to: the backup's own administrator
        // must say so, or the copy is taken away again.
        let allowed = desk.login(operator, password).and_then(|s| {
            s.require(Privilege::ManageDatabase, "restore the database")?;
            Ok(s)
        });
        if let Err(e) = allowed {
            drop(desk);
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            return Err(e);
        }
    }
    let tx = desk.conn.transaction()?;
    store::audit::record(
        &tx,
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
