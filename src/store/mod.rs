//! The embedded SQLite store: opening, migrating, and one module per table
//! family. Functions here run single statements on a connection (or an open
//! transaction); the desk layer decides what belongs in one transaction.

pub mod audit;
pub mod badge_templates;
pub mod bulk;
pub mod cardholders;
pub mod changes;
pub mod copy;
pub mod credentials;
pub mod db;
pub mod door_readers;
mod error;
pub mod files;
pub mod formats;
pub mod operators;
pub mod outbox;
pub mod postgres;
pub mod print_jobs;
pub mod requests;
pub mod server;
pub mod settings;
pub mod sites;
pub mod temp_cards;

pub use db::{
    params, Connection, Dialect, Error, OptionalExtension, Params, Result, Row, ToSql, Transaction,
    Value,
};
use rusqlite_migration::{Migrations, M};
use std::path::Path;
use std::sync::LazyLock;
use thiserror::Error;

/// migrations/NNNN_*.sql, in order. Append only.
const MIGRATION_SQL: &[&str] = &[
    include_str!("../../migrations/0001_initial.sql"),
    include_str!("../../migrations/0002_mail.sql"),
    include_str!("../../migrations/0003_badges.sql"),
    include_str!("../../migrations/0005_temp_cards.sql"),
    include_str!("../../migrations/0006_view_privileges.sql"),
    include_str!("../../migrations/0007_operators.sql"),
    include_str!("../../migrations/0008_manage_credentials.sql"),
    include_str!("../../migrations/0009_shipping_note.sql"),
    include_str!("../../migrations/0010_temp_assignment.sql"),
    include_str!("../../migrations/0011_door_readers.sql"),
    include_str!("../../migrations/0012_search_and_changes.sql"),
    include_str!("../../migrations/0013_request_counts.sql"),
];

static MIGRATIONS: LazyLock<Migrations<'static>> =
    LazyLock::new(|| Migrations::new(MIGRATION_SQL.iter().map(|sql| M::up(sql)).collect()));

#[derive(Debug, Error)]
pub enum OpenError {
    #[error("cannot open database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("database {path} was written by a newer CardDesk (schema {found}, this version knows {known}); refusing to open it")]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("cannot migrate database {path}: {source}")]
    Migrate {
        path: String,
        source: rusqlite_migration::Error,
    },
    #[error("cannot use the database server of {path}: {reason}")]
    Server { path: String, reason: String },
    #[error("database {path} does not exist")]
    Missing { path: String },
    #[error("database {path} is at schema {found}, this CardDesk needs {known}; restart CardDesk so it can migrate it")]
    NotMigrated {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] Error),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> OpenError {
        OpenError::Sql(e.into())
    }
}

/// Number of migrations this build knows.
pub fn schema_version() -> i64 {
    MIGRATION_SQL.len() as i64
}

/// Opens (creating if needed) and migrates the database at `path`. Call it
/// once, before any other thread opens the file; threads then use
/// [`connect`].
///
/// Migrating is serialised across threads and processes by an exclusive lock
/// on `<db>.lock`: rusqlite_migration reads `user_version` before it opens its
/// transaction, so two first starts at the same moment would otherwise both
/// try to create the tables ("table site already exists").
pub fn open(path: &Path) -> std::result::Result<Connection, OpenError> {
    open_noting_upgrade(path).map(|(conn, _)| conn)
}

/// An upgrade [`open_noting_upgrade`] carried out, for the operator to be
/// told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub from: i64,
    pub to: i64,
    /// The copy of the database as it was.
    pub backup: std::path::PathBuf,
}

