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

pub(super) fn login(desk: &Desk, cli: &Cli) -> CliResult<Session> {
    let name = cli.operator.as_deref().ok_or_else(|| {
        CliError::Message(
            "this command reads or changes the database: log in with --operator NAME (or set CARDDESK_OPERATOR)".into(),
        )
    })?;
    let password = read_secret(&format!("Password for {name}: "), "CARDDESK_PASSWORD")?;
    Ok(desk.login(name, &password)?)
}
