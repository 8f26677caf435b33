//! Card readers (mission A7a, automatic entry). A reader worker runs one
//! [`CardReaderSource`] on its own thread and turns what it sees into
//! [`ReaderEvent`]s on a channel, calling [`Notify`] after each one.
//!
//! Sources:
//! - [`PcscReader`]: USB readers through pcscd (PC/SC), the real adapter.
//! - [`SimulatedReader`]: `--demo`, cards injected with [`SimulatedCards`].
//! - [`OsdpReader`]: door readers on RS-485 (OSDP), which report the card's
//!   Wiegand bits, and take LED/buzzer feedback.
//!
//! One worker may run several sources (each on its own thread): the reader
//! list it reports is theirs together.

mod osdp;
mod pcsc;
mod simulated;

pub use self::pcsc::{list_pcsc_readers, PcscReader};
pub use osdp::{DoorReaderConfig, LoadReaders, OsdpReader};
pub use simulated::{SimulatedCards, SimulatedReader, DEMO_READER};

use super::Notify;
use chrono::{DateTime, Utc};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use thiserror::Error;

/// What a reader read from a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardData {
    /// The chip's UID (CSN) in upper-case hex, e.g. `04A1B2C3D4E5F6` (PC/SC).
    Uid(String),
    /// The card's Wiegand bits, `0`/`1` in transmission order (a door
    /// reader: facility code and card number inside, by the card format).
    Wiegand(String),
}

impl CardData {
    /// The UID, if the reader gave one.
    pub fn uid(&self) -> Option<&str> {
        match self {
            CardData::Uid(uid) => Some(uid),
            CardData::Wiegand(_) => None,
        }
    }
}

impl std::fmt::Display for CardData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CardData::Uid(uid) => write!(f, "UID {uid}"),
            CardData::Wiegand(bits) => write!(f, "{}-bit read {bits}", bits.len()),
        }
    }
}

/// A card put on a reader: one per presence, however long it stays there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardPresented {
    /// The reader's name, exactly as the source reports it
    /// (PC/SC: e.g. `Virtual PCD 00 00`; a door reader: its configured name).
    pub reader: String,
    pub data: CardData,
    /// The card's Answer To Reset in upper-case hex (empty if the source has none).
    pub atr: String,
    /// When the card was read.
    pub at: DateTime<Utc>,
}

/// What a reader worker reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReaderEvent {
    /// The readers now attached (also sent once at start, and again when the
    /// PC/SC service comes back after an outage).
    ReadersChanged(Vec<String>),
    CardPresented(CardPresented),
    /// The card that was on `reader` has gone.
    CardRemoved {
        reader: String,
    },
    /// Something the operator should know; the worker carries on.
    /// `reader: None` is about the service as a whole (e.g. pcscd stopped).
    ReaderError {
        reader: Option<String>,
        message: String,
    },
}

/// Wakes a source's blocking wait from another thread (for shutdown).
pub type Interrupt = Box<dyn Fn() + Send + Sync>;

/// What the desk made of a card read, shown on a reader that can show it
/// (a door reader's LED and buzzer), so the operator can keep their eyes
/// on the person at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// Green, one beep.
    Accepted,
    /// Red, two beeps.
    Refused,
}

/// Where a source takes feedback for its readers: (reader name, feedback).
pub type FeedbackSender = Sender<(String, Feedback)>;

/// The seam between a kind of reader and the worker that runs it.
///
/// `run` is called once, on the worker thread. It reports through `sink`
/// and returns when `sink.stopping()` is true. `interrupter` is taken before
/// the thread starts; calling it must make a blocked `run` look at
/// `sink.stopping()` soon (it may be called repeatedly until `run` returns).
pub trait CardReaderSource: Send {
    fn interrupter(&self) -> Interrupt;
    fn run(&mut self, sink: &EventSink);
    /// Where feedback for this source's readers goes (none: it has no LED
    /// or buzzer to drive).
    fn feedback(&self) -> Option<FeedbackSender> {
        None
    }
}

/// The shutdown flag, with a condition variable so sources can sleep
/// (back-off) and still stop at once.
#[derive(Default)]
struct Stop {
    flag: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    fn flag(&self) -> MutexGuard<'_, bool> {
        self.flag.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where a source sends its events.
pub struct EventSink {
    tx: Sender<ReaderEvent>,
    notify: Notify,
    /// Every source's readers, by source; this sink's is `slot`.
    readers: Arc<Mutex<Vec<Vec<String>>>>,
    slot: usize,
    stop: Arc<Stop>,
}

impl EventSink {
    pub fn send(&self, mut event: ReaderEvent) {
        match &mut event {
            ReaderEvent::ReadersChanged(list) => {
                tracing::debug!(readers = ?list, "readers changed");
                // The worker reports all its sources' readers together.
                let mut all = self.readers.lock().unwrap_or_else(|e| e.into_inner());
                all[self.slot] = list.clone();
                *list = all.concat();
            }
            ReaderEvent::ReaderError { reader, message } => {
                tracing::debug!(?reader, "{message}")
            }
            other => tracing::debug!(event = ?other, "reader event"),
        }
        // The receiver may be gone already during shutdown; nothing to do then.
        let _ = self.tx.send(event);
        (self.notify)();
    }

