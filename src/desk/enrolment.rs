//! Automatic entry (mission A7a): a card presented to a reader is connected
//! to a pending request. The rule itself (register if new, refuse a card
//! held by someone else or blocked) is `Desk::connect_card`'s; this is the
//! reader-facing side of it.

use super::{Assigned, ConnectCard, Desk, DeskResult, Session};
use crate::devices::reader::{CardData, CardPresented};
use crate::domain::Privilege;
use crate::store::requests::CardRequest;

impl Desk {
    /// Checks, before anyone is asked to present a card, that `s` may
    /// connect cards and that request `request_id` is still pending.
    pub fn ready_to_enrol(&self, s: &Session, request_id: i64) -> DeskResult<CardRequest> {
        self.require(s, Privilege::AnswerRequests, "connect cards to requests")?;
        let r = self.request(s, request_id)?;
        if !r.status.is_open() {
            return Err(super::requests::not_pending(&self.conn, &r));
        }
        Ok(r)
    }

    /// Connects the card just presented to a reader to request `request_id`,
    /// in one transaction: a known eligible card is assigned, an unknown one
    /// registered (UID format) and assigned; a card held by someone else or
    /// lost/stolen/revoked is refused and nothing changes.
    pub fn enrol_presented(
        &mut self,
        s: &Session,
        request_id: i64,
        card: &CardPresented,
    ) -> DeskResult<Assigned> {
        tracing::debug!(
            request = request_id,
            reader = %card.reader,
            card = %card.data,
            "enrolling a presented card"
        );
        self.connect_card(s, request_id, &ConnectCard::from(&card.data))
    }
}

impl From<&CardData> for ConnectCard {
    /// A reader's UID is looked up as is; a door reader's bits through the
    /// card formats.
    fn from(data: &CardData) -> Self {
        match data {
            CardData::Uid(uid) => ConnectCard::Presented { uid: uid.clone() },
            CardData::Wiegand(bits) => ConnectCard::Read { bits: bits.clone() },
        }
    }
}
