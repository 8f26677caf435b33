use crate::store::{params, Connection, Dialect, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cardholder {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub department: Option<String>,
    pub site_id: Option<i64>,
    pub activation: Option<String>,
    pub expiry: Option<String>,
    pub has_photo: bool,
    pub created_at: String,
}

impl Cardholder {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewCardholder {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub department: Option<String>,
    pub photo: Option<(Vec<u8>, String)>,
    pub site_id: Option<i64>,
    pub activation: Option<String>,
    pub expiry: Option<String>,
}

pub fn insert(conn: &Connection, c: &NewCardholder) -> crate::store::Result<i64> {
    let (photo, mime) = match &c.photo {
        Some((bytes, mime)) => (Some(bytes.as_slice()), Some(mime.as_str())),
        None => (None, None),
    };
    conn.execute(
        "INSERT INTO cardholder (first_name, last_name, email, department, photo, photo_mime,
                                 site_id, activation, expiry, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            c.first_name.trim(),
            c.last_name.trim(),
            c.email,
            c.department,
            photo,
            mime,
            c.site_id,
            c.activation,
            c.expiry,
            super::now()
        ],
    )?;
    conn.last_insert_rowid()
}

const COLUMNS: &str = "id, first_name, last_name, email, department, site_id, activation, expiry,
                       photo IS NOT NULL, created_at";

fn from_row(r: &crate::store::Row) -> crate::store::Result<Cardholder> {
    Ok(Cardholder {
        id: r.get(0)?,
        first_name: r.get(1)?,
        last_name: r.get(2)?,
        email: r.get(3)?,
        department: r.get(4)?,
        site_id: r.get(5)?,
        activation: r.get(6)?,
        expiry: r.get(7)?,
        has_photo: r.get(8)?,
        created_at: r.get(9)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<Cardholder>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM cardholder WHERE id = ?1"),
        [id],
        from_row,
    )
    .optional()
}

pub fn photo(conn: &Connection, id: i64) -> crate::store::Result<Option<(Vec<u8>, String)>> {
    conn.query_row(
        "SELECT photo, photo_mime FROM cardholder WHERE id = ?1 AND photo IS NOT NULL",
        [id],
        |r| {
            Ok((
                r.get(0)?,
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
            ))
        },
    )
    .optional()
}

/// Cardholders whose name, e-mail or department contains `search`
/// (case-insensitive), ordered by last name.
/// The operator's search as an FTS5 query on `cardholder_search`: every
/// word a prefix ("zo" finds Zoë), all of them required. None: no words.
fn search_query(search: &str) -> Option<String> {
    let words: Vec<String> = search
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Cardholders matching `search` (names, e-mail, department, card numbers;
/// best matches first), or all of them by name; one page.
pub fn list(
    conn: &Connection,
    search: &str,
    limit: usize,
    offset: usize,
) -> crate::store::Result<Vec<Cardholder>> {
    let (limit, offset) = (limit as i64, offset as i64);
    match search_query(search) {
        None => {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM cardholder
                  ORDER BY last_name, first_name, id LIMIT ?1 OFFSET ?2"
            ))?;
            let rows = stmt.query_map(params![limit, offset], from_row)?;
            rows.collect()
        }
        Some(q) => {
            // PostgreSQL: migration 0012's tsvector and the same word rules,
            // given the operator's text (ts_rank: higher is better).
            let (sql, q) = match conn.dialect() {
                Dialect::Sqlite => (
                    format!(
                        "SELECT {COLUMNS} FROM cardholder
                           JOIN (SELECT rowid AS hit, rank FROM cardholder_search
                                  WHERE cardholder_search MATCH ?1) ON id = hit
                          ORDER BY rank, last_name, first_name, id LIMIT ?2 OFFSET ?3"
                    ),
                    q,
                ),
                Dialect::Postgres => (
                    format!(
                        "SELECT {COLUMNS} FROM cardholder
                           JOIN (SELECT rowid AS hit,
                                        ts_rank(doc, carddesk_search_query(?1)) AS rank
                                   FROM cardholder_search
                                  WHERE doc @@ carddesk_search_query(?1)) AS m ON id = m.hit
                          ORDER BY rank DESC, last_name, first_name, id LIMIT ?2 OFFSET ?3"
                    ),
                    search.to_string(),
                ),
            };
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![q, limit, offset], from_row)?;
            rows.collect()
        }
    }
}

pub fn count(conn: &Connection) -> crate::store::Result<i64> {
    conn.query_row("SELECT count(*) FROM cardholder", (), |r| r.get(0))
}

/// How many cardholders [`list`] would return without a limit.
pub fn count_matching(conn: &Connection, search: &str) -> crate::store::Result<i64> {
    match search_query(search) {
        None => count(conn),
        Some(q) => match conn.dialect() {
            Dialect::Sqlite => conn.query_row(
                "SELECT count(*) FROM cardholder_search WHERE cardholder_search MATCH ?1",
                [q],
                |r| r.get(0),
            ),
            Dialect::Postgres => conn.query_row(
                "SELECT count(*) FROM cardholder_search WHERE doc @@ carddesk_search_query(?1)",
                [search],
                |r| r.get(0),
            ),
        },
    }
}

/// Replaces a cardholder's details; the photo only when one is given.
pub fn update(conn: &Connection, id: i64, c: &NewCardholder) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE cardholder SET first_name = ?2, last_name = ?3, email = ?4, department = ?5,
                site_id = ?6, activation = ?7, expiry = ?8 WHERE id = ?1",
        params![
            id,
            c.first_name.trim(),
            c.last_name.trim(),
            c.email,
            c.department,
            c.site_id,
            c.activation,
            c.expiry
        ],
    )?;
    if let Some((bytes, mime)) = &c.photo {
        conn.execute(
            "UPDATE cardholder SET photo = ?2, photo_mime = ?3 WHERE id = ?1",
            params![id, bytes, mime],
        )?;
    }
    Ok(())
}
