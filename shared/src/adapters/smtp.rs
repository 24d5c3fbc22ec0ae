//! Mail over SMTP (lettre): any relay, Amazon SES's SMTP interface included.
//! Configured by `COC_SMTP_HOST`, `COC_SMTP_PORT`, `COC_SMTP_TLS`
//! (`none|starttls|tls`), `COC_SMTP_USER`, `COC_SMTP_PASSWORD`, `COC_SMTP_FROM`.

use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::ports::{Outbound, SendError, Sender};

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text: only for a relay on the same host or a test server.
    None,
    /// Plain connection upgraded with STARTTLS (port 587); refused without it.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<String>,
    pub from: String,
    /// For connecting, and for each command.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.user)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

pub const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

impl SmtpConfig {
    /// The relay of the environment; `None` when `COC_SMTP_HOST` is not set.
    pub fn from_env() -> Result<Option<Self>, String> {
        let setting = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let Some(host) = setting("COC_SMTP_HOST") else { return Ok(None) };
        let tls = match setting("COC_SMTP_TLS").as_deref() {
            None | Some("starttls") => SmtpTls::StartTls,
            Some("tls") => SmtpTls::Tls,
            Some("none") => SmtpTls::None,
            Some(other) => return Err(format!("COC_SMTP_TLS: `{other}` is not none, starttls or tls")),
        };
        let default_port = match tls {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        };
        let port = match setting("COC_SMTP_PORT") {
            None => default_port,
            Some(port) => port.parse().map_err(|_| format!("COC_SMTP_PORT: not a port: {port}"))?,
        };
        let from = setting("COC_SMTP_FROM").ok_or("COC_SMTP_FROM must be set with COC_SMTP_HOST")?;
        let config = SmtpConfig {
            host,
            port,
            tls,
            user: setting("COC_SMTP_USER"),
            password: setting("COC_SMTP_PASSWORD"),
            from,
            timeout: SMTP_TIMEOUT,
        };
        // Fail at start, not at the first mail.
        SmtpSender::new(&config)?;
        Ok(Some(config))
    }
}

/// Sends each message as a plain-text mail: the subject, then the text and the link.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpSender {
    pub fn new(config: &SmtpConfig) -> Result<Self, String> {
        let from: Mailbox = config.from.parse().map_err(|e| format!("COC_SMTP_FROM: {e}"))?;
        let builder = match config.tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)
                .map_err(|e| format!("COC_SMTP_HOST: {e}"))?,
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host).map_err(|e| format!("COC_SMTP_HOST: {e}"))?
            }
        };
        let mut builder = builder.port(config.port).timeout(Some(config.timeout));
        if let Some(user) = &config.user {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        Ok(SmtpSender { transport: builder.build(), from })
    }
}

#[async_trait]
impl Sender for SmtpSender {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError> {
        let to: Mailbox =
            outbound.address.parse().map_err(|e| SendError::permanent(format!("not a mail address: {e}")))?;
        let mail = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(outbound.message.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(outbound.message.mail_body())
            .map_err(|e| SendError::permanent(format!("cannot build the mail: {e}")))?;
        match self.transport.send(mail).await {
            Ok(_) => Ok(()),
            // A 5xx answer (unknown mailbox, refused sender) will not change.
            Err(err) if err.is_permanent() => Err(SendError::permanent(format!("SMTP: {err}"))),
            Err(err) => Err(SendError::transient(format!("SMTP: {err}"))),
        }
    }
}
