//! The files CardDesk writes are its owner's alone: the data folder 0700;
//! the database, its `-wal`/`-shm`, the key file, the audit head, backups,
//! exports and PIN letters 0600. Set when each is created (the process
//! umask, and an explicit mode where we create the file), and checked at
//! start-up, because a copy made by hand or a restored folder may be looser.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// `<db><suffix>`: files that belong to one database sit beside it.
pub fn sibling(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes every file this process creates owner-only (call first in main).
pub fn restrict_umask() {
    // SAFETY: umask only swaps the process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

/// Creates `dir` (and its parents) as owner-only folders.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates a new file readable and writable by its owner only; fails if it
/// exists.
pub fn create_private(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Writes a new owner-only file and flushes it to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = create_private(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Replaces `path` with `bytes` whole (written aside, then renamed), owner-only.
pub fn replace_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let aside = sibling(path, &format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&aside);
    write_private(&aside, bytes)?;
    // Not synced to the folder: after a power cut the old file or the new
    // one is there, either whole (a lagging audit head is allowed).
    std::fs::rename(&aside, path)
}

/// Flushes a folder's entries (a new or renamed file's name) to disk, so a
/// power cut cannot keep the database's record of a file but lose the file.
pub fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// The files that belong to the database at `db` (those that exist).
pub fn database_files(db: &Path) -> Vec<PathBuf> {
    [
        "",
        "-wal",
        "-shm",
        ".keys",
        ".audit-head",
        ".lock",
        "-ca-key.pem",
    ]
    .iter()
    .map(|suffix| sibling(db, suffix))
    .filter(|p| p.exists())
    .collect()
}

/// What is readable by others around the database: one line per folder or
/// file whose mode lets anyone but the owner in. Empty when all is well.
pub fn loose_permissions(db: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mode = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777);
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(m) = mode(dir) {
            if m & 0o077 != 0 {
                found.push(format!(
                    "the data folder {} is {m:o}; it should be 700 (chmod 700 {})",
                    dir.display(),
                    dir.display()
                ));
            }
        }
    }
    for file in database_files(db) {
        if let Ok(m) = mode(&file) {
            if m & 0o077 != 0 {
                found.push(format!(
                    "{} is {m:o}; it should be 600 (chmod 600 {})",
                    file.display(),
                    file.display()
                ));
            }
        }
    }
    found
}
