//! Where CardDesk keeps its database when the operator does not say.

use std::path::{Path, PathBuf};

fn dirs() -> Option<directories::ProjectDirs> {
    directories::ProjectDirs::from("org", "CardDesk", "CardDesk")
}

/// The embedded store, `carddesk.db` in the per-user data folder, unless
/// the per-user config folder holds `database.toml`, which names the site's
/// database server.
pub fn default_db_path() -> PathBuf {
    if let Some(server) = dirs()
        .map(|d| d.config_dir().join("database.toml"))
        .filter(|p| p.exists())
    {
        return server;
    }
    embedded_db_path()
}

fn embedded_db_path() -> PathBuf {
    dirs()
        .map(|d| d.data_dir().join("carddesk.db"))
        .unwrap_or_else(|| PathBuf::from("carddesk.db"))
}

/// The demo store, beside the embedded one and never the same file.
pub fn demo_db_path() -> PathBuf {
    embedded_db_path().with_file_name("carddesk-demo.db")
}

/// Where `--db` points: a file as given; a `postgres://` URL becomes the
/// connection file `servers/USER@HOST-PORT-DATABASE.toml` in the per-user
/// data folder (written, owner-only, holding the URL and, from
/// `sslrootcert=FILE`, the site CA), beside which the site's key file and
/// audit head are kept as for a database file.
pub fn locate(db: &Path) -> Result<PathBuf, String> {
    let text = db.to_string_lossy();
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Ok(db.to_path_buf());
    }
    // libpq's sslrootcert=FILE (the site CA) goes into the connection
    // file as `ca`; the rest of the URL is the client's.
    let (url, ca) = split_root_cert(&text);
    let settings = crate::store::server::ServerSettings {
        url: url.clone(),
        password: None,
        ca: ca.clone(),
        client_cert: None,
        client_key: None,
    };
    let name: String = settings
        .describe()
        .trim_start_matches("postgres://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let dir = dirs()
        .map(|d| d.data_dir().join("servers"))
        .unwrap_or_else(|| PathBuf::from("servers"));
    crate::store::files::create_private_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let file = dir.join(format!("{name}.toml"));
    // A connection file made before keeps what was added to it by hand (a
    // password, a client certificate) and its CA unless a new one is given.
    let current = file
        .exists()
        .then(|| crate::store::server::ServerSettings::read(&file))
        .transpose()
        .map_err(|e| e.to_string())?;
    let merged = match current {
        Some(c) if c.url == url && (ca.is_none() || ca == c.ca) => return Ok(file),
        Some(c) => crate::store::server::ServerSettings {
            url,
            ca: ca.or(c.ca),
            ..c
        },
        None => settings,
    };
    merged
        .save(&file)
        .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(file)
}

/// `…?sslrootcert=FILE&…` → (the URL without it, FILE); libpq's
/// `sslmode=verify-full`/`verify-ca` are dropped (always so here).
fn split_root_cert(url: &str) -> (String, Option<PathBuf>) {
    let Some((base, query)) = url.split_once('?') else {
        return (url.to_string(), None);
    };
    let mut ca = None;
    let rest: Vec<&str> = query
        .split('&')
        .filter(|kv| match kv.strip_prefix("sslrootcert=") {
            Some(file) => {
                // Absolute: the connection file lives elsewhere.
                let file = PathBuf::from(file);
                ca = Some(match std::env::current_dir() {
                    Ok(here) if file.is_relative() => here.join(file),
                    _ => file,
                });
                false
            }
            // CardDesk always checks the server's certificate and name.
            None => !matches!(*kv, "sslmode=verify-full" | "sslmode=verify-ca"),
        })
        .collect();
    let url = if rest.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    (url, ca)
}
