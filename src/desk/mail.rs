//! Mail administration: the mail server settings, a test message, and
//! resending mail that failed. Sending itself is the outbox sender's
//! (`desk::outbox`, over the `devices::mailer` transport); these actions
//! only write the database.

use super::keys::{Purpose, SiteKeys};
use super::{Desk, DeskError, DeskResult, Session};
use crate::domain::mail::looks_like_address;
use crate::domain::{Privilege, Secret, SmtpSettings};
use crate::store::{self, outbox::OutboxMessage};

/// Subject of the "send test message" mail.
pub const TEST_SUBJECT: &str = "CardDesk test message";

/// The mail server settings with the password unsealed (for sending).
pub(super) fn smtp_settings(
    conn: &crate::store::Connection,
    keys: &SiteKeys,
) -> DeskResult<Option<SmtpSettings>> {
    let Some(mut settings) = store::settings::smtp(conn)? else {
        return Ok(None);
    };
    if let Some(sealed) = settings.password.take() {
        settings.password = Some(Secret::new(
            keys.open_text(Purpose::SmtpPassword, sealed.expose())?,
        ));
    }
    Ok(Some(settings))
}

impl Desk {
    /// The configured mail server (the password is inside a `Secret`).
    pub fn mail_settings(&self, s: &Session) -> DeskResult<Option<SmtpSettings>> {
        self.require(s, Privilege::ManageSettings, "see the mail settings")?;
        smtp_settings(&self.conn, &self.keys)
    }

    /// Stores the mail server settings. The audit trail records the change
    /// with the password shown as `***`.
    pub fn configure_mail(&mut self, s: &Session, settings: &SmtpSettings) -> DeskResult<()> {
        self.require(s, Privilege::ManageSettings, "change the mail settings")?;
        settings
            .validate()
            .map_err(|(field, reason)| DeskError::invalid(field, reason))?;
        let tx = self.begin()?;
        let before = store::settings::smtp(&tx)?;
        let mut sealed = settings.clone();
        sealed.password = settings
            .password
            .as_ref()
            .map(|p| Secret::new(tx.keys().seal(Purpose::SmtpPassword, p.expose().as_bytes())));
        store::settings::set_smtp(&tx, &sealed)?;
        tx.record(
            &s.operator().name,
            "settings.mail",
            "setting",
            None,
            before.as_ref().map(super::snapshot).as_ref(),
            Some(&super::snapshot(settings)),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Queues a test message to `to`; the mailer sends it like any other
    /// mail (the CLI sends it at once and reports the result). Returns the
    /// outbox id.
    pub fn queue_test_mail(&mut self, s: &Session, to: &str) -> DeskResult<i64> {
        self.require(s, Privilege::ManageSettings, "send a test message")?;
        let to = to.trim();
        if !looks_like_address(to) {
            return Err(DeskError::invalid(
                "test message address",
                format!("{to:?} is not an e-mail address (name@domain)"),
            ));
        }
        let server = store::settings::smtp(&self.conn)?
            .map(|c| format!("{}:{} ({})", c.host, c.port, c.security))
            .unwrap_or_else(|| "(not configured yet)".into());
        let text = format!(
            "This is a test message from CardDesk, sent by {} through {server}.\n\
             If you can read it, e-mail from CardDesk works.\n",
            s.operator().name
        );
        let html = format!(
            "<html><body><p>This is a test message from CardDesk, sent by <b>{}</b> through \
             {}.</p><p>If you can read it, e-mail from CardDesk works.</p></body></html>",
            super::notification::html_escape(&s.operator().name),
            super::notification::html_escape(&server)
        );
        let tx = self.begin()?;
        let id = store::outbox::enqueue(
            &tx,
            &store::outbox::NewMessage {
                to_address: to,
                subject: TEST_SUBJECT,
                body_text: &text,
                body_html: &html,
                language: &s.operator().language,
                request_id: None,
            },
        )?;
        tx.record(
            &s.operator().name,
            "mail.test",
            "outbox",
            Some(id),
            None,
            Some(&serde_json::json!({ "to": to })),
        )?;
        tx.commit()?;
        Ok(id)
    }

    /// Puts a failed (or waiting) message back in the queue, due now,
    /// optionally to a corrected address.
    pub fn retry_mail(
        &mut self,
        s: &Session,
        id: i64,
        new_address: Option<&str>,
    ) -> DeskResult<()> {
        self.require(s, Privilege::AnswerRequests, "resend mail")?;
        // Re-addressing mail means reading it: the outbox privilege too.
        self.require(s, Privilege::ViewOutbox, "retry mail")?;
        let new_address = new_address.map(str::trim);
        if let Some(a) = new_address.filter(|a| !looks_like_address(a)) {
            return Err(DeskError::invalid(
                "new address",
                format!("{a:?} is not an e-mail address (name@domain)"),
            ));
        }
        let tx = self.begin()?;
        let before = store::outbox::get(&tx, id)?.ok_or(DeskError::NotFound {
            what: "mail",
            id: id.to_string(),
        })?;
        match before.status.as_str() {
            "pending" | "failed" => {}
            "sent" => {
                return Err(DeskError::invalid(
                    "mail",
                    format!(
                    "message {id} was already accepted by the mail server at {}; nothing to resend",
                    before.sent_at.as_deref().unwrap_or("?")
                ),
                ))
            }
            _ => {
                return Err(DeskError::invalid(
                    "mail",
                    format!("message {id} is being sent right now; wait for the result"),
                ))
            }
        }
        store::outbox::requeue(&tx, id, new_address, &store::now())?;
        let after = store::outbox::get(&tx, id)?.expect("exists");
        let brief = |m: &OutboxMessage| {
            serde_json::json!({
                "to": m.to_address, "status": m.status, "attempts": m.attempts,
                "last_error": m.last_error, "message_id": m.message_id,
            })
        };
        tx.record(
            &s.operator().name,
            "mail.retry",
            "outbox",
            Some(id),
            Some(&brief(&before)),
            Some(&brief(&after)),
        )?;
        tx.commit()?;
        Ok(())
    }
}
