//! Answering card requests: modify, deny, connect a card, close.

use super::{notification, snapshot, tx::Tx, Desk, DeskError, DeskResult, Session};
use crate::domain::card_format::normalize_uid;
use crate::domain::{
    check_eligible, CardFormat, CredentialState, FormatError, Ineligible, Privilege, RequestStatus,
    UID_FORMAT,
};
use crate::store::Connection;
use crate::store::{self, credentials::Credential, requests::CardRequest, requests::RequestFields};

/// The three ways to connect a card to a request.
#[derive(Debug, Clone)]
pub enum ConnectCard {
    /// Typed in from a card format's fields: the system cannot confirm that
    /// the data matches a physical card.
    Manual {
        format: String,
        fields: Vec<(String, String)>,
    },
    /// An unassigned credential already on record.
    Existing { credential_id: i64 },
    /// A card presented to a reader (its UID).
    Presented { uid: String },
    /// A card read at a door reader: its Wiegand bits, decoded with the
    /// site's card formats.
    Read { bits: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enrolment {
    /// An existing credential was assigned.
    Assigned,
    /// The card was not on record: registered, then assigned.
    RegisteredAndAssigned,
}

#[derive(Debug, Clone)]
pub struct Assigned {
    pub credential: Credential,
    pub enrolment: Enrolment,
}

pub(super) fn check_request_fields(
    conn: &Connection,
    s: &Session,
    f: &RequestFields,
) -> DeskResult<()> {
    if f.badge_template.trim().is_empty() {
        return Err(DeskError::invalid("badge template", "must be chosen"));
    }
    super::badges::check_template_exists(conn, &f.badge_template)?;
    if let Some(site) = f.ship_to_site_id {
        if !store::sites::list(conn)?.iter().any(|x| x.id == site) {
            return Err(DeskError::NotFound {
                what: "site",
                id: site.to_string(),
            });
        }
    }
    if f.notify_requester && s.operator().email.is_none() {
        return Err(DeskError::invalid(
            "email me when the card is ready",
            format!(
                "operator {} has no e-mail address to send it to",
                s.operator().name
            ),
        ));
    }
    Ok(())
}

pub(super) fn insert_request(
    conn: &Tx,
    s: &Session,
    cardholder_id: i64,
    f: &RequestFields,
) -> DeskResult<i64> {
    let id = store::requests::insert(conn, cardholder_id, s.operator().id, f)?;
    let after = store::requests::get(conn, id)?;
    conn.audit(
        s,
        "request.create",
        "card_request",
        Some(id),
        None,
        Some(snapshot(&after)),
    )?;
    Ok(id)
}

/// The request, which must exist and still be pending; read inside the
/// caller's (immediate) transaction, so the answer cannot change under it.
fn pending(conn: &Connection, id: i64) -> DeskResult<CardRequest> {
    let r = store::requests::get(conn, id)?.ok_or(DeskError::NotFound {
        what: "card request",
        id: id.to_string(),
    })?;
    if !r.status.is_open() {
        return Err(not_pending(conn, &r));
    }
    Ok(r)
}

/// "Already completed by olga at …": who answered the request and when.
pub(super) fn not_pending(conn: &Connection, r: &CardRequest) -> DeskError {
    let by = r
        .answered_by
        .and_then(|id| store::operators::get(conn, id).ok().flatten())
        .map(|o| o.name)
        .unwrap_or_else(|| "someone".into());
    DeskError::NotPending {
        id: r.id,
        status: r.status,
        by,
        at: r.answered_at.clone().unwrap_or_default(),
    }
}

/// Whether `c` may be connected to request `r` (the rule is
/// `domain::check_eligible`), as an error the operator can act on.
fn eligible(conn: &Connection, c: &Credential, r: &CardRequest) -> DeskResult<()> {
    let temporary = store::temp_cards::id_for_credential(conn, c.id)?;
    let holder_name = |holder: i64| {
        store::cardholders::get(conn, holder)
            .ok()
            .flatten()
            .map(|h| h.full_name())
            .unwrap_or_else(|| format!("cardholder {holder}"))
    };
    check_eligible(
        c.state,
        c.cardholder_id,
        r.cardholder_id,
        temporary.is_some(),
    )
    .map_err(|why| match why {
        Ineligible::HeldByOther(holder) => DeskError::HeldBySomeoneElse {
            credential: c.label(),
            holder: holder_name(holder),
            requested_for: r.cardholder_name.clone(),
        },
        Ineligible::Blocked(state) => {
            let action = format!("credential.{state}");
            let reported = store::audit::last_action(conn, "credential", c.id, &action)
                .ok()
                .flatten()
                .map(|(by, at)| format!(" (reported by {by} at {at})"))
                .unwrap_or_default();
            DeskError::CredentialBlocked {
                credential: c.label(),
                state,
                reported,
            }
        }
        Ineligible::AlreadyActive => DeskError::AlreadyActive {
            credential: c.label(),
            holder: r.cardholder_name.clone(),
        },
        Ineligible::TemporaryCard => DeskError::TemporaryCard {
            credential: c.label(),
            card: temporary.unwrap_or_default(),
        },
    })
}

fn known_format(conn: &Connection, name: &str) -> DeskResult<CardFormat> {
    store::formats::get(conn, name)?
        .ok_or_else(|| FormatError::UnknownFormat(name.to_string()).into())
}

/// Finds or registers the credential the operator chose. Nothing is written
/// unless the card is new; eligibility is checked by the caller.
fn resolve(
    conn: &Connection,
    r: &CardRequest,
    how: &ConnectCard,
) -> DeskResult<(Credential, Enrolment)> {
    let register = |format: &str, value: &str, fields: serde_json::Value, uid: Option<&str>| {
        let id = store::credentials::insert(
            conn,
            &store::credentials::NewCredential {
                format,
                value,
                fields: &fields,
                uid,
                state: CredentialState::Unassigned,
                cardholder_id: None,
            },
        )?;
        let c = store::credentials::get(conn, id)?.expect("just inserted");
        Ok::<_, DeskError>((c, Enrolment::RegisteredAndAssigned))
    };
    match how {
        ConnectCard::Manual { format, fields } => {
            let f = known_format(conn, format)?;
            if f.name() == UID_FORMAT {
                let uid = fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("uid"))
                    .map(|(_, v)| v.as_str())
                    .unwrap_or_default();
                return resolve(conn, r, &ConnectCard::Presented { uid: uid.into() });
            }
            let values = f.parse_fields(fields)?;
            let bits = f.encode(&values)?;
            if let Some(existing) = store::credentials::find_by_value(conn, f.name(), &bits)? {
                eligible(conn, &existing, r)?;
                return Err(DeskError::DuplicateCredential {
                    credential: existing.label(),
                    id: existing.id,
                    state: existing.state,
                });
            }
            register(f.name(), &bits, f.fields_json(&values), None)
        }
        ConnectCard::Existing { credential_id } => {
            let c = store::credentials::get(conn, *credential_id)?.ok_or(DeskError::NotFound {
                what: "credential",
                id: credential_id.to_string(),
            })?;
            Ok((c, Enrolment::Assigned))
        }
        ConnectCard::Presented { uid } => {
            let uid = normalize_uid(uid)?;
            match store::credentials::find_by_uid(conn, &uid)? {
                Some(c) => Ok((c, Enrolment::Assigned)),
                None => register(UID_FORMAT, &uid, serde_json::json!({}), Some(&uid)),
            }
        }
        ConnectCard::Read { bits } => {
            // Looked up and stored as its fields encode (as manual entry
            // does): stray bits outside every field cannot make a revoked
            // card a new one.
            let fit = read_format(conn, bits)?;
            if let Some(c) = store::credentials::find_by_value(conn, &fit.format, &fit.bits)? {
                return Ok((c, Enrolment::Assigned));
            }
            let fields: serde_json::Map<String, serde_json::Value> = fit
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), (*v).into()))
                .collect();
            register(&fit.format, &fit.bits, fields.into(), None)
        }
    }
}

