//! Moving a site that outgrew one workstation onto a PostgreSQL server
//! (`carddesk migrate-to`): the whole history copied into an empty server
//! database, checked (row counts, the audit chain under the site's keys)
//! before anything tells the operator it worked.

use super::keys::{key_file_for, sibling};
use super::{tx, Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store::{self, files};
use std::path::Path;

/// What `migrate-to` copied and checked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Migration {
    /// Rows per table, equal on both sides.
    pub rows: store::copy::Counts,
    /// Audit events verified on the copy.
    pub audit_events: u64,
    /// The connection file of the new site database.
    pub target: String,
}

impl Desk {
    /// Copies this (SQLite) site into the empty server database named by
    /// the connection file `target`, with the site key file (and the
    /// temporary-card CA key) beside it, then verifies the copy: the same
    /// number of rows in every table and an intact audit trail. Audited on
    /// both: here that it was copied, there where it came from.
    pub fn migrate_to(&mut self, s: &Session, target: &Path) -> DeskResult<Migration> {
        self.require(
            s,
            Privilege::ManageDatabase,
            "copy the site to a database server",
        )?;
        if store::server::is_connection_file(&self.path) {
            return Err(DeskError::invalid(
                "migrate-to",
                "this site is already on a database server; copy it with pg_dump",
            ));
        }
        if !store::server::is_connection_file(target) {
            return Err(DeskError::invalid(
                "migrate-to",
                format!(
                    "{} is not a connection file (database.toml) or postgres:// URL",
                    target.display()
                ),
            ));
        }
        // The trail must hold before it is copied: a broken one is not
        // passed off as sound on the server.
        let events = self.verify_audit(s)?;
        let to = store::open(target)?;
        let not_empty: Vec<String> = store::copy::counts(&to)?
            .into_iter()
            .filter(|(t, n)| *n > 0 && !["card_format", "badge_template"].contains(&t.as_str()))
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        if !not_empty.is_empty() {
            return Err(DeskError::invalid(
                "migrate-to",
                format!(
                    "the server database is not empty: {}; give an empty database",
                    not_empty.join(", ")
                ),
            ));
        }
        // The keys go first: the copy's secrets are sealed with them.
        let keys_to = key_file_for(target);
        if keys_to.exists() {
            return Err(DeskError::invalid(
                "migrate-to",
                format!("{} already exists; move it away first", keys_to.display()),
            ));
        }
        copy_private(self.keys.path(), &keys_to)?;
        let ca_key = sibling(&self.path, "-ca-key.pem");
        let ca_to = sibling(target, "-ca-key.pem");
        let mut written = vec![keys_to.clone()];
        if ca_key.exists() {
            written.push(ca_to.clone());
            if let Err(e) = copy_private(&ca_key, &ca_to) {
                remove_all(&written);
                return Err(e);
            }
        }
        // Rows and counts in one go: the copy commits only when every
        // table has as many rows on the server as here.
        let copied = match store::copy::copy_site(&self.conn, &to) {
            Ok(c) => c,
            Err(e) => {
                // Nothing was committed: no key file is left to stop a retry.
                remove_all(&written);
                return Err(e.into());
            }
        };
        drop(to);
        let mut there_desk = Desk::connect(target)?;
        // The copied trail's newest event anchors the server's head file
        // here, then the trail is verified on the server under the keys.
        if let Some(head) = store::audit::newest(&there_desk.conn)? {
            tx::write_head(target, &there_desk.keys, &head)?;
        }
        let verified = there_desk.verify_audit(s)?;
        if verified != events {
            return Err(DeskError::invalid(
                "migrate-to",
                format!("the server's trail has {verified} events, this one {events}"),
            ));
        }
        let detail = serde_json::json!({
            "from": self.path.display().to_string(),
            "to": target.display().to_string(),
            "rows": copied,
            "audit_events": events,
        });
        let t = there_desk.begin()?;
        t.audit(
            s,
            "database.migrated_from",
            "database",
            None,
            None,
            Some(detail.clone()),
        )?;
        t.commit()?;
        let t = self.begin()?;
        t.audit(
            s,
            "database.migrated_to",
            "database",
            None,
            None,
            Some(detail),
        )?;
        t.commit()?;
        Ok(Migration {
            rows: copied,
            audit_events: events,
            target: target.display().to_string(),
        })
    }
}

fn remove_all(files: &[std::path::PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

fn copy_private(from: &Path, to: &Path) -> DeskResult<()> {
    let bytes =
        std::fs::read(from).map_err(|e| DeskError::Keys(format!("{}: {e}", from.display())))?;
    files::write_private(to, &bytes).map_err(|e| DeskError::Keys(format!("{}: {e}", to.display())))
}
