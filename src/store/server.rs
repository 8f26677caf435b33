//! A site database on a PostgreSQL server, named by a connection file
//! (`database.toml`, the owner's alone) that takes the place of the SQLite
//! file: files that belong with the database (site keys, audit head) sit
//! beside it as they sit beside a database file.
//!
//! ```toml
//! url = "postgres://desk@dbhost/carddesk"
//! password = "…"                       # or none: a client certificate
//! ca = "/etc/carddesk/site-ca.pem"     # verify the server against the site CA
//! client_cert = "desk.pem"             # optional, with client_key
//! client_key = "desk.key"
//! ```
//!
//! TLS: over TCP the connection is always encrypted and the server's
//! certificate checked (against the site CA given as `ca`, else the
//! system's roots), unless the URL says `sslmode=disable`.

use super::db::{Connection, Error};
use super::postgres::{PgConn, MIGRATE_LOCK};
use super::{OpenError, Upgrade};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// migrations/postgres/NNNN_*.sql: the same versions as the SQLite list,
/// in the same order (a test checks the names match one for one).
pub(super) const MIGRATION_SQL: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("../../migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_mail",
        include_str!("../../migrations/postgres/0002_mail.sql"),
    ),
    (
        "0003_badges",
        include_str!("../../migrations/postgres/0003_badges.sql"),
    ),
    (
        "0005_temp_cards",
        include_str!("../../migrations/postgres/0005_temp_cards.sql"),
    ),
    (
        "0006_view_privileges",
        include_str!("../../migrations/postgres/0006_view_privileges.sql"),
    ),
    (
        "0007_operators",
        include_str!("../../migrations/postgres/0007_operators.sql"),
    ),
    (
        "0008_manage_credentials",
        include_str!("../../migrations/postgres/0008_manage_credentials.sql"),
    ),
    (
        "0009_shipping_note",
        include_str!("../../migrations/postgres/0009_shipping_note.sql"),
    ),
    (
        "0010_temp_assignment",
        include_str!("../../migrations/postgres/0010_temp_assignment.sql"),
    ),
    (
        "0011_door_readers",
        include_str!("../../migrations/postgres/0011_door_readers.sql"),
    ),
    (
        "0012_search_and_changes",
        include_str!("../../migrations/postgres/0012_search_and_changes.sql"),
    ),
    (
        "0013_request_counts",
        include_str!("../../migrations/postgres/0013_request_counts.sql"),
    ),
];

/// Is `path` a connection file rather than a database file?
pub fn is_connection_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "toml")
}

/// What a connection file holds.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub url: String,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub ca: Option<PathBuf>,
    #[serde(default)]
    pub client_cert: Option<PathBuf>,
    #[serde(default)]
    pub client_key: Option<PathBuf>,
}

