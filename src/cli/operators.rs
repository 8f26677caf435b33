//! `carddesk operator …`: who may log in, with which role, and the login
//! policy. New passwords come from standard input (or a prompt, twice).

use super::login::{login, read_secret, CliError, CliResult};
use super::Cli;
use crate::desk::{Desk, LoginPolicy, NewOperatorInput, Role};
use clap::Subcommand;
use std::io::IsTerminal;

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Add an operator (their password from standard input, or a prompt).
    Add {
        name: String,
        /// administrator, supervisor, operator or viewer
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: Option<String>,
        /// en or nl
        #[arg(long, default_value = "en")]
        language: String,
    },
    /// Every operator, their role and state.
    List,
    /// Stop an operator from logging in; their open sessions fail at once.
    Disable { name: String },
    /// Let a disabled operator log in again.
    Enable { name: String },
    /// Give an operator another role (and exactly its privileges).
    SetRole { name: String, role: String },
    /// Set a new password (standard input); they must change it at next login.
    ResetPassword { name: String },
    /// Change your own password (the new one from standard input or a prompt).
    Password,
    /// Show or change the login policy.
    Policy {
        /// Failed logins in a row that lock an account.
        #[arg(long)]
        max_failures: Option<i64>,
        /// How long a locked account stays locked.
        #[arg(long)]
        lockout_minutes: Option<i64>,
        /// Idle minutes before the window asks for the password again.
        #[arg(long)]
        idle_lock_minutes: Option<i64>,
    },
}

/// A new password: prompted twice on a terminal, else one line of
/// standard input (CARDDESK_NEW_PASSWORD is still read, for old scripts).
pub(super) fn new_password(prompt: &str) -> CliResult<String> {
    if std::env::var_os("CARDDESK_NEW_PASSWORD").is_none() && std::io::stdin().is_terminal() {
        let p = read_secret(prompt, "CARDDESK_NEW_PASSWORD")?;
        let again = read_secret("Repeat the password: ", "CARDDESK_NEW_PASSWORD")?;
        if p != again {
            return Err(CliError::Message("the passwords differ".into()));
        }
        return Ok(p);
    }
    read_secret(prompt, "CARDDESK_NEW_PASSWORD")
}

fn role(text: &str) -> CliResult<Role> {
    text.parse().map_err(CliError::Message)
}

pub(super) fn run(desk: &mut Desk, cli: &Cli, cmd: &OperatorCmd) -> CliResult {
    let s = login(desk, cli)?;
    match cmd {
        OperatorCmd::Add {
            name,
            role: r,
            email,
            language,
        } => {
            let role = role(r)?;
            if !matches!(language.as_str(), "en" | "nl") {
                return Err(CliError::Message(format!(
                    "language {language:?}: use en or nl"
                )));
            }
            let password = new_password(&format!("Password for new operator {name}: "))?;
            let id = desk.add_operator(
                &s,
                &NewOperatorInput {
                    name,
                    email: email.as_deref(),
                    role,
                    password: &password,
                    language,
                },
            )?;
            println!("{id}");
        }
        OperatorCmd::List => {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            for op in desk.operators(&s)? {
                let mut state = vec![if op.active { "active" } else { "disabled" }.to_string()];
                if let Some(until) = op.locked_until.as_deref().filter(|u| *u > now.as_str()) {
                    state.push(format!("locked until {until}"));
                }
                if op.must_change_password {
                    state.push("must change password".into());
                }
                println!(
                    "{}\t{}\t{}\t{}",
                    op.name,
                    op.role,
                    op.email.as_deref().unwrap_or("-"),
                    state.join(", ")
                );
            }
        }
        OperatorCmd::Disable { name } => {
            desk.set_operator_active(&s, name, false)?;
            println!("disabled {name}");
        }
        OperatorCmd::Enable { name } => {
            desk.set_operator_active(&s, name, true)?;
            println!("enabled {name}");
        }
        OperatorCmd::SetRole { name, role: r } => {
            desk.set_operator_role(&s, name, role(r)?)?;
            println!("{name} is now {}", r.trim().to_lowercase());
        }
        OperatorCmd::ResetPassword { name } => {
            let password = new_password(&format!("New password for {name}: "))?;
            desk.reset_operator_password(&s, name, &password)?;
            println!("password of {name} reset; they must change it at their next login");
        }
        OperatorCmd::Password => {
            let current = super::login::login_password(cli, s.name())?;
            let new = new_password("New password: ")?;
            desk.change_password(&s, &current, &new)?;
            println!("password changed");
        }
        OperatorCmd::Policy {
            max_failures,
            lockout_minutes,
            idle_lock_minutes,
        } => {
            let mut p: LoginPolicy = desk.login_policy()?;
            let changed =
                max_failures.is_some() || lockout_minutes.is_some() || idle_lock_minutes.is_some();
            p.max_failures = max_failures.unwrap_or(p.max_failures);
            p.lockout_minutes = lockout_minutes.unwrap_or(p.lockout_minutes);
            p.idle_lock_minutes = idle_lock_minutes.unwrap_or(p.idle_lock_minutes);
            if changed {
                desk.set_login_policy(&s, &p)?;
            }
            println!(
                "lock after {} failed logins for {} minutes; the window locks after {} idle minutes",
                p.max_failures, p.lockout_minutes, p.idle_lock_minutes
            );
        }
    }
    Ok(())
}
