//! What an operator may read. Every list is a page (offset + limit, sorted
//! in SQL) with the number of rows that match, never a whole table, and every
//! read checks the privilege that covers it: the faces cannot see more than
//! the operator may.

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::{CardFormat, CredentialState, OutboxStatus, Privilege, RequestStatus};
use crate::store::{
    self, audit::AuditEvent, cardholders::Cardholder, credentials::Credential,
    outbox::OutboxCounts, outbox::OutboxMessage, requests::CardRequest, sites::Site,
};
use serde::Serialize;

/// The most rows one page may hold.
pub const MAX_PAGE: usize = 1000;

/// Which slice of a list to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PageRequest {
    pub offset: usize,
    pub limit: usize,
}

impl PageRequest {
    pub fn first(limit: usize) -> PageRequest {
        PageRequest { offset: 0, limit }
    }

    fn checked(self) -> DeskResult<PageRequest> {
        if self.limit == 0 || self.limit > MAX_PAGE {
            return Err(DeskError::invalid(
                "page size",
                format!("{} rows: ask for 1 to {MAX_PAGE}", self.limit),
            ));
        }
        Ok(self)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::first(200)
    }
}

/// One page of a list and how many rows match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub offset: usize,
    pub total: i64,
}

impl<T> Default for Page<T> {
    fn default() -> Self {
        Page {
            items: Vec::new(),
            offset: 0,
            total: 0,
        }
    }
}

impl<T> Page<T> {
    /// Whether rows follow this page.
    pub fn has_more(&self) -> bool {
        ((self.offset + self.items.len()) as i64) < self.total
    }
}

impl Desk {
    /// Whether anyone can log in yet (the first-run screen asks before login).
    pub fn has_operators(&self) -> DeskResult<bool> {
        Ok(store::operators::count(&self.conn)? > 0)
    }

