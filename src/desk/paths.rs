//! Where CardDesk keeps its database when the operator does not say.

use std::path::PathBuf;

/// The embedded store: `carddesk.db` in the per-user data folder.
pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("org", "CardDesk", "CardDesk")
        .map(|d| d.data_dir().join("carddesk.db"))
        .unwrap_or_else(|| PathBuf::from("carddesk.db"))
}

/// The demo store, beside the real one and never the same file.
pub fn demo_db_path() -> PathBuf {
    default_db_path().with_file_name("carddesk-demo.db")
}
