//! Mail server settings and the retry rule for the outbox. Pure: no I/O.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP, no encryption (a local relay or a test server).
    None,
    /// Plain connection upgraded with STARTTLS (required, usually port 587).
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

impl Security {
    pub fn as_str(self) -> &'static str {
        match self {
            Security::None => "none",
            Security::StartTls => "starttls",
            Security::Tls => "tls",
        }
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(Security::None),
            "starttls" => Ok(Security::StartTls),
            "tls" | "ssl" | "smtps" => Ok(Security::Tls),
            other => Err(format!(
                "unknown mail security {other:?} (none, starttls or tls)"
            )),
        }
    }
}

/// A password that never shows in `Debug`, `Display`, logs or the audit trail.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The actual password, for the one place that needs it (SMTP AUTH).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("***")
    }
}

/// The outgoing mail server, as the administrator configured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// User name for AUTH; no AUTH when `None`.
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// The From: address of every mail CardDesk sends.
    pub from: String,
}

impl SmtpSettings {
    /// Checks what can be checked without a network: Ok or the field and why.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        let host = self.host.trim();
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('/') {
            return Err((
                "mail server host",
                format!("{:?} is not a host name or IP address", self.host),
            ));
        }
        if self.port == 0 {
            return Err(("mail server port", "must be 1–65535".into()));
        }
        if !looks_like_address(&self.from) {
            return Err((
                "from address",
                format!("{:?} is not an e-mail address (name@domain)", self.from),
            ));
        }
        match (&self.user, &self.password) {
            (Some(u), _) if u.trim().is_empty() => {
                Err(("mail user", "is empty; leave it out for no AUTH".into()))
            }
            (Some(_), None) => Err(("mail password", "is needed when a user is given".into())),
            (None, Some(_)) => Err(("mail user", "is needed when a password is given".into())),
            _ => Ok(()),
        }
    }
}

/// A cheap shape check (name@domain); the mail library does the full parse.
pub fn looks_like_address(s: &str) -> bool {
    let s = s.trim();
    match s.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
                && !s.contains(['<', '>', ',', ';'])
        }
        None => false,
    }
}

/// First retry after a transient failure; doubles per attempt up to `MAX_DELAY`.
pub const FIRST_DELAY: Duration = Duration::from_secs(30);
/// An offline site may be cut off for days: keep trying at least hourly.
pub const MAX_DELAY: Duration = Duration::from_secs(60 * 60);

/// Delay before the next try after `attempts` failed tries (1 = the first
/// failure): exponential back-off, capped, with "equal jitter": a random
/// point in the upper half of the window, so many desks coming back online do
/// not retry in lock-step. `jitter` is a random number in [0, 1).
pub fn retry_delay(attempts: u32, jitter: f64) -> Duration {
    let exp = attempts.saturating_sub(1).min(20);
    let window = FIRST_DELAY
        .saturating_mul(1u32 << exp)
        .min(MAX_DELAY)
        .as_secs_f64();
    let jitter = jitter.clamp(0.0, 1.0);
    Duration::from_secs_f64(window / 2.0 + window / 2.0 * jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SmtpSettings {
        SmtpSettings {
            host: "mail.site.example".into(),
            port: 587,
            security: Security::StartTls,
            user: Some("desk".into()),
            password: Some(Secret::new("hunter2")),
            from: "carddesk@site.example".into(),
        }
    }

    #[test]
    fn security_parses_the_three_modes_and_names_them_on_error() {
        assert_eq!("none".parse::<Security>(), Ok(Security::None));
        assert_eq!("STARTTLS".parse::<Security>(), Ok(Security::StartTls));
        assert_eq!("tls".parse::<Security>(), Ok(Security::Tls));
        let e = "ssl3".parse::<Security>().unwrap_err();
        assert!(e.contains("none, starttls or tls"), "{e}");
    }

    #[test]
    fn password_never_shows_in_debug_or_json() {
        let s = settings();
        let debug = format!("{s:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        let json = serde_json::to_string(&s).unwrap();
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(s.password.unwrap().expose(), "hunter2");
    }

    #[test]
    fn validation_names_the_bad_field() {
        assert_eq!(settings().validate(), Ok(()));
        let mut s = settings();
        s.from = "carddesk".into();
        assert_eq!(s.validate().unwrap_err().0, "from address");
        let mut s = settings();
        s.host = " ".into();
        assert_eq!(s.validate().unwrap_err().0, "mail server host");
        let mut s = settings();
        s.port = 0;
        assert_eq!(s.validate().unwrap_err().0, "mail server port");
        let mut s = settings();
        s.password = None;
        assert_eq!(s.validate().unwrap_err().0, "mail password");
    }

    #[test]
    fn addresses() {
        assert!(looks_like_address("a.b@site.example"));
        for bad in ["", "a", "@x", "a@", "a b@x", "a@.x", "<a@x>", "a@x,b@y"] {
            assert!(!looks_like_address(bad), "{bad}");
        }
    }

    #[test]
    fn back_off_doubles_with_jitter_and_is_capped() {
        assert_eq!(retry_delay(1, 0.0), Duration::from_secs(15));
        assert_eq!(retry_delay(1, 0.999_999).as_secs(), 29);
        assert_eq!(retry_delay(2, 0.0), Duration::from_secs(30));
        assert_eq!(retry_delay(3, 0.0), Duration::from_secs(60));
        assert_eq!(retry_delay(100, 0.0), MAX_DELAY / 2);
        assert!(retry_delay(100, 0.99) <= MAX_DELAY);
        for n in 1..30 {
            assert!(retry_delay(n + 1, 0.0) >= retry_delay(n, 0.0));
        }
    }
}

/// Where a message in the outbox is. `Sending` is a claim: a sender has
/// started the SMTP conversation and not yet recorded the server's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    Pending,
    Sending,
    Sent,
    Failed,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 4] = [Self::Pending, Self::Sending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| {
                format!("unknown outbox status {s:?} (pending, sending, sent or failed)")
            })
    }
}
