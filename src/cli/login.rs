//! Who runs a command: the operator's login (password from the
//! environment, a prompt or standard input) and the command line's errors.

use super::Cli;
use crate::desk::{Desk, DeskError, Session};
use std::io::{BufRead, IsTerminal};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Desk(#[from] DeskError),
    #[error("{0}")]
    Message(String),
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
}

pub type CliResult<T = ()> = Result<T, CliError>;

pub(super) fn read_secret(prompt: &str, env: &str) -> CliResult<String> {
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password(prompt).map_err(|e| CliError::Message(e.to_string()));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Message(format!("cannot read the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// The password given with `--password-fd`, read once at start-up.
static FROM_FD: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Reads the first line of the file descriptor given with `--password-fd`,
/// before CardDesk opens any file of its own (so the number can only be the
/// caller's), through a duplicate: the caller's descriptor stays open.
pub(super) fn read_password_fd(cli: &Cli) -> CliResult<()> {
    use std::io::Read;
    use std::os::fd::BorrowedFd;
    let Some(fd) = cli.password_fd else {
        return Ok(());
    };
    let bad = |why: String| CliError::Message(format!("--password-fd {fd}: {why}"));
    if fd < 0 || fd == 1 || fd == 2 {
        return Err(bad("give standard input (0) or a descriptor above 2".into()));
    }
    // SAFETY: fcntl(F_GETFD) only asks whether the descriptor is open.
    if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
        return Err(bad("no such open file descriptor".into()));
    }
    // SAFETY: the descriptor is open (checked above) and is only borrowed
    // for the duplicate; nothing else in this process uses it yet.
    let owned = unsafe { BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .map_err(|e| bad(e.to_string()))?;
    // Byte by byte up to the first newline: what follows on the same
    // descriptor (standard input: a new password) is left for its reader.
    let mut file = std::fs::File::from(owned);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 4096 {
        match file.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(bad(format!("cannot read: {e}"))),
        }
    }
    let text = String::from_utf8(line).map_err(|_| bad("the password is not UTF-8".into()))?;
    let _ = FROM_FD.set(text.trim_end_matches('\r').to_string());
    Ok(())
}

/// The operator's password: from `--password-fd`, else a prompt on a
/// terminal, else the first line of standard input (CARDDESK_PASSWORD is
/// still read, for old scripts, but environment variables can leak).
pub(super) fn login_password(cli: &Cli, name: &str) -> CliResult<String> {
    match (cli.password_fd, FROM_FD.get()) {
        (Some(_), Some(p)) => Ok(p.clone()),
        (Some(fd), None) => Err(CliError::Message(format!(
            "--password-fd {fd} was not read"
        ))),
        (None, _) => read_secret(&format!("Password for {name}: "), "CARDDESK_PASSWORD"),
    }
}

pub(super) fn login(desk: &Desk, cli: &Cli) -> CliResult<Session> {
    let name = cli.operator.as_deref().ok_or_else(|| {
        CliError::Message(
            "this command reads or changes the database: log in with --operator NAME (or set CARDDESK_OPERATOR)".into(),
        )
    })?;
    let password = login_password(cli, name)?;
    let s = desk.login(name, &password)?;
    if s.must_change_password() && !cli.is_password_change() {
        return Err(DeskError::PasswordChangeRequired {
            operator: name.to_string(),
        }
        .into());
    }
    Ok(s)
}
