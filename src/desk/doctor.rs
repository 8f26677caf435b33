//! `carddesk doctor`: what a site needs, checked one by one, each with what
//! to do when it is not right. The machine-level checks (data folder,
//! database file, card reader service, printer queues, free disk) need no
//! login and never change anything: the database is opened read-only. The
//! checks that read the site's own records (audit trail, mail server) go
//! through the desk with the operator's privileges like every other read.

use super::{Desk, Session};
use crate::devices::printer::{CardPrinter, CupsPrinter};
use crate::store;
use serde::Serialize;
use std::io::Read;
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    /// Works, but something an operator will run into.
    Warn,
    /// The desk cannot do its job until this is fixed.
    Fail,
    /// Not checked (no operator given, or the operator may not).
    Skipped,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Warn => "warn",
            Verdict::Fail => "FAIL",
            Verdict::Skipped => "skip",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub verdict: Verdict,
    /// What was found, and for anything but ok, what to do.
    pub detail: String,
}

fn check(name: &'static str, verdict: Verdict, detail: impl Into<String>) -> Check {
    Check {
        name,
        verdict,
        detail: detail.into(),
    }
}

/// Below this much free space in the data folder the database can fail to
/// write (a checkpoint, a backup before an upgrade): refuse to call it fine.
const DISK_FAIL_BYTES: u64 = 200 << 20;
const DISK_WARN_BYTES: u64 = 2 << 30;
const MAIL_TIMEOUT: Duration = Duration::from_secs(5);

/// The checks that need no login, for the database at `db`.
pub fn machine_checks(db: &Path) -> Vec<Check> {
    vec![
        check(
            "version",
            Verdict::Ok,
            format!(
                "CardDesk {} (database schema {})",
                env!("CARGO_PKG_VERSION"),
                store::schema_version()
            ),
        ),
        data_folder(db),
        database_file(db),
        key_file(db, first_start(db)),
        card_readers(),
        printers(&CupsPrinter::new()),
        free_disk(db),
    ]
}

/// No site yet: no database file, or a server database with no schema.
fn first_start(db: &Path) -> bool {
    !db.exists()
        || (store::server::is_connection_file(db)
            && store::inspect(db).is_ok_and(|found| found.schema == 0))
}

fn data_folder(db: &Path) -> Check {
    let dir = folder_of(db);
    let Ok(meta) = std::fs::metadata(&dir) else {
        return check(
            "data folder",
            Verdict::Ok,
            format!(
                "{} does not exist yet; the first start creates it (mode 700)",
                dir.display()
            ),
        );
    };
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    if meta.uid() != me {
        return check(
            "data folder",
            Verdict::Fail,
            format!(
                "{} belongs to user id {}, not to you ({me}): run CardDesk as the user who \
                 owns it, or give it to this user (chown -R)",
                dir.display(),
                meta.uid()
            ),
        );
    }
    let loose = store::files::loose_permissions(db);
    if !loose.is_empty() {
        return check("data folder", Verdict::Fail, loose.join("; "));
    }
    check(
        "data folder",
        Verdict::Ok,
        format!("{} (only you can read it)", dir.display()),
    )
}

fn database_file(db: &Path) -> Check {
    if !db.exists() {
        return check(
            "database",
            Verdict::Ok,
            format!(
                "none yet at {}; the first start creates it (the window's set-up, or carddesk init)",
                db.display()
            ),
        );
    }
    let found = match store::inspect(db) {
        Ok(found) => found,
        Err(e) => {
            return check(
                "database",
                Verdict::Fail,
                format!("{}: cannot be read ({e}); restore a backup", db.display()),
            )
        }
    };
    let known = store::schema_version();
    if found.schema == 0 && store::server::is_connection_file(db) {
        return check(
            "database",
            Verdict::Ok,
            format!(
                "{} names an empty database on its server; the first start sets it up \
                 (the window's set-up, carddesk init, or carddesk migrate-to from a SQLite site)",
                db.display()
            ),
        );
    }
    if found.schema > known {
        return check(
            "database",
            Verdict::Fail,
            format!(
                "{} was written by a newer CardDesk (schema {}, this one knows {known}); \
                 install that version or newer: this one will not open it",
                db.display(),
                found.schema
            ),
        );
    }
    if !found.problems.is_empty() {
        return check(
            "database",
            Verdict::Fail,
            format!(
                "{} is damaged ({}); restore the latest backup (carddesk restore FILE)",
                db.display(),
                found.problems.join("; ")
            ),
        );
    }
    if found.schema < known {
        let copy = if store::server::is_connection_file(db) {
            "in one transaction (back it up with pg_dump first)".to_string()
        } else {
            format!(
                "after copying it to {}",
                store::upgrade_backup_path(db).display()
            )
        };
        return check(
            "database",
            Verdict::Warn,
            format!(
                "{} has schema {}; the next start upgrades it to {known}, {copy}",
                db.display(),
                found.schema,
            ),
        );
    }
    let what = if store::server::is_connection_file(db) {
        "on its PostgreSQL server"
    } else {
        "integrity ok"
    };
    check(
        "database",
        Verdict::Ok,
        format!("{} (schema {}, {what})", db.display(), found.schema),
    )
}

