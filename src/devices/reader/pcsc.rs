//! USB card readers through pcscd (PC/SC).
//!
//! One context waits in `SCardGetStatusChange` on every reader plus the
//! `\\?PnP?\Notification` pseudo-reader (readers plugged in or out), so
//! nothing polls. A new card is read once with `FF CA 00 00 00` (GET DATA:
//! UID). When pcscd goes away the worker says so, re-establishes its context
//! with back-off, and says which readers it sees once pcscd is back.

use super::{CardPresented, CardReaderSource, EventSink, Interrupt, ReaderEvent};
use ::pcsc::{
    Context, Disposition, Error, Protocols, ReaderState, Scope, ShareMode, State, MAX_BUFFER_SIZE,
    PNP_NOTIFICATION,
};
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use thiserror::Error;

/// PC/SC Part 3 GET DATA, P1 = 00: the card's UID.
const GET_UID: [u8; 5] = [0xFF, 0xCA, 0x00, 0x00, 0x00];
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// A session that lasted this long was healthy: start back-off afresh.
const HEALTHY: Duration = Duration::from_secs(10);
/// A card that could not be read is tried again after this, doubling up to
/// `RETRY_MAX`, for as long as it stays on the reader. (pcscd reports no
/// change for a card swapped faster than it polls, or one that failed to
/// power up; connecting again makes pcscd power it up again.)
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

#[derive(Debug, Error)]
#[error("pcscd unavailable ({0}); start the PC/SC service (pcscd) and check its readers")]
pub struct PcscUnavailable(pub Error);

