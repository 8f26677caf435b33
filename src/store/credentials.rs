use crate::domain::CredentialState;
use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Credential {
    pub id: i64,
    pub format: String,
    pub value: String,
    pub fields: serde_json::Value,
    pub uid: Option<String>,
    pub state: CredentialState,
    pub cardholder_id: Option<i64>,
    /// "First Last" of the holder, when there is one.
    pub holder_name: Option<String>,
    pub created_at: String,
}

impl Credential {
    /// Short human form: "H10301 12:3456" or "UID 04A1B2C3".
    pub fn label(&self) -> String {
        match self.fields.as_object() {
            Some(map) if !map.is_empty() => {
                let parts: Vec<String> = map.values().map(|v| v.to_string()).collect();
                format!("{} {}", self.format, parts.join(":"))
            }
            _ => format!("{} {}", self.format, self.value),
        }
    }
}

pub struct NewCredential<'a> {
    pub format: &'a str,
    pub value: &'a str,
    pub fields: &'a serde_json::Value,
    pub uid: Option<&'a str>,
    pub state: CredentialState,
    pub cardholder_id: Option<i64>,
}

pub fn insert(conn: &Connection, c: &NewCredential) -> crate::store::Result<i64> {
    conn.execute(
        "INSERT INTO credential (format, value, fields, uid, state, cardholder_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            c.format,
            c.value,
            c.fields.to_string(),
            c.uid,
            c.state.as_str(),
            c.cardholder_id,
            super::now()
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT: &str = "SELECT c.id, c.format, c.value, c.fields, c.uid, c.state, c.cardholder_id,
        h.first_name || ' ' || h.last_name, c.created_at
   FROM credential c LEFT JOIN cardholder h ON h.id = c.cardholder_id";

fn from_row(r: &crate::store::Row) -> crate::store::Result<Credential> {
    let fields: String = r.get(3)?;
    let state: String = r.get(5)?;
    Ok(Credential {
        id: r.get(0)?,
        format: r.get(1)?,
        value: r.get(2)?,
        fields: serde_json::from_str(&fields).unwrap_or(serde_json::Value::Null),
        uid: r.get(4)?,
        state: state
            .parse()
            .map_err(|e: String| crate::store::Error::Conversion {
                column: 5,
                reason: e.to_string(),
            })?,
        cardholder_id: r.get(6)?,
        holder_name: r.get(7)?,
        created_at: r.get(8)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<Credential>> {
    conn.query_row(&format!("{SELECT} WHERE c.id = ?1"), [id], from_row)
        .optional()
}

pub fn find_by_value(
    conn: &Connection,
    format: &str,
    value: &str,
) -> crate::store::Result<Option<Credential>> {
    conn.query_row(
        &format!("{SELECT} WHERE c.format = ?1 AND c.value = ?2"),
        params![format, value],
        from_row,
    )
    .optional()
}

/// The credential for a physical card, whatever its format: by its recorded
/// UID, or a raw-UID credential with that value.
pub fn find_by_uid(conn: &Connection, uid: &str) -> crate::store::Result<Option<Credential>> {
    conn.query_row(
        &format!(
            "{SELECT} WHERE c.uid = ?1 OR (c.format = '{}' AND c.value = ?1)
             ORDER BY c.id LIMIT 1",
            crate::domain::UID_FORMAT
        ),
        [uid],
        from_row,
    )
    .optional()
}

/// Puts an active card held by `holder` back in stock; false (and nothing
/// changed) if it is no longer active for them.
pub fn release(conn: &Connection, id: i64, holder: i64) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE credential SET state = 'unassigned', cardholder_id = NULL
          WHERE id = ?1 AND state = 'active' AND cardholder_id = ?2",
        params![id, holder],
    )?;
    Ok(n == 1)
}

/// Makes a card in stock active for `holder`; false if it was not in stock.
pub fn activate(conn: &Connection, id: i64, holder: i64) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE credential SET state = 'active', cardholder_id = ?2
          WHERE id = ?1 AND state = 'unassigned' AND cardholder_id IS NULL",
        params![id, holder],
    )?;
    Ok(n == 1)
}

pub fn set_holder(
    conn: &Connection,
    id: i64,
    state: CredentialState,
    cardholder_id: Option<i64>,
) -> crate::store::Result<()> {
    conn.execute(
        "UPDATE credential SET state = ?2, cardholder_id = ?3 WHERE id = ?1",
        params![id, state.as_str(), cardholder_id],
    )?;
    Ok(())
}

/// Credentials, optionally in one state, matching `search` in value, fields
/// or holder name; newest first.
pub fn list(
    conn: &Connection,
    state: Option<CredentialState>,
    search: &str,
    limit: usize,
    offset: usize,
) -> crate::store::Result<Vec<Credential>> {
    let like = format!("%{}%", search.trim());
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE {MATCHES} ORDER BY c.id DESC LIMIT ?3 OFFSET ?4"
    ))?;
    let rows = stmt.query_map(
        params![state.map(|s| s.as_str()), like, limit as i64, offset as i64],
        from_row,
    )?;
    rows.collect()
}

