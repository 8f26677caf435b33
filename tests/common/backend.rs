//! The backend parameter: the desk, CLI and race tests run on a SQLite file
//! by default, and on a fresh database of the harness' PostgreSQL server
//! (tests/support/start-postgres.sh) with `CARDDESK_TEST_BACKEND=postgres`.
//! The same tests, not copies: only where the database lives differs.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// Whether this run's databases are on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("CARDDESK_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

/// The harness server's URL (a role that may create databases).
pub fn server_url() -> String {
    std::env::var("CARDDESK_TEST_POSTGRES").expect(
        "CARDDESK_TEST_BACKEND=postgres needs CARDDESK_TEST_POSTGRES \
         (source tests/support/env.sh after tests/support/start-postgres.sh)",
    )
}

/// One test's site database: a file, or a database on the server that is
/// dropped with it.
pub struct TestDb {
    pub path: PathBuf,
    server_db: Option<String>,
}

impl TestDb {
    /// A new, empty site database in `dir`, named `<stem>.db` (SQLite) or
    /// `<stem>.toml` (the connection file of a new server database).
    pub fn new(dir: &Path, stem: &str) -> TestDb {
        if !on_postgres() {
            return TestDb {
                path: dir.join(format!("{stem}.db")),
                server_db: None,
            };
        }
        TestDb::on_server(dir, stem)
    }

    /// A new, empty database on the harness' server, whatever the backend
    /// parameter (for copying a SQLite site onto it).
    pub fn on_server(dir: &Path, stem: &str) -> TestDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "cd_{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        let mut admin = postgres::Client::connect(&server_url(), postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let path = dir.join(format!("{stem}.toml"));
        // Over TLS, the server checked against the harness' CA (PG_CA).
        carddesk::store::server::ServerSettings::write(
            &path,
            &database_url(&name),
            ca().as_deref(),
        )
        .unwrap();
        TestDb {
            path,
            server_db: Some(name),
        }
    }
}

/// The CA that signed the harness server's certificate (start-postgres.sh).
pub fn ca() -> Option<PathBuf> {
    std::env::var_os("PG_CA").map(PathBuf::from)
}

/// The server URL with another database name.
pub fn database_url(name: &str) -> String {
    let url = server_url();
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

impl TestDb {
    /// The server database's URL (with the harness role's password).
    pub fn url(&self) -> Option<String> {
        self.server_db.as_deref().map(database_url)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.server_db {
            if let Ok(mut admin) = postgres::Client::connect(&server_url(), postgres::NoTls) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// For a test of the SQLite file itself (its bytes, a script editing it
/// with sqlite3, file backups): true, with a note, when this run is on
/// PostgreSQL, so the test returns early.
pub fn sqlite_only(what: &str) -> bool {
    if on_postgres() {
        eprintln!("not on PostgreSQL: {what} is about the SQLite file");
        return true;
    }
    false
}

/// `<db><suffix>`: a file kept beside the database (or its connection file).
pub fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
