//! `carddesk temp …`: temporary cards and their batch orders.

use super::badge::{printer, write};
use super::login::{login, CliError};
use super::Cli;
use crate::desk::job::JobContext;
use crate::desk::station;
use crate::desk::{
    Desk, IssueOptions, Produced, Progress, TempCardFilter, TempCardRequest, TempCardState,
    DEFAULT_PIN_LENGTH, DEFAULT_PUK_LENGTH,
};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

type Result<T = ()> = std::result::Result<T, CliError>;

#[derive(Debug, Subcommand)]
pub enum TempCmd {
    /// Request N temporary cards (state requested).
    Request {
        #[arg(long)]
        count: u32,
        /// Card format (default: setting temp_card.format, else H10301).
        #[arg(long)]
        format: Option<String>,
        /// Badge template (default: setting temp_card.template, else Visitor).
        #[arg(long)]
        template: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// List temporary cards.
    List {
        /// requested, unassigned, assigned, failed, aborted, expired or locked
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Issue multiple temporary cards: a batch order with the given
    /// requested cards, produced at once (printed, and encoded with
    /// --encode). Prints the order id and each card's result; PIN letters
    /// are written to --pin-letters.
    Issue {
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Printer (CUPS queue) for the badges; see `carddesk printer list`.
        #[arg(long, env = "CARDDESK_PRINTER", default_value = "CardPrinter")]
        printer: String,
        #[command(flatten)]
        production: Production,
        /// Encode each card with the encoder (a PC/SC reader).
        #[arg(long, requires = "reader")]
        encode: bool,
        /// The encoder's PC/SC reader name (see `carddesk reader list`).
        #[arg(long)]
        reader: Option<String>,
        #[arg(long, default_value_t = DEFAULT_PIN_LENGTH)]
        pin_length: u8,
        #[arg(long, default_value_t = DEFAULT_PUK_LENGTH)]
        puk_length: u8,
        /// Certificate profile to issue per card (repeatable; needs --encode).
        #[arg(long = "cert")]
        certs: Vec<String>,
    },
    /// Repeat production for cards of an open order (default: its failed
    /// cards), on the order's printer.
    Repeat {
        order: i64,
        ids: Vec<i64>,
        #[command(flatten)]
        production: Production,
    },
    /// Complete an open order (cards not produced go back to requested).
    Complete { order: i64 },
    /// Cancel an open order (cards not produced go back to requested).
    Cancel { order: i64 },
    /// Assign an unassigned temporary card to a cardholder (by id, or by
    /// the UID of its chip as a reader reports it).
    Assign {
        #[arg(required_unless_present = "uid")]
        card: Option<i64>,
        #[arg(long, conflicts_with = "card")]
        uid: Option<String>,
        #[arg(long)]
        cardholder: i64,
        /// The holder's last day, YYYY-MM-DD (default: as long as the card
        /// is valid).
        #[arg(long, value_parser = parse_day)]
        until: Option<chrono::NaiveDate>,
    },
    /// Lock a card (it leaves its holder; certificates revoked).
    Lock { card: i64 },
    /// Unlock a locked card back into stock.
    Unlock { card: i64 },
    /// Take a card out of circulation for good.
    Abort { card: i64 },
    /// Mark produced cards whose validity ran out as expired.
    Expire,
    /// Take a temporary card back into stock.
    Return { card: i64 },
    /// Show a card's PUK (needs the reveal_puk privilege; audited).
    RevealPuk { card: i64 },
    /// Print a card's certificates (PEM), valid ones only unless --all.
    Certs {
        card: i64,
        #[arg(long)]
        all: bool,
    },
    /// Print the issuing CA's certificate (PEM); creates the CA on first use.
    Ca,
    /// Print a signed CRL (PEM) of every revoked temporary-card certificate.
    Crl,
}

#[derive(Debug, clap::Args)]
pub struct Production {
    /// Folder for the PIN letters (pin-letter-card-ID.pdf).
    #[arg(long, default_value = ".")]
    pub pin_letters: PathBuf,
    /// Seconds to wait for the printer per card before cancelling the job.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
}

/// Prints each card's result (its PIN letter was written as it was
/// committed); an error when a card failed (the order stays open for
/// `temp repeat`) or a letter could not be written.
fn report(
    order: i64,
    produced: &[Produced],
    letters: &Path,
    unwritten: &Mutex<Vec<String>>,
) -> Result {
    let unwritten = unwritten.lock().expect("not poisoned");
    if let Some(first) = unwritten.first() {
        return Err(CliError::Message(format!(
            "{} PIN letter(s) could not be written ({first}); those cards were produced but \
             their PINs are lost: lock them (`carddesk temp lock ID`) and produce others",
            unwritten.len()
        )));
    }
    let mut failed = 0;
    for p in produced {
        match &p.pin_letter {
            Some(_) => {
                let path = letter_path(letters, p.card.id);
                println!(
                    "card {}\t#{}\t{}\tPIN letter {}",
                    p.card.id,
                    p.card.card_number,
                    p.card.state,
                    path.display()
                );
            }
            None => {
                failed += 1;
                println!(
                    "card {}\t#{}\t{}\t{}",
                    p.card.id,
                    p.card.card_number,
                    p.card.state,
                    p.card.error.as_deref().unwrap_or_default()
                );
            }
        }
    }
    if failed > 0 {
        return Err(CliError::Message(format!(
            "{failed} of {} card(s) failed; fix the cause, then `carddesk temp repeat {order}`",
            produced.len()
        )));
    }
    Ok(())
}

/// The production job's progress, one line per card on stderr when a
/// person watches (a script sees only the result and, on failure, one
/// `error:` line).
/// Reports each card on a terminal and writes its PIN letter the moment
/// the card is committed (so an error later in the run loses none); a
/// letter that cannot be written is kept in `unwritten` for the report.
fn progress(letters: &Path, unwritten: Arc<Mutex<Vec<String>>>) -> JobContext<Progress> {
    let watching = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let letters = letters.to_path_buf();
    JobContext::inline(move |p: Progress| {
        if let Some(letter) = &p.pin_letter {
            let path = letter_path(&letters, p.card.id);
            if let Err(e) = write(&path, &letter.pdf) {
                unwritten.lock().expect("not poisoned").push(e.to_string());
            }
        }
        if watching {
            eprintln!(
                "card {} of {}: {} {}",
                p.done,
                p.total,
                p.card.label(),
                p.card.state
            )
        }
    })
}

fn letter_path(letters: &Path, card_id: i64) -> std::path::PathBuf {
    letters.join(format!("pin-letter-card-{card_id}.pdf"))
}

pub fn run(desk: &mut Desk, cli: &Cli, cmd: &TempCmd) -> Result {
    let s = login(desk, cli)?;
    let unwritten: Arc<Mutex<Vec<String>>> = Arc::default();
    if let TempCmd::List { state, json } = cmd {
        let state = state
            .as_deref()
            .map(str::parse::<TempCardState>)
            .transpose()
            .map_err(CliError::Message)?;
        let cards = desk.temp_cards(
            &s,
            &TempCardFilter {
                state,
                ..Default::default()
            },
        )?;
        if *json {
            println!(
                "{}",
                serde_json::to_string_pretty(&cards).expect("serialise")
            );
        } else {
            for c in cards {
                println!(
                    "{}\t{}\t#{}\t{}\t{}\t{}",
                    c.id,
                    c.state,
                    c.card_number,
                    c.format,
                    c.holder_name.unwrap_or_default(),
                    c.valid_until.unwrap_or_default()
                );
            }
        }
        return Ok(());
    }
    match cmd {
        TempCmd::List { .. } => unreachable!("handled above"),
        TempCmd::Request {
            count,
            format,
            template,
            note,
        } => {
            let cards = desk.request_temp_cards(
                &s,
                &TempCardRequest {
                    count: *count,
                    format: format.clone(),
                    template: template.clone(),
                    note: note.clone(),
                },
            )?;
            for c in cards {
                println!("{}\t#{}\t{}", c.id, c.card_number, c.format);
            }
        }
        TempCmd::Issue {
            ids,
            printer: queue,
            production,
            encode,
            reader,
            pin_length,
            puk_length,
            certs,
        } => {
            let options = IssueOptions {
                printer: queue.clone(),
                encode: *encode,
                reader: reader.clone(),
                pin_length: *pin_length,
                puk_length: *puk_length,
                cert_profiles: certs.clone(),
            };
            let order = desk.issue_temp_cards(&s, ids, &options)?;
            println!("order {}", order.id);
            let p = printer(cli, production.timeout);
            let e = station::encoder(cli.demo);
            let produced = desk.produce_temp_order(
                &s,
                order.id,
                p.as_ref(),
                order.encode.then_some(e.as_ref()),
                &progress(&production.pin_letters, unwritten.clone()),
            )?;
            report(order.id, &produced, &production.pin_letters, &unwritten)?;
        }
        TempCmd::Repeat {
            order,
            ids,
            production,
        } => {
            let o = desk.temp_order(&s, *order)?;
            let p = printer(cli, production.timeout);
            let e = station::encoder(cli.demo);
            let produced = desk.repeat_temp_production(
                &s,
                *order,
                ids,
                p.as_ref(),
                o.encode.then_some(e.as_ref()),
                &progress(&production.pin_letters, unwritten.clone()),
            )?;
            report(*order, &produced, &production.pin_letters, &unwritten)?;
        }
        TempCmd::Complete { order } => {
            let o = desk.complete_temp_order(&s, *order)?;
            println!("order {} {}", o.id, o.status);
        }
        TempCmd::Cancel { order } => {
            let o = desk.cancel_temp_order(&s, *order)?;
            println!("order {} {}", o.id, o.status);
        }
        TempCmd::Assign {
            card,
            uid,
            cardholder,
            until,
        } => {
            let card = match (card, uid) {
                (Some(c), _) => *c,
                (None, Some(uid)) => desk.temp_card_by_uid(&s, uid)?.id,
                (None, None) => unreachable!("clap requires one"),
            };
            let c = desk.assign_temp_card(&s, card, *cardholder, *until)?;
            println!(
                "card {} assigned to {} until {}",
                c.id,
                c.holder_name.unwrap_or_default(),
                c.assigned_until
                    .as_deref()
                    .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
                    .map_or("the card expires".into(), |u| u
                        .with_timezone(&chrono::Local)
                        .format("the end of %Y-%m-%d")
                        .to_string())
            );
        }
        TempCmd::Return { card } => {
            let c = desk.return_temp_card(&s, *card)?;
            println!("card {} {}", c.id, c.state);
        }
        TempCmd::Lock { card } | TempCmd::Unlock { card } | TempCmd::Abort { card } => {
            let to = match cmd {
                TempCmd::Lock { .. } => TempCardState::Locked,
                TempCmd::Unlock { .. } => TempCardState::Unassigned,
                _ => TempCardState::Aborted,
            };
            let c = desk.change_temp_card_state(&s, *card, to)?;
            println!("card {} {}", c.id, c.state);
        }
        TempCmd::Expire => {
            println!("{} card(s) expired", desk.expire_temp_cards(&s)?);
        }
        TempCmd::RevealPuk { card } => {
            println!("{}", desk.reveal_temp_puk(&s, *card)?);
        }
        TempCmd::Certs { card, all } => {
            for c in desk.temp_card_certificates(&s, *card)? {
                if *all || c.revoked_at.is_none() {
                    print!("{}", c.pem);
                }
            }
        }
        TempCmd::Ca => print!("{}", desk.temp_ca_certificate(&s)?),
        TempCmd::Crl => print!("{}", desk.export_temp_crl(&s)?),
    }
    Ok(())
}

/// `--until`: a calendar day.
fn parse_day(text: &str) -> std::result::Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| format!("{text:?} is not a date; give the last day as YYYY-MM-DD"))
}
