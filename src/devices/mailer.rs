//! The mail device: an SMTP transport (lettre, rustls) and a simulated one
//! for `--demo`. It delivers one message and says whether the server
//! accepted it; the outbox state machine that decides what to send and
//! records the outcome is desk's (`desk::outbox`).

use crate::domain::{Security, SmtpSettings};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::path::PathBuf;
use std::time::Duration;

/// How long one SMTP command may take before the attempt counts as failed.
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a message was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: 4xx, server unreachable, timeout, TLS failure.
    Transient(String),
    /// Do not retry: 5xx, or an impossible address.
    Permanent(String),
}

/// The one thing a mail device does. The real one speaks SMTP; `--demo`
/// uses [`SimulatedMailer`].
pub trait MailTransport: Send + Sync {
    /// Shown to the operator, e.g. "SMTP" or "simulated (demo): no mail leaves this computer".
    fn describe(&self) -> String;
    /// Whether sending needs configured SMTP settings.
    fn needs_settings(&self) -> bool {
        true
    }
    /// Delivers one message; Ok only when the server has accepted it.
    fn send(&self, settings: Option<&SmtpSettings>, message: &Message) -> Result<(), SendError>;
}

/// Real SMTP through lettre (rustls; STARTTLS, implicit TLS or plain).
#[derive(Debug, Default, Clone, Copy)]
pub struct SmtpMailer;

impl SmtpMailer {
    fn transport(s: &SmtpSettings) -> Result<SmtpTransport, SendError> {
        let host = s.host.trim();
        let tls_setup = |e: lettre::transport::smtp::Error| {
            SendError::Transient(format!("cannot set up TLS for {host}: {e}"))
        };
        let builder = match s.security {
            Security::None => SmtpTransport::builder_dangerous(host),
            Security::StartTls => SmtpTransport::starttls_relay(host).map_err(tls_setup)?,
            Security::Tls => SmtpTransport::relay(host).map_err(tls_setup)?,
        };
        let mut builder = builder.port(s.port).timeout(Some(SMTP_TIMEOUT));
        if let (Some(user), Some(password)) = (&s.user, &s.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        Ok(builder.build())
    }
}

impl MailTransport for SmtpMailer {
    fn describe(&self) -> String {
        "SMTP".into()
    }

    fn send(&self, settings: Option<&SmtpSettings>, message: &Message) -> Result<(), SendError> {
        let s = settings.ok_or_else(|| SendError::Transient(NOT_CONFIGURED.into()))?;
        let server = format!("{}:{} ({})", s.host.trim(), s.port, s.security);
        Self::transport(s)?.send(message).map(|_| ()).map_err(|e| {
            // lettre's Display never includes the credentials.
            let text = format!("mail server {server}: {e}");
            if e.is_permanent() {
                SendError::Permanent(text)
            } else {
                SendError::Transient(text)
            }
        })
    }
}

/// For `--demo`: "delivers" by writing each message as an .eml file into a
/// local folder and logging it. Nothing leaves the computer.
#[derive(Debug, Clone)]
pub struct SimulatedMailer {
    pub dir: PathBuf,
}

impl SimulatedMailer {
    pub fn new(dir: impl Into<PathBuf>) -> SimulatedMailer {
        SimulatedMailer { dir: dir.into() }
    }
}

impl MailTransport for SimulatedMailer {
    fn describe(&self) -> String {
        format!(
            "simulated (demo): mail is written to {} and never sent",
            self.dir.display()
        )
    }

    fn needs_settings(&self) -> bool {
        false
    }

    fn send(&self, _: Option<&SmtpSettings>, message: &Message) -> Result<(), SendError> {
        let id = message
            .headers()
            .get_raw("Message-ID")
            .unwrap_or("no-id")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '@'))
            .collect::<String>();
        let path = self.dir.join(format!("SIMULATED-{id}.eml"));
        std::fs::create_dir_all(&self.dir)
            .and_then(|_| std::fs::write(&path, message.formatted()))
            .map_err(|e| SendError::Transient(format!("simulated mailer: {e}")))?;
        tracing::info!("SIMULATED mail (demo, not sent): {}", path.display());
        Ok(())
    }
}

pub const NOT_CONFIGURED: &str =
    "no mail server configured (carddesk mail configure, or Settings → Mail)";
