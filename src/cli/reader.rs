//! `carddesk reader …` and `carddesk request enrol`: the PC/SC readers and
//! the site's door readers (OSDP) from the command line.

use super::login::CliError;
use crate::desk::station::{list_pcsc_readers, ReaderEvent, ReaderWorker};
use crate::desk::{Desk, Enrolment, NewDoorReader, Secret, Session};
use crate::devices::reader::{CardReaderSource, DoorReaderConfig, OsdpReader, PcscReader};
use clap::Subcommand;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Subcommand)]
pub enum ReaderCmd {
    /// Print the PC/SC readers pcscd has, one name per line, then (with a
    /// database) the door readers with their state.
    List,
    /// Add a door reader: an OSDP reader on an RS-485 serial port.
    AddOsdp {
        name: String,
        /// The serial port, e.g. /dev/ttyUSB0.
        #[arg(long)]
        port: String,
        /// The reader's OSDP address (0–126).
        #[arg(long)]
        address: u8,
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// A file holding the secure channel base key (32 hex digits); the
        /// reader is then used only over a secure channel.
        #[arg(long)]
        scbk_file: Option<PathBuf>,
    },
    /// Remove a door reader.
    Remove { name: String },
}

/// How long `reader list` and `request enrol` give door readers to come
/// online.
const DOOR_SETTLE: Duration = Duration::from_secs(8);

/// Door reader changes (they need the database).
pub fn manage(desk: &mut Desk, s: &Session, cmd: &ReaderCmd) -> Result<(), CliError> {
    match cmd {
        ReaderCmd::List => unreachable!("run() lists"),
        ReaderCmd::AddOsdp {
            name,
            port,
            address,
            baud,
            scbk_file,
        } => {
            let scbk = match scbk_file {
                None => None,
                Some(f) => Some(Secret::new(std::fs::read_to_string(f).map_err(
                    |source| CliError::File {
                        path: f.display().to_string(),
                        source,
                    },
                )?)),
            };
            let r = desk.add_door_reader(
                s,
                &NewDoorReader {
                    name: name.clone(),
                    port: port.clone(),
                    baud: *baud,
                    address: *address,
                    scbk,
                },
            )?;
            println!(
                "added door reader {} ({} address {}, {} baud{})",
                r.name,
                r.port,
                r.address,
                r.baud,
                if r.secure { ", secure channel" } else { "" }
            );
        }
        ReaderCmd::Remove { name } => {
            desk.remove_door_reader(s, name)?;
            println!("removed door reader {name}");
        }
    }
    Ok(())
}

/// The door readers' state: online, or why not (given a few seconds).
fn door_states(doors: Vec<DoorReaderConfig>) -> Vec<(DoorReaderConfig, String)> {
    let worker = ReaderWorker::spawn(Box::new(OsdpReader::new(doors.clone())), Arc::new(|| {}));
    let mut online: Vec<String> = Vec::new();
    let mut problems: Vec<(String, String)> = Vec::new();
    let deadline = Instant::now() + DOOR_SETTLE;
    while online.len() < doors.len() && Instant::now() < deadline {
        match worker.recv_timeout(Duration::from_millis(200)) {
            Some(ReaderEvent::ReadersChanged(list)) => online = list,
            Some(ReaderEvent::ReaderError {
                reader: Some(r),
                message,
            }) => problems.push((r, message)),
            _ => {}
        }
    }
    doors
        .into_iter()
        .map(|d| {
            let state = if online.contains(&d.name) {
                "online".to_string()
            } else {
                problems
                    .iter()
                    .rev()
                    .find(|(r, _)| *r == d.name)
                    .map_or("offline: no answer yet".into(), |(_, m)| m.clone())
            };
            (d, state)
        })
        .collect()
}

/// `reader list`: PC/SC readers (no database needed), then door readers.
pub fn list(desk: Option<(&Desk, &Session)>) -> Result<(), CliError> {
    let readers = list_pcsc_readers().map_err(|e| CliError::Message(e.to_string()));
    let doors = match desk {
        Some((desk, s)) => {
            desk.door_readers(s)?;
            desk.door_reader_configs()?
        }
        None => Vec::new(),
    };
    match readers {
        Ok(readers) => {
            if readers.is_empty() && doors.is_empty() && std::io::stderr().is_terminal() {
                eprintln!("no readers attached");
            }
            for r in readers {
                println!("{r}");
            }
        }
        // Door readers are still worth listing when pcscd is down.
        Err(e) if !doors.is_empty() => eprintln!("PC/SC: {e}"),
        Err(e) => return Err(e),
    }
    for (d, state) in door_states(doors) {
        println!(
            "{}	osdp	{}	address {}	{} baud	{}	{state}",
            d.name,
            d.port,
            d.address,
            d.baud,
            if d.scbk.is_some() { "secure" } else { "clear" }
        );
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct EnrolArgs {
    /// The card request to connect the card to.
    pub id: i64,
    /// The reader: its exact PC/SC name or a door reader's name (see
    /// `carddesk reader list`).
    #[arg(long)]
    pub reader: String,
    /// Give up if no card is presented within this many seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

/// Waits for the next card on `--reader` and connects it to the request;
/// prints `credential-id<TAB>label<TAB>assigned|registered and assigned`.
pub fn enrol(desk: &mut Desk, s: &Session, args: &EnrolArgs) -> Result<(), CliError> {
    let request = desk.ready_to_enrol(s, args.id)?;
    // A door reader is waited for on its own (it takes a moment to come
    // online); any other name is a PC/SC reader.
    let door = desk
        .door_reader_configs()?
        .into_iter()
        .find(|d| d.name == args.reader);
    let source: Box<dyn CardReaderSource> = match door {
        Some(d) => Box::new(OsdpReader::new(vec![d])),
        None => Box::new(PcscReader::new()),
    };
    let worker = ReaderWorker::spawn(source, Arc::new(|| {}));
    if std::io::stderr().is_terminal() {
        eprintln!(
            "present the card for {} to {:?} ({} s)…",
            request.cardholder_name, args.reader, args.timeout
        );
    }
    let card = worker
        .wait_for_card(&args.reader, Duration::from_secs(args.timeout))
        .map_err(|e| CliError::Message(e.to_string()))?;
    let done = desk.enrol_presented(s, args.id, &card);
    // The door reader shows the answer (green or red) before it goes.
    worker.feedback(
        &card.reader,
        match done {
            Ok(_) => crate::desk::station::Feedback::Accepted,
            Err(_) => crate::desk::station::Feedback::Refused,
        },
    );
    std::thread::sleep(Duration::from_millis(300));
    drop(worker);
    let done = done?;
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