/// [`open`], also saying whether it upgraded an existing database.
pub fn open_noting_upgrade(
    path: &Path,
) -> std::result::Result<(Connection, Option<Upgrade>), OpenError> {
    if server::is_connection_file(path) {
        return server::open(path);
    }
    let shown = path.display().to_string();
    // A database from a newer CardDesk is refused before anything is
    // written beside it (no lock file, no switch to WAL, no -wal or -shm).
    if path.exists() {
        if let Ok(found) = inspect_version(path) {
            if found > schema_version() {
                return Err(OpenError::TooNew {
                    path: shown,
                    found,
                    known: schema_version(),
                });
            }
        }
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        files::create_private_dir(dir).map_err(|e| OpenError::Open {
            path: shown.clone(),
            source: rusqlite::Error::InvalidPath(format!("{}: {e}", dir.display()).into()),
        })?;
    }
    // Creating the file, switching it to WAL and migrating are one step
    // per process at a time: a brand-new file is not yet in WAL mode, and
    // switching takes a lock the busy timeout does not wait for.
    let _lock = DbLock::take(path)?;
    if !path.exists() {
        // SQLite gives the -wal and -shm files the database file's mode.
        match files::create_private(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(OpenError::Open {
                    path: shown.clone(),
                    source: rusqlite::Error::InvalidPath(format!("{shown}: {e}").into()),
                })
            }
        }
    }
    let mut conn = connect_unchecked(path)?;
    check_not_newer(&conn, &shown)?;
    let found = version(&conn)?;
    let mut upgrade = None;
    if found != schema_version() {
        if found > 0 {
            // An upgrade: the database as it was, beside it, first.
            let backup = backup_before_upgrade(&conn, path).map_err(|source| OpenError::Open {
                path: shown.clone(),
                source,
            })?;
            tracing::warn!(
                "upgrading {shown} from schema {found} to {}; the database as it was is in {}",
                schema_version(),
                backup.display()
            );
            upgrade = Some(Upgrade {
                from: found,
                to: schema_version(),
                backup,
            });
        }
        // rusqlite_migration applies every pending migration in one transaction.
        MIGRATIONS
            .to_latest(&mut conn)
            .map_err(|source| OpenError::Migrate {
                path: shown.clone(),
                source,
            })?;
    }
    let conn = Connection::from(conn);
    formats::ensure_builtin(&conn)?;
    badge_templates::ensure_builtin(&conn)?;
    Ok((conn, upgrade))
}

/// Copies the database (consistent, as of now) to
/// `<db>.before-<this version>` (or `….1`, `….2`, … if that exists), a
/// private file, before an upgrade migrates it. Returns its path.
fn backup_before_upgrade(
    conn: &rusqlite::Connection,
    path: &Path,
) -> rusqlite::Result<std::path::PathBuf> {
    let base = upgrade_backup_path(path).display().to_string();
    let mut n = 0;
    let target = loop {
        let candidate = if n == 0 {
            std::path::PathBuf::from(&base)
        } else {
            std::path::PathBuf::from(format!("{base}.{n}"))
        };
        // Created empty and private first: VACUUM INTO fills an empty file
        // and keeps its mode.
        match files::create_private(&candidate) {
            Ok(_) => break candidate,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => {
                return Err(rusqlite::Error::InvalidPath(
                    format!("{}: {e}", candidate.display()).into(),
                ))
            }
        }
    };
    if let Err(e) = conn.execute("VACUUM INTO ?1", [target.to_string_lossy()]) {
        // No empty or partial copy is left to be mistaken for a backup.
        let _ = std::fs::remove_file(&target);
        return Err(e);
    }
    Ok(target)
}

/// Opens a database that [`open`] has already migrated (worker threads, jobs).
/// Never migrates: a database at another schema version is refused.
pub fn connect(path: &Path) -> std::result::Result<Connection, OpenError> {
    if server::is_connection_file(path) {
        return server::connect(path);
    }
    let shown = path.display().to_string();
    if !path.exists() {
        return Err(OpenError::Missing { path: shown });
    }
    let conn = connect_unchecked(path)?;
    check_not_newer(&conn, &shown)?;
    let found = version(&conn)?;
    if found != schema_version() {
        return Err(OpenError::NotMigrated {
            path: shown,
            found,
            known: schema_version(),
        });
    }
    Ok(Connection::from(conn))
}

