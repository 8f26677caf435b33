//! Long device work (printing a badge, producing a batch of temporary cards,
//! settling print jobs with the printer) is a *job*: a function of the desk that runs with its
//! own database connection, reports typed progress, can be cancelled between
//! steps, and ends with a verdict. Every state it changes is recorded by the
//! same desk actions as everywhere else, so a job is as safe to interrupt as
//! any single action.
//!
//! The window runs a job on a thread of its own ([`spawn`]) and reads its
//! [`JobEvent`]s each frame; the command line runs the very same function on
//! the thread it is on ([`JobContext::inline`]) and prints the progress.
//! (The outbox sender, `desk::outbox::MailWorker`, is a long-lived service
//! with its own thread and connection rather than a job.)

use super::{Desk, DeskResult};
use crate::devices::Notify;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// What a running job tells whoever started it.
#[derive(Debug)]
pub enum JobEvent<P, V> {
    Progress(P),
    /// The verdict; the last event of every job.
    Finished(DeskResult<V>),
}

/// Handed to the job's function: where progress goes, and whether the
/// operator asked to stop.
pub struct JobContext<P> {
    report: Box<dyn Fn(P) + Send>,
    cancel: Arc<AtomicBool>,
}

impl<P> JobContext<P> {
    /// For a job run on the caller's thread (the command line).
    pub fn inline(report: impl Fn(P) + Send + 'static) -> JobContext<P> {
        JobContext {
            report: Box::new(report),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    pub fn report(&self, progress: P) {
        (self.report)(progress)
    }

    /// Checked between steps: a step once begun (a card being printed and
    /// encoded) is finished and recorded, then the job stops.
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// The window's side of a job started with [`spawn`].
pub struct JobHandle<P, V> {
    events: Receiver<JobEvent<P, V>>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl<P, V> JobHandle<P, V> {
    /// Events since the last call, oldest first; never blocks.
    pub fn events(&self) -> Vec<JobEvent<P, V>> {
        self.events.try_iter().collect()
    }

    /// Waits up to `timeout` for the next event (tests, the command line).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<JobEvent<P, V>> {
        self.events.recv_timeout(timeout).ok()
    }

    /// Asks the job to stop after its current step.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

impl<P, V> Drop for JobHandle<P, V> {
    fn drop(&mut self) {
        // A job is never abandoned half-way: it finishes its step and records
        // it even if nobody listens any more; the thread is detached.
        drop(self.thread.take());
    }
}

/// Runs `work` on a thread named `name` with its own connection to `db`
/// (already migrated by the desk that started it).
pub fn spawn<P, V, F>(name: &str, db: PathBuf, notify: Notify, work: F) -> JobHandle<P, V>
where
    P: Send + 'static,
    V: Send + 'static,
    F: FnOnce(&mut Desk, &JobContext<P>) -> DeskResult<V> + Send + 'static,
{
    let (tx, events) = mpsc::channel::<JobEvent<P, V>>();
    let cancel = Arc::new(AtomicBool::new(false));
    let ctx = {
        let tx: Sender<JobEvent<P, V>> = tx.clone();
        let notify = notify.clone();
        JobContext {
            report: Box::new(move |p| {
                let _ = tx.send(JobEvent::Progress(p));
                notify();
            }),
            cancel: cancel.clone(),
        }
    };
    let thread = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let verdict = Desk::connect(&db).and_then(|mut desk| work(&mut desk, &ctx));
            let _ = tx.send(JobEvent::Finished(verdict));
            notify();
        })
        .expect("spawn a job thread");
    JobHandle {
        events,
        cancel,
        thread: Some(thread),
    }
}
