//! Shared set-up for the integration tests: a real database file in a
//! temporary folder, an administrator, and a way to prove nothing changed.
#![allow(dead_code)]

pub mod cups;

use carddesk::desk::{CardholderInput, Desk, NewOperatorInput, Session};
use carddesk::domain::Role;
use carddesk::store::requests::RequestFields;
use tempfile::TempDir;

pub struct TestDesk {
    pub dir: TempDir,
    pub desk: Desk,
    pub admin: Session,
}

pub const PASSWORD: &str = "correct horse";

impl TestDesk {
    pub fn new() -> TestDesk {
        let dir = tempfile::tempdir().unwrap();
        let mut desk = Desk::open(&dir.path().join("carddesk.db")).unwrap();
        let admin = desk
            .init_admin("admin", Some("admin@site.example"), PASSWORD)
            .unwrap();
        TestDesk { dir, desk, admin }
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("carddesk.db")
    }

    pub fn operator(&mut self, name: &str, role: Role, email: Option<&str>) -> Session {
        self.desk
            .add_operator(
                &self.admin,
                &NewOperatorInput {
                    name,
                    email,
                    role,
                    password: PASSWORD,
                    language: "en",
                },
            )
            .unwrap();
        self.desk.login(name, PASSWORD).unwrap()
    }

    pub fn cardholder(&mut self, first: &str, last: &str) -> i64 {
        self.desk
            .create_cardholder(&self.admin, &person(first, last), None)
            .unwrap()
            .0
    }

    /// A cardholder with a pending card request raised by `by`.
    pub fn request_for(&mut self, by: &Session, first: &str, last: &str, notify: bool) -> i64 {
        self.desk
            .create_cardholder(by, &person(first, last), Some(&request(notify)))
            .unwrap()
            .1
            .unwrap()
    }

    /// Every row of every table, to prove an operation changed nothing.
    pub fn dump(&self) -> String {
        let conn = self.desk.conn();
        let mut out = String::new();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for t in tables {
            let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    Ok((0..n)
                        .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                        .collect::<Vec<_>>()
                        .join("|"))
                })
                .unwrap();
            for row in rows {
                out.push_str(&format!("{t}: {}\n", row.unwrap()));
            }
        }
        out
    }
}

pub fn person(first: &str, last: &str) -> CardholderInput {
    CardholderInput {
        first_name: first.into(),
        last_name: last.into(),
        email: Some(format!("{}@example.org", first.to_lowercase())),
        ..Default::default()
    }
}

pub fn request(notify: bool) -> RequestFields {
    RequestFields {
        reason: "printer out of ribbon".into(),
        badge_template: "Standard".into(),
        notify_requester: notify,
        ship_to_site_id: None,
    }
}

pub fn manual(format: &str, fields: &[(&str, &str)]) -> carddesk::desk::ConnectCard {
    carddesk::desk::ConnectCard::Manual {
        format: format.into(),
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// An exclusive lock on one shared test device ("card-printer",
/// "virtual-reader"), held until dropped. It is a file lock (flock) in the
/// temp folder, so it serialises tests across test binaries and processes,
/// not just threads. Take the printer before the reader when both are needed.
pub struct DeviceLock(#[allow(dead_code)] std::fs::File);

pub fn device_lock(name: &str) -> DeviceLock {
    use std::os::fd::AsRawFd;
    let path = std::env::temp_dir().join(format!("carddesk-test-{name}.lock"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    // SAFETY: flock on a descriptor we own; released when the file closes.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "flock {}: {}",
        path.display(),
        std::io::Error::last_os_error()
    );
    DeviceLock(file)
}
