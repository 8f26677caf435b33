//! The card printer: a CUPS queue (`lp`, `lpstat`, `ipptool`, `cancel`)
//! behind the [`CardPrinter`] trait, and a [`SimulatedPrinter`] for
//! `--demo`. Submitting and following a job block: the desk runs them as a
//! print job (`desk::job`) so the UI never waits on a printer.
//!
//! A job counts as printed only when CUPS reports it `completed`. Stopped
//! or rejecting queues are refused before anything is sent; a job that is
//! aborted or cancelled, or still waiting when the timeout runs out, fails
//! (a waiting job is cancelled first so it cannot print later unrecorded).
//!
//! The queue types, the job's document, its errors and the trait live here;
//! `cups` drives CUPS and `simulated` stands in for it.

mod cups;
mod simulated;

pub use cups::CupsPrinter;
pub use simulated::SimulatedPrinter;

use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QueueState {
    Idle,
    Printing,
    /// Disabled: jobs are accepted but wait.
    Stopped,
}

/// A printer queue as the print system reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Queue {
    pub name: String,
    pub state: QueueState,
    pub accepting: bool,
    /// Why it is stopped or rejecting, as the administrator wrote it.
    pub reason: Option<String>,
}

impl Queue {
    /// A one-line status for lists: "idle", "stopped (paper jam)", …
    pub fn status(&self) -> String {
        let mut s = match self.state {
            QueueState::Idle => "idle".to_string(),
            QueueState::Printing => "printing".to_string(),
            QueueState::Stopped => "stopped".to_string(),
        };
        if !self.accepting {
            s.push_str(", not accepting jobs");
        }
        if let Some(r) = &self.reason {
            s.push_str(&format!(" ({r})"));
        }
        s
    }
}

/// What to print: a badge PDF and the card size its pages have.
#[derive(Debug, Clone)]
pub struct PrintDocument {
    pub title: String,
    pub pdf: Vec<u8>,
    /// Page width and height in millimetres (sets the CUPS media).
    pub page_mm: (f32, f32),
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrintError {
    #[error("printer {queue:?} does not exist (printers: {known})")]
    UnknownQueue { queue: String, known: String },
    #[error("printer {queue} is stopped ({reason}); clear the fault and resume the printer, then repeat the job")]
    Stopped { queue: String, reason: String },
    #[error("printer {queue} is not accepting jobs ({reason}); bring it back online, then repeat the job")]
    Rejecting { queue: String, reason: String },
    #[error("printer {queue} refused the job: {message}")]
    Refused { queue: String, message: String },
    #[error("print job {job} on {queue} was {state} by the printer{detail}; check the printer, then repeat the job")]
    Failed {
        queue: String,
        job: String,
        state: String,
        detail: String,
    },
    #[error("print job {job} on {queue} did not finish within {seconds} s ({detail}); it was cancelled — repeat it when the printer is ready")]
    TimedOut {
        queue: String,
        job: String,
        seconds: u64,
        detail: String,
    },
    #[error("cannot talk to the print system (CUPS): {0}")]
    System(String),
}

impl PrintError {
    /// The printer's job id, when the job was submitted before it failed.
    pub fn job(&self) -> Option<&str> {
        match self {
            PrintError::Failed { job, .. } | PrintError::TimedOut { job, .. } => Some(job),
            _ => None,
        }
    }
}

/// A card printer: lists its queues, takes a job, and follows it to the end.
pub trait CardPrinter: Send + Sync {
    fn queues(&self) -> Result<Vec<Queue>, PrintError>;
    /// Sends the document; returns the printer's job id.
    fn submit(&self, queue: &str, doc: &PrintDocument) -> Result<String, PrintError>;
    /// Blocks until the job is completed (`Ok`) or has failed.
    fn wait(&self, queue: &str, job: &str) -> Result<(), PrintError>;
    /// Where a job stands now, without waiting: `None` while it is queued or
    /// printing, else its verdict (to settle a job nobody followed to the
    /// end, e.g. after CardDesk stopped while it printed).
    fn check(&self, queue: &str, job: &str) -> Result<Option<Result<(), PrintError>>, PrintError>;

    /// Submit and wait: `Ok(job id)` only when the job completed.
    fn print(&self, queue: &str, doc: &PrintDocument) -> Result<String, PrintError> {
        let job = self.submit(queue, doc)?;
        self.wait(queue, &job)?;
        Ok(job)
    }
}
