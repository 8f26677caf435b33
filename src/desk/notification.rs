//! The e-mail a requester gets when their card request is answered, in their
//! language. Written to the outbox inside the answering transaction.

use crate::domain::RequestStatus;
use crate::store::{self, operators::Operator, requests::CardRequest};
use rusqlite::Connection;

struct Mail {
    subject: String,
    text: String,
}

fn compose(
    conn: &Connection,
    r: &CardRequest,
    handler: &Operator,
    lang: &str,
) -> rusqlite::Result<Mail> {
    let credential = match r.credential_id {
        Some(id) => store::credentials::get(conn, id)?.map(|c| c.label()),
        None => None,
    };
    let credential = credential.unwrap_or_default();
    let who = &r.cardholder_name;
    let by = &handler.name;
    let dutch = lang == "nl";
    let (subject, body) = match (r.status, dutch) {
        (RequestStatus::Completed, false) => (
            format!("Card ready for {who}"),
            format!(
                "The access card for {who} is ready (credential {credential}).\n{}\nHandled by {by}.",
                match &r.ship_to_site {
                    Some(site) => format!("It is being shipped to {site}."),
                    None => "It can be picked up at the security desk.".to_string(),
                }
            ),
        ),
        (RequestStatus::Completed, true) => (
            format!("Kaart klaar voor {who}"),
            format!(
                "De toegangskaart voor {who} is klaar (credential {credential}).\n{}\nBehandeld door {by}.",
                match &r.ship_to_site {
                    Some(site) => format!("Hij wordt verzonden naar {site}."),
                    None => "Hij kan worden opgehaald bij de beveiligingsbalie.".to_string(),
                }
            ),
        ),
        (_, false) => (
            format!("Card request for {who} denied"),
            format!(
                "The card request for {who} was denied.\nReason: {}\nHandled by {by}.",
                r.deny_reason.as_deref().unwrap_or("no reason given")
            ),
        ),
        (_, true) => (
            format!("Kaartaanvraag voor {who} geweigerd"),
            format!(
                "De kaartaanvraag voor {who} is geweigerd.\nReden: {}\nBehandeld door {by}.",
                r.deny_reason.as_deref().unwrap_or("geen reden opgegeven")
            ),
        ),
    };
    Ok(Mail {
        subject,
        text: format!("{body}\n\n-- CardDesk (request #{})\n", r.id),
    })
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Queues the requester's mail if, and only if, they asked for it.
pub(super) fn queue(
    conn: &Connection,
    r: &CardRequest,
    handler: &Operator,
) -> rusqlite::Result<Option<i64>> {
    if !r.notify_requester {
        return Ok(None);
    }
    let Some(requester) = store::operators::get(conn, r.requester_id)? else {
        return Ok(None);
    };
    let Some(to) = requester.email.as_deref() else {
        return Ok(None);
    };
    let mail = compose(conn, r, handler, &requester.language)?;
    let html = format!(
        "<html><body>{}</body></html>",
        mail.text
            .lines()
            .map(|l| format!("<p>{}</p>", html_escape(l)))
            .collect::<String>()
    );
    store::outbox::enqueue(
        conn,
        &store::outbox::NewMessage {
            to_address: to,
            subject: &mail.subject,
            body_text: &mail.text,
            body_html: &html,
            language: &requester.language,
            request_id: Some(r.id),
        },
    )
    .map(Some)
}
