//! Producing the cards of an open batch order: print each badge, encode the
//! chip when the order says so (with the site's sector keys), and record
//! the card unassigned with a fresh PIN and PUK, or failed with the error.
//! Repeat production takes failed or badly printed cards through it again.

use super::pin_puk::new_pin_letter;
use super::{
    get_card, get_order, open_order, order_cards, setting, setting_num, transition, Produced,
    Progress, SETTING_SITE_KEY, SETTING_VALIDITY_DAYS,
};
use crate::desk::job::JobContext;
use crate::desk::keys::{Purpose, SiteKeys};
use crate::desk::tx::Tx;
use crate::desk::{auth, snapshot, temp_certs, Desk, DeskError, DeskResult, Session};
use crate::devices::encoder::{CardEncoder, EncodeRequest};
use crate::devices::printer::CardPrinter;
use crate::domain::temp_card::{self as rules, TempCardState};
use crate::domain::Privilege;
use crate::store::temp_cards::{OrderStatus, TempOrder};
use crate::store::Connection;
use crate::store::{self, print_jobs::PrintStatus};

/// "Batch order 3 was already completed by olga at …".
fn conflict_order(tx: &Connection, order: &TempOrder) -> DeskError {
    crate::desk::conflict(tx, "batch order", "temp_order", order.id, order.status)
}

/// The sector keys for encoded cards, from the site key (created with the
/// OS CSPRNG on first use, stored sealed): key A and key B, never the
/// transport key.
fn site_keys(
    conn: &Connection,
    keys: &SiteKeys,
    db: &std::path::Path,
    s: &Session,
) -> DeskResult<([u8; 6], [u8; 6])> {
    let sealed = match setting(conn, SETTING_SITE_KEY)? {
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
            // Created once, in its own immediate transaction: of two desks
            // making it at the same moment one key stands, and both use it.
            let k = keys.seal(Purpose::SiteKey, hex::encode_upper(k).as_bytes());
            let tx = Tx::begin(conn, keys, db)?;
            let created = tx.execute(
                "INSERT INTO setting (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                crate::store::params![SETTING_SITE_KEY, k],
            )? == 1;
            if created {
                // The event, never the key.
                tx.audit(s, "temp_card.site_key_created", "setting", None, None, None)?;
            }
            let stored = setting(&tx, SETTING_SITE_KEY)?.expect("just inserted");
            tx.commit()?;
            stored
        }
    };
    let hex_key = keys.open_text(Purpose::SiteKey, &sealed)?;
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
        self.require(s, Privilege::PrintCards, "produce temporary cards")?;
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
            let (key_a, key_b) = site_keys(&self.conn, &self.keys, &self.path, s)?;
            let req = EncodeRequest {
                reader: order.reader.clone().unwrap_or_default(),
                pacs_bits: credential.value.clone(),
                card_number: card.card_number as u64,
                key_a,
                key_b,
            };
            // The chip's UID identifies the card when it is presented later,
            // so a card already registered (issued to someone, or another
            // temporary card) is refused before anything is written to it.
            let conn = &self.conn;
            let admit = |uid: &str| -> Result<(), String> {
                match store::credentials::find_by_uid(conn, uid) {
                    Err(e) => Err(format!("cannot check the card: {e}")),
                    Ok(Some(other)) if other.id != card.credential_id => Err(format!(
                        "it is already registered as {} (#{}, {}); use a new card",
                        other.label(),
                        other.id,
                        other.state
                    )),
                    Ok(_) => Ok(()),
                }
            };
            match enc.encode(&req, &admit) {
                Err(e) => error = Some(format!("encoding failed: {e}")),
                Ok(done) => chip_uid = done.uid,
            }
        }
        let pin_letter = match error {
            Some(_) => None,
            None => Some(new_pin_letter(&card, order.pin_length, order.puk_length)?),
        };
        let validity: u32 = setting_num(
            &self.conn,
            SETTING_VALIDITY_DAYS,
            rules::DEFAULT_VALIDITY_DAYS,
        )?;
        let tx = self.begin()?;
        // While this card printed, another desk may have produced it, or
        // closed its order (the card went back to requested): then nothing
        // is recorded here, and the operator is told who did what.
        let now = get_card(&tx, card.id)?;
        if now.state != card.state || now.order_id != Some(order_id) {
            return Err(super::lost_race(&tx, card.id)?);
        }
        let order_now = get_order(&tx, order_id)?;
        if order_now.status != OrderStatus::Open {
            return Err(conflict_order(&tx, &order_now));
        }
        let (action, to) = match &error {
            None => ("temp_card.produce", TempCardState::Unassigned),
            Some(_) => ("temp_card.produce_failed", TempCardState::Failed),
        };
        transition(&card, to)?;
        match (&error, &pin_letter) {
            (None, Some(letter)) => {
                let until = rules::valid_until(chrono::Utc::now(), validity)
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                if !store::temp_cards::set_produced(
                    &tx,
                    card.id,
                    card.state,
                    &until,
                    order.encode,
                    Some(&auth::hash_password(&letter.pin)),
                    Some(&tx.keys().seal(Purpose::Puk, letter.puk.as_bytes())),
                )? {
                    // Another desk produced it meanwhile: its PIN stands.
                    return Err(super::lost_race(&tx, card.id)?);
                }
                if let Some(uid) = chip_uid.as_deref() {
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
            (Some(e), _) => {
                if !store::temp_cards::set_state(&tx, card.id, card.state, to, Some(e))? {
                    return Err(super::lost_race(&tx, card.id)?);
                }
            }
            (None, None) => unreachable!("a produced card has its PIN letter"),
        }
        let after = store::temp_cards::get(&tx, card.id)?.expect("exists");
        let mut after_json = snapshot(&after);
        after_json["print_job"] = job.id.into();
        tx.audit(
            s,
            action,
            "temp_card",
            Some(card.id),
            Some(snapshot(&card)),
            Some(after_json),
        )?;
        tx.commit()?;
        temp_certs::settle_key(&self.conn)?;
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
        progress: &JobContext<Progress>,
    ) -> DeskResult<Vec<Produced>> {
        open_order(&self.conn, order_id)?;
        let ids: Vec<i64> = order_cards(&self.conn, order_id)?
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
        progress: &JobContext<Progress>,
    ) -> DeskResult<Vec<Produced>> {
        open_order(&self.conn, order_id)?;
        let cards = order_cards(&self.conn, order_id)?;
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
        progress: &JobContext<Progress>,
    ) -> DeskResult<Vec<Produced>> {
        let mut out = Vec::new();
        let mut errors = 0;
        for (i, &id) in ids.iter().enumerate() {
            // Cancel stops between cards: the one begun is finished and recorded.
            if progress.cancelled() {
                break;
            }
            let p = self.produce_temp_card(s, order_id, id, printer, encoder)?;
            if !p.ok() {
                errors += 1;
            }
            progress.report(Progress {
                done: i + 1,
                total: ids.len(),
                card_id: id,
                card: p.card.clone(),
                errors,
                pin_letter: p.pin_letter.clone(),
            });
            out.push(p);
        }
        Ok(out)
    }
}