impl ServerSettings {
    /// Reads `path`, refusing one others may read when it holds a secret.
    pub fn read(path: &Path) -> Result<ServerSettings, OpenError> {
        let bad = |reason: String| OpenError::Server {
            path: path.display().to_string(),
            reason,
        };
        let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => OpenError::Missing {
                path: path.display().to_string(),
            },
            _ => bad(e.to_string()),
        })?;
        let mut s: ServerSettings = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        // It says which server to trust with the site: another user who
        // could change it could send the desk to theirs.
        private_file(path, "it names the site's database server").map_err(bad)?;
        let has_secret = s.password.is_some()
            || postgres::Config::from_str(&s.url)
                .ok()
                .is_some_and(|c| c.get_password().is_some());
        if has_secret {
            readable_by_owner_only(path, "it holds a password").map_err(bad)?;
        }
        // Relative certificate paths are beside the connection file.
        let dir = path.parent().unwrap_or(Path::new("."));
        for p in [&mut s.ca, &mut s.client_cert, &mut s.client_key]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        if let Some(key) = &s.client_key {
            readable_by_owner_only(key, "it is the client certificate's private key")
                .map_err(bad)?;
        }
        Ok(s)
    }

    /// Writes a connection file for `url` (owner-only), with the CA that
    /// signed the server's certificate when given.
    pub fn write(path: &Path, url: &str, ca: Option<&Path>) -> std::io::Result<()> {
        ServerSettings {
            url: url.to_string(),
            password: None,
            ca: ca.map(Path::to_path_buf),
            client_cert: None,
            client_key: None,
        }
        .save(path)
    }

    /// Writes these settings as a connection file (owner-only).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let mut text = format!("url = {}\n", toml_string(&self.url));
        if let Some(p) = &self.password {
            text.push_str(&format!("password = {}\n", toml_string(p)));
        }
        for (key, value) in [
            ("ca", &self.ca),
            ("client_cert", &self.client_cert),
            ("client_key", &self.client_key),
        ] {
            if let Some(v) = value {
                let v = toml_string(&v.display().to_string());
                text.push_str(&format!("{key} = {v}\n"));
            }
        }
        super::files::replace_private(path, text.as_bytes())
    }

    fn config(&self) -> Result<postgres::Config, String> {
        let mut config = postgres::Config::from_str(&self.url)
            .map_err(|e| format!("the url is not a PostgreSQL connection URL: {e}"))?;
        if let Some(p) = &self.password {
            config.password(p);
        }
        if config.get_application_name().is_none() {
            config.application_name("carddesk");
        }
        config.connect_timeout(std::time::Duration::from_secs(10));
        // A workstation that drops off the network mid-transaction must not
        // hold the site's write lock for the OS's two-hour keepalive.
        config.keepalives_idle(std::time::Duration::from_secs(30));
        config.options("-c idle_in_transaction_session_timeout=60s -c lock_timeout=30s");
        Ok(config)
    }

    /// The server and database, for messages (never the password).
    pub fn describe(&self) -> String {
        match self.config() {
            Ok(c) => {
                let host = c
                    .get_hosts()
                    .first()
                    .map(|h| match h {
                        postgres::config::Host::Tcp(h) => h.clone(),
                        postgres::config::Host::Unix(p) => p.display().to_string(),
                    })
                    .unwrap_or_else(|| "localhost".into());
                let port = c.get_ports().first().copied().unwrap_or(5432);
                format!(
                    "postgres://{}@{host}:{port}/{}",
                    c.get_user().unwrap_or("?"),
                    c.get_dbname().unwrap_or("?")
                )
            }
            Err(_) => "an invalid PostgreSQL URL".into(),
        }
    }

    pub fn connect(&self) -> Result<postgres::Client, String> {
        let mut config = self.config()?;
        // Over the network the connection is encrypted and the server's
        // certificate checked (against `ca`, else the system's roots), or
        // there is no connection: libpq's default "prefer" would carry on
        // in clear when a man in the middle says the server has no TLS.
        // Only `sslmode=disable`, written in the URL, turns that off; a
        // Unix socket stays on this machine.
        let tcp = config
            .get_hosts()
            .iter()
            .any(|h| matches!(h, postgres::config::Host::Tcp(_)))
            || config.get_hosts().is_empty();
        if tcp && !self.url.contains("sslmode=disable") {
            config.ssl_mode(postgres::config::SslMode::Require);
        }
        let result = if config.get_ssl_mode() == postgres::config::SslMode::Disable {
            config.connect(postgres::NoTls)
        } else {
            config.connect(self.tls()?)
        };
        result.map_err(|e| match e.as_db_error() {
            Some(db) => db.message().to_string(),
            None => {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                text
            }
        })
    }

    fn tls(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect, String> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.ca {
            Some(ca) => {
                for cert in read_pem_certs(ca)? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("{}: {e}", ca.display()))?;
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let config = match (&self.client_cert, &self.client_key) {
            (Some(cert), Some(key)) => {
                let key_der = {
                    let bytes =
                        std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?;
                    rustls_pemfile::private_key(&mut bytes.as_slice())
                        .map_err(|e| format!("{}: {e}", key.display()))?
                        .ok_or_else(|| format!("{}: no private key in it", key.display()))?
                };
                builder
                    .with_client_auth_cert(read_pem_certs(cert)?, key_der)
                    .map_err(|e| format!("client certificate: {e}"))?
            }
            (None, None) => builder.with_no_client_auth(),
            _ => return Err("client_cert and client_key go together".into()),
        };
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }
}

