//! Temporary cards: the types and helpers the parts below share, and the
//! read-only look-ups.
//!
//! A stock of cards is requested (`orders`, numbered by `numbering`),
//! issued in batch orders and produced (print each badge, encode it when the
//! order says so, PIN/PUK: `production`, `pin_puk`); the order is then
//! completed or cancelled (`orders`). A produced card is assigned to a
//! cardholder, taken back, locked, aborted or expired (`lifecycle`); its
//! certificates come from the temporary-card CA (`certificates`).
//! Every state change is one transaction with its audit record; printing
//! and encoding happen between transactions, so a card is never left
//! half-produced in the database.

mod certificates;
mod lifecycle;
mod numbering;
mod orders;
mod pin_puk;
pub use pin_puk::pin_letters_document;
mod production;

use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::temp_card::{self as rules, TempCardState};
use crate::domain::Privilege;
use crate::store::Connection;
use crate::store::{
    self,
    print_jobs::PrintJob,
    temp_cards::{OrderStatus, TempCard, TempCardFilter, TempOrder},
};

/// Settings keys (table `setting`) for temporary cards.
pub const SETTING_FORMAT: &str = "temp_card.format";
pub const SETTING_TEMPLATE: &str = "temp_card.template";
pub const SETTING_FACILITY: &str = "temp_card.facility";
pub const SETTING_FIRST_NUMBER: &str = "temp_card.first_number";
pub const SETTING_VALIDITY_DAYS: &str = "temp_card.validity_days";
pub const SETTING_MAX_PER_PERSON: &str = "temp_card.max_per_person";
pub const SETTING_CERT_PROFILES: &str = "temp_card.cert_profiles";
pub const SETTING_SITE_KEY: &str = "temp_card.site_key";

const DEFAULT_FORMAT: &str = "H10301";
const DEFAULT_TEMPLATE: &str = "Visitor";
const DEFAULT_FIRST_NUMBER: i64 = 1000;
const DEFAULT_CERT_PROFILES: &str = "authentication,signature";
/// Most cards one request may create.
pub const MAX_REQUEST: u32 = 500;

/// Request N temporary cards.
#[derive(Debug, Clone, Default)]
pub struct TempCardRequest {
    pub count: u32,
    /// Card format (default: setting `temp_card.format`, else H10301).
    pub format: Option<String>,
    /// Badge template (default: setting `temp_card.template`, else Visitor).
    pub template: Option<String>,
    pub note: String,
}

/// How an order produces its cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueOptions {
    /// CUPS queue of the card printer.
    pub printer: String,
    /// Encode each card (the encoder is the PC/SC reader `reader`).
    pub encode: bool,
    pub reader: Option<String>,
    pub pin_length: u8,
    pub puk_length: u8,
    /// Certificate profiles to issue per card; only when encoding.
    pub cert_profiles: Vec<String>,
}

impl IssueOptions {
    pub fn printer(printer: &str) -> IssueOptions {
        IssueOptions {
            printer: printer.into(),
            encode: false,
            reader: None,
            pin_length: rules::DEFAULT_PIN_LENGTH,
            puk_length: rules::DEFAULT_PUK_LENGTH,
            cert_profiles: Vec::new(),
        }
    }
}

/// The secrets of a freshly produced card, shown once.
#[derive(Clone, PartialEq, Eq)]
pub struct PinLetter {
    pub pin: String,
    pub puk: String,
    /// The PIN letter (one page) to hand over or print.
    pub pdf: Vec<u8>,
}

impl std::fmt::Debug for PinLetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PinLetter")
            .field("pin", &"***")
            .field("puk", &"***")
            .field("pdf_bytes", &self.pdf.len())
            .finish()
    }
}

/// One card's production result.
#[derive(Debug, Clone)]
pub struct Produced {
    /// The card afterwards: unassigned, or failed with its error.
    pub card: TempCard,
    pub print_job: Option<PrintJob>,
    /// Only when the card was produced.
    pub pin_letter: Option<PinLetter>,
}

