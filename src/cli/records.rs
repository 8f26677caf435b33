//! `carddesk credential set-state | return | expire-due` and `carddesk
//! cardholder show | modify`: a card's life after issue, and the record an
//! operator works from.

use super::login::{login, CliError, CliResult};
use super::{CardholderCmd, Cli, CredentialCmd};
use crate::desk::{CardholderInput, CredentialAction, Desk};

pub(super) fn credential_cmd(desk: &mut Desk, cli: &Cli, cmd: &CredentialCmd) -> CliResult {
    let s = login(desk, cli)?;
    match cmd {
        CredentialCmd::SetState {
            id,
            state,
            reason,
            request_replacement,
        } => {
            let action: CredentialAction = state.parse().map_err(CliError::Message)?;
            if action == CredentialAction::Return {
                return Err(CliError::Message(
                    "a returned card goes back to stock with `carddesk credential return ID`"
                        .into(),
                ));
            }
            let done = desk.change_credential_state(
                &s,
                *id,
                action,
                reason.as_deref(),
                *request_replacement,
            )?;
            println!("{}\t{}", done.credential.label(), done.credential.state);
            if let Some(r) = done.replacement_request {
                println!("replacement request {r}");
            }
        }
        CredentialCmd::Return { id } => {
            let done =
                desk.change_credential_state(&s, *id, CredentialAction::Return, None, false)?;
            println!("{}\t{}", done.credential.label(), done.credential.state);
        }
        CredentialCmd::ExpireDue => {
            let expired = desk.expire_due_credentials(&s)?;
            for c in &expired {
                println!(
                    "{}\t{}\t{}",
                    c.id,
                    c.label(),
                    c.holder_name.as_deref().unwrap_or_default()
                );
            }
            eprintln!("{} credential(s) expired", expired.len());
        }
        CredentialCmd::List { .. } => unreachable!("listed in commands"),
    }
    Ok(())
}

pub(super) fn cardholder_cmd(desk: &mut Desk, cli: &Cli, cmd: &CardholderCmd) -> CliResult {
    let s = login(desk, cli)?;
    match cmd {
        CardholderCmd::Show { id, json } => {
            let r = desk.cardholder_record(&s, *id)?;
            if *json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&r).expect("records serialise")
                );
                return Ok(());
            }
            let c = &r.cardholder;
            println!("{}\t{}", c.id, c.full_name());
            for (label, value) in [
                ("e-mail", c.email.as_deref()),
                ("department", c.department.as_deref()),
                ("activation", c.activation.as_deref()),
                ("expiry", c.expiry.as_deref()),
            ] {
                println!("{label}\t{}", value.unwrap_or("-"));
            }
            println!("photo\t{}", if r.photo.is_some() { "yes" } else { "no" });
            for cred in &r.credentials {
                println!("credential\t{}\t{}\t{}", cred.id, cred.label(), cred.state);
            }
            for card in &r.temp_cards {
                println!(
                    "temporary card\t{}\t#{}\t{}",
                    card.id, card.card_number, card.state
                );
            }
            for req in &r.requests {
                println!(
                    "request\t{}\t{}\t{}\t{}",
                    req.id,
                    req.status,
                    req.reason,
                    match (&req.answered_by_name, &req.answered_at) {
                        (Some(by), Some(at)) => format!("{by} at {at}"),
                        _ => "-".into(),
                    }
                );
            }
            for e in &r.events {
                println!("event\t{}\t{}\t{}\t{}", e.id, e.at, e.actor, e.action);
            }
        }
        CardholderCmd::Modify {
            id,
            first,
            last,
            email,
            department,
            site,
            photo,
            activation,
            expiry,
        } => {
            let current = desk.cardholder_record(&s, *id)?.cardholder;
            let site_name = match (site, current.site_id) {
                (Some(name), _) => Some(name.clone()),
                (None, Some(site_id)) => desk
                    .sites(&s)?
                    .into_iter()
                    .find(|x| x.id == site_id)
                    .map(|x| x.name),
                (None, None) => None,
            };
            let keep = |new: &Option<String>, old: &Option<String>| new.clone().or(old.clone());
            let input = CardholderInput {
                first_name: first.clone().unwrap_or(current.first_name),
                last_name: last.clone().unwrap_or(current.last_name),
                email: keep(email, &current.email),
                department: keep(department, &current.department),
                photo: photo.as_deref().map(crate::desk::read_photo).transpose()?,
                site: site_name,
                activation: keep(activation, &current.activation),
                expiry: keep(expiry, &current.expiry),
            };
            let after = desk.update_cardholder(&s, *id, &input)?;
            println!("{}\t{}", after.id, after.full_name());
        }
        CardholderCmd::Add { .. } | CardholderCmd::List { .. } => {
            unreachable!("handled in commands")
        }
    }
    Ok(())
}