    /// True once the worker is being shut down.
    pub fn stopping(&self) -> bool {
        *self.stop.flag()
    }

    /// Sleeps for `d` unless shutdown is asked for first; false if stopping.
    pub fn pause(&self, d: Duration) -> bool {
        let guard = self.stop.flag();
        let (guard, _) = self
            .stop
            .cv
            .wait_timeout_while(guard, d, |stop| !*stop)
            .unwrap_or_else(|e| e.into_inner());
        !*guard
    }
}

/// Why [`ReaderWorker::wait_for_card`] gave up.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum WaitError {
    #[error("no reader named {reader:?}; readers: {}", list_or_none(.available))]
    NoSuchReader {
        reader: String,
        available: Vec<String>,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error("no card was presented to {reader:?} within {seconds} s{}", .last_error.as_ref().map(|e| format!(" (last reader error: {e})")).unwrap_or_default())]
    Timeout {
        reader: String,
        seconds: u64,
        last_error: Option<String>,
    },
    #[error("the reader worker stopped")]
    Stopped,
}

fn list_or_none(list: &[String]) -> String {
    if list.is_empty() {
        "none attached".into()
    } else {
        list.iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Reader sources, each running on its own thread. Dropping it stops them.
pub struct ReaderWorker {
    events: Receiver<ReaderEvent>,
    readers: Arc<Mutex<Vec<Vec<String>>>>,
    stop: Arc<Stop>,
    interrupts: Vec<Interrupt>,
    feedback: Vec<FeedbackSender>,
    threads: Vec<JoinHandle<()>>,
}

impl ReaderWorker {
    /// Runs `source` on a new thread.
    pub fn spawn(source: Box<dyn CardReaderSource>, notify: Notify) -> ReaderWorker {
        Self::spawn_all(vec![source], notify)
    }

    /// Runs each of `sources` on a thread of its own, reporting as one.
    pub fn spawn_all(sources: Vec<Box<dyn CardReaderSource>>, notify: Notify) -> ReaderWorker {
        let (tx, events) = mpsc::channel();
        let readers = Arc::new(Mutex::new(vec![Vec::new(); sources.len()]));
        let stop = Arc::new(Stop::default());
        let mut interrupts = Vec::new();
        let mut feedback = Vec::new();
        let mut threads = Vec::new();
        for (slot, mut source) in sources.into_iter().enumerate() {
            interrupts.push(source.interrupter());
            feedback.extend(source.feedback());
            let sink = EventSink {
                tx: tx.clone(),
                notify: notify.clone(),
                readers: readers.clone(),
                slot,
                stop: stop.clone(),
            };
            let thread = std::thread::Builder::new()
                .name("card-reader".into())
                .spawn(move || source.run(&sink))
                .expect("cannot start a card reader thread");
            threads.push(thread);
        }
        ReaderWorker {
            events,
            readers,
            stop,
            interrupts,
            feedback,
            threads,
        }
    }

    /// Shows what the desk made of a read on `reader`, if it can show it.
    pub fn feedback(&self, reader: &str, feedback: Feedback) {
        for tx in &self.feedback {
            let _ = tx.send((reader.to_string(), feedback));
        }
    }

    /// The PC/SC readers (pcscd).
    pub fn spawn_pcsc(notify: Notify) -> ReaderWorker {
        Self::spawn(Box::new(PcscReader::new()), notify)
    }

    /// A simulated reader named [`DEMO_READER`] for `--demo`; present and
    /// remove cards with the returned handle.
    pub fn spawn_simulated(notify: Notify) -> (ReaderWorker, SimulatedCards) {
        let (source, cards) = SimulatedReader::new(vec![DEMO_READER.to_string()]);
        (Self::spawn(Box::new(source), notify), cards)
    }

    /// The next event, if one is waiting (never blocks).
    pub fn try_recv(&self) -> Option<ReaderEvent> {
        self.events.try_recv().ok()
    }

    /// The next event, waiting at most `timeout` (not for a UI thread).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<ReaderEvent> {
        self.events.recv_timeout(timeout).ok()
    }

    /// The readers as last reported.
    pub fn readers(&self) -> Vec<String> {
        self.readers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .concat()
    }

    /// Blocks until a card is presented to `reader` (a card already lying on
    /// it counts) and returns it, consuming the events in between. For the
    /// command line; a UI polls [`ReaderWorker::try_recv`] instead.
    ///
    /// Fails at once if the first reader list lacks `reader` or the service
    /// is unavailable at start; later reader errors are kept for the timeout
    /// message while waiting goes on (an unplugged reader may come back).
    pub fn wait_for_card(
        &self,
        reader: &str,
        timeout: Duration,
    ) -> Result<CardPresented, WaitError> {
        let deadline = Instant::now() + timeout;
        let mut listed = false;
        let mut last_error = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match self.events.recv_timeout(left) {
                Ok(e) => e,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(WaitError::Timeout {
                        reader: reader.to_string(),
                        seconds: timeout.as_secs_f64().round() as u64,
                        last_error,
                    })
                }
                Err(RecvTimeoutError::Disconnected) => return Err(WaitError::Stopped),
            };
            match event {
                ReaderEvent::ReadersChanged(list) => {
                    if !listed && !list.iter().any(|r| r == reader) {
                        if let Some(problem) = last_error {
                            // A known reader that is down: say why.
                            return Err(WaitError::Unavailable(format!("{reader}: {problem}")));
                        }
                        return Err(WaitError::NoSuchReader {
                            reader: reader.to_string(),
                            available: list,
                        });
                    }
                    listed = true;
                }
                ReaderEvent::CardPresented(card) if card.reader == reader => return Ok(card),
                ReaderEvent::ReaderError {
                    reader: None,
                    message,
                } if !listed => return Err(WaitError::Unavailable(message)),
                ReaderEvent::ReaderError { reader: r, message }
                    if r.is_none() || r.as_deref() == Some(reader) =>
                {
                    last_error = Some(message)
                }
                _ => {}
            }
        }
    }
}

