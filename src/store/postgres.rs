//! The PostgreSQL side of [`super::Connection`]: a synchronous client, its
//! prepared statements, values bound by the type the server inferred, and
//! the change notifications other workstations' commits send.

use super::error::{Error, Result};
use postgres::types::{IsNull, ToSql as PgToSql, Type};
use rusqlite::types::{ToSqlOutput, Value, ValueRef};
use rusqlite::ToSql;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// The channel every change is announced on (migration 0012's trigger
/// sends the changed table's name, delivered when its transaction commits).
pub const CHANGES_CHANNEL: &str = "carddesk_changes";

/// The site-wide advisory lock every writing transaction holds (see
/// [`super::Connection::begin`]); a different key serialises migrations.
const WRITE_LOCK: i64 = 0x00ca_4dde_5c00_0001;
pub(super) const MIGRATE_LOCK: i64 = 0x00ca_4dde_5c00_0002;

pub struct PgConn {
    /// The connection file (database.toml) this was opened from: files
    /// that belong with the database (keys, head) are named after it.
    location: String,
    client: RefCell<postgres::Client>,
    statements: RefCell<HashMap<String, postgres::Statement>>,
    /// Change notifications received so far (the live-update counter).
    seen: Cell<i64>,
    /// This connection's server process, once it listens (LISTEN is sent
    /// by the first look at the counter: a connection that never looks, a
    /// mailer or a job, would only pile notifications up).
    backend_pid: Cell<i32>,
}

impl PgConn {
    /// Wraps a connected client and starts listening for changes.
    pub fn new(client: postgres::Client, location: &std::path::Path) -> Result<PgConn> {
        Ok(PgConn {
            backend_pid: Cell::new(0),
            location: location.display().to_string(),
            client: RefCell::new(client),
            statements: RefCell::new(HashMap::new()),
            seen: Cell::new(0),
        })
    }

    pub(super) fn location(&self) -> &str {
        &self.location
    }

    pub(super) fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.statements.borrow().get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.borrow_mut().prepare(&translate(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), statement.clone());
        Ok(statement)
    }

    pub(super) fn execute(&self, s: &postgres::Statement, values: &[&dyn ToSql]) -> Result<usize> {
        let bound = bind(values)?;
        let refs: Vec<&(dyn PgToSql + Sync)> = bound.iter().map(|b| b as _).collect();
        Ok(self.client.borrow_mut().execute(s, &refs)? as usize)
    }

    pub(super) fn query(
        &self,
        s: &postgres::Statement,
        values: &[&dyn ToSql],
    ) -> Result<Vec<postgres::Row>> {
        let bound = bind(values)?;
        let refs: Vec<&(dyn PgToSql + Sync)> = bound.iter().map(|b| b as _).collect();
        Ok(self.client.borrow_mut().query(s, &refs)?)
    }

    pub(super) fn batch(&self, sql: &str) -> Result<()> {
        Ok(self.client.borrow_mut().batch_execute(sql)?)
    }

    pub(super) fn begin_write(&self) -> Result<()> {
        self.batch("BEGIN ISOLATION LEVEL READ COMMITTED")?;
        // Not taken (lock_timeout, a cancel): no transaction is left open.
        if let Err(e) = self.batch(&format!("SELECT pg_advisory_xact_lock({WRITE_LOCK})")) {
            let _ = self.batch("ROLLBACK");
            return Err(e);
        }
        Ok(())
    }

    /// Drains the notifications that have arrived (without waiting) and
    /// returns how many were ever received.
    /// Like SQLite's `data_version`, only what *other* connections
    /// committed counts: this connection's own notifications (its server
    /// process id) are passed over.
    pub(super) fn notifications_seen(&self) -> Result<i64> {
        if self.backend_pid.get() == 0 {
            let pid: i32 = self
                .client
                .borrow_mut()
                .query_one("SELECT pg_backend_pid()", &[])?
                .get(0);
            self.batch(&format!("LISTEN {CHANGES_CHANNEL}"))?;
            self.backend_pid.set(pid);
        }
        let own = self.backend_pid.get();
        let mut client = self.client.borrow_mut();
        let mut notifications = client.notifications();
        let mut iter = notifications.iter();
        let mut n = self.seen.get();
        while let Some(note) = fallible_next(&mut iter)? {
            if note.process_id() != own {
                n += 1;
            }
        }
        self.seen.set(n);
        Ok(n)
    }
}

