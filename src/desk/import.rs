//! Bulk import of cardholders from CSV (HR's list of new starters): every
//! bad row is reported with its line number (and column), and nothing is
//! imported unless all rows are good (or the operator chose to skip bad
//! rows). A row may bring a photo (a file beside the CSV) and ask for a
//! card, raising the card request in the same transaction.

use super::cardholders::{validate, CardholderInput};
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store::{self, requests::RequestFields};
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: usize,
    /// Card requests raised for imported rows (request_card = yes).
    pub requested: usize,
    /// "line N: message" for each row that was skipped.
    pub skipped: Vec<String>,
}

const COLUMNS: &str = "first_name, last_name, email, department, site, activation, expiry, \
                       photo, request_card, request_reason";

/// A `photo` cell: a JPEG or PNG file named relative to the CSV's folder
/// (never an absolute path or one that climbs out of it).
fn photo_file(dir: Option<&Path>, name: &str) -> Result<std::path::PathBuf, String> {
    let relative = Path::new(name);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return Err(format!(
            "{name:?} must be a file name relative to the CSV's folder (no /, .. or drive)"
        ));
    }
    match dir {
        Some(dir) => Ok(dir.join(relative)),
        None => Err("photos can only be read when importing a CSV file".into()),
    }
}

/// A `request_card` cell: yes or no.
fn yes_no(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" | "nee" => Ok(false),
        "yes" | "y" | "true" | "1" | "ja" => Ok(true),
        other => Err(format!("{other:?} is not yes or no")),
    }
}

impl Desk {
    /// Reads a CSV with a header row naming (some of) the columns
    /// first_name, last_name, email, department, site, activation, expiry.
    ///
    /// `photo_dir` is the CSV's folder, for the `photo` column; rows with
    /// `request_card` yes get a pending card request (reason from
    /// `request_reason`, the Standard badge).
    pub fn import_cardholders(
        &mut self,
        s: &Session,
        input: impl Read,
        photo_dir: Option<&Path>,
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
            let photo = match get("photo").map(|name| {
                photo_file(photo_dir, &name).and_then(|path| {
                    super::read_photo(&path).map_err(|e| format!("{}: {e}", path.display()))
                })
            }) {
                None => None,
                Some(Ok(photo)) => Some(photo),
                Some(Err(e)) => {
                    bad.push(format!("line {line}, column photo: {e}"));
                    continue;
                }
            };
            let wants_card = match yes_no(&get("request_card").unwrap_or_default()) {
                Ok(yes) => yes,
                Err(e) => {
                    bad.push(format!("line {line}, column request_card: {e}"));
                    continue;
                }
            };
            let input = CardholderInput {
                first_name: get("first_name").unwrap_or_default(),
                last_name: get("last_name").unwrap_or_default(),
                email: get("email"),
                department: get("department"),
                photo,
                site: get("site"),
                activation: get("activation"),
                expiry: get("expiry"),
            };
            let request = wants_card.then(|| RequestFields {
                reason: get("request_reason").unwrap_or_else(|| "Imported new starter".into()),
                badge_template: "Standard".into(),
                notify_requester: false,
                ship_to_site_id: None,
            });
            let checked = validate(&self.conn, &input).and_then(|new| {
                if let Some(r) = &request {
                    super::requests::check_request_fields(&self.conn, s, r)?;
                }
                Ok(new)
            });
            match checked {
                Ok(new) => good.push((new, request)),
                Err(e) => bad.push(format!("line {line}: {e}")),
            }
        }
        if !bad.is_empty() && !skip_bad {
            return Err(DeskError::Import(bad));
        }
        let tx = self.begin()?;
        let mut requested = 0;
        for (new, request) in &good {
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
            if let Some(r) = request {
                super::requests::insert_request(&tx, s, id, r)?;
                requested += 1;
            }
        }
        tx.commit()?;
        Ok(ImportReport {
            imported: good.len(),
            requested,
            skipped: bad,
        })
    }
}
