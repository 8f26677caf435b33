//! The command line: the contract scripts and tests rely on. It parses, asks
//! the desk, and prints; every rule lives in `desk`/`domain`.

mod badge;
mod commands;
mod doctor;
mod login;
mod mail;
mod operators;
mod reader;
mod records;
mod temp;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

pub use commands::run;

/// Prints a value as pretty JSON (`--json`).
fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialise")
    );
}

#[derive(Debug, Parser)]
#[command(
    name = "carddesk",
    version,
    about = "CardDesk: card requests, enrolment and badge printing for the security desk"
)]
pub struct Cli {
    /// Database: a file (default: carddesk.db in your per-user data
    /// folder, or the server named by database.toml in your per-user config
    /// folder when there is one), a connection file (*.toml), or a
    /// postgres:// URL.
    #[arg(long, global = true, env = "CARDDESK_DB")]
    pub db: Option<PathBuf>,
    /// Open the desk with simulated reader and printer (and offer demo data).
    #[arg(long, global = true)]
    pub demo: bool,
    /// Operator to act as (every command that reads or changes the database
    /// needs one; password from CARDDESK_PASSWORD or a prompt).
    #[arg(long, global = true, env = "CARDDESK_OPERATOR")]
    pub operator: Option<String>,
    /// Read the operator's password from this open file descriptor (its
    /// first line) instead of a prompt or standard input.
    #[arg(long, global = true, value_name = "FD")]
    pub password_fd: Option<i32>,
    /// Open a dialog at start (for the screenshot script): main,
    /// card-requests or connect-card. Logs in with the demo operator.
    #[arg(long, hide = true, requires = "demo")]
    pub open: Option<String>,
    /// Start hidden, as the icon in the system tray with the pending count
    /// (how the login autostart entry starts it); a click on the icon opens
    /// the window. Without a tray the window opens as usual.
    #[arg(long)]
    pub minimized: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or migrate the database and its first administrator
    /// (password from standard input, or prompted on a terminal).
    Init {
        #[arg(long)]
        admin: String,
        #[arg(long)]
        email: Option<String>,
    },
    /// Check what the site needs: data folder and permissions, database
    /// integrity, card readers (pcscd), printer queues (CUPS), free disk;
    /// with --operator also the audit trail and the mail server. Exits 1 if
    /// any check fails. Changes nothing.
    Doctor {
        /// One JSON object per check.
        #[arg(long)]
        json: bool,
    },
    /// Operators who may log in.
    #[command(subcommand)]
    Operator(operators::OperatorCmd),
    /// Sites cards can be shipped to.
    #[command(subcommand)]
    Site(SiteCmd),
    /// Demo databases (with --demo): a large site on demand.
    #[command(subcommand)]
    Demo(DemoCmd),
    /// Card formats: list, encode, decode.
    #[command(subcommand)]
    Format(FormatCmd),
    /// Cardholders: add, list and search, show a record, modify.
    #[command(subcommand)]
    Cardholder(CardholderCmd),
    /// Card requests: list, count, modify, deny, assign a card, close.
    #[command(subcommand)]
    Request(RequestCmd),
    /// Credentials: list, change state (lost, stolen, revoked…), return, expire the due ones.
    #[command(subcommand)]
    Credential(CredentialCmd),
    /// Bulk import.
    #[command(subcommand)]
    Import(ImportCmd),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Copy the database to FILE (safe while the desk is running; needs the
    /// manage-database privilege).
    Backup {
        file: PathBuf,
        /// Also write the site key file beside it as FILE.keys (keep it apart
        /// from the backup: with it, the backup's secrets can be read).
        #[arg(long)]
        with_keys: bool,
    },
    /// Replace the database with a backup (the current one is kept as
    /// *.before-restore; needs the manage-database privilege).
    Restore { file: PathBuf },
    /// Copy this site (its SQLite file) into an empty PostgreSQL database,
    /// with its whole history, and verify the copy (row counts, audit
    /// trail); needs the manage-database privilege.
    MigrateTo {
        /// postgres://USER@HOST/DATABASE, or a connection file (*.toml).
        target: PathBuf,
    },
    /// Mail waiting in the outbox.
    #[command(subcommand)]
    Outbox(OutboxCmd),
    /// Card readers (PC/SC).
    #[command(subcommand)]
    Reader(reader::ReaderCmd),
    /// E-mail: server settings, test message, outbox status, sending, retry.
    #[command(subcommand)]
    Mail(mail::MailCmd),
    /// Badge templates and rendering.
    #[command(subcommand)]
    Badge(badge::BadgeCmd),
    /// Card printers.
    #[command(subcommand)]
    Printer(badge::PrinterCmd),
    /// Temporary cards: request, issue (batch orders), assign, return.
    #[command(subcommand)]
    Temp(temp::TempCmd),
}

impl Cli {
    /// `operator password`: the one command an operator whose password was
    /// reset may run.
    pub(crate) fn is_password_change(&self) -> bool {
        matches!(
            self.command,
            Some(Command::Operator(operators::OperatorCmd::Password))
        )
    }
}

#[derive(Debug, Subcommand)]
pub enum SiteCmd {
    /// Add a site cards can be shipped to.
    Add { name: String },
    /// Every site: id and name.
    List,
}

#[derive(Debug, Subcommand)]
pub enum DemoCmd {
    /// Add cardholders, cards and request history to a demo database (a
    /// new one gets the demo operator demo / demo1234).
    Generate {
        #[arg(long, default_value_t = 0)]
        cardholders: u64,
        #[arg(long, default_value_t = 0)]
        credentials: u64,
        /// Requests answered in the past.
        #[arg(long, default_value_t = 0)]
        requests: u64,
        /// Requests still pending.
        #[arg(long, default_value_t = 0)]
        pending: u64,
        /// A photo on every fifth new cardholder.
        #[arg(long)]
        photos: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum FormatCmd {
    /// The site's card formats: built-in and custom.
    List,
    /// Add a custom Wiegand format from a JSON definition (see `format show H10301`).
    Add { file: PathBuf },
    /// List the known formats door readers may send (Proxmark3's), which
    /// `format add-known` adds to the site's.
    Known,
    /// Add a known format to the site's formats by name.
    AddKnown { name: String },
    /// Print a format's definition as JSON (a starting point for a custom one).
    Show { format: String },
    /// Print the bit string for FIELD=VALUE pairs.
    Encode { format: String, fields: Vec<String> },
    /// Print FIELD=VALUE lines and parity=ok|bad.
    Decode { format: String, bits: String },
}

/// Which rows of a list to print (lists are read a page at a time).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct PageArgs {
    /// Rows to print (1–1000).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Rows to skip first.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
}

impl PageArgs {
    pub fn page(self) -> crate::desk::PageRequest {
        crate::desk::PageRequest {
            offset: self.offset,
            limit: self.limit,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct RequestOptions {
    /// Why the card could not be issued at once.
    #[arg(long)]
    pub reason: Option<String>,
    /// Badge template to print.
    #[arg(long)]
    pub template: Option<String>,
    /// Site to ship the card to.
    #[arg(long)]
    pub ship_to: Option<String>,
}

// Parsed once per process, so the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum CardholderCmd {
    /// Add a cardholder; prints the new id (and the request id with --request-card).
    Add {
        #[arg(long)]
        first: String,
        #[arg(long)]
        last: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        site: Option<String>,
        /// JPEG or PNG photo.
        #[arg(long)]
        photo: Option<PathBuf>,
        /// YYYY-MM-DD
        #[arg(long)]
        activation: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        expiry: Option<String>,
        /// Raise a card request (no card or printer at hand now).
        #[arg(long)]
        request_card: bool,
        #[command(flatten)]
        request: RequestOptions,
        /// Email me when the card is ready.
        #[arg(long, requires = "request_card")]
        notify: bool,
    },
    List {
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// A cardholder's record: details, credentials, requests (and, for
    /// those who may read it, the audit events about them).
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Change a cardholder's details; only the options given change.
    Modify {
        id: i64,
        #[arg(long)]
        first: Option<String>,
        #[arg(long)]
        last: Option<String>,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        site: Option<String>,
        /// JPEG or PNG.
        #[arg(long)]
        photo: Option<PathBuf>,
        /// YYYY-MM-DD
        #[arg(long)]
        activation: Option<String>,
        /// YYYY-MM-DD
        #[arg(long)]
        expiry: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RequestCmd {
    /// Raise a card request for an existing cardholder; prints its id.
    Add {
        #[arg(long)]
        cardholder: i64,
        #[command(flatten)]
        request: RequestOptions,
        /// E-mail me when the card is ready.
        #[arg(long)]
        notify: bool,
    },
    List {
        /// pending, completed, denied or all
        #[arg(long, default_value = "pending")]
        status: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Print the number of pending requests.
    Count,
    /// Change a pending request's reason, badge template, notification or
    /// shipping site.
    Modify {
        id: i64,
        #[command(flatten)]
        request: RequestOptions,
        /// Email the requester when the card is ready (true/false).
        #[arg(long)]
        notify: Option<bool>,
    },
    /// Deny a pending request, with the reason the requester is told.
    Deny {
        id: i64,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Connect a card: manual entry, an existing credential, or a card UID.
    Assign {
        id: i64,
        /// Card format for manual entry, followed by FIELD=VALUE pairs.
        #[arg(long, conflicts_with_all = ["credential", "uid"], requires = "fields")]
        format: Option<String>,
        fields: Vec<String>,
        /// An existing unassigned credential.
        #[arg(long, conflicts_with = "uid")]
        credential: Option<i64>,
        /// The UID of a presented card, in hex.
        #[arg(long)]
        uid: Option<String>,
    },
    /// Wait for a card on a reader and connect it (registering it if new).
    Enrol(reader::EnrolArgs),
    /// Complete the request (a card must be connected).
    Close {
        id: i64,
        /// For a card shipped to a site: how it was sent (courier, tracking
        /// number); the requester's e-mail says it.
        #[arg(long)]
        shipped: Option<String>,
    },
    /// Print the request's badge and wait for the printer's verdict.
    Print(badge::PrintArgs),
}

#[derive(Debug, Subcommand)]
pub enum CredentialCmd {
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value = "")]
        search: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Report a card lost, stolen or damaged (with --reason), deactivate
    /// (inactive), reactivate (active) or revoke it.
    SetState {
        id: i64,
        /// active, inactive, lost, stolen, damaged or revoked
        state: String,
        #[arg(long)]
        reason: Option<String>,
        /// Also raise a request for a new card for the same holder.
        #[arg(long)]
        request_replacement: bool,
    },
    /// A card that came back intact: back in stock, held by nobody.
    Return { id: i64 },
    /// Expire the cards of cardholders whose expiry date has passed (cron).
    ExpireDue,
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// CSV with a header: first_name,last_name[,email,department,site,activation,expiry].
    Cardholders {
        file: PathBuf,
        /// Import the good rows and report the bad ones.
        #[arg(long)]
        skip_bad: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Check the keyed hash chain and the head file: prints the number of
    /// events, or the first bad one.
    Verify,
    /// Write events as signed JSON lines (Ed25519; see `audit export-key`).
    Export {
        /// The first event: its number, or a date/time (2026-12-01 or RFC 3339).
        #[arg(long, default_value = "1")]
        since: String,
    },
    /// The public key (base64 Ed25519) that checks exported lines.
    ExportKey,
    /// Write the head file anew at the newest event when `verify` found it
    /// missing or damaged (needs manage_database; recorded in the trail).
    ReAnchor,
    /// Audit events, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    List {
        /// pending, sending, sent or failed (default: all)
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        page: PageArgs,
    },
}
