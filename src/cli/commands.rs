use super::login::{login, read_secret, CliError, CliResult};
use super::reader::ReaderCmd;
use super::*;
use crate::desk::{
    builtin_formats, CardFormat, ConnectCard, CredentialState, Desk, DeskError, FormatError,
    OutboxStatus, Page, RequestFields, RequestStatus, Session,
};
use std::io::{IsTerminal, Write};

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

/// Prints a page of a list: JSON, or one tab-separated line per row.
fn print_list<T: serde::Serialize>(page: &Page<T>, json: bool, line: impl Fn(&T) -> String) {
    note_more(page);
    if json {
        print_json(&page.items);
    } else {
        for item in &page.items {
            println!("{}", line(item));
        }
    }
}

/// Tells (on stderr, so scripts reading stdout are undisturbed) that a list
/// goes on beyond the page printed.
fn note_more<T>(page: &Page<T>) {
    if page.has_more() {
        eprintln!(
            "rows {}–{} of {}; --offset {} for more",
            page.offset + 1,
            page.offset + page.items.len(),
            page.total,
            page.offset + page.items.len()
        );
    }
}

fn request_fields(
    desk: &Desk,
    s: &Session,
    base: RequestFields,
    o: &RequestOptions,
    notify: Option<bool>,
) -> CliResult<RequestFields> {
    let ship_to_site_id = match o.ship_to.as_deref() {
        None => base.ship_to_site_id,
        Some("") => None,
        Some(name) => Some(desk.site_by_name(s, name)?.id),
    };
    Ok(RequestFields {
        reason: o.reason.clone().unwrap_or(base.reason),
        badge_template: o.template.clone().unwrap_or(base.badge_template),
        notify_requester: notify.unwrap_or(base.notify_requester),
        ship_to_site_id,
    })
}

/// Opens the database; with `--demo`, only a demo database (a new one
/// becomes one). Warns about files others can read.
fn open(db: &std::path::Path, cli: &Cli) -> CliResult<Desk> {
    let mut desk = Desk::open(db)?;
    if cli.demo {
        desk.check_demo_allowed()?;
    }
    for warning in crate::desk::files::loose_permissions(db) {
        eprintln!("warning: {warning}");
    }
    Ok(desk)
}

