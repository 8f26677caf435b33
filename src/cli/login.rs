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

/// The first line read from an open file descriptor (`--password-fd`), so
/// a script can hand over a password without an environment variable or a
/// command-line argument others could read.
fn read_fd(fd: i32) -> CliResult<String> {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    if fd <= 2 && fd != 0 {
        return Err(CliError::Message(format!(
            "--password-fd {fd}: give standard input (0) or a descriptor above 2"
        )));
    }
    // SAFETY: the caller handed this descriptor to us to read from; it is
    // read once, here, and closed afterwards (stdin is only borrowed).
    let mut file = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let mut text = String::new();
    let read = file.read_to_string(&mut text);
    if fd > 2 {
        unsafe { std::mem::ManuallyDrop::drop(&mut file) };
    }
    read.map_err(|e| CliError::Message(format!("--password-fd {fd}: cannot read: {e}")))?;
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// The operator's password: from `--password-fd`, else a prompt on a
/// terminal, else the first line of standard input (CARDDESK_PASSWORD is
/// still read, for old scripts, but environment variables can leak).
pub(super) fn login_password(cli: &Cli, name: &str) -> CliResult<String> {
    match cli.password_fd {
        Some(fd) => read_fd(fd),
        None => read_secret(&format!("Password for {name}: "), "CARDDESK_PASSWORD"),
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
