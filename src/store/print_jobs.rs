//! Print jobs: one row per badge sent to a printer, with its attempts and
//! the printer's verdict.

use crate::store::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PrintStatus {
    /// Sent (or being sent) to the printer; no verdict yet.
    Printing,
    /// The printer reported the job completed.
    Printed,
    /// Refused, aborted, cancelled or timed out: may be repeated.
    Failed,
}

impl PrintStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Printing => "printing",
            Self::Printed => "printed",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "printed" => Self::Printed,
            "failed" => Self::Failed,
            _ => Self::Printing,
        }
    }
}

impl fmt::Display for PrintStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PrintJob {
    pub id: i64,
    pub request_id: Option<i64>,
    pub credential_id: Option<i64>,
    pub cardholder_id: Option<i64>,
    pub template: String,
    pub printer: String,
    pub status: PrintStatus,
    pub attempts: i64,
    pub error: Option<String>,
    pub cups_job_id: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub printed_at: Option<String>,
}

pub struct NewPrintJob<'a> {
    pub request_id: Option<i64>,
    pub credential_id: Option<i64>,
    pub cardholder_id: Option<i64>,
    pub template: &'a str,
    pub printer: &'a str,
}

pub fn insert(conn: &Connection, j: &NewPrintJob) -> crate::store::Result<i64> {
    let now = super::now();
    conn.execute(
        "INSERT INTO print_job (request_id, credential_id, cardholder_id, template, printer,
                                status, attempts, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'printing', 1, ?6, ?6)",
        params![
            j.request_id,
            j.credential_id,
            j.cardholder_id,
            j.template,
            j.printer,
            now
        ],
    )?;
    conn.last_insert_rowid()
}

const SELECT: &str = "SELECT id, request_id, credential_id, cardholder_id, template, printer,
        status, attempts, error, cups_job_id, created_at, updated_at, printed_at FROM print_job";

fn from_row(r: &crate::store::Row) -> crate::store::Result<PrintJob> {
    Ok(PrintJob {
        id: r.get(0)?,
        request_id: r.get(1)?,
        credential_id: r.get(2)?,
        cardholder_id: r.get(3)?,
        template: r.get(4)?,
        printer: r.get(5)?,
        status: PrintStatus::parse(&r.get::<_, String>(6)?),
        attempts: r.get(7)?,
        error: r.get(8)?,
        cups_job_id: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        printed_at: r.get(12)?,
    })
}

pub fn get(conn: &Connection, id: i64) -> crate::store::Result<Option<PrintJob>> {
    conn.query_row(&format!("{SELECT} WHERE id = ?1"), [id], from_row)
        .optional()
}

/// A request's print jobs, newest first.
pub fn for_request(conn: &Connection, request_id: i64) -> crate::store::Result<Vec<PrintJob>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE request_id = ?1 ORDER BY id DESC"))?;
    let rows = stmt.query_map([request_id], from_row)?;
    rows.collect()
}

/// A card's print jobs, newest first.
pub fn for_credential(
    conn: &Connection,
    credential_id: i64,
) -> crate::store::Result<Vec<PrintJob>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE credential_id = ?1 ORDER BY id DESC"
    ))?;
    let rows = stmt.query_map([credential_id], from_row)?;
    rows.collect()
}

/// Jobs in one state (e.g. failed ones to repeat), oldest first.
pub fn with_status(conn: &Connection, status: PrintStatus) -> crate::store::Result<Vec<PrintJob>> {
    let mut stmt = conn.prepare(&format!("{SELECT} WHERE status = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([status.as_str()], from_row)?;
    rows.collect()
}

/// Notes the printer's job id of a job still printing, as soon as the
/// printer took it, so it can be followed up after a crash.
pub fn set_printer_job(
    conn: &Connection,
    id: i64,
    printer_job: &str,
) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE print_job SET cups_job_id = ?2, updated_at = ?3 WHERE id = ?1 AND status = 'printing'",
        params![id, printer_job, super::now()],
    )?;
    Ok(n == 1)
}

/// Starts a failed job again; false (nothing changed) unless it was failed.
pub fn restart(conn: &Connection, id: i64, printer: &str) -> crate::store::Result<bool> {
    let n = conn.execute(
        "UPDATE print_job SET status = 'printing', attempts = attempts + 1, printer = ?2,
                error = NULL, cups_job_id = NULL, updated_at = ?3
          WHERE id = ?1 AND status = 'failed'",
        params![id, printer, super::now()],
    )?;
    Ok(n == 1)
}

/// Records the printer's verdict: printed (with the CUPS job id) or failed
/// (with the error, and the CUPS job id when the job got that far).
pub fn finish(
    conn: &Connection,
    id: i64,
    cups_job_id: Option<&str>,
    error: Option<&str>,
) -> crate::store::Result<bool> {
    let now = super::now();
    let (status, printed_at) = match error {
        None => ("printed", Some(now.as_str())),
        Some(_) => ("failed", None),
    };
    // Only a job still printing gets a verdict.
    let n = conn.execute(
        "UPDATE print_job SET status = ?2, cups_job_id = ?3, error = ?4, updated_at = ?5,
                printed_at = ?6 WHERE id = ?1 AND status = 'printing'",
        params![id, status, cups_job_id, error, now, printed_at],
    )?;
    Ok(n == 1)
}
