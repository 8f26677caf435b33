use super::auth::check_email;
use super::{snapshot, Desk, DeskError, DeskResult, Session};
use crate::domain::Privilege;
use crate::store::{
    self,
    cardholders::{Cardholder, NewCardholder},
    requests::RequestFields,
};
use chrono::NaiveDate;

/// What the Create cardholder form (or a CSV row) provides.
#[derive(Debug, Clone, Default)]
pub struct CardholderInput {
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub department: Option<String>,
    pub photo: Option<(Vec<u8>, String)>,
    pub site: Option<String>,
    /// YYYY-MM-DD
    pub activation: Option<String>,
    pub expiry: Option<String>,
}

/// The largest photo file accepted.
const MAX_PHOTO_BYTES: u64 = 5 * 1024 * 1024;

/// Reads a cardholder photo, accepting JPEG and PNG only.
pub fn read_photo(path: &std::path::Path) -> DeskResult<(Vec<u8>, String)> {
    let shown = path.display();
    // At most one byte past the limit is read: a device or a pipe given as
    // the photo cannot stall the desk.
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read;
            f.take(MAX_PHOTO_BYTES + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| DeskError::invalid("photo", format!("cannot read {shown}: {e}")))?;
    if bytes.len() as u64 > MAX_PHOTO_BYTES {
        return Err(DeskError::invalid("photo", "is larger than 5 MB"));
    }
    let mime = if bytes.starts_with(&[0xFF, 0xD8]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        return Err(DeskError::invalid(
            "photo",
            format!("{shown} is not a JPEG or PNG file"),
        ));
    };
    Ok((bytes, mime.into()))
}

fn check_date(field: &'static str, value: Option<&str>) -> DeskResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map(|d| Some(d.to_string()))
            .map_err(|_| DeskError::invalid(field, format!("{v:?} is not a date (YYYY-MM-DD)"))),
    }
}

/// Validates the input and resolves the site name, without writing.
pub(super) fn validate(
    conn: &crate::store::Connection,
    c: &CardholderInput,
) -> DeskResult<NewCardholder> {
    if c.first_name.trim().is_empty() {
        return Err(DeskError::invalid("first name", "must not be empty"));
    }
    if c.last_name.trim().is_empty() {
        return Err(DeskError::invalid("last name", "must not be empty"));
    }
    let email = check_email(c.email.as_deref())?;
    let activation = check_date("activation date", c.activation.as_deref())?;
    let expiry = check_date("expiry date", c.expiry.as_deref())?;
    if let (Some(a), Some(e)) = (&activation, &expiry) {
        if e <= a {
            return Err(DeskError::invalid(
                "expiry date",
                format!("{e} must be after the activation date {a}"),
            ));
        }
    }
    let site_id = resolve_site(conn, c.site.as_deref())?;
    if let Some((bytes, _)) = &c.photo {
        if bytes.len() as u64 > MAX_PHOTO_BYTES {
            return Err(DeskError::invalid("photo", "is larger than 5 MB"));
        }
        // Decoded whole now, so a truncated, corrupt or gigantic image is
        // refused here and never reaches a badge.
        let (w, h) = crate::badge::check_photo(bytes).map_err(|e| match e {
            crate::badge::BadgeError::Photo { reason, .. } => DeskError::invalid(
                "photo",
                format!(
                    "cannot be used ({reason}); give a JPEG or PNG of at most {0} × {0} pixels",
                    crate::badge::MAX_PHOTO_SIDE
                ),
            ),
            other => DeskError::Badge(other),
        })?;
        if w == 0 || h == 0 {
            return Err(DeskError::invalid("photo", "has no pixels"));
        }
    }
    Ok(NewCardholder {
        first_name: c.first_name.trim().to_string(),
        last_name: c.last_name.trim().to_string(),
        email,
        department: c.department.clone().filter(|d| !d.trim().is_empty()),
        photo: c.photo.clone(),
        site_id,
        activation,
        expiry,
    })
}

pub(super) fn resolve_site(
    conn: &crate::store::Connection,
    name: Option<&str>,
) -> DeskResult<Option<i64>> {
    match name.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(n) => match store::sites::find(conn, n)? {
            Some(site) => Ok(Some(site.id)),
            None => Err(DeskError::NotFound {
                what: "site",
                id: format!("{n:?}"),
            }),
        },
    }
}

