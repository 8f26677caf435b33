//! A card printer without hardware, for `--demo` and tests.

use super::{CardPrinter, PrintDocument, PrintError, Queue, QueueState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// A printer that needs no hardware, for `--demo`: every job takes
/// `delay` and completes, unless a failure was queued with `fail_next`.
pub struct SimulatedPrinter {
    delay: Duration,
    next_job: AtomicU64,
    fail_next: Mutex<Option<String>>,
    /// The last document printed, for the curious.
    pub last: Mutex<Option<PrintDocument>>,
}

impl Default for SimulatedPrinter {
    fn default() -> Self {
        Self::new(Duration::from_millis(800))
    }
}

impl SimulatedPrinter {
    pub const QUEUE: &'static str = "Simulated card printer";

    pub fn new(delay: Duration) -> Self {
        SimulatedPrinter {
            delay,
            next_job: AtomicU64::new(1),
            fail_next: Mutex::new(None),
            last: Mutex::new(None),
        }
    }

    /// The next job fails with this message (e.g. "ribbon empty").
    pub fn fail_next(&self, message: &str) {
        *self.fail_next.lock().expect("not poisoned") = Some(message.to_string());
    }
}

impl CardPrinter for SimulatedPrinter {
    fn queues(&self) -> Result<Vec<Queue>, PrintError> {
        Ok(vec![Queue {
            name: Self::QUEUE.into(),
            state: QueueState::Idle,
            accepting: true,
            reason: None,
        }])
    }

    fn submit(&self, queue: &str, doc: &PrintDocument) -> Result<String, PrintError> {
        if queue != Self::QUEUE {
            return Err(PrintError::UnknownQueue {
                queue: queue.into(),
                known: Self::QUEUE.into(),
            });
        }
        *self.last.lock().expect("not poisoned") = Some(doc.clone());
        Ok(self.next_job.fetch_add(1, Ordering::Relaxed).to_string())
    }

    /// A simulated job is over as soon as it was submitted.
    fn check(
        &self,
        _queue: &str,
        _job: &str,
    ) -> Result<Option<Result<(), PrintError>>, PrintError> {
        Ok(Some(Ok(())))
    }

    fn wait(&self, queue: &str, job: &str) -> Result<(), PrintError> {
        std::thread::sleep(self.delay);
        match self.fail_next.lock().expect("not poisoned").take() {
            None => Ok(()),
            Some(message) => Err(PrintError::Failed {
                queue: queue.into(),
                job: job.into(),
                state: "aborted".into(),
                detail: format!(": {message}"),
            }),
        }
    }
}