const MATCHES: &str = "(c.state = ?1 OR ?1 IS NULL)
           AND (?2 = '%%' OR c.value LIKE ?2 OR c.fields LIKE ?2 OR c.format LIKE ?2
                OR ifnull(c.uid, '') LIKE ?2
                OR ifnull(h.first_name || ' ' || h.last_name, '') LIKE ?2)";

/// Cards in stock that a card request may take: unassigned, and not a
/// temporary card's (those are handed out with the temporary-card
/// actions). Newest first, with how many there are.
pub fn stock(
    conn: &Connection,
    limit: usize,
    offset: usize,
) -> crate::store::Result<(Vec<Credential>, i64)> {
    const IN_STOCK: &str = "c.state = 'unassigned'
           AND NOT EXISTS (SELECT 1 FROM temp_card t WHERE t.credential_id = c.id)";
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE {IN_STOCK} ORDER BY c.id DESC LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt
        .query_map(params![limit as i64, offset as i64], from_row)?
        .collect::<crate::store::Result<Vec<_>>>()?;
    let total = conn.query_row(
        &format!(
            "SELECT count(*) FROM credential c LEFT JOIN cardholder h ON h.id = c.cardholder_id
             WHERE {IN_STOCK}"
        ),
        (),
        |r| r.get(0),
    )?;
    Ok((rows, total))
}

/// The credentials with these ids (one query, whatever their number).
pub fn by_ids(conn: &Connection, ids: &[i64]) -> crate::store::Result<Vec<Credential>> {
    let ids = serde_json::to_string(ids).expect("ids serialise");
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE c.id IN ({})",
        match conn.dialect() {
            crate::store::Dialect::Sqlite => "SELECT value FROM json_each(?1)",
            crate::store::Dialect::Postgres =>
                "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(?1 AS json))",
        }
    ))?;
    let rows = stmt.query_map([ids], from_row)?;
    rows.collect()
}

/// How many credentials [`list`] would return without a limit.
pub fn count_matching(
    conn: &Connection,
    state: Option<CredentialState>,
    search: &str,
) -> crate::store::Result<i64> {
    if search.trim().is_empty() {
        // No search: counted on the state index, without the join.
        return conn.query_row(
            "SELECT count(*) FROM credential WHERE state = ?1 OR ?1 IS NULL",
            [state.map(|s| s.as_str())],
            |r| r.get(0),
        );
    }
    let like = format!("%{}%", search.trim());
    conn.query_row(
        &format!(
            "SELECT count(*) FROM credential c LEFT JOIN cardholder h ON h.id = c.cardholder_id
             WHERE {MATCHES}"
        ),
        params![state.map(|s| s.as_str()), like],
        |r| r.get(0),
    )
}

/// Moves a card from state `from` to `to` with `holder`; false (nothing
/// changed) if it is no longer in `from`: another desk changed it first.
pub fn set_state(
    conn: &Connection,
    id: i64,
    from: CredentialState,
    to: CredentialState,
    holder: Option<i64>,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE credential SET state = ?3, cardholder_id = ?4 WHERE id = ?1 AND state = ?2",
        params![id, from.as_str(), to.as_str(), holder],
    )?;
    Ok(n == 1)
}

/// A cardholder's credentials, newest first.
pub fn for_holder(conn: &Connection, holder: i64) -> crate::store::Result<Vec<Credential>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE c.cardholder_id = ?1 ORDER BY c.id DESC"
    ))?;
    let rows = stmt.query_map([holder], from_row)?;
    rows.collect()
}

/// Active or inactive credentials whose holder's expiry date is before
/// `today` (YYYY-MM-DD).
pub fn due_to_expire(conn: &Connection, today: &str) -> crate::store::Result<Vec<Credential>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE c.state IN ('active', 'inactive')
            AND h.expiry IS NOT NULL AND h.expiry <> '' AND h.expiry < ?1
          ORDER BY c.id"
    ))?;
    let rows = stmt.query_map([today], from_row)?;
    rows.collect()
}
