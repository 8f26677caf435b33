//! The e-mail a requester gets when their card request is answered, in their
//! language (English or Dutch), as plain text and HTML. Written to the outbox
//! inside the answering transaction; the mailer sends it later.

use crate::domain::RequestStatus;
use crate::store::Connection;
use crate::store::{self, operators::Operator, requests::CardRequest};

/// A composed mail: subject, plain text and HTML saying the same thing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The words of one language.
struct Words {
    hello: &'static str,
    ready_subject: &'static str,
    ready_intro: &'static str,
    denied_subject: &'static str,
    denied_intro: &'static str,
    cardholder: &'static str,
    credential: &'static str,
    collect: &'static str,
    pick_up: &'static str,
    shipped_to: &'static str,
    sent_by: &'static str,
    reason: &'static str,
    no_reason: &'static str,
    handled_by: &'static str,
    answered_at: &'static str,
    request: &'static str,
    your_note: &'static str,
    footer: &'static str,
}

const EN: Words = Words {
    hello: "Hello",
    ready_subject: "Card ready for {who}",
    ready_intro: "The access card you requested is ready.",
    denied_subject: "Card request for {who} denied",
    denied_intro: "Your card request was denied.",
    cardholder: "Cardholder",
    credential: "Credential",
    collect: "Collection",
    pick_up: "Pick it up at the security desk.",
    shipped_to: "It is being shipped to site",
    sent_by: "Sent",
    reason: "Reason",
    no_reason: "no reason given",
    handled_by: "Handled by",
    answered_at: "Answered at",
    request: "Card request",
    your_note: "Your note",
    footer: "You get this mail because you asked to be e-mailed when the card is ready.",
};

const NL: Words = Words {
    hello: "Beste",
    ready_subject: "Kaart klaar voor {who}",
    ready_intro: "De toegangskaart die u hebt aangevraagd is klaar.",
    denied_subject: "Kaartaanvraag voor {who} geweigerd",
    denied_intro: "Uw kaartaanvraag is geweigerd.",
    cardholder: "Kaarthouder",
    credential: "Kaart",
    collect: "Ophalen",
    pick_up: "Op te halen bij de beveiligingsbalie.",
    shipped_to: "Wordt verzonden naar locatie",
    sent_by: "Verzonden",
    reason: "Reden",
    no_reason: "geen reden opgegeven",
    handled_by: "Behandeld door",
    answered_at: "Beantwoord op",
    request: "Kaartaanvraag",
    your_note: "Uw opmerking",
    footer: "U krijgt deze mail omdat u hebt gevraagd een e-mail te krijgen als de kaart klaar is.",
};

pub(super) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Composes the mail for an answered request (completed or denied).
pub(super) fn compose(
    conn: &Connection,
    r: &CardRequest,
    requester: &Operator,
    handler: &Operator,
) -> crate::store::Result<Mail> {
    let w = if requester.language == "nl" { &NL } else { &EN };
    let who = &r.cardholder_name;
    let mut facts: Vec<(&str, String)> = vec![(w.cardholder, who.clone())];
    let (subject, intro) = match r.status {
        RequestStatus::Completed => {
            let credential = match r.credential_id {
                Some(id) => store::credentials::get(conn, id)?.map(|c| c.label()),
                None => None,
            };
            if let Some(c) = credential {
                facts.push((w.credential, c));
            }
            facts.push((
                w.collect,
                match &r.ship_to_site {
                    Some(site) => format!("{} {site}.", w.shipped_to),
                    None => w.pick_up.to_string(),
                },
            ));
            if let Some(note) = &r.shipping_note {
                facts.push((w.sent_by, note.clone()));
            }
            (w.ready_subject.replace("{who}", who), w.ready_intro)
        }
        _ => {
            facts.push((
                w.reason,
                r.deny_reason.clone().unwrap_or_else(|| w.no_reason.into()),
            ));
            (w.denied_subject.replace("{who}", who), w.denied_intro)
        }
    };
    facts.push((w.handled_by, handler.name.clone()));
    if let Some(at) = &r.answered_at {
        facts.push((w.answered_at, at.clone()));
    }
    facts.push((w.request, format!("#{}", r.id)));
    if !r.reason.trim().is_empty() {
        facts.push((w.your_note, r.reason.clone()));
    }

    let mut text = format!("{} {},\n\n{intro}\n\n", w.hello, requester.name);
    for (k, v) in &facts {
        text.push_str(&format!("{k}: {v}\n"));
    }
    text.push_str(&format!("\n-- \nCardDesk\n{}\n", w.footer));

    let rows: String = facts
        .iter()
        .map(|(k, v)| {
            format!(
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><p>{hello} {name},</p><p>{intro}</p><table>{rows}</table>\
         <p style=\"color:#666\">CardDesk &mdash; {footer}</p></body></html>",
        lang = if requester.language == "nl" { "nl" } else { "en" },
        title = html_escape(&subject),
        hello = w.hello,
        name = html_escape(&requester.name),
        intro = html_escape(intro),
        footer = html_escape(w.footer),
    );
    Ok(Mail {
        subject,
        text,
        html,
    })
}

/// Queues the requester's mail if, and only if, they asked for it.
pub(super) fn queue(
    conn: &Connection,
    r: &CardRequest,
    handler: &Operator,
) -> crate::store::Result<Option<i64>> {
    if !r.notify_requester {
        return Ok(None);
    }
    let Some(requester) = store::operators::get(conn, r.requester_id)? else {
        return Ok(None);
    };
    let Some(to) = requester.email.as_deref() else {
        return Ok(None);
    };
    let mail = compose(conn, r, &requester, handler)?;
    store::outbox::enqueue(
        conn,
        &store::outbox::NewMessage {
            to_address: to,
            subject: &mail.subject,
            body_text: &mail.text,
            body_html: &mail.html,
            language: &requester.language,
            request_id: Some(r.id),
        },
    )
    .map(Some)
}
