//! Backup and restore of the one database file (an offline site's only
//! copy of its data).

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::{CardFormat, FormatError, Privilege};
use crate::store;
use std::path::{Path, PathBuf};

impl Desk {
    /// Writes a consistent copy of the database to `target` (which must not
    /// exist yet). Safe while other processes use the database.
    pub fn backup(&self, target: &Path) -> DeskResult<()> {
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
        Ok(())
    }

    /// Adds a custom Wiegand format from its JSON definition (the same shape
    /// `carddesk format show` prints). Returns its name.
    pub fn add_card_format(&mut self, s: &Session, json: &str) -> DeskResult<String> {
        s.require(Privilege::ManageFormats, "add card formats")?;
        let format: CardFormat =
            serde_json::from_str(json).map_err(|e| FormatError::BadDefinition {
                name: "(new format)".into(),
                reason: format!("not a format definition: {e}"),
            })?;
        let CardFormat::Wiegand(w) = &format else {
            return Err(FormatError::BadDefinition {
                name: format.name().into(),
                reason: "only Wiegand formats can be added".into(),
            }
            .into());
        };
        w.validate()?;
        if store::formats::get(&self.conn, &w.name)?.is_some() {
            return Err(FormatError::BadDefinition {
                name: w.name.clone(),
                reason: "a format with this name already exists".into(),
            }
            .into());
        }
        let tx = self.conn.transaction()?;
        store::formats::insert(&tx, &format)?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "format.create",
            "card_format",
            None,
            None,
            Some(&serde_json::to_value(&format).expect("serialise")),
        )?;
        tx.commit()?;
        Ok(w.name.clone())
    }
}

/// Replaces the database at `db` with the backup `from`, after checking the
/// backup is a sound CardDesk database this version can open. The current
/// file is kept beside it; returns that path. Close the desk first.
pub fn restore(db: &Path, from: &Path) -> DeskResult<PathBuf> {
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
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let kept = db.with_extension(format!("db.before-restore-{stamp}"));
    if db.exists() {
        // Fold the WAL into the file so the kept copy is complete.
        let current = rusqlite::Connection::open(db)?;
        current.pragma_update(None, "wal_checkpoint", "TRUNCATE")?;
        drop(current);
        std::fs::rename(db, &kept)
            .map_err(|e| bad(format!("cannot move the current database aside: {e}")))?;
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    std::fs::copy(from, db).map_err(|e| bad(format!("cannot copy: {e}")))?;
    // Migrates an older backup and proves it opens.
    let mut desk = Desk::open(db)?;
    let tx = desk.conn.transaction()?;
    store::audit::record(
        &tx,
        "system",
        "database.restore",
        "database",
        None,
        None,
        Some(
            &serde_json::json!({"from": from.display().to_string(), "kept": kept.display().to_string()}),
        ),
    )?;
    tx.commit()?;
    Ok(kept)
}