fn fallible_next<I: postgres::fallible_iterator::FallibleIterator<Error = postgres::Error>>(
    iter: &mut I,
) -> Result<Option<I::Item>> {
    Ok(iter.next()?)
}

/// One parameter, as rusqlite would have bound it.
#[derive(Debug)]
struct Bind(Value);

fn bind(values: &[&dyn ToSql]) -> Result<Vec<Bind>> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let value = match v.to_sql().map_err(Error::from)? {
                ToSqlOutput::Borrowed(r) => match r {
                    ValueRef::Null => Value::Null,
                    ValueRef::Integer(i) => Value::Integer(i),
                    ValueRef::Real(f) => Value::Real(f),
                    ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                    ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                },
                ToSqlOutput::Owned(v) => v,
                _ => {
                    return Err(Error::Conversion {
                        column: i,
                        reason: "unsupported parameter".into(),
                    })
                }
            };
            Ok(Bind(value))
        })
        .collect()
}

impl PgToSql for Bind {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => PgToSql::to_sql(&i, ty, out),
                Type::INT4 => PgToSql::to_sql(&i32::try_from(*i)?, ty, out),
                Type::INT2 => PgToSql::to_sql(&i16::try_from(*i)?, ty, out),
                Type::BOOL => PgToSql::to_sql(&(*i != 0), ty, out),
                Type::FLOAT8 => PgToSql::to_sql(&(*i as f64), ty, out),
                Type::FLOAT4 => PgToSql::to_sql(&(*i as f32), ty, out),
                _ => text_to_sql(&i.to_string(), ty, out),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => PgToSql::to_sql(&f, ty, out),
                Type::FLOAT4 => PgToSql::to_sql(&(*f as f32), ty, out),
                _ => text_to_sql(&f.to_string(), ty, out),
            },
            Value::Text(s) => match *ty {
                Type::INT8 => PgToSql::to_sql(&s.parse::<i64>()?, ty, out),
                Type::INT4 => PgToSql::to_sql(&s.parse::<i32>()?, ty, out),
                _ => text_to_sql(s, ty, out),
            },
            Value::Blob(b) => PgToSql::to_sql(&b.as_slice(), ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Text, and the text-shaped types (a collated column, JSON as text).
fn text_to_sql(
    s: &str,
    ty: &Type,
    out: &mut postgres::types::private::BytesMut,
) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
    match *ty {
        Type::JSONB => {
            out.extend_from_slice(&[1]);
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
            out.extend_from_slice(s.as_bytes());
            Ok(IsNull::No)
        }
        // Text bytes in another type's binary form would be read as
        // something else entirely: refuse instead.
        _ => Err(format!("cannot bind text to a column of type {ty}").into()),
    }
}

/// Column `i` of `row` as the SQLite value it would have been.
pub(super) fn column_value(row: &postgres::Row, i: usize) -> Result<Value> {
    let ty = row
        .columns()
        .get(i)
        .ok_or_else(|| Error::Conversion {
            column: i,
            reason: "no such column".into(),
        })?
        .type_()
        .clone();
    let v = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Integer(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Integer(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Integer(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into())),
        Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
        _ => row
            .try_get::<_, Option<AnyText>>(i)?
            .map(|t| Value::Text(t.0)),
    };
    Ok(v.unwrap_or(Value::Null))
}

/// Any other type read as its text (TEXT, VARCHAR, NAME, JSON; a type the
/// client does not know, e.g. from an extension, in its binary form, which
/// for text-like types is the UTF-8 text).
struct AnyText(String);

impl<'a> postgres::types::FromSql<'a> for AnyText {
    fn from_sql(
        ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let raw = if *ty == Type::JSONB && raw.first() == Some(&1) {
            &raw[1..]
        } else {
            raw
        };
        Ok(AnyText(std::str::from_utf8(raw)?.to_string()))
    }

