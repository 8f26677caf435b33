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
        s.require(Privilege::ViewCardholders, "see cardholders")?;
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
        s.require(Privilege::ViewCredentials, "see credentials")?;
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
        s.require(Privilege::ViewCredentials, "see credentials")?;
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
        s.require(Privilege::ViewCredentials, "see credentials")?;
        Ok(store::credentials::by_ids(&self.conn, ids)?)
    }

    pub fn credential(&self, s: &Session, id: i64) -> DeskResult<Credential> {
        s.require(Privilege::ViewCredentials, "see credentials")?;
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
        s.require(Privilege::ViewRequests, "see card requests")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::requests::list(&self.conn, status, page.limit, page.offset)?,
            offset: page.offset,
            total: store::requests::count(&self.conn, status)?,
        })
    }

    /// The number on the tray badge.
    pub fn pending_count(&self, s: &Session) -> DeskResult<i64> {
        s.require(Privilege::ViewRequests, "see card requests")?;
        Ok(store::requests::count_pending(&self.conn)?)
    }

    /// The audit trail, newest first.
    pub fn audit_events(&self, s: &Session, page: PageRequest) -> DeskResult<Page<AuditEvent>> {
        s.require(Privilege::ViewAudit, "read the audit trail")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::audit::list(&self.conn, page.limit, page.offset)?,
            offset: page.offset,
            total: store::audit::count(&self.conn)?,
        })
    }

    /// Walks the audit hash chain: the number of events, or where it breaks.
    pub fn verify_audit(&self, s: &Session) -> DeskResult<u64> {
        s.require(Privilege::ViewAudit, "verify the audit trail")?;
        store::audit::verify(&self.conn)?.map_err(|b| DeskError::AuditBroken {
            id: b.id,
            reason: b.reason,
        })
    }

    /// Outbox messages, newest first, optionally in one state.
    pub fn outbox(
        &self,
        s: &Session,
        status: Option<OutboxStatus>,
        page: PageRequest,
    ) -> DeskResult<Page<OutboxMessage>> {
        s.require(Privilege::ViewOutbox, "see the outbox")?;
        let page = page.checked()?;
        Ok(Page {
            items: store::outbox::list(&self.conn, status, page.limit, page.offset)?,
            offset: page.offset,
            total: store::outbox::count(&self.conn, status)?,
        })
    }

    pub fn outbox_counts(&self, s: &Session) -> DeskResult<OutboxCounts> {
        s.require(Privilege::ViewOutbox, "see the outbox")?;
        Ok(store::outbox::counts(&self.conn)?)
    }

    /// Sites cards can be shipped to (every logged-in operator picks them).
    pub fn sites(&self, s: &Session) -> DeskResult<Vec<Site>> {
        s.require(Privilege::ViewRequests, "see the sites")?;
        Ok(store::sites::list(&self.conn)?)
    }

    pub fn site_by_name(&self, s: &Session, name: &str) -> DeskResult<Site> {
        s.require(Privilege::ViewRequests, "see the sites")?;
        store::sites::find(&self.conn, name)?.ok_or_else(|| DeskError::NotFound {
            what: "site",
            id: format!("{name:?}"),
        })
    }

    /// The card formats, built-in and custom (manual entry offers them).
    pub fn card_formats(&self, s: &Session) -> DeskResult<Vec<CardFormat>> {
        s.require(Privilege::ViewCredentials, "see the card formats")?;
        Ok(store::formats::list(&self.conn)?)
    }

    /// A counter that changes whenever another connection commits: the
    /// window polls it to refresh what it shows.
    pub fn data_version(&self) -> DeskResult<i64> {
        Ok(store::data_version(&self.conn)?)
    }
}