impl Produced {
    pub fn ok(&self) -> bool {
        self.card.state == TempCardState::Unassigned
    }
}

/// Progress of an order's production, reported after each card.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub card_id: i64,
    /// The card as it is now: unassigned, or failed with its error.
    pub card: TempCard,
    pub errors: usize,
    /// The card's PIN letter when it was produced (committed): for the
    /// command line to write at once, so an error later loses none.
    pub pin_letter: Option<PinLetter>,
}

fn setting(conn: &Connection, key: &str) -> DeskResult<Option<String>> {
    Ok(store::settings::get(conn, key)?.filter(|v| !v.trim().is_empty()))
}

fn setting_num<T: std::str::FromStr>(conn: &Connection, key: &str, default: T) -> DeskResult<T> {
    match setting(conn, key)? {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|_| {
            DeskError::invalid(
                "setting",
                format!("{key} = {v:?} is not a whole number; fix it in the settings"),
            )
        }),
    }
}

fn card_not_found(id: i64) -> DeskError {
    DeskError::NotFound {
        what: "temporary card",
        id: id.to_string(),
    }
}

fn get_card(conn: &Connection, id: i64) -> DeskResult<TempCard> {
    store::temp_cards::get(conn, id)?.ok_or_else(|| card_not_found(id))
}

fn get_order(conn: &Connection, id: i64) -> DeskResult<TempOrder> {
    store::temp_cards::get_order(conn, id)?.ok_or(DeskError::NotFound {
        what: "batch order",
        id: id.to_string(),
    })
}

fn open_order(conn: &Connection, id: i64) -> DeskResult<TempOrder> {
    let o = get_order(conn, id)?;
    if o.status != OrderStatus::Open {
        return Err(DeskError::invalid(
            "batch order",
            format!(
                "order {id} is already {}; only open orders can be changed",
                o.status
            ),
        ));
    }
    Ok(o)
}

/// The card changed under us (another desk): "already assigned by …".
pub(super) fn lost_race(tx: &Connection, card_id: i64) -> DeskResult<DeskError> {
    let now = get_card(tx, card_id)?;
    Ok(super::conflict(
        tx,
        "temporary card",
        "temp_card",
        card_id,
        now.state,
    ))
}

fn transition(card: &TempCard, to: TempCardState) -> DeskResult<()> {
    card.state
        .check_transition(to)
        .map_err(|e| DeskError::invalid("temporary card", format!("{}: {e}", card.label())))
}

fn order_cards(conn: &Connection, order_id: i64) -> DeskResult<Vec<TempCard>> {
    Ok(store::temp_cards::list(
        conn,
        &TempCardFilter {
            order_id: Some(order_id),
            ..Default::default()
        },
    )?)
}

const SEE: &str = "see temporary cards";

impl Desk {
    pub fn temp_card(&self, s: &Session, id: i64) -> DeskResult<TempCard> {
        self.require(s, Privilege::ViewCredentials, SEE)?;
        get_card(&self.conn, id)
    }

    pub fn temp_cards(&self, s: &Session, filter: &TempCardFilter) -> DeskResult<Vec<TempCard>> {
        self.require(s, Privilege::ViewCredentials, SEE)?;
        Ok(store::temp_cards::list(&self.conn, filter)?)
    }

    pub fn temp_order(&self, s: &Session, id: i64) -> DeskResult<TempOrder> {
        self.require(s, Privilege::ViewCredentials, SEE)?;
        get_order(&self.conn, id)
    }

    /// Batch orders, newest first.
    pub fn temp_orders(&self, s: &Session) -> DeskResult<Vec<TempOrder>> {
        self.require(s, Privilege::ViewCredentials, SEE)?;
        Ok(store::temp_cards::list_orders(&self.conn)?)
    }

    /// The cards of an order.
    pub fn temp_order_cards(&self, s: &Session, order_id: i64) -> DeskResult<Vec<TempCard>> {
        self.require(s, Privilege::ViewCredentials, SEE)?;
        order_cards(&self.conn, order_id)
    }
}
