use crate::domain::{Secret, SmtpSettings};
use crate::store::{params, Connection, OptionalExtension};

pub fn get(conn: &Connection, key: &str) -> crate::store::Result<Option<String>> {
    conn.query_row("SELECT value FROM setting WHERE key = ?1", [key], |r| {
        r.get(0)
    })
    .optional()
}

pub fn set(conn: &Connection, key: &str, value: &str) -> crate::store::Result<()> {
    conn.execute(
        "INSERT INTO setting (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, key: &str) -> crate::store::Result<()> {
    conn.execute("DELETE FROM setting WHERE key = ?1", [key])?;
    Ok(())
}

const SMTP_KEYS: [&str; 6] = [
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.user",
    "smtp.password",
    "smtp.from",
];

/// The configured mail server, or `None` if mail was never configured.
pub fn smtp(conn: &Connection) -> crate::store::Result<Option<SmtpSettings>> {
    let Some(host) = get(conn, "smtp.host")? else {
        return Ok(None);
    };
    let bad = |key: &str, v: &str| crate::store::Error::Conversion {
        column: 0,
        reason: format!("setting {key} = {v:?} is not valid; run mail configure again"),
    };
    let port = get(conn, "smtp.port")?.unwrap_or_default();
    let security = get(conn, "smtp.security")?.unwrap_or_default();
    Ok(Some(SmtpSettings {
        host,
        port: port.parse().map_err(|_| bad("smtp.port", &port))?,
        security: security
            .parse()
            .map_err(|_| bad("smtp.security", &security))?,
        user: get(conn, "smtp.user")?,
        password: get(conn, "smtp.password")?.map(Secret::new),
        from: get(conn, "smtp.from")?.unwrap_or_default(),
    }))
}

/// Replaces the mail server settings (call inside the caller's transaction).
pub fn set_smtp(conn: &Connection, s: &SmtpSettings) -> crate::store::Result<()> {
    for key in SMTP_KEYS {
        conn.execute("DELETE FROM setting WHERE key = ?1", [key])?;
    }
    set(conn, "smtp.host", s.host.trim())?;
    set(conn, "smtp.port", &s.port.to_string())?;
    set(conn, "smtp.security", s.security.as_str())?;
    set(conn, "smtp.from", s.from.trim())?;
    if let Some(u) = &s.user {
        set(conn, "smtp.user", u)?;
    }
    if let Some(p) = &s.password {
        set(conn, "smtp.password", p.expose())?;
    }
    Ok(())
}
