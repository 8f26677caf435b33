//! The devices this desk works with: card readers, the card printer, the
//! encoder and the mail transport. Real ones at a site; the simulated set
//! with `--demo`. This is the one place that choice is made, so the window
//! and the command line always get the same devices, and the faces reach
//! devices only through the desk.

pub use crate::devices::encoder::{CardEncoder, PcscEncoder, SimulatedEncoder};
pub use crate::devices::mailer::{MailTransport, SimulatedMailer, SmtpMailer};
pub use crate::devices::printer::{CardPrinter, CupsPrinter, Queue, SimulatedPrinter};
pub use crate::devices::reader::{
    list_pcsc_readers, CardData, CardPresented, DoorReaderConfig, Feedback, ReaderEvent,
    ReaderWorker, SimulatedCards,
};
pub use crate::devices::Notify;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long the simulated printer takes over a card (long enough to see
/// the progress in the window).
const SIMULATED_PRINT: Duration = Duration::from_millis(1500);

/// Where the simulated mailer drops what it "sends": beside the database.
pub fn simulated_mail_dir(db: &Path) -> std::path::PathBuf {
    db.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(|d| d.join("simulated-mail"))
        .unwrap_or_else(|| "simulated-mail".into())
}

/// SMTP, or (demo) a folder of `.eml` files beside the database.
pub fn mail_transport(db: &Path, demo: bool) -> Arc<dyn MailTransport> {
    if demo {
        Arc::new(SimulatedMailer::new(simulated_mail_dir(db)))
    } else {
        Arc::new(SmtpMailer)
    }
}

/// The CUPS card printer (jobs given up after `timeout`), or the simulated one.
pub fn card_printer(demo: bool, timeout: Duration) -> Arc<dyn CardPrinter> {
    if demo {
        Arc::new(SimulatedPrinter::new(SIMULATED_PRINT))
    } else {
        Arc::new(CupsPrinter::new().with_timeout(timeout))
    }
}

/// The PC/SC encoder, or the simulated one.
pub fn encoder(demo: bool) -> Arc<dyn CardEncoder> {
    if demo {
        Arc::new(SimulatedEncoder)
    } else {
        Arc::new(PcscEncoder::new())
    }
}

/// The card readers' worker — PC/SC and the site's door readers (OSDP)
/// together — and (demo) the handle to present simulated cards.
pub fn readers(db: &Path, demo: bool, notify: Notify) -> (ReaderWorker, Option<SimulatedCards>) {
    if demo {
        let (worker, cards) = ReaderWorker::spawn_simulated(notify);
        return (worker, Some(cards));
    }
    // The door readers are read from the database on their own thread.
    let db = db.to_path_buf();
    let doors = crate::devices::reader::OsdpReader::loading(Box::new(move || {
        super::Desk::connect(&db)
            .and_then(|d| d.door_reader_configs())
            .map_err(|e| format!("door readers not started: {e}"))
    }));
    let sources: Vec<Box<dyn crate::devices::reader::CardReaderSource>> = vec![
        Box::new(crate::devices::reader::PcscReader::new()),
        Box::new(doors),
    ];
    (ReaderWorker::spawn_all(sources, notify), None)
}
