//! A reader for `--demo`: no hardware, cards are put on and taken off by
//! calls on [`SimulatedCards`], and reported exactly as PC/SC cards are.

use super::{CardPresented, CardReaderSource, EventSink, Interrupt, ReaderEvent};
use crate::domain::card_format::normalize_uid;
use std::collections::HashSet;
use std::sync::mpsc::{self, Receiver, Sender};

/// The reader `ReaderWorker::spawn_simulated` starts with.
pub const DEMO_READER: &str = "Demo desk reader";

/// ATR of an ISO 14443 contactless card behind a PC/SC reader (PC/SC Part 3).
const CONTACTLESS_ATR: &str = "3B8F8001804F0CA000000306030001000000006A";

enum Input {
    Present { reader: String, uid: String },
    Remove { reader: String },
    Wake,
}

/// Puts cards on the simulated readers. Cheap to clone; harmless once the
/// worker is gone.
#[derive(Clone)]
pub struct SimulatedCards {
    tx: Sender<Input>,
}

impl SimulatedCards {
    /// Puts the card with `uid` (hex) on `reader`, taking off any card
    /// already there. A reader not seen before is plugged in first.
    pub fn present(&self, reader: &str, uid: &str) {
        let _ = self.tx.send(Input::Present {
            reader: reader.into(),
            uid: uid.into(),
        });
    }

    /// Takes the card off `reader` (nothing happens if there is none).
    pub fn remove(&self, reader: &str) {
        let _ = self.tx.send(Input::Remove {
            reader: reader.into(),
        });
    }
}

pub struct SimulatedReader {
    readers: Vec<String>,
    rx: Receiver<Input>,
    tx: Sender<Input>,
}

impl SimulatedReader {
    pub fn new(readers: Vec<String>) -> (SimulatedReader, SimulatedCards) {
        let (tx, rx) = mpsc::channel();
        let cards = SimulatedCards { tx: tx.clone() };
        (SimulatedReader { readers, rx, tx }, cards)
    }
}

impl CardReaderSource for SimulatedReader {
    fn interrupter(&self) -> Interrupt {
        let tx = self.tx.clone();
        Box::new(move || {
            let _ = tx.send(Input::Wake);
        })
    }

    fn run(&mut self, sink: &EventSink) {
        let mut cards: HashSet<String> = HashSet::new();
        sink.send(ReaderEvent::ReadersChanged(self.readers.clone()));
        while !sink.stopping() {
            let Ok(input) = self.rx.recv() else { return };
            match input {
                Input::Wake => {}
                Input::Present { reader, uid } => {
                    if !self.readers.contains(&reader) {
                        self.readers.push(reader.clone());
                        sink.send(ReaderEvent::ReadersChanged(self.readers.clone()));
                    }
                    if cards.remove(&reader) {
                        sink.send(ReaderEvent::CardRemoved {
                            reader: reader.clone(),
                        });
                    }
                    match normalize_uid(&uid) {
                        Ok(uid) => {
                            cards.insert(reader.clone());
                            sink.send(ReaderEvent::CardPresented(CardPresented {
                                reader,
                                data: super::CardData::Uid(uid),
                                atr: CONTACTLESS_ATR.into(),
                                at: chrono::Utc::now(),
                            }));
                        }
                        Err(e) => sink.send(ReaderEvent::ReaderError {
                            reader: Some(reader),
                            message: e.to_string(),
                        }),
                    }
                }
                Input::Remove { reader } => {
                    if cards.remove(&reader) {
                        sink.send(ReaderEvent::CardRemoved { reader });
                    }
                }
            }
        }
    }
}
