use super::*;
use crate::desk::{ConnectCard, Desk, DeskError, NewOperatorInput, Session};
use crate::domain::{CredentialState, RequestStatus, Role};
use crate::store::{self, requests::RequestFields};
use std::io::{BufRead, IsTerminal, Write};
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

pub(super) type CliResult<T = ()> = Result<T, CliError>;

/// Where the database lives when --db is not given.
pub fn default_db_path() -> PathBuf {
    directories::ProjectDirs::from("org", "CardDesk", "CardDesk")
        .map(|d| d.data_dir().join("carddesk.db"))
        .unwrap_or_else(|| PathBuf::from("carddesk.db"))
}

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
            "this command changes data: give --operator NAME (or set CARDDESK_OPERATOR)".into(),
        )
    })?;
    let password = read_secret(&format!("Password for {name}: "), "CARDDESK_PASSWORD")?;
    Ok(desk.login(name, &password)?)
}

fn pairs(fields: &[String]) -> CliResult<Vec<(String, String)>> {
    fields
        .iter()
        .map(|f| {
            f.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| CliError::Message(format!("expected FIELD=VALUE, got {f:?}")))
        })
        .collect()
}

fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialise")
    );
}

fn request_fields(
    desk: &Desk,
    base: RequestFields,
    o: &RequestOptions,
    notify: Option<bool>,
) -> CliResult<RequestFields> {
    let ship_to_site_id = match o.ship_to.as_deref() {
        None => base.ship_to_site_id,
        Some("") => None,
        Some(name) => Some(
            store::sites::find(desk.conn(), name)
                .map_err(DeskError::from)?
                .ok_or_else(|| DeskError::NotFound {
                    what: "site",
                    id: format!("{name:?}"),
                })?
                .id,
        ),
    };
    Ok(RequestFields {
        reason: o.reason.clone().unwrap_or(base.reason),
        badge_template: o.template.clone().unwrap_or(base.badge_template),
        notify_requester: notify.unwrap_or(base.notify_requester),
        ship_to_site_id,
    })
}