/// Refuses a file another user could write (or one not the user's own).
fn private_file(path: &Path, why: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if meta.mode() & 0o022 != 0 || meta.uid() != unsafe { libc::geteuid() } {
        return Err(format!(
            "{} must be yours and writable by you alone ({why}): chown and chmod 600 it",
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a file others may read.
fn readable_by_owner_only(path: &Path, why: &str) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    private_file(path, why)?;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} is {:o} and {why}; make it the owner's alone (chmod 600 {})",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

fn read_pem_certs(path: &Path) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut bytes.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn server_error(
    path: &Path,
    settings: &ServerSettings,
    reason: impl std::fmt::Display,
) -> OpenError {
    OpenError::Server {
        path: format!("{} ({})", path.display(), settings.describe()),
        reason: reason.to_string(),
    }
}

/// The connection file at `path` and a client connected as it says.
fn dial(path: &Path) -> Result<(ServerSettings, postgres::Client), OpenError> {
    let settings = ServerSettings::read(path)?;
    let client = settings
        .connect()
        .map_err(|e| server_error(path, &settings, e))?;
    Ok((settings, client))
}

/// Connects to the server a connection file names and brings its schema
/// to this version: every pending migration in one transaction, under an
/// advisory lock so desks starting together migrate once. A database
/// written by a newer CardDesk is refused before anything is changed.
pub fn open(path: &Path) -> Result<(Connection, Option<Upgrade>), OpenError> {
    let (settings, mut client) = dial(path)?;
    let known = MIGRATION_SQL.len() as i64;
    let fail = |e: postgres::Error| server_error(path, &settings, Error::from(e));
    client
        .batch_execute(&format!("SELECT pg_advisory_lock({MIGRATE_LOCK})"))
        .map_err(fail)?;
    let migrated = migrate(&mut client, known);
    client
        .batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATE_LOCK})"))
        .map_err(fail)?;
    let found = match migrated {
        Ok(found) => found,
        Err(MigrateError::TooNew(found)) => {
            return Err(OpenError::TooNew {
                path: settings.describe(),
                found,
                known,
            })
        }
        Err(MigrateError::Sql(e)) => return Err(fail(e)),
    };
    if found > 0 && found < known {
        tracing::warn!(
            "upgraded {} from schema {found} to {known} (in one transaction)",
            settings.describe()
        );
    }
    let conn = Connection::from(PgConn::new(client, path)?);
    super::formats::ensure_builtin(&conn)?;
    super::badge_templates::ensure_builtin(&conn)?;
    Ok((conn, None))
}

/// Connects to a server database [`open`] has migrated.
pub fn connect(path: &Path) -> Result<Connection, OpenError> {
    let (settings, mut client) = dial(path)?;
    let found = version(&mut client).map_err(|e| server_error(path, &settings, Error::from(e)))?;
    let known = MIGRATION_SQL.len() as i64;
    if found > known {
        return Err(OpenError::TooNew {
            path: settings.describe(),
            found,
            known,
        });
    }
    if found != known {
        return Err(OpenError::NotMigrated {
            path: settings.describe(),
            found,
            known,
        });
    }
    Ok(Connection::from(PgConn::new(client, path)?))
}

/// The server database's schema version, read without changing anything
/// (for `carddesk doctor`).
pub fn inspect(path: &Path) -> Result<super::Inspection, OpenError> {
    let (settings, mut client) = dial(path)?;
    let schema = version(&mut client).map_err(|e| server_error(path, &settings, Error::from(e)))?;
    Ok(super::Inspection {
        schema,
        problems: Vec::new(),
    })
}

/// A connection whatever the recorded version (tests that check a refused
/// database was left as it was).
#[doc(hidden)]
pub fn connect_any_version(path: &Path) -> Result<Connection, OpenError> {
    let (_, client) = dial(path)?;
    Ok(Connection::from(PgConn::new(client, path)?))
}

enum MigrateError {
    TooNew(i64),
    Sql(postgres::Error),
}

impl From<postgres::Error> for MigrateError {
    fn from(e: postgres::Error) -> Self {
        MigrateError::Sql(e)
    }
}

/// The schema version recorded in `carddesk_schema` (0: none yet).
fn version(client: &mut postgres::Client) -> Result<i64, postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('carddesk_schema') IS NOT NULL", &[])?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_opt("SELECT version FROM carddesk_schema", &[])?
        .map(|r| r.get(0))
        .unwrap_or(0))
}

fn migrate(client: &mut postgres::Client, known: i64) -> Result<i64, MigrateError> {
    let found = version(client)?;
    if found > known {
        return Err(MigrateError::TooNew(found));
    }
    if found < known {
        let mut tx = client.transaction()?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS carddesk_schema (
                 one     BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
                 version BIGINT NOT NULL)",
        )?;
        for (_, sql) in &MIGRATION_SQL[found as usize..] {
            tx.batch_execute(sql)?;
        }
        tx.execute(
            "INSERT INTO carddesk_schema (version) VALUES ($1)
             ON CONFLICT (one) DO UPDATE SET version = excluded.version",
            &[&known],
        )?;
        tx.commit()?;
    }
    Ok(found)
}

/// Sets a server database's recorded version (tests of the refusal).
#[doc(hidden)]
pub fn set_version(conn: &Connection, version: i64) -> super::Result<()> {
    conn.execute("UPDATE carddesk_schema SET version = ?1", [version])?;
    Ok(())
}