fn connect_unchecked(path: &Path) -> std::result::Result<rusqlite::Connection, OpenError> {
    let conn = rusqlite::Connection::open(path).map_err(|source| OpenError::Open {
        path: path.display().to_string(),
        source,
    })?;
    configure(&conn)?;
    // Every transaction here writes. BEGIN IMMEDIATE takes the write lock up
    // front, so a busy database waits (busy_timeout) instead of failing with
    // "database is locked" when a read transaction cannot be upgraded while
    // another process (the mailer, the CLI, a second desk) is writing.
    let mut conn = conn;
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    Ok(conn)
}

/// Where the copy of a database made before upgrading it goes (a number is
/// added when that name is taken).
pub fn upgrade_backup_path(path: &Path) -> std::path::PathBuf {
    std::path::PathBuf::from(format!(
        "{}.before-{}",
        path.display(),
        env!("CARGO_PKG_VERSION")
    ))
}

/// What `carddesk doctor` learns of a database file without changing it.
#[derive(Debug)]
pub struct Inspection {
    pub schema: i64,
    /// What SQLite's quick_check found wrong; empty when the file is sound.
    pub problems: Vec<String>,
}

/// Creates a database as an older CardDesk left it: migrated only to
/// `version`. For tests of the upgrade path; CardDesk itself never
/// writes an old schema.
#[doc(hidden)]
pub fn create_at_schema(
    path: &Path,
    version: i64,
) -> std::result::Result<(), rusqlite_migration::Error> {
    // Private, as every CardDesk made it.
    files::create_private(path)
        .map_err(|e| rusqlite::Error::InvalidPath(format!("{}: {e}", path.display()).into()))?;
    let mut conn = rusqlite::Connection::open(path)?;
    MIGRATIONS.to_version(&mut conn, version as usize)
}

/// The schema version of the file, read from its header without opening
/// it in SQLite (which would create -shm or a lock beside it): the
/// "user version" is the big-endian 32-bit integer at offset 60 of the
/// 100-byte header (SQLite file format, §1.3). A database last closed
/// cleanly has it there; one left mid-transaction is caught at open.
fn inspect_version(path: &Path) -> std::io::Result<i64> {
    use std::io::Read;
    let mut header = [0u8; 64];
    std::fs::File::open(path)?.read_exact(&mut header)?;
    if &header[..16] != b"SQLite format 3\0" {
        return Err(std::io::Error::other("not an SQLite database"));
    }
    Ok(i32::from_be_bytes([header[60], header[61], header[62], header[63]]) as i64)
}

/// Opens the file read-only (never creating, migrating or checkpointing it)
/// and runs SQLite's `quick_check`; for a server database, reads its
/// schema version.
pub fn inspect(path: &Path) -> std::result::Result<Inspection, OpenError> {
    if server::is_connection_file(path) {
        return server::inspect(path);
    }
    Ok(inspect_file(path)?)
}