impl Desk {
    /// Creates a cardholder and, when the desk cannot give them a card now
    /// (no credential at hand, no printer), raises a card request for them
    /// in the same transaction. Returns (cardholder id, request id).
    pub fn create_cardholder(
        &mut self,
        s: &Session,
        input: &CardholderInput,
        request: Option<&RequestFields>,
    ) -> DeskResult<(i64, Option<i64>)> {
        self.require(s, Privilege::ManageCardholders, "create cardholders")?;
        let new = validate(&self.conn, input)?;
        if let Some(r) = request {
            super::requests::check_request_fields(&self.conn, s, r)?;
        }
        let tx = self.begin()?;
        let id = store::cardholders::insert(&tx, &new)?;
        let after = store::cardholders::get(&tx, id)?;
        tx.audit(
            s,
            "cardholder.create",
            "cardholder",
            Some(id),
            None,
            Some(snapshot(&after)),
        )?;
        let request_id = match request {
            Some(r) => Some(super::requests::insert_request(&tx, s, id, r)?),
            None => None,
        };
        tx.commit()?;
        Ok((id, request_id))
    }

    /// Raises a card request for an existing cardholder.
    pub fn request_card(
        &mut self,
        s: &Session,
        cardholder_id: i64,
        request: &RequestFields,
    ) -> DeskResult<i64> {
        self.require(s, Privilege::ManageCardholders, "request cards")?;
        super::requests::check_request_fields(&self.conn, s, request)?;
        if store::cardholders::get(&self.conn, cardholder_id)?.is_none() {
            return Err(DeskError::NotFound {
                what: "cardholder",
                id: cardholder_id.to_string(),
            });
        }
        let tx = self.begin()?;
        let id = super::requests::insert_request(&tx, s, cardholder_id, request)?;
        tx.commit()?;
        Ok(id)
    }

    /// Changes a cardholder's details (and photo, when one is given).
    pub fn update_cardholder(
        &mut self,
        s: &Session,
        id: i64,
        input: &CardholderInput,
    ) -> DeskResult<Cardholder> {
        self.require(s, Privilege::ManageCardholders, "edit cardholders")?;
        let new = validate(&self.conn, input)?;
        let tx = self.begin()?;
        let before = store::cardholders::get(&tx, id)?.ok_or(DeskError::NotFound {
            what: "cardholder",
            id: id.to_string(),
        })?;
        store::cardholders::update(&tx, id, &new)?;
        let after = store::cardholders::get(&tx, id)?.expect("exists");
        let mut recorded = snapshot(&after);
        if new.photo.is_some() {
            recorded["photo_changed"] = true.into();
        }
        tx.audit(
            s,
            "cardholder.modify",
            "cardholder",
            Some(id),
            Some(snapshot(&before)),
            Some(recorded),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Everything about one cardholder the operator may see: details and
    /// photo, their credentials, their card requests (who answered, when),
    /// and the audit events about them, their cards and requests.
    pub fn cardholder_record(&self, s: &Session, id: i64) -> DeskResult<CardholderRecord> {
        self.require(s, Privilege::ViewCardholders, "see cardholders")?;
        let cardholder = store::cardholders::get(&self.conn, id)?.ok_or(DeskError::NotFound {
            what: "cardholder",
            id: id.to_string(),
        })?;
        let photo = store::cardholders::photo(&self.conn, id)?;
        // What else this operator may see: read once, as the database says now.
        let granted = store::operators::standing(&self.conn, s.operator().id)?
            .map(|st| st.privileges)
            .unwrap_or_default();
        let may = |p: Privilege| granted.contains(&p);
        let credentials = if may(Privilege::ViewCredentials) {
            store::credentials::for_holder(&self.conn, id)?
        } else {
            Vec::new()
        };
        let temp_cards = if may(Privilege::ViewCredentials) {
            store::temp_cards::list(
                &self.conn,
                &store::temp_cards::TempCardFilter {
                    holder: Some(id),
                    ..Default::default()
                },
            )?
        } else {
            Vec::new()
        };
        let requests = if may(Privilege::ViewRequests) {
            store::requests::for_cardholder(&self.conn, id)?
        } else {
            Vec::new()
        };
        let events = if may(Privilege::ViewAudit) {
            let mut about = vec![("cardholder", id)];
            about.extend(credentials.iter().map(|c| ("credential", c.id)));
            about.extend(requests.iter().map(|r| ("card_request", r.id)));
            about.extend(temp_cards.iter().map(|c| ("temp_card", c.id)));
            store::audit::about(&self.conn, &about, 200)?
        } else {
            Vec::new()
        };
        Ok(CardholderRecord {
            cardholder,
            photo,
            credentials,
            temp_cards,
            requests,
            events,
        })
    }
}

/// A cardholder's record (see [`Desk::cardholder_record`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CardholderRecord {
    pub cardholder: Cardholder,
    #[serde(skip)]
    pub photo: Option<(Vec<u8>, String)>,
    pub credentials: Vec<crate::store::credentials::Credential>,
    /// Temporary cards they hold now.
    pub temp_cards: Vec<crate::store::temp_cards::TempCard>,
    pub requests: Vec<crate::store::requests::CardRequest>,
    pub events: Vec<crate::store::audit::AuditEvent>,
}