impl Drop for ReaderWorker {
    fn drop(&mut self) {
        *self.stop.flag() = true;
        self.stop.cv.notify_all();
        let deadline = Instant::now() + Duration::from_secs(5);
        for (thread, interrupt) in self.threads.drain(..).zip(&self.interrupts) {
            // A wake-up can race with the source entering its wait, so keep
            // waking it until it has returned — for a while: a thread stuck
            // in a device call is left behind rather than freezing the app.
            while !thread.is_finished() && Instant::now() < deadline {
                interrupt();
                std::thread::sleep(Duration::from_millis(5));
            }
            if !thread.is_finished() {
                tracing::error!("a card reader thread did not stop; left behind");
                continue;
            }
            if thread.join().is_err() {
                tracing::error!("a card reader thread panicked");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worker() -> (ReaderWorker, SimulatedCards) {
        ReaderWorker::spawn_simulated(Arc::new(|| {}))
    }

    fn next(w: &ReaderWorker) -> ReaderEvent {
        w.recv_timeout(Duration::from_secs(5))
            .expect("an event from the simulated reader")
    }

    #[test]
    fn simulated_reader_reports_one_event_per_presence() {
        let (w, cards) = worker();
        assert_eq!(
            next(&w),
            ReaderEvent::ReadersChanged(vec![DEMO_READER.into()])
        );
        assert_eq!(w.readers(), vec![DEMO_READER.to_string()]);
        cards.present(DEMO_READER, "04a1b2c3d4e5f6");
        let ReaderEvent::CardPresented(card) = next(&w) else {
            panic!("expected a card")
        };
        assert_eq!(card.data, CardData::Uid("04A1B2C3D4E5F6".into()));
        assert_eq!(card.reader, DEMO_READER);
        // Presenting another card replaces the first: removed, then presented.
        cards.present(DEMO_READER, "11223344");
        assert_eq!(
            next(&w),
            ReaderEvent::CardRemoved {
                reader: DEMO_READER.into()
            }
        );
        assert!(
            matches!(next(&w), ReaderEvent::CardPresented(c) if c.data.uid() == Some("11223344"))
        );
        cards.remove(DEMO_READER);
        assert_eq!(
            next(&w),
            ReaderEvent::CardRemoved {
                reader: DEMO_READER.into()
            }
        );
        // Removing again is not a second removal.
        cards.remove(DEMO_READER);
        cards.present(DEMO_READER, "zz");
        assert!(matches!(
            next(&w),
            ReaderEvent::ReaderError { reader: Some(r), message } if r == DEMO_READER && message.contains("\"zz\"")
        ));
    }

    #[test]
    fn a_card_on_a_new_simulated_reader_plugs_it_in() {
        let (w, cards) = worker();
        next(&w);
        cards.present("Door 3", "11223344");
        assert_eq!(
            next(&w),
            ReaderEvent::ReadersChanged(vec![DEMO_READER.into(), "Door 3".into()])
        );
        assert!(matches!(next(&w), ReaderEvent::CardPresented(c) if c.reader == "Door 3"));
    }

    #[test]
    fn wait_for_card_names_the_readers_when_one_is_missing() {
        let (w, _cards) = worker();
        let err = w.wait_for_card("Nope", Duration::from_secs(5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("no reader named \"Nope\"; readers: \"{DEMO_READER}\"")
        );
    }

    #[test]
    fn wait_for_card_ignores_other_readers_and_times_out() {
        let (w, cards) = worker();
        cards.present("Other", "11223344");
        let err = w
            .wait_for_card(DEMO_READER, Duration::from_millis(300))
            .unwrap_err();
        assert!(matches!(err, WaitError::Timeout { .. }), "{err}");
        cards.present(DEMO_READER, "55667788");
        let card = w
            .wait_for_card(DEMO_READER, Duration::from_secs(5))
            .unwrap();
        assert_eq!(card.data.uid(), Some("55667788"));
    }

    #[test]
    fn dropping_the_worker_stops_its_thread() {
        let (w, cards) = worker();
        drop(w);
        // The handle outlives the worker harmlessly.
        cards.present(DEMO_READER, "11223344");
    }
}
