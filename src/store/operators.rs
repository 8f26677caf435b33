use crate::domain::{Privilege, Role};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Operator {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub language: String,
    pub active: bool,
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

pub fn insert(conn: &Connection, op: &NewOperator) -> rusqlite::Result<i64> {
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
    let id = conn.last_insert_rowid();
    for p in op.role.privileges() {
        conn.execute(
            "INSERT INTO operator_privilege (operator_id, privilege) VALUES (?1, ?2)",
            params![id, p.as_str()],
        )?;
    }
    Ok(id)
}

pub fn count(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("SELECT count(*) FROM operator", [], |r| r.get(0))
}

fn privileges(conn: &Connection, id: i64) -> rusqlite::Result<Vec<Privilege>> {
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
) -> rusqlite::Result<Option<(Operator, String)>> {
    let row = conn
        .query_row(
            "SELECT id, name, email, role, language, active, password_hash
             FROM operator WHERE name = ?1",
            [name.trim()],
            |r| {
                Ok((
                    Operator {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        email: r.get(2)?,
                        role: r.get(3)?,
                        language: r.get(4)?,
                        active: r.get(5)?,
                        privileges: Vec::new(),
                    },
                    r.get::<_, String>(6)?,
                ))
            },
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

pub fn get(conn: &Connection, id: i64) -> rusqlite::Result<Option<Operator>> {
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