fn key_file(db: &Path, first_start: bool) -> Check {
    let keys = super::keys::key_file_for(db);
    if first_start {
        return check(
            "site keys",
            Verdict::Ok,
            "made with the database at the first start",
        );
    }
    if keys.exists() {
        return check(
            "site keys",
            Verdict::Ok,
            format!(
                "{} (keep a copy apart from the backups: carddesk backup --with-keys)",
                keys.display()
            ),
        );
    }
    let fix = if store::server::is_connection_file(db) {
        "copy it from the workstation that set the site up (every desk of a server site \
         needs the same key file)"
    } else {
        "put back the copy you kept (backup --with-keys)"
    };
    check(
        "site keys",
        Verdict::Fail,
        format!(
            "{} is missing: without it the audit trail cannot be verified and the stored \
             secrets cannot be read; {fix}",
            keys.display()
        ),
    )
}

fn card_readers() -> Check {
    match crate::devices::reader::list_pcsc_readers() {
        Ok(readers) if readers.is_empty() => check(
            "card readers",
            Verdict::Warn,
            "pcscd answers, but no reader is connected: plug the USB card reader in \
             (door readers are added in Settings → Door readers)",
        ),
        Ok(readers) => check(
            "card readers",
            Verdict::Ok,
            format!("pcscd answers; readers: {}", readers.join(", ")),
        ),
        Err(e) => check(
            "card readers",
            Verdict::Fail,
            format!(
                "{e}: install pcscd and start it (systemctl enable --now pcscd.socket); \
                 automatic entry needs it"
            ),
        ),
    }
}

fn printers(printer: &dyn CardPrinter) -> Check {
    match printer.queues() {
        Ok(queues) if queues.is_empty() => check(
            "printers",
            Verdict::Warn,
            "CUPS answers, but has no printer queues: add the card printer \
             (lpadmin, or http://localhost:631)",
        ),
        Ok(queues) => {
            let listed: Vec<String> = queues
                .iter()
                .map(|q| format!("{} ({})", q.name, q.status()))
                .collect();
            let ready = queues
                .iter()
                .any(|q| q.accepting && q.state != crate::devices::printer::QueueState::Stopped);
            check(
                "printers",
                if ready { Verdict::Ok } else { Verdict::Warn },
                if ready {
                    listed.join(", ")
                } else {
                    format!(
                        "{}; none is ready: clear the fault and resume it (cupsenable, cupsaccept)",
                        listed.join(", ")
                    )
                },
            )
        }
        Err(e) => check(
            "printers",
            Verdict::Fail,
            format!("{e}; install cups-client and make sure CUPS runs (systemctl status cups)"),
        ),
    }
}

fn free_disk(db: &Path) -> Check {
    // The folder may not exist yet: ask about the nearest one that does.
    let mut dir = folder_of(db);
    while !dir.exists() {
        match dir.parent() {
            Some(p) => dir = p.to_path_buf(),
            None => break,
        }
    }
    let Some(free) = free_bytes(&dir) else {
        return check(
            "free disk",
            Verdict::Warn,
            format!("cannot tell how much space is free in {}", dir.display()),
        );
    };
    let shown = format!(
        "{:.1} GiB free in {}",
        free as f64 / (1u64 << 30) as f64,
        dir.display()
    );
    if free < DISK_FAIL_BYTES {
        check(
            "free disk",
            Verdict::Fail,
            format!(
                "only {shown}: free some space; the database and its backups need room to write"
            ),
        )
    } else if free < DISK_WARN_BYTES {
        check("free disk", Verdict::Warn, format!("{shown}: getting low"))
    } else {
        check("free disk", Verdict::Ok, shown)
    }
}

fn folder_of(db: &Path) -> PathBuf {
    match db.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    }
}

fn free_bytes(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    // SAFETY: `c` is a valid NUL-terminated path and `stat` a plain struct
    // statvfs fills in.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut stat) } != 0 {
        return None;
    }
    Some(stat.f_bavail as u64 * stat.f_frsize as u64)
}

impl Desk {
    /// The checks that read the site's records, as the operator may.
    pub fn site_checks(&self, s: &Session) -> Vec<Check> {
        vec![self.audit_check(s), self.mail_check(s)]
    }