/// The readers pcscd has now (for `carddesk reader list`).
pub fn list_pcsc_readers() -> Result<Vec<String>, PcscUnavailable> {
    let ctx = Context::establish(Scope::User).map_err(PcscUnavailable)?;
    match ctx.list_readers_owned() {
        Ok(names) => Ok(names.iter().map(|n| lossy(n)).collect()),
        Err(Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(e) => Err(PcscUnavailable(e)),
    }
}

/// The PC/SC source: every reader pcscd knows of.
#[derive(Default)]
pub struct PcscReader {
    /// The live context, shared so another thread can cancel its wait.
    ctx: Arc<Mutex<Option<Context>>>,
}

impl PcscReader {
    pub fn new() -> PcscReader {
        PcscReader::default()
    }

    fn share(&self, ctx: Option<Context>) {
        *self.ctx.lock().unwrap_or_else(|e| e.into_inner()) = ctx;
    }
}

impl CardReaderSource for PcscReader {
    fn interrupter(&self) -> Interrupt {
        let slot = self.ctx.clone();
        Box::new(move || {
            if let Some(ctx) = slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                let _ = ctx.cancel();
            }
        })
    }

    fn run(&mut self, sink: &EventSink) {
        let mut backoff = BACKOFF_MIN;
        let mut outage_reported = false;
        while !sink.stopping() {
            match Context::establish(Scope::User) {
                Ok(ctx) => {
                    self.share(Some(ctx.clone()));
                    let started = Instant::now();
                    let mut monitor = Monitor::new(&ctx, sink);
                    let end = monitor.run(&mut outage_reported);
                    monitor.forget_all();
                    self.share(None);
                    drop(monitor);
                    drop(ctx);
                    match end {
                        End::Stopped => return,
                        End::Lost(e) => {
                            outage(sink, e, &mut outage_reported);
                            if started.elapsed() > HEALTHY {
                                backoff = BACKOFF_MIN;
                            }
                        }
                    }
                }
                Err(e) => outage(sink, e, &mut outage_reported),
            }
            if !sink.pause(backoff) {
                return;
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }
}

/// Tells of an outage once, however many reconnection attempts fail.
fn outage(sink: &EventSink, e: Error, reported: &mut bool) {
    if !*reported {
        sink.send(ReaderEvent::ReaderError {
            reader: None,
            message: format!("pcscd unavailable ({e}); reconnecting"),
        });
        *reported = true;
    }
}

enum End {
    Stopped,
    /// pcscd went away (or the context broke): start again.
    Lost(Error),
}

/// What changed on one reader since the last wait.
enum Change {
    Removed,
    Presented { atr: Vec<u8> },
}

/// One context's life: from establishing it until pcscd goes away.
struct Monitor<'a> {
    ctx: &'a Context,
    sink: &'a EventSink,
    /// `\\?PnP?\Notification` first, then the readers.
    states: Vec<ReaderState>,
    /// Readers with a card on them → the reader's event count at presentation.
    cards: HashMap<CString, u32>,
    listed: Option<Vec<String>>,
    /// Readers whose card could not be read yet → (next delay, when).
    retry: HashMap<CString, (Duration, Instant)>,
}

/// Why a card on a reader gave no UID.
struct Unread {
    message: String,
    /// Worth trying again while the card stays (it may answer next time).
    again: bool,
}

fn lossy(name: &CStr) -> String {
    name.to_string_lossy().into_owned()
}

/// Errors that mean the context is useless (pcscd stopped or restarted).
fn service_lost(e: Error) -> bool {
    matches!(
        e,
        Error::NoService
            | Error::ServiceStopped
            | Error::CommError
            | Error::InvalidHandle
            | Error::InternalError
            | Error::NoMemory
    )
}

/// What to tell the operator when a card could not be read.
fn card_problem(e: Error) -> Unread {
    Unread {
        message: card_problem_text(e),
        again: true,
    }
}

fn card_problem_text(e: Error) -> String {
    match e {
        Error::NoSmartcard | Error::RemovedCard | Error::ResetCard => {
            "the card was taken away before its number could be read; present it again".into()
        }
        // pcscd's answer when the reader loses the card in the middle of a command.
        Error::NotTransacted => {
            "the card could not be read (was it taken away?); present it again".into()
        }
        Error::UnresponsiveCard | Error::UnpoweredCard | Error::UnsupportedCard => {
            "the card does not answer; it may be damaged or not a contactless card".into()
        }
        Error::SharingViolation => "the card is in use by another program".into(),
        other => format!("cannot read the card: {other}"),
    }
}

impl<'a> Monitor<'a> {
    fn new(ctx: &'a Context, sink: &'a EventSink) -> Monitor<'a> {
        Monitor {
            ctx,
            sink,
            states: vec![ReaderState::new(PNP_NOTIFICATION(), State::UNAWARE)],
            cards: HashMap::new(),
            listed: None,
            retry: HashMap::new(),
        }
    }

    fn run(&mut self, outage_reported: &mut bool) -> End {
        let mut relist = true;
        loop {
            if self.sink.stopping() {
                return End::Stopped;
            }
            if relist {
                if let Err(e) = self.relist() {
                    return End::Lost(e);
                }
                *outage_reported = false;
                relist = false;
            }
            for rs in &mut self.states {
                rs.sync_current_state();
            }
            let now = Instant::now();
            let timeout = self
                .retry
                .values()
                .map(|&(_, due)| due.saturating_duration_since(now))
                .min();
            let woke = self.ctx.get_status_change(timeout, &mut self.states);
            if let Err(e) = self.retry_due() {
                return End::Lost(e);
            }
            match woke {
                Ok(()) => {}
                // Woken for shutdown (checked at the top) or to retry a card.
                Err(Error::Cancelled | Error::Timeout) => continue,
                // A reader went away between listing and waiting.
                Err(Error::UnknownReader | Error::ReaderUnavailable) => {
                    relist = true;
                    continue;
                }
                Err(e) => return End::Lost(e),
            }
            match self.observe() {
                Ok(changed) => relist = changed,
                Err(e) => return End::Lost(e),
            }
        }
    }

    /// Brings the watched readers in line with pcscd's list.
    fn relist(&mut self) -> Result<(), Error> {
        let names = match self.ctx.list_readers_owned() {
            Ok(names) => names,
            Err(Error::NoReadersAvailable) => Vec::new(),
            Err(e) => return Err(e),
        };
        let pnp = PNP_NOTIFICATION();
        self.states
            .retain(|rs| rs.name() == pnp || names.iter().any(|n| n.as_c_str() == rs.name()));
        let gone: Vec<CString> = self
            .cards
            .keys()
            .filter(|r| !names.contains(r))
            .cloned()
            .collect();
        for reader in gone {
            self.cards.remove(&reader);
            self.sink.send(ReaderEvent::CardRemoved {
                reader: lossy(&reader),
            });
        }
        for name in &names {
            if !self.states.iter().any(|rs| rs.name() == name.as_c_str()) {
                self.states
                    .push(ReaderState::new(name.clone(), State::UNAWARE));
            }
        }
        let list: Vec<String> = names.iter().map(|n| lossy(n)).collect();
        if self.listed.as_ref() != Some(&list) {
            self.listed = Some(list.clone());
            self.sink.send(ReaderEvent::ReadersChanged(list));
        }
        Ok(())
    }

    /// Reports what the last wait revealed. Ok(true): the reader list changed.
    fn observe(&mut self) -> Result<bool, Error> {
        let pnp = PNP_NOTIFICATION();
        let mut relist = false;
        let mut changes = Vec::new();
        for rs in &self.states {
            let state = rs.event_state();
            if rs.name() == pnp {
                relist |= state.contains(State::CHANGED);
                continue;
            }
            if state.intersects(State::UNKNOWN | State::IGNORE) {
                relist = true; // unplugged; relist() reports the card as gone
                continue;
            }
            let reader = rs.name().to_owned();
            let present = state.contains(State::PRESENT);
            let count = rs.event_count();
            let before = self.cards.get(&reader).copied();
            // A changed event count while present: removed and put back
            // between two waits.
            if before.is_some() && (!present || before != Some(count)) {
                changes.push((reader.clone(), Change::Removed));
            }
            if present && before != Some(count) {
                changes.push((
                    reader,
                    Change::Presented {
                        atr: rs.atr().to_vec(),
                    },
                ));
            }
        }
        for (reader, change) in changes {
            match change {
                Change::Removed => {
                    self.cards.remove(&reader);
                    self.retry.remove(&reader);
                    self.sink.send(ReaderEvent::CardRemoved {
                        reader: lossy(&reader),
                    });
                }
                Change::Presented { atr } => {
                    let count = self
                        .states
                        .iter()
                        .find(|rs| rs.name() == reader.as_c_str())
                        .map(|rs| rs.event_count())
                        .unwrap_or_default();
                    self.cards.insert(reader.clone(), count);
                    self.retry.remove(&reader);
                    match self.read(&reader, &atr)? {
                        Ok(card) => self.sink.send(ReaderEvent::CardPresented(card)),
                        Err(unread) => {
                            if unread.again {
                                self.retry.insert(
                                    reader.clone(),
                                    (RETRY_MIN, Instant::now() + RETRY_MIN),
                                );
                            }
                            self.sink.send(ReaderEvent::ReaderError {
                                reader: Some(lossy(&reader)),
                                message: unread.message,
                            });
                        }
                    }
                }
            }
        }
        Ok(relist)
    }

    /// Tries again the cards that are due; their error was told already, so
    /// only success is reported.
    fn retry_due(&mut self) -> Result<(), Error> {
        let now = Instant::now();
        let due: Vec<(CString, Duration)> = self
            .retry
            .iter()
            .filter(|(_, &(_, when))| when <= now)
            .map(|(r, &(delay, _))| (r.clone(), delay))
            .collect();
        for (reader, delay) in due {
            if !self.cards.contains_key(&reader) {
                self.retry.remove(&reader);
                continue;
            }
            match self.read(&reader, &[])? {
                Ok(card) => {
                    self.retry.remove(&reader);
                    self.sink.send(ReaderEvent::CardPresented(card));
                }
                Err(unread) if unread.again => {
                    let delay = (delay * 2).min(RETRY_MAX);
                    self.retry.insert(reader, (delay, Instant::now() + delay));
                }
                Err(unread) => {
                    self.retry.remove(&reader);
                    self.sink.send(ReaderEvent::ReaderError {
                        reader: Some(lossy(&reader)),
                        message: unread.message,
                    });
                }
            }
        }
        Ok(())
    }

    /// Reads the UID of the card on `reader`. Outer error: pcscd is gone;
    /// inner error: this card could not be read (told to the operator).
    fn read(&self, reader: &CStr, atr: &[u8]) -> Result<Result<CardPresented, Unread>, Error> {
        let card = match self.ctx.connect(reader, ShareMode::Shared, Protocols::ANY) {
            Ok(card) => card,
            Err(e) if service_lost(e) => return Err(e),
            Err(e) => return Ok(Err(card_problem(e))),
        };
        let mut buf = [0u8; MAX_BUFFER_SIZE];
        let answer = card.transmit(&GET_UID, &mut buf).map(<[u8]>::to_vec);
        let atr = if atr.is_empty() {
            card.status2_owned()
                .map(|s| s.atr().to_vec())
                .unwrap_or_default()
        } else {
            atr.to_vec()
        };
        // Leave the card powered as it is; a reset could upset other users.
        let _ = card.disconnect(Disposition::LeaveCard);
        let answer = match answer {
            Ok(a) => a,
            Err(e) if service_lost(e) => return Err(e),
            Err(e) => return Ok(Err(card_problem(e))),
        };
        Ok(match answer.split_at(answer.len().saturating_sub(2)) {
            (uid, [0x90, 0x00]) if !uid.is_empty() => Ok(CardPresented {
                reader: lossy(reader),
                data: super::CardData::Uid(hex::encode_upper(uid)),
                atr: hex::encode_upper(atr),
                at: chrono::Utc::now(),
            }),
            (_, sw) => Err(Unread {
                message: format!(
                    "the card refused the UID request (status {}); is this a contactless card?",
                    if sw.is_empty() {
                        "none".to_string()
                    } else {
                        hex::encode_upper(sw)
                    }
                ),
                again: false,
            }),
        })
    }

    /// The context is going away: every card and reader is gone with it.
    fn forget_all(&mut self) {
        if self.sink.stopping() {
            return;
        }
        let mut readers: Vec<CString> = self.cards.drain().map(|(r, _)| r).collect();
        readers.sort();
        for reader in readers {
            self.sink.send(ReaderEvent::CardRemoved {
                reader: lossy(&reader),
            });
        }
        if self.listed.as_ref().is_some_and(|l| !l.is_empty()) {
            self.sink.send(ReaderEvent::ReadersChanged(Vec::new()));
        }
    }
}
