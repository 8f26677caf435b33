//! `carddesk mail …`: the mail server settings, a test message, the outbox
//! state, one sending pass, and resending failed mail.

use super::login::{login, read_secret, CliError, CliResult};
use super::Cli;
use crate::desk::outbox::PassReport;
use crate::desk::station::{self, MailTransport};
use crate::desk::{Desk, OutboxStatus, PageRequest, Secret, SmtpSettings};
use clap::Subcommand;
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum MailCmd {
    /// Set the outgoing mail server (password from CARDDESK_SMTP_PASSWORD or a prompt).
    Configure {
        #[arg(long)]
        host: String,
        #[arg(long)]
        port: u16,
        /// none, starttls or tls
        #[arg(long)]
        security: String,
        /// User for SMTP AUTH (no AUTH without it).
        #[arg(long)]
        user: Option<String>,
        /// The From: address of CardDesk's mail.
        #[arg(long)]
        from: String,
    },
    /// Send a test message now and report whether the server accepted it.
    Test {
        #[arg(long)]
        to: String,
    },
    /// Pending, sent and failed counts, and why failed mail failed.
    Status,
    /// Run one sending pass (for scripts and cron).
    SendPending {
        /// Also send mail still waiting out its retry back-off.
        #[arg(long)]
        now: bool,
    },
    /// Queue a failed message again, optionally to a corrected address.
    Retry {
        id: i64,
        /// Send it to this address instead.
        #[arg(long)]
        to: Option<String>,
    },
}

fn transport(cli: &Cli) -> Arc<dyn MailTransport> {
    let db = cli
        .db
        .clone()
        .unwrap_or_else(crate::desk::paths::default_db_path);
    station::mail_transport(&db, cli.demo)
}

fn print_report(r: &PassReport) {
    for (id, e) in &r.deferred {
        eprintln!("mail {id} not sent yet, will retry: {e}");
    }
    for (id, e) in &r.failed {
        eprintln!("mail {id} failed, not retried: {e}");
    }
    println!(
        "sent {}, deferred {}, failed {}",
        r.sent.len(),
        r.deferred.len(),
        r.failed.len()
    );
}

pub fn run(desk: &mut Desk, cli: &Cli, cmd: &MailCmd) -> CliResult {
    match cmd {
        MailCmd::Configure {
            host,
            port,
            security,
            user,
            from,
        } => {
            let s = login(desk, cli)?;
            let security = security.parse().map_err(CliError::Message)?;
            let password = match user {
                Some(u) => Some(Secret::new(read_secret(
                    &format!("SMTP password for {u}: "),
                    "CARDDESK_SMTP_PASSWORD",
                )?)),
                None => None,
            };
            let settings = SmtpSettings {
                host: host.clone(),
                port: *port,
                security,
                user: user.clone(),
                password,
                from: from.clone(),
            };
            desk.configure_mail(&s, &settings)?;
            println!(
                "mail server set: {}:{} ({}){}, from {}",
                settings.host,
                settings.port,
                settings.security,
                settings
                    .user
                    .as_deref()
                    .map(|u| format!(", AUTH as {u}"))
                    .unwrap_or_default(),
                settings.from
            );
        }
        MailCmd::Test { to } => {
            let s = login(desk, cli)?;
            let id = desk.queue_test_mail(&s, to)?;
            let t = transport(cli);
            let r = desk.send_mail_now(&s, t.as_ref(), id)?;
            if r.not_configured {
                return Err(CliError::Message(format!(
                    "no mail server configured: run carddesk mail configure first (test message {id} waits in the outbox)"
                )));
            }
            if let Some((_, e)) = r.deferred.first() {
                return Err(CliError::Message(format!(
                    "test message {id} not sent: {e} (it stays in the outbox and is retried)"
                )));
            }
            if let Some((_, e)) = r.failed.first() {
                return Err(CliError::Message(format!(
                    "test message {id} rejected: {e}"
                )));
            }
            println!("test message {id} accepted by {} for {to}", t.describe());
        }
        MailCmd::Status => {
            let s = login(desk, cli)?;
            let c = desk.outbox_counts(&s)?;
            println!(
                "pending {}\nsent {}\nfailed {}",
                c.pending, c.sent, c.failed
            );
            let failed = desk.outbox(&s, Some(OutboxStatus::Failed), PageRequest::first(1000))?;
            for m in &failed.items {
                println!(
                    "failed mail {} to {}: {}",
                    m.id,
                    m.to_address,
                    m.last_error.as_deref().unwrap_or("")
                );
            }
        }
        MailCmd::SendPending { now } => {
            // A sending pass changes the outbox: only for those who may see it.
            let s = login(desk, cli)?;
            let due_by = if *now {
                chrono::Utc::now() + chrono::Duration::days(365 * 100)
            } else {
                chrono::Utc::now()
            };
            let t = transport(cli);
            let r = desk.send_outbox(&s, t.as_ref(), due_by)?;
            if r.not_configured {
                return Err(CliError::Message(
                    "no mail server configured: run carddesk mail configure first".into(),
                ));
            }
            print_report(&r);
        }
        MailCmd::Retry { id, to } => {
            let s = login(desk, cli)?;
            desk.retry_mail(&s, *id, to.as_deref())?;
            println!("mail {id} queued again");
        }
    }
    Ok(())
}