    fn accepts(ty: &Type) -> bool {
        // The text types, and the server's own unknown/collated ones whose
        // binary form is the text (a type from an extension with a name).
        matches!(
            *ty,
            Type::TEXT
                | Type::VARCHAR
                | Type::BPCHAR
                | Type::NAME
                | Type::JSON
                | Type::JSONB
                | Type::UNKNOWN
        )
    }
}

/// SQLite's placeholders (`?1`, `?`) as PostgreSQL's (`$1`); SQLite's
/// null-safe `IS ?1` / `IS NOT ?1` as `IS [NOT] DISTINCT FROM $1`; `LIKE`
/// (case-insensitive for ASCII in SQLite) as `ILIKE`; `ifnull(` as
/// `coalesce(`. Text in quotes is left alone.
pub fn translate(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.chars().peekable();
    let mut in_quote = false;
    let mut next_bare = 1;
    while let Some(c) = chars.next() {
        if in_quote {
            out.push(c);
            if c == '\'' {
                in_quote = false;
            }
            continue;
        }
        match c {
            '\'' => {
                in_quote = true;
                out.push(c);
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    digits = next_bare.to_string();
                    next_bare += 1;
                }
                rewrite_null_safe(&mut out);
                out.push('$');
                out.push_str(&digits);
            }
            c if c.is_ascii_alphabetic() && !ends_in_word(&out) => {
                let mut word = String::from(c);
                while let Some(w) = chars
                    .peek()
                    .filter(|w| w.is_ascii_alphanumeric() || **w == '_')
                {
                    word.push(*w);
                    chars.next();
                }
                if word.eq_ignore_ascii_case("LIKE") {
                    out.push_str("ILIKE");
                } else if word.eq_ignore_ascii_case("ifnull") && chars.peek() == Some(&'(') {
                    out.push_str("coalesce");
                } else {
                    out.push_str(&word);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn ends_in_word(s: &str) -> bool {
    s.chars()
        .last()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.')
}

/// Just before a placeholder: `… IS NOT ` → `… IS DISTINCT FROM `,
/// `… IS ` → `… IS NOT DISTINCT FROM `.
fn rewrite_null_safe(out: &mut String) {
    let upper = out.to_ascii_uppercase();
    let trimmed = upper.trim_end();
    let ws = upper.len() - trimmed.len();
    if ws == 0 {
        return;
    }
    let word_before = |s: &str, w: &str| {
        s.ends_with(w)
            && s[..s.len() - w.len()]
                .chars()
                .last()
                .is_none_or(|c| c.is_whitespace())
    };
    if word_before(trimmed, "IS NOT") {
        let cut = trimmed.len() - "NOT".len();
        out.truncate(cut);
        out.push_str("DISTINCT FROM ");
    } else if word_before(trimmed, "IS") {
        out.truncate(trimmed.len());
        out.push_str(" NOT DISTINCT FROM ");
    }
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn placeholders_become_numbered() {
        assert_eq!(
            translate("SELECT a FROM t WHERE b = ?1 AND c = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = $12"
        );
        assert_eq!(translate("VALUES (?, ?)"), "VALUES ($1, $2)");
    }

    #[test]
    fn quoted_question_marks_stay() {
        assert_eq!(
            translate("SELECT '?1' || ?1 FROM t WHERE x = 'it''s ?'"),
            "SELECT '?1' || $1 FROM t WHERE x = 'it''s ?'"
        );
    }

    #[test]
    fn like_and_ifnull() {
        assert_eq!(
            translate("WHERE ifnull(c.uid, '') LIKE ?2 AND unlike_col = 1"),
            "WHERE coalesce(c.uid, '') ILIKE $2 AND unlike_col = 1"
        );
        assert_eq!(translate("SELECT 'a LIKE b'"), "SELECT 'a LIKE b'");
    }

    #[test]
    fn null_safe_comparisons() {
        assert_eq!(
            translate("WHERE id = ?3 AND claimed_by IS ?5"),
            "WHERE id = $3 AND claimed_by IS NOT DISTINCT FROM $5"
        );
        assert_eq!(
            translate("WHERE x IS NOT ?1"),
            "WHERE x IS DISTINCT FROM $1"
        );
        // Not the word IS: THIS ?1 is not rewritten.
        assert_eq!(translate("SELECT THIS ?1"), "SELECT THIS $1");
    }
}