    fn audit_check(&self, s: &Session) -> Check {
        match self.verify_audit(s) {
            Ok(n) => check(
                "audit trail",
                Verdict::Ok,
                format!("{n} events, the chain holds"),
            ),
            Err(super::DeskError::Forbidden { .. }) => {
                skipped("audit trail", "your privileges do not include view-audit")
            }
            Err(e) => check(
                "audit trail",
                Verdict::Fail,
                format!("{e}; compare with the latest backup and tell the site's security officer"),
            ),
        }
    }

    fn mail_check(&self, s: &Session) -> Check {
        match self.mail_settings(s) {
            Ok(None) => check(
                "mail server",
                Verdict::Warn,
                "not set up: requesters are not told when their card is ready \
                 (Settings → Mail server, or carddesk mail configure)",
            ),
            Ok(Some(smtp)) => mail_server(&smtp.host, smtp.port, smtp.security),
            Err(super::DeskError::Forbidden { .. }) => skipped(
                "mail server",
                "your privileges do not include manage-settings",
            ),
            Err(e) => check("mail server", Verdict::Fail, e.to_string()),
        }
    }
}

/// What the site checks show when no operator was given.
pub fn site_checks_skipped() -> Vec<Check> {
    let why = "give --operator NAME (an administrator) to check it";
    vec![skipped("audit trail", why), skipped("mail server", why)]
}

/// What the site checks show when the desk could not be opened or the
/// operator not logged in.
pub fn site_checks_failed(why: &str) -> Vec<Check> {
    vec![check(
        "site checks",
        Verdict::Fail,
        format!("not run: {why}"),
    )]
}

fn skipped(name: &'static str, why: &str) -> Check {
    check(name, Verdict::Skipped, why)
}

/// Connects to the mail server; in the clear (plain or STARTTLS) it must
/// greet with 220 as SMTP says (RFC 5321 §4.2). Nothing is sent.
fn mail_server(host: &str, port: u16, security: super::Security) -> Check {
    let target = format!("{host}:{port}");
    let addrs: Vec<_> = match (host, port).to_socket_addrs() {
        Ok(a) => a.collect(),
        Err(e) => {
            return check(
                "mail server",
                Verdict::Fail,
                format!("{target}: the name does not resolve ({e}); check the host in Settings → Mail server"),
            )
        }
    };
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, MAIL_TIMEOUT) {
            Ok(mut stream) => {
                if security == super::Security::Tls {
                    return check(
                        "mail server",
                        Verdict::Ok,
                        format!("{target} accepts connections (TLS)"),
                    );
                }
                let _ = stream.set_read_timeout(Some(MAIL_TIMEOUT));
                let mut greeting = [0u8; 512];
                let n = stream.read(&mut greeting).unwrap_or(0);
                let text = String::from_utf8_lossy(&greeting[..n]);
                return if text.starts_with("220") {
                    check(
                        "mail server",
                        Verdict::Ok,
                        format!(
                            "{target} answers: {}",
                            text.lines().next().unwrap_or("").trim()
                        ),
                    )
                } else {
                    check(
                        "mail server",
                        Verdict::Fail,
                        format!(
                            "{target} accepts connections but does not greet as a mail server \
                             ({:?}); check the port in Settings → Mail server",
                            text.trim()
                        ),
                    )
                };
            }
            Err(e) => last = Some(e),
        }
    }
    check(
        "mail server",
        Verdict::Fail,
        format!(
            "{target} cannot be reached ({}); mail waits in the outbox until it can",
            last.map_or("no address".to_string(), |e| e.to_string())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_database_is_a_first_start_not_a_failure() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("site/carddesk.db");
        let c = database_file(&db);
        assert_eq!(c.verdict, Verdict::Ok, "{}", c.detail);
        assert!(c.detail.contains("first start"), "{}", c.detail);
        assert_eq!(data_folder(&db).verdict, Verdict::Ok);
        let disk = free_disk(&db);
        assert!(disk.detail.contains("free in"), "{}", disk.detail);
    }

    #[test]
    fn a_folder_others_can_read_fails_with_the_command_that_fixes_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = data_folder(&dir.path().join("carddesk.db"));
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("chmod 700"), "{}", c.detail);
    }

    #[test]
    fn a_database_that_is_not_sqlite_fails() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("carddesk.db");
        std::fs::write(&db, b"not a database at all, just text of some length....").unwrap();
        let c = database_file(&db);
        assert_eq!(c.verdict, Verdict::Fail, "{}", c.detail);
        assert!(c.detail.contains("restore"), "{}", c.detail);
    }

    #[test]
    fn a_port_that_does_not_speak_smtp_is_named() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            use std::io::Write;
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        });
        let c = mail_server("127.0.0.1", port, super::super::Security::StartTls);
        assert_eq!(c.verdict, Verdict::Fail);
        assert!(c.detail.contains("does not greet"), "{}", c.detail);
    }
}
