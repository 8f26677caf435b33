//! The desk window.

use std::path::Path;

pub fn run(db: &Path, demo: bool) -> Result<(), String> {
    let _ = (db, demo);
    Err("the desk window is not built yet".into())
}