    pub fn cardholders(
        &self,
        s: &Session,
        search: &str,
        page: PageRequest,
    ) -> DeskResult<Page<Cardholder>> {
        self.require(s, Privilege::ViewCardholders, "see cardholders")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::cardholders::list(&self.conn, search, page.limit, page.offset)?,
            offset: page.offset,
            total: store::cardholders::count_matching(&self.conn, search)?,
        })
    }

    pub fn credentials(
        &self,
        s: &Session,
        state: Option<CredentialState>,
        search: &str,
        page: PageRequest,
    ) -> DeskResult<Page<Credential>> {
        self.require(s, Privilege::ViewCredentials, "see credentials")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::credentials::list(&self.conn, state, search, page.limit, page.offset)?,
            offset: page.offset,
            total: store::credentials::count_matching(&self.conn, state, search)?,
        })
    }

    /// Cards in stock a card request may take (Connect card → Existing
    /// credential): unassigned, temporary cards' excluded.
    pub fn stock_credentials(
        &self,
        s: &Session,
        page: PageRequest,
    ) -> DeskResult<Page<Credential>> {
        self.require(s, Privilege::ViewCredentials, "see credentials")?;
        let page = page.checked()?;
        let (items, total) = store::credentials::stock(&self.conn, page.limit, page.offset)?;
        Ok(Page {
            items,
            offset: page.offset,
            total,
        })
    }

    /// The credentials with these ids (those that exist), in one query.
    pub fn credentials_by_id(&self, s: &Session, ids: &[i64]) -> DeskResult<Vec<Credential>> {
        self.require(s, Privilege::ViewCredentials, "see credentials")?;
        Ok(store::credentials::by_ids(&self.conn, ids)?)
    }

    pub fn credential(&self, s: &Session, id: i64) -> DeskResult<Credential> {
        self.require(s, Privilege::ViewCredentials, "see credentials")?;
        store::credentials::get(&self.conn, id)?.ok_or(DeskError::NotFound {
            what: "credential",
            id: id.to_string(),
        })
    }

    /// Card requests, oldest first (the desk answers them in that order).
    pub fn requests(
        &self,
        s: &Session,
        status: Option<RequestStatus>,
        page: PageRequest,
    ) -> DeskResult<Page<CardRequest>> {
        self.require(s, Privilege::ViewRequests, "see card requests")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::requests::list(&self.conn, status, page.limit, page.offset)?,
            offset: page.offset,
            total: store::requests::count(&self.conn, status)?,
        })
    }

    /// The number on the tray badge.
    pub fn pending_count(&self, s: &Session) -> DeskResult<i64> {
        self.require(s, Privilege::ViewRequests, "see card requests")?;
        Ok(store::requests::count_pending(&self.conn)?)
    }

    /// The audit trail, newest first.
    pub fn audit_events(&self, s: &Session, page: PageRequest) -> DeskResult<Page<AuditEvent>> {
        self.require(s, Privilege::ViewAudit, "read the audit trail")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::audit::list(&self.conn, page.limit, page.offset)?,
            offset: page.offset,
            total: store::audit::count(&self.conn)?,
        })
    }

    /// Walks the audit hash chain: the number of events, or where it breaks.
    /// The site keys' fingerprint (public: it names the keys, it is not
    /// one), as `carddesk doctor` and the key file show it.
    pub fn key_fingerprint(&self) -> String {
        self.keys.fingerprint()
    }

    pub fn verify_audit(&self, s: &Session) -> DeskResult<u64> {
        self.require(s, Privilege::ViewAudit, "verify the audit trail")?;
        let head = super::tx::read_head(&self.path, &self.keys)?;
        store::audit::verify(&self.conn, self.keys.audit_key(), head.as_ref())?.map_err(|b| {
            DeskError::AuditBroken {
                id: b.id,
                reason: b.reason,
            }
        })
    }

    /// Up to `limit` audit events from event `since` on, oldest first, each
    /// as one JSON line signed with the site's export key (Ed25519 over the
    /// line without its "signature" field), for a site's SIEM. Returns the
    /// lines and the number of the next event to ask for.
    pub fn export_audit(
        &self,
        s: &Session,
        since: i64,
        limit: usize,
    ) -> DeskResult<(Vec<String>, Option<i64>)> {
        use base64::Engine;
        self.require(s, Privilege::ViewAudit, "export the audit trail")?;
        let limit = limit.clamp(1, MAX_PAGE);
        let events = store::audit::since(&self.conn, since, limit)?;
        let next = (events.len() == limit)
            .then(|| events.last().map(|e| e.id + 1))
            .flatten();
        let lines = events
            .into_iter()
            .map(|e| {
                let mut v = serde_json::to_value(&e).expect("events serialise");
                let unsigned = v.to_string();
                let sig = self.keys.sign(unsigned.as_bytes());
                v["signature"] = base64::engine::general_purpose::STANDARD.encode(sig).into();
                v.to_string()
            })
            .collect();
        Ok((lines, next))
    }

    /// The first event at or after `at` (RFC 3339, or a date), for
    /// `audit export --since`.
    pub fn audit_event_at(&self, s: &Session, at: &str) -> DeskResult<Option<i64>> {
        self.require(s, Privilege::ViewAudit, "export the audit trail")?;
        Ok(store::audit::first_at_or_after(&self.conn, at)?)
    }

    /// The public key that checks exported lines (base64, Ed25519).
    pub fn audit_export_key(&self, s: &Session) -> DeskResult<String> {
        use base64::Engine;
        self.require(s, Privilege::ViewAudit, "export the audit trail")?;
        Ok(base64::engine::general_purpose::STANDARD.encode(self.keys.signing_public_key()))
    }

    /// Outbox messages, newest first, optionally in one state.
    pub fn outbox(
        &self,
        s: &Session,
        status: Option<OutboxStatus>,
        page: PageRequest,
    ) -> DeskResult<Page<OutboxMessage>> {
        self.require(s, Privilege::ViewOutbox, "see the outbox")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::outbox::list(&self.conn, status, page.limit, page.offset)?,
            offset: page.offset,
            total: store::outbox::count(&self.conn, status)?,
        })
    }

    pub fn outbox_counts(&self, s: &Session) -> DeskResult<OutboxCounts> {
        self.require(s, Privilege::ViewOutbox, "see the outbox")?;
        Ok(store::outbox::counts(&self.conn)?)
    }

    /// Sites cards can be shipped to (every logged-in operator picks them).
    pub fn sites(&self, s: &Session) -> DeskResult<Vec<Site>> {
        self.require(s, Privilege::ViewRequests, "see the sites")?;
        Ok(store::sites::list(&self.conn)?)
    }

    pub fn site_by_name(&self, s: &Session, name: &str) -> DeskResult<Site> {
        self.require(s, Privilege::ViewRequests, "see the sites")?;
        store::sites::find(&self.conn, name)?.ok_or_else(|| DeskError::NotFound {
            what: "site",
            id: format!("{name:?}"),
        })
    }

    /// The card formats, built-in and custom (manual entry offers them).
    pub fn card_formats(&self, s: &Session) -> DeskResult<Vec<CardFormat>> {
        self.require(s, Privilege::ViewCredentials, "see the card formats")?;
        Ok(store::formats::list(&self.conn)?)
    }

    /// A counter that changes whenever another connection commits: the
    /// window polls it to refresh what it shows.
    pub fn data_version(&self) -> DeskResult<i64> {
        Ok(store::data_version(&self.conn)?)
    }

    /// How often each table was written: which lists a window must read
    /// again (counts only, nothing an operator may not see).
    pub fn change_counters(&self) -> DeskResult<store::changes::Counters> {
        Ok(store::changes::counters(&self.conn)?)
    }
}