pub fn run(cli: Cli) -> CliResult {
    let db = cli.db.clone().unwrap_or_else(default_db_path);
    let Some(command) = &cli.command else {
        let startup = match cli.open.as_deref() {
            None => crate::ui::Startup::Nothing,
            Some("main") => crate::ui::Startup::MainWindow,
            Some("card-requests") => crate::ui::Startup::CardRequests,
            Some("connect-card") => crate::ui::Startup::ConnectCard,
            Some("print-cards") => crate::ui::Startup::PrintCards,
            Some(other) => {
                return Err(CliError::Message(format!(
                    "--open {other:?}: use main, card-requests, connect-card or print-cards"
                )))
            }
        };
        return crate::ui::run(cli.db.as_deref(), cli.demo, startup).map_err(CliError::Message);
    };
    // Formats need no database.
    // Formats need no database unless one exists (for custom formats) or
    // one is being added.
    if let Command::Format(cmd) = command {
        if !db.exists() && !matches!(cmd, FormatCmd::Add { .. }) {
            return format_cmd(&crate::domain::builtin_formats(), cmd);
        }
        let mut desk = Desk::open(&db)?;
        if let FormatCmd::Add { file } = cmd {
            let s = login(&desk, &cli)?;
            let json = std::fs::read_to_string(file).map_err(|source| CliError::File {
                path: file.display().to_string(),
                source,
            })?;
            let name = desk.add_card_format(&s, &json)?;
            println!("added card format {name}");
            return Ok(());
        }
        let formats = store::formats::list(desk.conn()).map_err(DeskError::from)?;
        return format_cmd(&formats, cmd);
    }
    if let Command::Restore { file } = command {
        let kept = crate::desk::restore(&db, file)?;
        println!(
            "restored {} from {}; the previous database is kept as {}",
            db.display(),
            file.display(),
            kept.display()
        );
        return Ok(());
    }
    if let Command::Reader(cmd) = command {
        return super::reader::run(cmd);
    }
    let mut desk = Desk::open(&db)?;
    let out = std::io::stdout();
    match command {
        Command::Format(_) | Command::Reader(_) | Command::Restore { .. } => {
            unreachable!("handled above")
        }
        Command::Backup { file } => {
            desk.backup(file)?;
            println!("backed up {} to {}", db.display(), file.display());
        }
        Command::Init { admin, email } => {
            if desk.has_operators()? {
                return Err(DeskError::AlreadyInitialised.into());
            }
            let password = if std::io::stdin().is_terminal() {
                let p = read_secret(&format!("New password for {admin}: "), "CARDDESK_PASSWORD")?;
                let again = read_secret("Repeat the password: ", "CARDDESK_PASSWORD")?;
                if p != again {
                    return Err(CliError::Message("the passwords differ".into()));
                }
                p
            } else {
                read_secret("", "CARDDESK_PASSWORD")?
            };
            desk.init_admin(admin, email.as_deref(), &password)?;
            println!("initialised {} with administrator {admin}", db.display());
        }
        Command::Operator(OperatorCmd::Add {
            name,
            role,
            email,
            language,
        }) => {
            let s = login(&desk, &cli)?;
            let role: Role = role.parse().map_err(CliError::Message)?;
            if !matches!(language.as_str(), "en" | "nl") {
                return Err(CliError::Message(format!(
                    "language {language:?}: use en or nl"
                )));
            }
            let password = read_secret(
                &format!("Password for new operator {name}: "),
                "CARDDESK_NEW_PASSWORD",
            )?;
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
        Command::Site(SiteCmd::Add { name }) => {
            let s = login(&desk, &cli)?;
            println!("{}", desk.add_site(&s, name)?);
        }
        Command::Site(SiteCmd::List) => {
            for site in store::sites::list(desk.conn()).map_err(DeskError::from)? {
                println!("{}\t{}", site.id, site.name);
            }
        }
        Command::Cardholder(CardholderCmd::Add {
            first,
            last,
            email,
            department,
            site,
            photo,
            activation,
            expiry,
            request_card,
            request,
            notify,
        }) => {
            let s = login(&desk, &cli)?;
            let photo = photo.as_deref().map(crate::desk::read_photo).transpose()?;
            let input = crate::desk::CardholderInput {
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                department: department.clone(),
                photo,
                site: site.clone(),
                activation: activation.clone(),
                expiry: expiry.clone(),
            };
            let fields = if *request_card {
                let base = RequestFields {
                    badge_template: "Standard".into(),
                    ..Default::default()
                };
                Some(request_fields(&desk, base, request, Some(*notify))?)
            } else {
                None
            };
            let (id, request_id) = desk.create_cardholder(&s, &input, fields.as_ref())?;
            println!("{id}");
            if let Some(r) = request_id {
                eprintln!("card request {r} raised");
            }
        }
        Command::Cardholder(CardholderCmd::List { search, json }) => {
            let list = store::cardholders::list(desk.conn(), search, usize::MAX >> 1, 0)
                .map_err(DeskError::from)?;
            if *json {
                print_json(&list);
            } else {
                for c in list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        c.id,
                        c.full_name(),
                        c.email.unwrap_or_default(),
                        c.department.unwrap_or_default()
                    );
                }
            }
        }
        Command::Request(cmd) => request_cmd(&mut desk, &cli, cmd)?,
        Command::Mail(cmd) => super::mail::run(&mut desk, &cli, cmd)?,
        Command::Badge(cmd) => super::badge::badge(&mut desk, &cli, cmd)?,
        Command::Printer(cmd) => super::badge::printer_cmd(&cli, cmd)?,
        Command::Temp(cmd) => super::temp::run(&mut desk, &cli, cmd)?,
        Command::Credential(CredentialCmd::List {
            state,
            search,
            json,
        }) => {
            let state: Option<CredentialState> = state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(CliError::Message)?;
            let list = store::credentials::list(desk.conn(), state, search, usize::MAX >> 1)
                .map_err(DeskError::from)?;
            if *json {
                print_json(&list);
            } else {
                for c in list {
                    println!(
                        "{}\t{}\t{}\t{}",
                        c.id,
                        c.label(),
                        c.state,
                        c.holder_name.unwrap_or_default()
                    );
                }
            }
        }
        Command::Import(ImportCmd::Cardholders { file, skip_bad }) => {
            let s = login(&desk, &cli)?;
            let f = std::fs::File::open(file).map_err(|source| CliError::File {
                path: file.display().to_string(),
                source,
            })?;
            let report = desk.import_cardholders(&s, f, *skip_bad)?;
            for line in &report.skipped {
                eprintln!("skipped {line}");
            }
            println!("imported {} cardholder(s)", report.imported);
        }
        Command::Audit(AuditCmd::Verify) => {
            println!("audit trail intact: {} events", desk.verify_audit()?);
        }
        Command::Audit(AuditCmd::List { limit }) => {
            let s = login(&desk, &cli)?;
            s.require(crate::domain::Privilege::ViewAudit, "read the audit trail")?;
            let mut lock = out.lock();
            for e in store::audit::list(desk.conn(), *limit).map_err(DeskError::from)? {
                let _ = writeln!(
                    lock,
                    "{}\t{}\t{}\t{}\t{} {}",
                    e.id,
                    e.at,
                    e.actor,
                    e.action,
                    e.entity,
                    e.entity_id.map(|i| i.to_string()).unwrap_or_default()
                );
            }
        }
        Command::Outbox(OutboxCmd::List { json }) => {
            let list = store::outbox::list(desk.conn()).map_err(DeskError::from)?;
            if *json {
                print_json(&list);
            } else {
                for m in list {
                    println!("{}\t{}\t{}\t{}", m.id, m.status, m.to_address, m.subject);
                }
            }
        }
    }
    Ok(())
}

