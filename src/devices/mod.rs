//! Adapters to the outside world, each behind a small trait and each running
//! on its own worker thread: Command in, Event out, and a repaint callback.
//! `--demo` swaps in simulated implementations.

pub mod encoder;
pub mod mailer;
pub mod printer;
pub mod reader;

/// Called by a worker after it sends an event, so the UI can repaint
/// (`egui::Context::request_repaint`); a no-op for the CLI.
pub type Notify = std::sync::Arc<dyn Fn() + Send + Sync>;