pub fn run(cli: Cli) -> CliResult {
    super::login::read_password_fd(&cli)?;
    // --demo without --db is the demo's own database, never the site's
    // (as in the window).
    let db = cli.db.clone().unwrap_or_else(|| {
        if cli.demo {
            crate::desk::paths::demo_db_path()
        } else {
            crate::desk::paths::default_db_path()
        }
    });
    let Some(command) = &cli.command else {
        return Err(CliError::Message(
            "no command given (without one, carddesk opens the window)".into(),
        ));
    };
    // Formats need no database unless one exists (for custom formats) or
    // one is being added.
    if let Command::Format(cmd) = command {
        if let FormatCmd::Known = cmd {
            for f in crate::domain::known_formats() {
                println!("{}\t{}", f.name(), f.description());
            }
            return Ok(());
        }
        if !db.exists() && !matches!(cmd, FormatCmd::Add { .. } | FormatCmd::AddKnown { .. }) {
            return format_cmd(&builtin_formats(), cmd);
        }
        let mut desk = open(&db, &cli)?;
        let s = login(&desk, &cli)?;
        if let FormatCmd::Add { file } = cmd {
            let json = std::fs::read_to_string(file).map_err(|source| CliError::File {
                path: file.display().to_string(),
                source,
            })?;
            let name = desk.add_card_format(&s, &json)?;
            println!("added card format {name}");
            return Ok(());
        }
        if let FormatCmd::AddKnown { name } = cmd {
            let name = desk.add_known_format(&s, name)?;
            println!("added card format {name}");
            return Ok(());
        }
        return format_cmd(&desk.card_formats(&s)?, cmd);
    }
    if let Command::Doctor { json } = command {
        return super::doctor::run(&db, &cli, *json);
    }
    if let Command::Restore { file } = command {
        let name = cli.operator.as_deref().ok_or_else(|| {
            CliError::Message(
                "restoring needs an operator with the manage_database privilege: give --operator NAME".into(),
            )
        })?;
        let password = super::login::login_password(&cli, name)?;
        let kept = crate::desk::restore(&db, file, name, &password)?;
        println!(
            "restored {} from {}; the previous database is kept as {}",
            db.display(),
            file.display(),
            kept.display()
        );
        return Ok(());
    }
    if let Command::Reader(cmd) = command {
        if matches!(cmd, ReaderCmd::List) && !db.exists() {
            return super::reader::list(None);
        }
        let mut desk = open(&db, &cli)?;
        let s = login(&desk, &cli)?;
        return match cmd {
            ReaderCmd::List => super::reader::list(Some((&desk, &s))),
            _ => super::reader::manage(&mut desk, &s, cmd),
        };
    }
    // Listing printers needs no database.
    if let Command::Printer(super::badge::PrinterCmd::List) = command {
        return super::badge::printer_list(&cli);
    }
    let mut desk = open(&db, &cli)?;
    if let Command::Demo(DemoCmd::Generate {
        cardholders,
        credentials,
        requests,
        pending,
        photos,
    }) = command
    {
        if !cli.demo {
            return Err(CliError::Message(
                "demo generate works on a demo database: add --demo".into(),
            ));
        }
        let (name, password) = crate::desk::DEMO_OPERATOR;
        if !desk.has_operators()? {
            desk.init_admin(name, Some("demo@carddesk.example"), password)?;
        }
        let s = match cli.operator {
            Some(_) => login(&desk, &cli)?,
            None => desk.login(name, password)?,
        };
        let started = std::time::Instant::now();
        let now = desk.generate_demo(
            &s,
            &crate::desk::ScaleSpec {
                cardholders: *cardholders,
                credentials: *credentials,
                requests: *requests,
                pending: *pending,
                photos: *photos,
            },
        )?;
        println!(
            "{} cardholders, {} credentials, {} answered and {} pending requests ({:.1} s)",
            now.cardholders,
            now.credentials,
            now.requests,
            now.pending,
            started.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    let out = std::io::stdout();
    match command {
        Command::Format(_)
        | Command::Reader(_)
        | Command::Restore { .. }
        | Command::Demo(_)
        | Command::Doctor { .. } => {
            unreachable!("handled above")
        }
        Command::MigrateTo { target } => {
            let s = login(&desk, &cli)?;
            let target = crate::desk::paths::locate(target).map_err(CliError::Message)?;
            let m = desk.migrate_to(&s, &target)?;
            for (table, n) in &m.rows {
                println!("{table:<22} {n:>9} rows");
            }
            println!(
                "copied to {}: row counts equal, audit trail intact ({} events); \
                 from now on start CardDesk with --db {}",
                m.target, m.audit_events, m.target
            );
        }
        Command::Backup { file, with_keys } => {
            let s = login(&desk, &cli)?;
            desk.backup(&s, file, *with_keys)?;
            println!("backed up {} to {}", db.display(), file.display());
            if *with_keys {
                println!(
                    "site keys written to {}.keys: keep them apart from the backup",
                    file.display()
                );
            }
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
                match cli.password_fd {
                    Some(_) => super::login::login_password(&cli, admin)?,
                    None => read_secret("", "CARDDESK_PASSWORD")?,
                }
            };
            desk.init_admin(admin, email.as_deref(), &password)?;
            println!("initialised {} with administrator {admin}", db.display());
        }
        Command::Operator(cmd) => super::operators::run(&mut desk, &cli, cmd)?,
        Command::Site(SiteCmd::Add { name }) => {
            let s = login(&desk, &cli)?;
            println!("{}", desk.add_site(&s, name)?);
        }
        Command::Site(SiteCmd::List) => {
            let s = login(&desk, &cli)?;
            for site in desk.sites(&s)? {
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
                Some(request_fields(&desk, &s, base, request, Some(*notify))?)
            } else {
                None
            };
            let (id, request_id) = desk.create_cardholder(&s, &input, fields.as_ref())?;
            println!("{id}");
            if let Some(r) = request_id {
                eprintln!("card request {r} raised");
            }
        }
        Command::Cardholder(CardholderCmd::List { search, json, page }) => {
            let s = login(&desk, &cli)?;
            let list = desk.cardholders(&s, search, page.page())?;
            print_list(&list, *json, |c| {
                format!(
                    "{}\t{}\t{}\t{}",
                    c.id,
                    c.full_name(),
                    c.email.as_deref().unwrap_or_default(),
                    c.department.as_deref().unwrap_or_default()
                )
            });
        }
        Command::Request(cmd) => request_cmd(&mut desk, &cli, cmd)?,
        Command::Mail(cmd) => super::mail::run(&mut desk, &cli, cmd)?,
        Command::Badge(cmd) => super::badge::badge(&mut desk, &cli, cmd)?,
        Command::Printer(cmd) => super::badge::printer_cmd(&mut desk, &cli, cmd)?,
        Command::Temp(cmd) => super::temp::run(&mut desk, &cli, cmd)?,
        Command::Credential(
            cmd @ (CredentialCmd::SetState { .. }
            | CredentialCmd::Return { .. }
            | CredentialCmd::ExpireDue),
        ) => super::records::credential_cmd(&mut desk, &cli, cmd)?,
        Command::Cardholder(cmd @ (CardholderCmd::Show { .. } | CardholderCmd::Modify { .. })) => {
            super::records::cardholder_cmd(&mut desk, &cli, cmd)?
        }
        Command::Credential(CredentialCmd::List {
            state,
            search,
            json,
            page,
        }) => {
            let s = login(&desk, &cli)?;
            let state: Option<CredentialState> = state
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(CliError::Message)?;
            let list = desk.credentials(&s, state, search, page.page())?;
            print_list(&list, *json, |c| {
                format!(
                    "{}\t{}\t{}\t{}",
                    c.id,
                    c.label(),
                    c.state,
                    c.holder_name.as_deref().unwrap_or_default()
                )
            });
        }
        Command::Import(ImportCmd::Cardholders { file, skip_bad }) => {
            let s = login(&desk, &cli)?;
            let f = std::fs::File::open(file).map_err(|source| CliError::File {
                path: file.display().to_string(),
                source,
            })?;
            let report = desk.import_cardholders(&s, f, file.parent(), *skip_bad)?;
            for line in &report.skipped {
                eprintln!("skipped {line}");
            }
            println!("imported {} cardholder(s)", report.imported);
            if report.requested > 0 {
                println!("raised {} card request(s)", report.requested);
            }
        }
        Command::Audit(AuditCmd::Verify) => {
            let s = login(&desk, &cli)?;
            println!("audit trail intact: {} events", desk.verify_audit(&s)?);
        }
        Command::Audit(AuditCmd::Export { since }) => {
            let s = login(&desk, &cli)?;
            let mut next = match since.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    let at = parse_since(since)?;
                    desk.audit_event_at(&s, &at)?
                }
            };
            let mut lock = out.lock();
            while let Some(from) = next {
                let (lines, more) = desk.export_audit(&s, from, crate::desk::MAX_PAGE)?;
                for line in lines {
                    let _ = writeln!(lock, "{line}");
                }
                next = more;
            }
        }
        Command::Audit(AuditCmd::ReAnchor) => {
            let s = login(&desk, &cli)?;
            let n = desk.reanchor_audit(&s)?;
            println!("audit trail re-anchored at its newest event ({n} events)");
        }
        Command::Audit(AuditCmd::ExportKey) => {
            let s = login(&desk, &cli)?;
            println!("{}", desk.audit_export_key(&s)?);
        }
        Command::Audit(AuditCmd::List { limit, offset }) => {
            let s = login(&desk, &cli)?;
            let page = crate::desk::PageRequest {
                offset: *offset,
                limit: *limit,
            };
            let events = desk.audit_events(&s, page)?;
            note_more(&events);
            let mut lock = out.lock();
            for e in events.items {
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
        Command::Outbox(OutboxCmd::List { status, json, page }) => {
            let s = login(&desk, &cli)?;
            let status: Option<OutboxStatus> = status
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(CliError::Message)?;
            let list = desk.outbox(&s, status, page.page())?;
            print_list(&list, *json, |m| {
                format!("{}\t{}\t{}\t{}", m.id, m.status, m.to_address, m.subject)
            });
        }
    }
    Ok(())
}

fn format_cmd(formats: &[CardFormat], cmd: &FormatCmd) -> CliResult {
    let find = |name: &str| {
        formats
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| DeskError::from(FormatError::UnknownFormat(name.into())))
    };
    match cmd {
        FormatCmd::Add { .. } | FormatCmd::AddKnown { .. } | FormatCmd::Known => {
            unreachable!("handled with the database")
        }
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
        RequestCmd::List { status, json, page } => {
            let status: Option<RequestStatus> = match status.as_str() {
                "all" => None,
                s => Some(s.parse().map_err(CliError::Message)?),
            };
            let s = login(desk, cli)?;
            let list = desk.requests(&s, status, page.page())?;
            print_list(&list, *json, |r| {
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    r.id, r.status, r.cardholder_name, r.requester_name, r.reason
                )
            });
        }
        RequestCmd::Count => {
            let s = login(desk, cli)?;
            println!("{}", desk.pending_count(&s)?);
        }
        RequestCmd::Add {
            cardholder,
            request,
            notify,
        } => {
            let s = login(desk, cli)?;
            let base = RequestFields {
                badge_template: "Standard".into(),
                ..Default::default()
            };
            let fields = request_fields(desk, &s, base, request, Some(*notify))?;
            println!("{}", desk.request_card(&s, *cardholder, &fields)?);
        }
        RequestCmd::Modify {
            id,
            request,
            notify,
        } => {
            let s = login(desk, cli)?;
            let current = desk.request(&s, *id)?;
            let base = RequestFields {
                reason: current.reason,
                badge_template: current.badge_template,
                notify_requester: current.notify_requester,
                ship_to_site_id: current.ship_to_site_id,
            };
            let fields = request_fields(desk, &s, base, request, *notify)?;
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
        RequestCmd::Close { id, shipped } => {
            let s = login(desk, cli)?;
            let shipping: Vec<(i64, String)> =
                shipped.iter().map(|note| (*id, note.clone())).collect();
            desk.close_requests_shipped(&s, &[*id], &shipping)?;
        }
        RequestCmd::Print(args) => super::badge::print(desk, cli, args)?,
    }
    Ok(())
}

/// `--since` as the stored timestamps' form: a date (midnight UTC) or an
/// RFC 3339 time.
fn parse_since(text: &str) -> CliResult<String> {
    let t = text.trim();
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(format!("{d}T00:00:00.000Z"));
    }
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|d| {
            d.with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .map_err(|_| {
            CliError::Message(format!(
                "--since {t:?}: give an event number, a date (2026-12-01) or an RFC 3339 time"
            ))
        })
}
