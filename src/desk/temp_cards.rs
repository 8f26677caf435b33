//! Temporary cards: request a stock, issue them in batch orders (print each
//! badge, encode it when the order says so, PIN/PUK), complete, repeat or
//! cancel the order, assign a card to a cardholder and take it back.
//! Every state change is one transaction with its audit record; printing
//! and encoding happen between transactions, so a card is never left
//! half-produced in the database.

use super::{snapshot, temp_certs, Desk, DeskError, DeskResult, Session};
use crate::badge::{self, Align, BadgeData, Color, Element, Orientation, Side, Template};
use crate::devices::encoder::{CardEncoder, EncodeRequest};
use crate::devices::printer::CardPrinter;
use crate::domain::temp_card::{self as rules, TempCardState};
use crate::domain::{CardFormat, CredentialState, FieldValues, Privilege};
use crate::store::{
    self,
    credentials::NewCredential,
    print_jobs::{PrintJob, PrintStatus},
    temp_cards::{
        NewOrder, NewTempCard, OrderStatus, TempCard, TempCardFilter, TempCertificate, TempOrder,
    },
};
use rusqlite::Connection;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    pub card_id: i64,
    pub errors: usize,
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

fn transition(card: &TempCard, to: TempCardState) -> DeskResult<()> {
    card.state
        .check_transition(to)
        .map_err(|e| DeskError::invalid("temporary card", format!("{}: {e}", card.label())))
}

/// Field values of a temporary card number in `format`: the card number in
/// the field named "card", the site's facility code in "facility", 0 in any
/// other field.
fn field_values(format: &CardFormat, facility: u64, number: u64) -> DeskResult<FieldValues> {
    let mut values = FieldValues::new();
    for (name, _min, max) in format.field_ranges() {
        let v = match name.as_str() {
            "card" => number,
            "facility" => facility,
            _ => 0,
        };
        if v > max {
            return Err(DeskError::invalid(
                "temporary card",
                format!(
                    "{name} {v} does not fit format {} (0 to {max}); lower {SETTING_FIRST_NUMBER} or {SETTING_FACILITY}",
                    format.name()
                ),
            ));
        }
        values.insert(name, v);
    }
    if !format.field_ranges().iter().any(|(n, _, _)| n == "card") {
        return Err(DeskError::invalid(
            "card format",
            format!(
                "{} has no field named card; temporary cards need a format with a card number",
                format.name()
            ),
        ));
    }
    Ok(values)
}

/// Builds the one-page PIN letter (ID-1 size, so the card printer can
/// print it too).
fn pin_letter_pdf(card: &TempCard, pin: &str, puk: &str) -> DeskResult<Vec<u8>> {
    let text = |y: f32, size: f32, bold: bool, t: String| Element::Text {
        x: 4.0,
        y,
        w: 77.6,
        size,
        text: t,
        bold,
        align: Align::Left,
        color: Color::BLACK,
    };
    let t = Template {
        name: "PIN letter".into(),
        description: "PIN letter of a temporary card".into(),
        orientation: Orientation::Landscape,
        front: Side {
            background: Color::WHITE,
            elements: vec![
                text(4.0, 11.0, true, "PIN letter — confidential".into()),
                text(12.0, 8.0, false, "Temporary card {card_number}".into()),
                text(20.0, 12.0, true, format!("PIN  {pin}")),
                text(28.0, 12.0, true, format!("PUK  {puk}")),
                text(
                    38.0,
                    6.5,
                    false,
                    "Keep this letter apart from the card.".into(),
                ),
                text(
                    42.5,
                    6.5,
                    false,
                    "The desk cannot show the PIN again.".into(),
                ),
            ],
        },
        back: None,
    };
    let mut d = BadgeData::default();
    d.set("card_number", card.card_number.to_string());
    Ok(badge::render_pdf(&t, &[d])?)
}

