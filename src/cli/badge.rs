//! `carddesk badge …`, `carddesk printer …` and `carddesk request print`.

use super::login::{login, CliError};
use super::Cli;
use crate::desk::station::{self, CardPrinter};
use crate::desk::{BadgeOf, Desk, PrintStatus};
use clap::Subcommand;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, CliError>;

#[derive(Debug, Subcommand)]
pub enum BadgeCmd {
    /// Render badges to one PDF file (one page per card side).
    Render {
        /// The card request whose badge to render (its template and card);
        /// repeat it for several badges in one PDF.
        #[arg(
            long,
            conflicts_with = "cardholder",
            required_unless_present = "cardholder"
        )]
        request: Vec<i64>,
        /// A cardholder (with their newest active card).
        #[arg(long)]
        cardholder: Option<i64>,
        /// Template name (default: the request's, or Standard).
        #[arg(long)]
        template: Option<String>,
        #[arg(long)]
        out: PathBuf,
    },
    /// List the badge templates.
    Templates,
    /// Add or replace a template from its JSON definition.
    SaveTemplate { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum PrinterCmd {
    /// List the printers (CUPS queues) and their state.
    List,
    /// Ask the printer about jobs left printing (CardDesk stopped while they
    /// printed) and record the verdicts it has; list those still open.
    Reconcile {
        /// Seconds to wait for the printer's answers.
        #[arg(long, default_value_t = 30)]
        timeout: u64,
    },
    /// Settle a print job left printing (CardDesk stopped while it printed):
    /// say whether the card came out right, and why you say so.
    Resolve {
        job: i64,
        /// The card came out right.
        #[arg(long, conflicts_with = "failed", required_unless_present = "failed")]
        printed: bool,
        /// It did not.
        #[arg(long)]
        failed: bool,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct PrintArgs {
    /// The card request whose badge to print.
    pub id: i64,
    /// Printer (CUPS queue) name; see `carddesk printer list`.
    #[arg(long)]
    pub printer: String,
    /// Seconds to wait for the printer before cancelling the job.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

pub(super) fn printer(cli: &Cli, timeout: u64) -> Arc<dyn CardPrinter> {
    station::card_printer(cli.demo, Duration::from_secs(timeout.max(1)))
}

/// Writes a file the CLI produces (badges, PIN letters): its owner's only.
pub(super) fn write(path: &PathBuf, bytes: &[u8]) -> Result {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|source| CliError::File {
            path: path.display().to_string(),
            source,
        })
}

pub fn badge(desk: &mut Desk, cli: &Cli, cmd: &BadgeCmd) -> Result {
    let s = super::login::login(desk, cli)?;
    match cmd {
        BadgeCmd::Render {
            request,
            cardholder,
            template,
            out,
        } => {
            let pdf = match (request.as_slice(), cardholder) {
                ([r], _) => desk.render_badge(&s, BadgeOf::Request(*r), template.as_deref())?,
                ([], Some(c)) => {
                    desk.render_badge(&s, BadgeOf::Cardholder(*c), template.as_deref())?
                }
                ([], None) => unreachable!("clap requires one"),
                (several, _) => desk.render_badges(&s, several, template.as_deref())?,
            };
            write(out, &pdf)?;
            println!("{}", out.display());
        }
        BadgeCmd::Templates => {
            for t in desk.badge_templates(&s)? {
                let sides = if t.back.is_some() {
                    "front+back"
                } else {
                    "front"
                };
                println!("{}\t{}\t{sides}\t{}", t.name, t.orientation, t.description);
            }
        }
        BadgeCmd::SaveTemplate { file } => {
            let json = std::fs::read_to_string(file).map_err(|source| CliError::File {
                path: file.display().to_string(),
                source,
            })?;
            println!("{}", desk.save_badge_template_json(&s, &json)?);
        }
    }
    Ok(())
}

pub fn printer_cmd(desk: &mut Desk, cli: &Cli, cmd: &PrinterCmd) -> Result {
    match cmd {
        PrinterCmd::Resolve {
            job,
            printed,
            failed: _,
            reason,
        } => {
            let s = login(desk, cli)?;
            let j = desk.resolve_print_job(&s, *job, *printed, reason)?;
            println!("print job {} {}", j.id, j.status);
        }
        PrinterCmd::List => return printer_list(cli),
        PrinterCmd::Reconcile { timeout } => {
            let s = login(desk, cli)?;
            let p = printer(cli, *timeout);
            for j in desk.reconcile_print_jobs(&s, p.as_ref())? {
                println!("print job {} {}", j.id, j.status);
            }
            for j in desk.unsettled_print_jobs(&s)? {
                println!(
                    "print job {} still printing on {} (printer job {}); when it is over: carddesk printer resolve {} --printed|--failed --reason …",
                    j.id,
                    j.printer,
                    j.cups_job_id.as_deref().unwrap_or("never sent"),
                    j.id
                );
            }
        }
    }
    Ok(())
}

/// `carddesk printer list`: the CUPS queues and their state.
pub fn printer_list(cli: &Cli) -> Result {
    let queues = printer(cli, 1)
        .queues()
        .map_err(|e| CliError::Message(e.to_string()))?;
    if queues.is_empty() {
        return Err(CliError::Message(
            "no printers are installed (add the card printer as a CUPS queue)".into(),
        ));
    }
    for q in queues {
        println!("{}\t{}", q.name, q.status());
    }
    Ok(())
}

/// Prints and waits for the printer's verdict; a failed job is an error.
pub fn print(desk: &mut Desk, cli: &Cli, args: &PrintArgs) -> Result {
    let s = login(desk, cli)?;
    let p = printer(cli, args.timeout);
    let job = desk.print_request_badge(&s, args.id, p.as_ref(), &args.printer)?;
    match job.status {
        PrintStatus::Printed => {
            println!(
                "print job {} printed on {} (printer job {})",
                job.id,
                job.printer,
                job.cups_job_id.unwrap_or_default()
            );
            Ok(())
        }
        _ => Err(CliError::Message(format!(
            "print job {} failed: {}",
            job.id,
            job.error.unwrap_or_default()
        ))),
    }
}