/// The site's card format a door reader's read is in: the one it fits, or,
/// if it fits several, the one a card on record was registered in. Else
/// the read is explained: its bits, the candidates with their field
/// values, or the known formats the site could add.
fn read_format(conn: &Connection, bits: &str) -> DeskResult<crate::domain::ReadFit> {
    crate::domain::card_format::parse_bits(bits)?;
    let fits = crate::domain::fits(&store::formats::list(conn)?, bits);
    let mut on_record = Vec::new();
    for fit in &fits {
        if store::credentials::find_by_value(conn, &fit.format, &fit.bits)?.is_some() {
            on_record.push(fit.clone());
        }
    }
    let list = |f: &[crate::domain::ReadFit]| {
        f.iter()
            .map(|f| f.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let n = bits.len();
    match (fits.as_slice(), on_record.as_slice()) {
        ([one], _) | (_, [one]) => Ok(one.clone()),
        ([], _) => {
            let site: Vec<String> = store::formats::list(conn)?
                .iter()
                .map(|f| f.name().to_string())
                .collect();
            let known: Vec<_> = crate::domain::fits(&crate::domain::known_formats(), bits)
                .into_iter()
                .filter(|f| !site.contains(&f.format))
                .collect();
            let hint = if known.is_empty() {
                "no known format has this length; add a custom one (carddesk format add FILE)"
                    .to_string()
            } else {
                format!(
                    "formats that could be added: {} (carddesk format add-known NAME)",
                    list(&known)
                )
            };
            Err(DeskError::invalid(
                "card read",
                format!("a {n}-bit read ({bits}) matches none of the site's card formats; {hint}"),
            ))
        }
        (several, _) => Err(DeskError::invalid(
            "card read",
            format!(
                "a {n}-bit read ({bits}) fits several card formats: {}; connect it by manual entry in the right one",
                list(several)
            ),
        )),
    }
}

/// Puts a card back in stock (when its request is re-connected or denied).
/// Only the card this request made active for its cardholder goes back:
/// if it has since been reported lost, deactivated or moved on, it stays
/// exactly as it is.
fn release(conn: &Tx, s: &Session, r: &CardRequest, credential_id: i64) -> DeskResult<()> {
    let before = store::credentials::get(conn, credential_id)?;
    if store::credentials::release(conn, credential_id, r.cardholder_id)? {
        let after = store::credentials::get(conn, credential_id)?;
        conn.audit(
            s,
            "credential.release",
            "credential",
            Some(credential_id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )?;
    }
    Ok(())
}

impl Desk {
    pub fn request(&self, s: &Session, id: i64) -> DeskResult<CardRequest> {
        self.require(s, Privilege::ViewRequests, "see card requests")?;
        store::requests::get(&self.conn, id)?.ok_or(DeskError::NotFound {
            what: "card request",
            id: id.to_string(),
        })
    }

    pub fn modify_request(&mut self, s: &Session, id: i64, f: &RequestFields) -> DeskResult<()> {
        self.require(s, Privilege::AnswerRequests, "modify card requests")?;
        let tx = self.begin()?;
        let before = pending(&tx, id)?;
        // "Email me" goes to the requester, so check against their address.
        let requester =
            store::operators::get(&tx, before.requester_id)?.ok_or(DeskError::NotFound {
                what: "operator",
                id: before.requester_id.to_string(),
            })?;
        let as_requester = Session::on_behalf_of(requester);
        check_request_fields(&tx, &as_requester, f)?;
        store::requests::update_fields(&tx, id, f)?;
        let after = store::requests::get(&tx, id)?;
        tx.audit(
            s,
            "request.modify",
            "card_request",
            Some(id),
            Some(snapshot(&before)),
            Some(snapshot(&after)),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Connects a card to a pending request: the credential becomes active
    /// and held by the request's cardholder. One transaction.
    pub fn connect_card(
        &mut self,
        s: &Session,
        id: i64,
        how: &ConnectCard,
    ) -> DeskResult<Assigned> {
        self.require(s, Privilege::AnswerRequests, "connect cards to requests")?;
        let tx = self.begin()?;
        let before = pending(&tx, id)?;
        let (cred, enrolment) = resolve(&tx, &before, how)?;
        // Connecting the card this request already has is a no-op, not a
        // second connection.
        if before.credential_id == Some(cred.id) {
            let credential = store::credentials::get(&tx, cred.id)?.expect("exists");
            return Ok(Assigned {
                credential,
                enrolment,
            });
        }
        eligible(&tx, &cred, &before)?;
        if let Some(old) = before.credential_id.filter(|&old| old != cred.id) {
            release(&tx, s, &before, old)?;
        }
        if !store::credentials::activate(&tx, cred.id, before.cardholder_id)? {
            let now = store::credentials::get(&tx, cred.id)?.expect("exists");
            return Err(super::conflict(
                &tx,
                "credential",
                "credential",
                cred.id,
                now.state,
            ));
        }
        store::requests::set_credential(&tx, id, cred.id)?;
        let credential = store::credentials::get(&tx, cred.id)?.expect("exists");
        let after = store::requests::get(&tx, id)?;
        tx.record(
            &s.operator().name,
            match enrolment {
                Enrolment::Assigned => "request.connect_card",
                Enrolment::RegisteredAndAssigned => "request.register_and_connect_card",
            },
            "card_request",
            Some(id),
            Some(&serde_json::json!({"request": before, "credential": cred})),
            Some(&serde_json::json!({"request": after, "credential": credential})),
        )?;
        tx.commit()?;
        Ok(Assigned {
            credential,
            enrolment,
        })
    }

    /// Denies requests (all or none), with an optional reason. Any card
    /// already connected goes back to stock. Requesters who asked are e-mailed.
    pub fn deny_requests(
        &mut self,
        s: &Session,
        ids: &[i64],
        reason: Option<&str>,
    ) -> DeskResult<()> {
        self.require(s, Privilege::DenyRequests, "deny card requests")?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        self.answer_requests(s, ids, RequestStatus::Denied, reason, &[])
    }

    pub fn deny_request(&mut self, s: &Session, id: i64, reason: Option<&str>) -> DeskResult<()> {
        self.deny_requests(s, &[id], reason)
    }

    /// Completes requests (all or none); each must have a card connected.
    pub fn close_requests(&mut self, s: &Session, ids: &[i64]) -> DeskResult<()> {
        self.close_requests_shipped(s, ids, &[])
    }

    /// Closes requests, recording for those shipped to a site how the card
    /// was sent (`shipping`: request id, note), which the requester's
    /// e-mail tells.
    pub fn close_requests_shipped(
        &mut self,
        s: &Session,
        ids: &[i64],
        shipping: &[(i64, String)],
    ) -> DeskResult<()> {
        self.require(s, Privilege::AnswerRequests, "close card requests")?;
        for (id, note) in shipping {
            if !ids.contains(id) {
                return Err(DeskError::invalid(
                    "shipping note",
                    format!("request {id} is not among those being closed"),
                ));
            }
            if note.trim().is_empty() || note.chars().count() > 200 {
                return Err(DeskError::invalid(
                    "shipping note",
                    format!("for request {id}: say how it was sent, in at most 200 characters"),
                ));
            }
        }
        self.answer_requests(s, ids, RequestStatus::Completed, None, shipping)
    }

    /// The one answer loop of deny and close: in one transaction, each
    /// request is re-read (still pending?), answered, its requester's mail
    /// queued if they asked, and audited; any error undoes them all.
    fn answer_requests(
        &mut self,
        s: &Session,
        ids: &[i64],
        answer: RequestStatus,
        reason: Option<&str>,
        shipping: &[(i64, String)],
    ) -> DeskResult<()> {
        let tx = self.begin()?;
        for &id in ids {
            let before = pending(&tx, id)?;
            let action = match (answer, before.credential_id) {
                (RequestStatus::Completed, None) => return Err(DeskError::NoCredential(id)),
                (RequestStatus::Completed, Some(_)) => "request.close",
                (_, credential) => {
                    // A denied request gives its card back to stock.
                    if let Some(c) = credential {
                        release(&tx, s, &before, c)?;
                    }
                    "request.deny"
                }
            };
            if !store::requests::answer(&tx, id, answer, s.operator().id, reason)? {
                let now = store::requests::get(&tx, id)?.expect("exists");
                return Err(not_pending(&tx, &now));
            }
            if let Some((_, note)) = shipping.iter().find(|(r, _)| *r == id) {
                if before.ship_to_site_id.is_none() {
                    return Err(DeskError::invalid(
                        "shipping note",
                        format!(
                            "request {id} is not shipped to a site; it is picked up at the desk"
                        ),
                    ));
                }
                store::requests::set_shipping_note(&tx, id, note.trim())?;
            }
            let after = store::requests::get(&tx, id)?.expect("exists");
            notification::queue(&tx, &after, s.operator())?;
            tx.audit(
                s,
                action,
                "card_request",
                Some(id),
                Some(snapshot(&before)),
                Some(snapshot(&after)),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn close_request(&mut self, s: &Session, id: i64) -> DeskResult<()> {
        self.close_requests(s, &[id])
    }
}