/// The sector keys for encoded cards, from the site key (created with the
/// OS CSPRNG on first use): key A and key B, never the transport key.
fn site_keys(conn: &Connection) -> DeskResult<([u8; 6], [u8; 6])> {
    let hex_key = match setting(conn, SETTING_SITE_KEY)? {
        Some(k) => k,
        None => {
            use rand::RngCore;
            let mut k = [0u8; 12];
            loop {
                rand::rngs::OsRng.fill_bytes(&mut k);
                if k[..6] != [0xFF; 6] && k[6..] != [0xFF; 6] && k[..6] != k[6..] {
                    break;
                }
            }
            let k = hex::encode_upper(k);
            store::settings::set(conn, SETTING_SITE_KEY, &k)?;
            k
        }
    };
    let bytes = hex::decode(hex_key.trim())
        .ok()
        .filter(|b| b.len() == 12)
        .ok_or_else(|| {
            DeskError::invalid(
                "setting",
                format!("{SETTING_SITE_KEY} must be 24 hex digits (key A then key B)"),
            )
        })?;
    let mut a = [0u8; 6];
    let mut b = [0u8; 6];
    a.copy_from_slice(&bytes[..6]);
    b.copy_from_slice(&bytes[6..]);
    if a == [0xFF; 6] || b == [0xFF; 6] {
        return Err(DeskError::invalid(
            "setting",
            format!("{SETTING_SITE_KEY} must not contain the transport key FFFFFFFFFFFF"),
        ));
    }
    Ok((a, b))
}

impl Desk {
    /// The certificate profiles an order may select (setting
    /// `temp_card.cert_profiles`, comma-separated).
    pub fn temp_cert_profiles(&self) -> DeskResult<Vec<String>> {
        Ok(setting(&self.conn, SETTING_CERT_PROFILES)?
            .unwrap_or_else(|| DEFAULT_CERT_PROFILES.into())
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect())
    }

    pub fn temp_card(&self, id: i64) -> DeskResult<TempCard> {
        get_card(&self.conn, id)
    }

    pub fn temp_cards(&self, filter: &TempCardFilter) -> DeskResult<Vec<TempCard>> {
        Ok(store::temp_cards::list(&self.conn, filter)?)
    }

    pub fn temp_order(&self, id: i64) -> DeskResult<TempOrder> {
        get_order(&self.conn, id)
    }

    /// Batch orders, newest first.
    pub fn temp_orders(&self) -> DeskResult<Vec<TempOrder>> {
        Ok(store::temp_cards::list_orders(&self.conn)?)
    }

    /// The cards of an order.
    pub fn temp_order_cards(&self, order_id: i64) -> DeskResult<Vec<TempCard>> {
        self.temp_cards(&TempCardFilter {
            order_id: Some(order_id),
            ..Default::default()
        })
    }

