//! CardDesk: the security-desk client that turns card requests into working,
//! printed access cards. Layers only look downwards:
//! `ui`/`cli` → `desk` → `store`, `devices`, `badge` → `domain`.

pub mod badge;
pub mod cli;
pub mod desk;
pub mod devices;
pub mod domain;
pub mod store;
pub mod ui;

pub use store::OpenError;
