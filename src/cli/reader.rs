//! `carddesk reader …` and `carddesk request enrol`: the PC/SC reader from
//! the command line.

use super::login::CliError;
use crate::desk::station::{list_pcsc_readers, ReaderWorker};
use crate::desk::{Desk, Enrolment, Session};
use clap::Subcommand;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Subcommand)]
pub enum ReaderCmd {
    /// Print the PC/SC readers pcscd has, one name per line.
    List,
}

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// The card request to connect the card to.
    pub id: i64,
    /// The reader, by its exact PC/SC name (see `carddesk reader list`).
    #[arg(long)]
    pub reader: String,
    /// Give up if no card is presented within this many seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

pub fn run(cmd: &ReaderCmd) -> Result<(), CliError> {
    match cmd {
        ReaderCmd::List => {
            let readers = list_pcsc_readers().map_err(|e| CliError::Message(e.to_string()))?;
            if readers.is_empty() && std::io::stderr().is_terminal() {
                eprintln!("no readers attached");
            }
            for r in readers {
                println!("{r}");
            }
        }
    }
    Ok(())
}

/// Waits for the next card on `--reader` and connects it to the request;
/// prints `credential-id<TAB>label<TAB>assigned|registered and assigned`.
pub fn enrol(desk: &mut Desk, s: &Session, args: &EnrolArgs) -> Result<(), CliError> {
    let request = desk.ready_to_enrol(s, args.id)?;
    let worker = ReaderWorker::spawn_pcsc(Arc::new(|| {}));
    if std::io::stderr().is_terminal() {
        eprintln!(
            "present the card for {} to {:?} ({} s)…",
            request.cardholder_name, args.reader, args.timeout
        );
    }
    let card = worker
        .wait_for_card(&args.reader, Duration::from_secs(args.timeout))
        .map_err(|e| CliError::Message(e.to_string()))?;
    drop(worker);
    let done = desk.enrol_presented(s, args.id, &card)?;
    println!(
        "{}\t{}\t{}",
        done.credential.id,
        done.credential.label(),
        match done.enrolment {
            Enrolment::Assigned => "assigned",
            Enrolment::RegisteredAndAssigned => "registered and assigned",
        }
    );
    Ok(())
}