    /// Creates `count` temporary cards in state requested, each with its
    /// own card number (a credential in stock).
    pub fn request_temp_cards(
        &mut self,
        s: &Session,
        r: &TempCardRequest,
    ) -> DeskResult<Vec<TempCard>> {
        s.require(Privilege::PrintCards, "request temporary cards")?;
        if r.count == 0 || r.count > MAX_REQUEST {
            return Err(DeskError::invalid(
                "count",
                format!("{} is not allowed (1 to {MAX_REQUEST} cards)", r.count),
            ));
        }
        let format_name = match &r.format {
            Some(f) if !f.trim().is_empty() => f.trim().to_string(),
            _ => setting(&self.conn, SETTING_FORMAT)?.unwrap_or_else(|| DEFAULT_FORMAT.into()),
        };
        let format = store::formats::get(&self.conn, &format_name)?.ok_or_else(|| {
            let known = store::formats::list(&self.conn)
                .map(|l| {
                    l.iter()
                        .filter(|f| matches!(f, CardFormat::Wiegand(_)))
                        .map(|f| f.name().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            DeskError::invalid(
                "card format",
                format!("{format_name:?} does not exist (formats: {known})"),
            )
        })?;
        if !matches!(format, CardFormat::Wiegand(_)) {
            return Err(DeskError::invalid(
                "card format",
                format!(
                    "{} cannot be used for temporary cards: its number is the chip's UID; choose a Wiegand format such as H10301",
                    format.name()
                ),
            ));
        }
        let template = match &r.template {
            Some(t) if !t.trim().is_empty() => t.trim().to_string(),
            _ => setting(&self.conn, SETTING_TEMPLATE)?.unwrap_or_else(|| DEFAULT_TEMPLATE.into()),
        };
        let template = self.badge_template(&template)?.name;
        let facility: u64 = setting_num(&self.conn, SETTING_FACILITY, 0)?;
        let first: i64 = setting_num(&self.conn, SETTING_FIRST_NUMBER, DEFAULT_FIRST_NUMBER)?;
        let tx = self.conn.transaction()?;
        let mut number = store::temp_cards::max_number(&tx)?
            .map(|n| n + 1)
            .unwrap_or(first)
            .max(first);
        let mut ids = Vec::new();
        for _ in 0..r.count {
            let (values, bits) = loop {
                let values = field_values(&format, facility, number as u64)?;
                let bits = format.encode(&values)?;
                if store::credentials::find_by_value(&tx, format.name(), &bits)?.is_none() {
                    break (values, bits);
                }
                number += 1;
            };
            let credential_id = store::credentials::insert(
                &tx,
                &NewCredential {
                    format: format.name(),
                    value: &bits,
                    fields: &format.fields_json(&values),
                    uid: None,
                    state: CredentialState::Unassigned,
                    cardholder_id: None,
                },
            )?;
            let id = store::temp_cards::insert(
                &tx,
                &NewTempCard {
                    credential_id,
                    card_number: number,
                    template: &template,
                    note: r.note.trim(),
                    requested_by: &s.operator.name,
                },
            )?;
            let card = store::temp_cards::get(&tx, id)?.expect("just inserted");
            store::audit::record(
                &tx,
                &s.operator.name,
                "temp_card.request",
                "temp_card",
                Some(id),
                None,
                Some(&snapshot(&card)),
            )?;
            ids.push(id);
            number += 1;
        }
        tx.commit()?;
        ids.into_iter().map(|id| get_card(&self.conn, id)).collect()
    }

    /// Checks an order's options: PIN/PUK lengths, encoder, certificates.
    pub fn check_issue_options(&self, o: &IssueOptions) -> DeskResult<()> {
        if o.printer.trim().is_empty() {
            return Err(DeskError::invalid("printer", "choose a printer"));
        }
        rules::check_pin_length(o.pin_length).map_err(|e| DeskError::invalid("PIN length", e))?;
        rules::check_puk_length(o.puk_length).map_err(|e| DeskError::invalid("PUK length", e))?;
        if !o.cert_profiles.is_empty() && !o.encode {
            return Err(DeskError::invalid(
                "certificates",
                "certificates can only be issued when the cards are encoded; turn on Encode the temporary card (--encode --reader NAME) or select no certificates",
            ));
        }
        if o.encode && o.reader.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(DeskError::invalid(
                "encoder",
                "encoding needs the encoder's PC/SC reader (--reader NAME; see `carddesk reader list`)",
            ));
        }
        let known = self.temp_cert_profiles()?;
        for p in &o.cert_profiles {
            if !known.iter().any(|k| k.eq_ignore_ascii_case(p)) {
                return Err(DeskError::invalid(
                    "certificate profile",
                    format!("{p:?} is not configured (profiles: {})", known.join(", ")),
                ));
            }
        }
        Ok(())
    }

    /// Issue multiple temporary cards: puts the chosen requested cards into
    /// a new open batch order. Nothing is printed yet.
    pub fn issue_temp_cards(
        &mut self,
        s: &Session,
        card_ids: &[i64],
        options: &IssueOptions,
    ) -> DeskResult<TempOrder> {
        s.require(Privilege::PrintCards, "issue temporary cards")?;
        if card_ids.is_empty() {
            return Err(DeskError::invalid(
                "temporary cards",
                "choose at least one requested card to issue",
            ));
        }
        self.check_issue_options(options)?;
        let mut cards = Vec::new();
        for &id in card_ids {
            let c = get_card(&self.conn, id)?;
            if c.state != TempCardState::Requested {
                return Err(DeskError::invalid(
                    "temporary card",
                    format!(
                        "{} is {}; only requested cards can be issued",
                        c.label(),
                        c.state
                    ),
                ));
            }
            if let Some(o) = c.order_id {
                if get_order(&self.conn, o)?.status == OrderStatus::Open {
                    return Err(DeskError::invalid(
                        "temporary card",
                        format!("{} is already in open batch order {o}", c.label()),
                    ));
                }
            }
            if cards.iter().any(|x: &TempCard| x.id == id) {
                return Err(DeskError::invalid(
                    "temporary cards",
                    format!("card {id} is listed twice"),
                ));
            }
            cards.push(c);
        }
        let profiles: Vec<String> = {
            let known = self.temp_cert_profiles()?;
            options
                .cert_profiles
                .iter()
                .map(|p| {
                    known
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(p))
                        .cloned()
                        .unwrap_or_default()
                })
                .collect()
        };
        let tx = self.conn.transaction()?;
        let order_id = store::temp_cards::insert_order(
            &tx,
            &NewOrder {
                printer: options.printer.trim(),
                encode: options.encode,
                reader: options
                    .reader
                    .as_deref()
                    .map(str::trim)
                    .filter(|_| options.encode),
                pin_length: options.pin_length,
                puk_length: options.puk_length,
                cert_profiles: &profiles,
                created_by: &s.operator.name,
            },
        )?;
        for c in &cards {
            store::temp_cards::set_order(&tx, c.id, Some(order_id))?;
        }
        let order = store::temp_cards::get_order(&tx, order_id)?.expect("just inserted");
        let mut after = snapshot(&order);
        after["cards"] = card_ids.into();
        store::audit::record(
            &tx,
            &s.operator.name,
            "temp_order.issue",
            "temp_order",
            Some(order_id),
            None,
            Some(&after),
        )?;
        tx.commit()?;
        Ok(order)
    }

    /// Produces one card of an open order: prints its badge, encodes it when
    /// the order says so, and records it unassigned (with a fresh PIN and
    /// PUK) or failed with the error.
    pub fn produce_temp_card(
        &mut self,
        s: &Session,
        order_id: i64,
        card_id: i64,
        printer: &dyn CardPrinter,
        encoder: Option<&dyn CardEncoder>,
    ) -> DeskResult<Produced> {
        s.require(Privilege::PrintCards, "produce temporary cards")?;
        let order = open_order(&self.conn, order_id)?;
        let card = get_card(&self.conn, card_id)?;
        if card.order_id != Some(order_id) {
            return Err(DeskError::invalid(
                "temporary card",
                format!("{} is not in batch order {order_id}", card.label()),
            ));
        }
        if !card.state.producible() {
            return Err(DeskError::invalid(
                "temporary card",
                format!(
                    "{} is {}; only requested, failed or unassigned cards are produced",
                    card.label(),
                    card.state
                ),
            ));
        }
        let encoder = match (order.encode, encoder) {
            (true, None) => {
                return Err(DeskError::invalid(
                    "encoder",
                    format!("batch order {order_id} encodes its cards; connect the encoder"),
                ))
            }
            (true, Some(e)) => Some(e),
            (false, _) => None,
        };
        let job = self.print_card_badge(
            s,
            card.credential_id,
            &card.template,
            printer,
            &order.printer,
        )?;
        let mut chip_uid: Option<String> = None;
        let mut error = match job.status {
            PrintStatus::Printed => None,
            _ => Some(format!(
                "printing failed: {}",
                job.error.clone().unwrap_or_else(|| "no verdict".into())
            )),
        };
        if let (None, Some(enc)) = (&error, encoder) {
            let credential = store::credentials::get(&self.conn, card.credential_id)?
                .expect("a temporary card has its credential");
            let (key_a, key_b) = site_keys(&self.conn)?;
            let req = EncodeRequest {
                reader: order.reader.clone().unwrap_or_default(),
                pacs_bits: credential.value.clone(),
                card_number: card.card_number as u64,
                key_a,
                key_b,
            };
            match enc.encode(&req) {
                Err(e) => error = Some(format!("encoding failed: {e}")),
                Ok(done) => chip_uid = done.uid,
            }
            // The chip's UID identifies the card when it is presented later.
            if let Some(uid) = &chip_uid {
                if let Some(other) = store::credentials::find_by_uid(&self.conn, uid)?
                    .filter(|c| c.id != card.credential_id)
                {
                    error = Some(format!(
                        "encoding failed: the card in the encoder (UID {uid}) is already registered as {} (#{}); use a new card",
                        other.label(),
                        other.id
                    ));
                }
            }
        }
        let pin_letter = match error {
            Some(_) => None,
            None => {
                let pin = rules::random_digits(order.pin_length);
                let puk = rules::random_digits(order.puk_length);
                let pdf = pin_letter_pdf(&card, &pin, &puk)?;
                Some(PinLetter { pin, puk, pdf })
            }
        };
        let validity: u32 = setting_num(
            &self.conn,
            SETTING_VALIDITY_DAYS,
            rules::DEFAULT_VALIDITY_DAYS,
        )?;
        let tx = self.conn.transaction()?;
        let (action, to) = match &error {
            None => ("temp_card.produce", TempCardState::Unassigned),
            Some(_) => ("temp_card.produce_failed", TempCardState::Failed),
        };
        transition(&card, to)?;
        match (&error, &pin_letter) {
            (None, Some(letter)) => {
                let until = rules::valid_until(chrono::Utc::now(), validity)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                store::temp_cards::set_produced(
                    &tx,
                    card.id,
                    &until,
                    order.encode,
                    Some(&super::auth::hash_password(&letter.pin)),
                    Some(&letter.puk),
                )?;
                if let Some(uid) = chip_uid.as_deref().filter(|_| error.is_none()) {
                    store::temp_cards::set_credential_uid(&tx, card.credential_id, uid)?;
                }
                // A card produced again gets new certificates.
                store::temp_cards::revoke_certificates(&tx, card.id, "superseded")?;
                let until = time::OffsetDateTime::from_unix_timestamp(
                    chrono::DateTime::parse_from_rfc3339(&until)
                        .expect("just formatted")
                        .timestamp(),
                )
                .expect("a valid date");
                temp_certs::issue(&tx, &card, None, &order.cert_profiles, until)?;
            }
            (Some(e), _) => store::temp_cards::set_state(&tx, card.id, to, Some(e))?,
            (None, None) => unreachable!("a produced card has its PIN letter"),
        }
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        let mut after_json = snapshot(&after);
        after_json["print_job"] = job.id.into();
        store::audit::record(
            &tx,
            &s.operator.name,
            action,
            "temp_card",
            Some(card.id),
            Some(&snapshot(&card)),
            Some(&after_json),
        )?;
        tx.commit()?;
        Ok(Produced {
            card: after,
            print_job: Some(job),
            pin_letter,
        })
    }

    /// Next: produces every card of the order still waiting (requested),
    /// reporting progress after each.
    pub fn produce_temp_order(
        &mut self,
        s: &Session,
        order_id: i64,
        printer: &dyn CardPrinter,
        encoder: Option<&dyn CardEncoder>,
        progress: &mut dyn FnMut(Progress),
    ) -> DeskResult<Vec<Produced>> {
        open_order(&self.conn, order_id)?;
        let ids: Vec<i64> = self
            .temp_order_cards(order_id)?
            .into_iter()
            .filter(|c| c.state == TempCardState::Requested)
            .map(|c| c.id)
            .collect();
        self.produce_cards(s, order_id, &ids, printer, encoder, progress)
    }

    /// Repeat production for the chosen cards of the order (failed ones, or
    /// produced ones that printed badly); with no ids, every failed card.
    pub fn repeat_temp_production(
        &mut self,
        s: &Session,
        order_id: i64,
        card_ids: &[i64],
        printer: &dyn CardPrinter,
        encoder: Option<&dyn CardEncoder>,
        progress: &mut dyn FnMut(Progress),
    ) -> DeskResult<Vec<Produced>> {
        open_order(&self.conn, order_id)?;
        let cards = self.temp_order_cards(order_id)?;
        let ids: Vec<i64> = if card_ids.is_empty() {
            cards
                .iter()
                .filter(|c| c.state == TempCardState::Failed)
                .map(|c| c.id)
                .collect()
        } else {
            for id in card_ids {
                let c = cards.iter().find(|c| c.id == *id).ok_or_else(|| {
                    DeskError::invalid(
                        "temporary card",
                        format!("card {id} is not in batch order {order_id}"),
                    )
                })?;
                if !matches!(c.state, TempCardState::Failed | TempCardState::Unassigned) {
                    return Err(DeskError::invalid(
                        "temporary card",
                        format!(
                            "{} is {}; production is repeated only for failed or produced cards",
                            c.label(),
                            c.state
                        ),
                    ));
                }
            }
            card_ids.to_vec()
        };
        if ids.is_empty() {
            return Err(DeskError::invalid(
                "repeat production",
                format!(
                    "batch order {order_id} has no failed cards; choose the cards to produce again"
                ),
            ));
        }
        self.produce_cards(s, order_id, &ids, printer, encoder, progress)
    }

    fn produce_cards(
        &mut self,
        s: &Session,
        order_id: i64,
        ids: &[i64],
        printer: &dyn CardPrinter,
        encoder: Option<&dyn CardEncoder>,
        progress: &mut dyn FnMut(Progress),
    ) -> DeskResult<Vec<Produced>> {
        let mut out = Vec::new();
        let mut errors = 0;
        for (i, &id) in ids.iter().enumerate() {
            let p = self.produce_temp_card(s, order_id, id, printer, encoder)?;
            if !p.ok() {
                errors += 1;
            }
            out.push(p);
            progress(Progress {
                done: i + 1,
                total: ids.len(),
                card_id: id,
                errors,
            });
        }
        Ok(out)
    }

    /// Complete order: closes it. Cards not produced (still requested, or
    /// failed) leave the order and wait in state requested for another one.
    pub fn complete_temp_order(&mut self, s: &Session, order_id: i64) -> DeskResult<TempOrder> {
        self.close_temp_order(s, order_id, OrderStatus::Completed)
    }

    /// Cancel: closes the order; cards not produced go back to requested,
    /// produced cards stay in stock (unassigned).
    pub fn cancel_temp_order(&mut self, s: &Session, order_id: i64) -> DeskResult<TempOrder> {
        self.close_temp_order(s, order_id, OrderStatus::Cancelled)
    }

    fn close_temp_order(
        &mut self,
        s: &Session,
        order_id: i64,
        status: OrderStatus,
    ) -> DeskResult<TempOrder> {
        s.require(Privilege::PrintCards, "close batch orders")?;
        let before = open_order(&self.conn, order_id)?;
        let cards = self.temp_order_cards(order_id)?;
        let tx = self.conn.transaction()?;
        let mut returned = Vec::new();
        for c in &cards {
            if matches!(c.state, TempCardState::Requested | TempCardState::Failed) {
                if c.state == TempCardState::Failed {
                    transition(c, TempCardState::Requested)?;
                }
                store::temp_cards::set_state(&tx, c.id, TempCardState::Requested, None)?;
                store::temp_cards::set_order(&tx, c.id, None)?;
                returned.push(c.id);
            }
        }
        store::temp_cards::close_order(&tx, order_id, status)?;
        let order = store::temp_cards::get_order(&tx, order_id)?.expect("exists");
        let mut after = snapshot(&order);
        after["back_to_requested"] = returned.into();
        store::audit::record(
            &tx,
            &s.operator.name,
            match status {
                OrderStatus::Cancelled => "temp_order.cancel",
                _ => "temp_order.complete",
            },
            "temp_order",
            Some(order_id),
            Some(&snapshot(&before)),
            Some(&after),
        )?;
        tx.commit()?;
        Ok(order)
    }

    /// Marks produced cards whose validity ran out as expired; returns how many.
    pub fn expire_temp_cards(&mut self, s: &Session) -> DeskResult<usize> {
        let now = chrono::Utc::now();
        let due: Vec<TempCard> = self
            .temp_cards(&TempCardFilter::default())?
            .into_iter()
            .filter(|c| matches!(c.state, TempCardState::Unassigned | TempCardState::Assigned))
            .filter(|c| {
                c.valid_until
                    .as_deref()
                    .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
                    .is_some_and(|v| rules::is_expired(v.to_utc(), now))
            })
            .collect();
        for c in &due {
            self.change_temp_card_state(s, c.id, TempCardState::Expired)?;
        }
        Ok(due.len())
    }

    /// Lock, unlock (→ unassigned), abort or expire a card. The card's
    /// credential follows: locked → inactive, aborted → revoked,
    /// expired → expired, unlocked → unassigned. A holder loses the card.
    pub fn change_temp_card_state(
        &mut self,
        s: &Session,
        card_id: i64,
        to: TempCardState,
    ) -> DeskResult<TempCard> {
        s.require(Privilege::PrintCards, "change temporary cards")?;
        let card = get_card(&self.conn, card_id)?;
        transition(&card, to)?;
        let credential_state = match to {
            TempCardState::Locked => CredentialState::Inactive,
            TempCardState::Aborted => CredentialState::Revoked,
            TempCardState::Expired => CredentialState::Expired,
            TempCardState::Unassigned if card.state == TempCardState::Locked => {
                CredentialState::Unassigned
            }
            _ => {
                return Err(DeskError::invalid(
                    "temporary card state",
                    format!(
                        "{to} is reached through production, assignment or return, not set directly (lock, unlock, abort or expire)"
                    ),
                ))
            }
        };
        let tx = self.conn.transaction()?;
        if card.cardholder_id.is_some() {
            store::temp_cards::set_holder(&tx, card.id, None)?;
        }
        store::temp_cards::set_state(&tx, card.id, to, None)?;
        store::credentials::set_holder(&tx, card.credential_id, credential_state, None)?;
        store::temp_cards::revoke_certificates(&tx, card.id, "cessation_of_operation")?;
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        store::audit::record(
            &tx,
            &s.operator.name,
            &format!("temp_card.{to}"),
            "temp_card",
            Some(card.id),
            Some(&snapshot(&card)),
            Some(&snapshot(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Assign a temporary card (unassigned, still valid) to a cardholder,
    /// within the per-person limit (setting `temp_card.max_per_person`,
    /// default 1; 0 = no limit).
    pub fn assign_temp_card(
        &mut self,
        s: &Session,
        card_id: i64,
        cardholder_id: i64,
    ) -> DeskResult<TempCard> {
        s.require(Privilege::AnswerRequests, "assign temporary cards")?;
        let card = get_card(&self.conn, card_id)?;
        transition(&card, TempCardState::Assigned)?;
        let holder =
            store::cardholders::get(&self.conn, cardholder_id)?.ok_or(DeskError::NotFound {
                what: "cardholder",
                id: cardholder_id.to_string(),
            })?;
        if let Some(until) = card
            .valid_until
            .as_deref()
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok())
        {
            if rules::is_expired(until.to_utc(), chrono::Utc::now()) {
                self.change_temp_card_state(s, card_id, TempCardState::Expired)?;
                return Err(DeskError::invalid(
                    "temporary card",
                    format!(
                        "{} expired on {until}; it is now marked expired — pick another card",
                        card.label()
                    ),
                ));
            }
        }
        let limit: u32 = setting_num(
            &self.conn,
            SETTING_MAX_PER_PERSON,
            rules::DEFAULT_MAX_PER_PERSON,
        )?;
        let held = store::temp_cards::held_by(&self.conn, cardholder_id)?;
        rules::check_holder_limit(held, limit).map_err(|e| {
            DeskError::invalid("temporary card", format!("{}: {e}", holder.full_name()))
        })?;
        let tx = self.conn.transaction()?;
        store::temp_cards::set_holder(&tx, card.id, Some(cardholder_id))?;
        store::credentials::set_holder(
            &tx,
            card.credential_id,
            CredentialState::Active,
            Some(cardholder_id),
        )?;
        // The card's certificates are re-issued bound to the holder too.
        let mut profiles: Vec<String> = Vec::new();
        let mut until = None;
        for c in store::temp_cards::certificates(&tx, card.id)? {
            if c.revoked_at.is_none() && !profiles.contains(&c.profile) {
                until = chrono::DateTime::parse_from_rfc3339(&c.not_after).ok();
                profiles.push(c.profile);
            }
        }
        if let Some(until) = until {
            store::temp_cards::revoke_certificates(&tx, card.id, "superseded")?;
            let until =
                time::OffsetDateTime::from_unix_timestamp(until.timestamp()).expect("a valid date");
            temp_certs::issue(
                &tx,
                &card,
                Some((cardholder_id, &holder.full_name())),
                &profiles,
                until,
            )?;
        }
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        store::audit::record(
            &tx,
            &s.operator.name,
            "temp_card.assign",
            "temp_card",
            Some(card.id),
            Some(&snapshot(&card)),
            Some(&snapshot(&after)),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// The temporary card whose chip has this UID (presented at a reader).
    pub fn temp_card_by_uid(&self, uid: &str) -> DeskResult<TempCard> {
        let uid = crate::domain::card_format::normalize_uid(uid)?;
        let not_found = || DeskError::NotFound {
            what: "temporary card with UID",
            id: uid.clone(),
        };
        let credential =
            store::credentials::find_by_uid(&self.conn, &uid)?.ok_or_else(not_found)?;
        let id = store::temp_cards::id_for_credential(&self.conn, credential.id)?
            .ok_or_else(not_found)?;
        get_card(&self.conn, id)
    }

    /// Return a temporary card to stock: unassigned again, its certificates
    /// revoked.
    pub fn return_temp_card(&mut self, s: &Session, card_id: i64) -> DeskResult<TempCard> {
        s.require(Privilege::AnswerRequests, "take back temporary cards")?;
        let card = get_card(&self.conn, card_id)?;
        if card.state != TempCardState::Assigned {
            return Err(DeskError::invalid(
                "temporary card",
                format!(
                    "{} is {}; only assigned cards are returned",
                    card.label(),
                    card.state
                ),
            ));
        }
        let tx = self.conn.transaction()?;
        store::temp_cards::set_holder(&tx, card.id, None)?;
        store::credentials::set_holder(&tx, card.credential_id, CredentialState::Unassigned, None)?;
        let revoked =
            store::temp_cards::revoke_certificates(&tx, card.id, "cessation_of_operation")?;
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        store::audit::record(
            &tx,
            &s.operator.name,
            "temp_card.return",
            "temp_card",
            Some(card.id),
            Some(&snapshot(&card)),
            Some(&{
                let mut a = snapshot(&after);
                a["certificates_revoked"] = revoked.into();
                a
            }),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Shows a card's PUK to an operator with the reveal_puk privilege; each
    /// reveal is audited (without the PUK itself).
    pub fn reveal_temp_puk(&mut self, s: &Session, card_id: i64) -> DeskResult<String> {
        s.require(Privilege::RevealPuk, "reveal PUKs")?;
        let card = get_card(&self.conn, card_id)?;
        let puk = store::temp_cards::puk(&self.conn, card_id)?.ok_or_else(|| {
            DeskError::invalid(
                "temporary card",
                format!("{} has no PUK (it was never produced)", card.label()),
            )
        })?;
        let tx = self.conn.transaction()?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "temp_card.reveal_puk",
            "temp_card",
            Some(card_id),
            None,
            None,
        )?;
        tx.commit()?;
        Ok(puk)
    }

    /// A card's certificates (PEM inside), oldest first.
    pub fn temp_card_certificates(&self, card_id: i64) -> DeskResult<Vec<TempCertificate>> {
        get_card(&self.conn, card_id)?;
        Ok(store::temp_cards::certificates(&self.conn, card_id)?)
    }

    /// The issuing CA's certificate (PEM), creating the CA on first use.
    pub fn temp_ca_certificate(&mut self, s: &Session) -> DeskResult<String> {
        s.require(Privilege::PrintCards, "use the temporary card CA")?;
        let tx = self.conn.transaction()?;
        let (pem, _) = temp_certs::issuer(&tx)?;
        tx.commit()?;
        Ok(pem)
    }

    /// A signed CRL (PEM) of every revoked temporary-card certificate.
    pub fn export_temp_crl(&mut self, s: &Session) -> DeskResult<String> {
        s.require(
            Privilege::PrintCards,
            "export the certificate revocation list",
        )?;
        let tx = self.conn.transaction()?;
        let crl = temp_certs::crl(&tx)?;
        store::audit::record(
            &tx,
            &s.operator.name,
            "temp_ca.crl_export",
            "temp_ca",
            None,
            None,
            None,
        )?;
        tx.commit()?;
        Ok(crl)
    }

    /// Whether `pin` is the card's PIN (checked against the stored hash).
    pub fn check_temp_pin(&self, card_id: i64, pin: &str) -> DeskResult<bool> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let Some(hash) = store::temp_cards::pin_hash(&self.conn, card_id)? else {
            return Ok(false);
        };
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| DeskError::invalid("PIN", format!("stored hash unreadable: {e}")))?;
        Ok(argon2::Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok())
    }
}
