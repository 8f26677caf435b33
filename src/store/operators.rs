use crate::domain::{Privilege, Role};
use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub language: String,
    pub active: bool,
    pub must_change_password: bool,
    /// Locked out after failed logins until then (RFC 3339), if in future.
    pub locked_until: Option<String>,
    pub privileges: Vec<Privilege>,
}

impl Operator {
    pub fn has(&self, p: Privilege) -> bool {
        self.privileges.contains(&p)
    }
}

pub struct NewOperator<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub password_hash: &'a str,
    pub language: &'a str,
}

pub fn insert(conn: &Connection, op: &NewOperator) -> crate::store::Result<i64> {
    let role = serde_json::to_value(op.role).expect("role serialises");
    conn.execute(
        "INSERT INTO operator (name, email, role, password_hash, language, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            op.name.trim(),
            op.email,
            role.as_str(),
            op.password_hash,
            op.language,
            super::now()
        ],
    )?;
    let id = conn.last_insert_rowid()?;
    for p in op.role.privileges() {
        conn.execute(
            "INSERT INTO operator_privilege (operator_id, privilege) VALUES (?1, ?2)",
            params![id, p.as_str()],
        )?;
    }
    Ok(id)
}

pub fn count(conn: &Connection) -> crate::store::Result<i64> {
    conn.query_row("SELECT count(*) FROM operator", (), |r| r.get(0))
}

fn privileges(conn: &Connection, id: i64) -> crate::store::Result<Vec<Privilege>> {
    let mut stmt = conn.prepare(
        "SELECT privilege FROM operator_privilege WHERE operator_id = ?1 ORDER BY privilege",
    )?;
    let names = stmt.query_map([id], |r| r.get::<_, String>(0))?;
    // Unknown names (from a newer version) are ignored rather than fatal.
    Ok(names
        .filter_map(|n| n.ok().and_then(|n| n.parse().ok()))
        .collect())
}

/// The operator and their password hash, by name (case-insensitive).
pub fn find_with_hash(
    conn: &Connection,
    name: &str,
) -> crate::store::Result<Option<(Operator, String)>> {
    let row = conn
        .query_row(
            &format!("SELECT {COLUMNS}, password_hash FROM operator WHERE name = ?1"),
            [name.trim()],
            |r| Ok((from_row(r)?, r.get::<_, String>(8)?)),
        )
        .optional()?;
    match row {
        Some((mut op, hash)) => {
            op.privileges = privileges(conn, op.id)?;
            Ok(Some((op, hash)))
        }
        None => Ok(None),
    }
}

const COLUMNS: &str = "id, name, email, role, language, active, must_change_password, locked_until";

fn from_row(r: &crate::store::Row) -> crate::store::Result<Operator> {
    Ok(Operator {
        id: r.get(0)?,
        name: r.get(1)?,
        email: r.get(2)?,
        role: r.get(3)?,
        language: r.get(4)?,
        active: r.get(5)?,
        must_change_password: r.get(6)?,
        locked_until: r.get(7)?,
        privileges: Vec::new(),
    })
}

/// Every operator, by name.
pub fn list(conn: &Connection) -> crate::store::Result<Vec<Operator>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM operator ORDER BY name COLLATE NOCASE"
    ))?;
    let mut ops = stmt
        .query_map((), from_row)?
        .collect::<crate::store::Result<Vec<_>>>()?;
    for op in &mut ops {
        op.privileges = privileges(conn, op.id)?;
    }
    Ok(ops)
}

/// What an operator may do now, read fresh for every action.
#[derive(Debug, Clone)]
pub struct Standing {
    pub active: bool,
    pub must_change_password: bool,
    pub failed_logins: i64,
    pub locked_until: Option<chrono::DateTime<chrono::Utc>>,
    pub privileges: Vec<Privilege>,
}

pub fn standing(conn: &Connection, id: i64) -> crate::store::Result<Option<Standing>> {
    let row = conn
        .query_row(
            "SELECT active, must_change_password, failed_logins, locked_until
             FROM operator WHERE id = ?1",
            [id],
            |r| {
                Ok(Standing {
                    active: r.get(0)?,
                    must_change_password: r.get(1)?,
                    failed_logins: r.get(2)?,
                    locked_until: r
                        .get::<_, Option<String>>(3)?
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                        .map(|t| t.with_timezone(&chrono::Utc)),
                    privileges: Vec::new(),
                })
            },
        )
        .optional()?;
    match row {
        Some(mut st) => {
            st.privileges = privileges(conn, id)?;
            Ok(Some(st))
        }
        None => Ok(None),
    }
}

/// Counts a failed login, or clears the count (0, None), or locks.
pub fn set_lock(
    conn: &Connection,
    id: i64,
    failed_logins: i64,
    locked_until: Option<chrono::DateTime<chrono::Utc>>,
) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE operator SET failed_logins = ?2, locked_until = ?3 WHERE id = ?1",
        params![
            id,
            failed_logins,
            locked_until.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        ],
    )?;
    Ok(())
}

pub fn set_active(conn: &Connection, id: i64, active: bool) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE operator SET active = ?2 WHERE id = ?1",
        params![id, active],
    )?;
    Ok(())
}

/// Gives the operator `role` and exactly its privileges.
pub fn set_role(conn: &Connection, id: i64, role: Role) -> crate::store::Result<()> {
    let name = serde_json::to_value(role).expect("role serialises");
    conn.execute(
        "UPDATE operator SET role = ?2 WHERE id = ?1",
        params![id, name.as_str()],
    )?;
    conn.execute(
        "DELETE FROM operator_privilege WHERE operator_id = ?1",
        [id],
    )?;
    for p in role.privileges() {
        conn.execute(
            "INSERT INTO operator_privilege (operator_id, privilege) VALUES (?1, ?2)",
            params![id, p.as_str()],
        )?;
    }
    Ok(())
}

/// A new password hash; `must_change` makes the operator choose another at
/// their next login. Clears a lock-out.
pub fn set_password(
    conn: &Connection,
    id: i64,
    hash: &str,
    must_change: bool,
) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE operator SET password_hash = ?2, must_change_password = ?3,
                failed_logins = 0, locked_until = NULL WHERE id = ?1",
        params![id, hash, must_change],
    )?;
    Ok(())
}

/// Active administrators other than `except`.
pub fn other_active_administrators(conn: &Connection, except: i64) -> crate::store::Result<i64> {
    conn.query_row(
        "SELECT count(*) FROM operator WHERE role = 'administrator' AND active = 1 AND id != ?1",
        [except],
        |r| r.get(0),
    )
}

pub fn password_hash(conn: &Connection, id: i64) -> crate::store::Result<Option<String>> {
    conn.query_row(
        "SELECT password_hash FROM operator WHERE id = ?1",
        [id],
        |r| r.get(0),
    )
    .optional()
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<Operator>> {
    let name: Option<String> = conn
        .query_row("SELECT name FROM operator WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    match name {
        Some(n) => Ok(find_with_hash(conn, &n)?.map(|(op, _)| op)),
        None => Ok(None),
    }
}
