//! Bulk import of cardholders from CSV: every bad row is reported with its
//! line number, and nothing is imported unless all rows are good (or the
//! operator chose to skip bad rows).

use super::cardholders::{validate, CardholderInput};
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store;
use std::io::Read;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// "line N: message" for each row that was skipped.
    pub skipped: Vec<String>,
}

const COLUMNS: &str = "first_name, last_name, email, department, site, activation, expiry";

impl Desk {
    /// Reads a CSV with a header row naming (some of) the columns
    /// first_name, last_name, email, department, site, activation, expiry.
    pub fn import_cardholders(
        &mut self,
        s: &Session,
        input: impl Read,
        skip_bad: bool,
    ) -> DeskResult<ImportReport> {
        self.require(s, Privilege::ManageCardholders, "import cardholders")?;
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| DeskError::invalid("CSV header", e.to_string()))?
            .clone();
        let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        for required in ["first_name", "last_name"] {
            if col(required).is_none() {
                return Err(DeskError::invalid(
                    "CSV header",
                    format!("needs a {required} column (known columns: {COLUMNS})"),
                ));
            }
        }
        if let Some(unknown) = headers
            .iter()
            .find(|h| !COLUMNS.split(", ").any(|c| c.eq_ignore_ascii_case(h)))
        {
            return Err(DeskError::invalid(
                "CSV header",
                format!("unknown column {unknown:?} (known columns: {COLUMNS})"),
            ));
        }
        let mut good = Vec::new();
        let mut bad = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    bad.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            let get = |name: &str| {
                col(name)
                    .and_then(|i| record.get(i))
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let input = CardholderInput {
                first_name: get("first_name").unwrap_or_default(),
                last_name: get("last_name").unwrap_or_default(),
                email: get("email"),
                department: get("department"),
                photo: None,
                site: get("site"),
                activation: get("activation"),
                expiry: get("expiry"),
            };
            match validate(&self.conn, &input) {
                Ok(new) => good.push(new),
                Err(e) => bad.push(format!("line {line}: {e}")),
            }
        }
        if !bad.is_empty() && !skip_bad {
            return Err(DeskError::Import(bad));
        }
        let tx = self.begin()?;
        for new in &good {
            let id = store::cardholders::insert(&tx, new)?;
            let after = store::cardholders::get(&tx, id)?;
            tx.audit(
                s,
                "cardholder.import",
                "cardholder",
                Some(id),
                None,
                Some(snapshot(&after)),
            )?;
        }
        tx.commit()?;
        Ok(ImportReport {
            imported: good.len(),
            skipped: bad,
        })
    }
}