fn format_cmd(formats: &[crate::domain::CardFormat], cmd: &FormatCmd) -> CliResult {
    let find = |name: &str| {
        formats
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| DeskError::from(crate::domain::FormatError::UnknownFormat(name.into())))
    };
    match cmd {
        FormatCmd::Add { .. } => unreachable!("handled with the database"),
        FormatCmd::Show { format } => {
            let f = find(format)?;
            println!("{}", serde_json::to_string_pretty(f).expect("serialise"));
        }
        FormatCmd::List => {
            for f in formats {
                let fields: Vec<String> = f
                    .field_ranges()
                    .into_iter()
                    .map(|(n, lo, hi)| format!("{n} {lo}–{hi}"))
                    .collect();
                println!("{}\t{}\t{}", f.name(), f.description(), fields.join(", "));
            }
        }
        FormatCmd::Encode { format, fields } => {
            let f = find(format)?;
            let values = f.parse_fields(&pairs(fields)?).map_err(DeskError::from)?;
            println!("{}", f.encode(&values).map_err(DeskError::from)?);
        }
        FormatCmd::Decode { format, bits } => {
            let f = find(format)?;
            let d = f.decode(bits).map_err(DeskError::from)?;
            for (name, value) in &d.fields {
                println!("{name}={value}");
            }
            println!("parity={}", if d.parity_ok { "ok" } else { "bad" });
        }
    }
    Ok(())
}

fn request_cmd(desk: &mut Desk, cli: &Cli, cmd: &RequestCmd) -> CliResult {
    match cmd {
        RequestCmd::List { status, json } => {
            let status: Option<RequestStatus> = match status.as_str() {
                "all" => None,
                s => Some(s.parse().map_err(CliError::Message)?),
            };
            let list = desk.requests(status)?;
            if *json {
                print_json(&list);
            } else {
                for r in list {
                    println!(
                        "{}\t{}\t{}\t{}\t{}",
                        r.id, r.status, r.cardholder_name, r.requester_name, r.reason
                    );
                }
            }
        }
        RequestCmd::Count => println!("{}", desk.pending_count()?),
        RequestCmd::Modify {
            id,
            request,
            notify,
        } => {
            let s = login(desk, cli)?;
            let current = desk.request(*id)?;
            let base = RequestFields {
                reason: current.reason,
                badge_template: current.badge_template,
                notify_requester: current.notify_requester,
                ship_to_site_id: current.ship_to_site_id,
            };
            let fields = request_fields(desk, base, request, *notify)?;
            desk.modify_request(&s, *id, &fields)?;
        }
        RequestCmd::Deny { id, reason } => {
            let s = login(desk, cli)?;
            desk.deny_request(&s, *id, reason.as_deref())?;
        }
        RequestCmd::Assign {
            id,
            format,
            fields,
            credential,
            uid,
        } => {
            let how = match (format, credential, uid) {
                (Some(format), None, None) => ConnectCard::Manual {
                    format: format.clone(),
                    fields: pairs(fields)?,
                },
                (None, Some(c), None) => ConnectCard::Existing { credential_id: *c },
                (None, None, Some(u)) => ConnectCard::Presented { uid: u.clone() },
                _ => {
                    return Err(CliError::Message(
                        "give one of --format F FIELD=VALUE…, --credential ID or --uid HEX".into(),
                    ))
                }
            };
            let s = login(desk, cli)?;
            let done = desk.connect_card(&s, *id, &how)?;
            println!("{}\t{}", done.credential.id, done.credential.label());
        }
        RequestCmd::Enrol(args) => {
            let s = login(desk, cli)?;
            super::reader::enrol(desk, &s, args)?;
        }
        RequestCmd::Close { id } => {
            let s = login(desk, cli)?;
            desk.close_request(&s, *id)?;
        }
        RequestCmd::Print(args) => super::badge::print(desk, cli, args)?,
    }
    Ok(())
}