fn inspect_file(path: &Path) -> rusqlite::Result<Inspection> {
    use rusqlite::OpenFlags;
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let schema = version(&conn)?;
    let mut stmt = conn.prepare("PRAGMA quick_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let problems = rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .filter(|p| p != "ok")
        .collect();
    Ok(Inspection { schema, problems })
}

fn version(conn: &rusqlite::Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

fn check_not_newer(conn: &rusqlite::Connection, shown: &str) -> std::result::Result<(), OpenError> {
    let found = version(conn)?;
    if found > schema_version() {
        return Err(OpenError::TooNew {
            path: shown.to_string(),
            found,
            known: schema_version(),
        });
    }
    Ok(())
}

/// An exclusive advisory lock on `<db>.lock`, held while migrating, setting
/// up the site keys, and moving the audit head forward.
pub struct DbLock(std::fs::File);

impl DbLock {
    pub fn take(db: &Path) -> std::result::Result<DbLock, OpenError> {
        let lock_path = files::sibling(db, ".lock");
        let failed = |e: std::io::Error| OpenError::Open {
            path: db.display().to_string(),
            source: rusqlite::Error::InvalidPath(
                format!("cannot lock {}: {e}", lock_path.display()).into(),
            ),
        };
        // flock needs no write access: an existing lock file is opened
        // read-only (it may belong to whoever started CardDesk first); a
        // new one is the owner's alone.
        let file = match std::fs::File::open(&lock_path) {
            Ok(f) => f,
            Err(_) => {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .mode(0o600)
                    .open(&lock_path)
                    .map_err(failed)?
            }
        };
        file.lock().map_err(failed)?;
        Ok(DbLock(file))
    }
}

impl Drop for DbLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn configure(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // FULL: a commit (and its audit row) survives a power cut, not only a
    // crash of the process; NORMAL in WAL mode can lose the newest ones.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// A counter that changes whenever *another* connection commits to the
/// database file: cheap to poll for live updates.
pub fn data_version(conn: &Connection) -> Result<i64> {
    conn.data_version()
}

/// The tables that hold the site's data, by name: not the bookkeeping the
/// triggers derive from it (change and request counts, the search index)
/// nor the schema's own records.
pub fn data_tables(conn: &Connection) -> Result<Vec<String>> {
    let sql = match conn.dialect() {
        Dialect::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table'
                AND name NOT IN ('change_counter', 'request_count')
                AND name NOT LIKE 'cardholder_search%' AND name NOT LIKE 'sqlite_%'
              ORDER BY name"
        }
        Dialect::Postgres => {
            "SELECT CAST(tablename AS TEXT) FROM pg_tables
              WHERE schemaname = current_schema()
                AND tablename NOT IN ('change_counter', 'request_count', 'cardholder_search',
                                      'carddesk_schema')
              ORDER BY tablename"
        }
    };
    conn.prepare(sql)?.query_map((), |r| r.get(0))?.collect()
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        MIGRATIONS.validate().unwrap();
    }

    #[test]
    fn an_upgrade_keeps_the_database_as_it_was_beside_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        {
            let mut c = rusqlite::Connection::open(&path).unwrap();
            MIGRATIONS
                .to_version(&mut c, (schema_version() - 1) as usize)
                .unwrap();
            c.execute("INSERT INTO site (name) VALUES ('Old site')", [])
                .unwrap();
        }
        let (conn, upgrade) = open_noting_upgrade(&path).unwrap();
        drop(conn);
        let backup = dir
            .path()
            .join(format!("x.db.before-{}", env!("CARGO_PKG_VERSION")));
        // What the window tells the operator.
        assert_eq!(
            upgrade,
            Some(Upgrade {
                from: schema_version() - 1,
                to: schema_version(),
                backup: backup.clone(),
            })
        );
        let old = rusqlite::Connection::open(&backup).unwrap();
        assert_eq!(version(&old).unwrap(), schema_version() - 1);
        let name: String = old
            .query_row("SELECT name FROM site", [], |r| r.get(0))
            .unwrap();
        assert_eq!(name, "Old site");
        assert_eq!(
            std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let (again, upgrade) = open_noting_upgrade(&path).unwrap();
        assert_eq!(version(again.sqlite().unwrap()).unwrap(), schema_version());
        assert_eq!(upgrade, None, "nothing to upgrade the second time");
        // Opening it again (nothing to migrate) writes no second backup.
        assert!(!dir
            .path()
            .join(format!("x.db.before-{}.1", env!("CARGO_PKG_VERSION")))
            .exists());
    }

    #[test]
    fn refuses_newer_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        drop(open(&path).unwrap());
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
        drop(c);
        let files = |p: &Path| {
            let mut names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            names.sort();
            names
        };
        let before = (files(&path), std::fs::read(&path).unwrap());
        let err = open(&path).unwrap_err();
        assert!(matches!(err, OpenError::TooNew { found: 99, .. }), "{err}");
        // Never touched: the same bytes, and nothing new beside it.
        assert_eq!((files(&path), std::fs::read(&path).unwrap()), before);
    }
}
