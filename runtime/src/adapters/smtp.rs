//! Mail over SMTP (lettre): any relay, Amazon SES's SMTP interface included.
//! Configured by `COC_SMTP_HOST`, `COC_SMTP_PORT`, `COC_SMTP_TLS`
//! (`none|starttls|tls`), `COC_SMTP_USER`, `COC_SMTP_PASSWORD`, `COC_SMTP_FROM`,
//! and `COC_SMTP_CA_FILE`: a PEM file of certificate authorities to trust
//! besides the public ones (a relay with a private CA or a self-signed
//! certificate). With TLS, a certificate none of them vouches for fails the
//! attempt: there is never a fallback to plain text.
//!
//! Every attempt at a notification's mail carries the same `Message-ID`, so
//! that a mail sent again after a lost attempt (see `notify::deliver`) is
//! one message twice to the receiving side, which may drop the repeat.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use coc_shared::ports::{Outbound, SendError, Sender};

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
    /// Certificate authorities (PEM) trusted besides the public ones.
    pub ca_file: Option<PathBuf>,
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
            .field("ca_file", &self.ca_file)
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
            ca_file: setting("COC_SMTP_CA_FILE").map(PathBuf::from),
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
        let tls = match config.tls {
            // A CA file with plain text would look protected and check nothing.
            SmtpTls::None if config.ca_file.is_some() => {
                return Err("COC_SMTP_CA_FILE is set but COC_SMTP_TLS is none: no certificate would be checked".into())
            }
            SmtpTls::None => Tls::None,
            // `Required`, not `Opportunistic`: a relay that offers no STARTTLS is refused.
            SmtpTls::StartTls => Tls::Required(tls_parameters(config)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(config)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout));
        if let Some(user) = &config.user {
            builder = builder.credentials(Credentials::new(user.clone(), config.password.clone().unwrap_or_default()));
        }
        Ok(SmtpSender { transport: builder.build(), from })
    }

    /// The `Message-ID` of every attempt at one notification's mail.
    fn message_id(&self, notification_id: &str) -> String {
        format!("<{notification_id}@{}>", self.from.email.domain())
    }
}

/// Certificate checks for the relay's host name, against the public roots and
/// the authorities of `COC_SMTP_CA_FILE`.
fn tls_parameters(config: &SmtpConfig) -> Result<TlsParameters, String> {
    let mut parameters = TlsParameters::builder(config.host.clone());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("COC_SMTP_CA_FILE: cannot read {}: {e}", path.display()))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!("COC_SMTP_CA_FILE: {} holds no PEM certificate", path.display()));
        }
        let certificate =
            Certificate::from_pem(&pem).map_err(|e| format!("COC_SMTP_CA_FILE: {}: {e}", path.display()))?;
        parameters = parameters.add_root_certificate(certificate);
    }
    parameters.build().map_err(|e| format!("COC_SMTP_HOST: {e}"))
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
            .message_id(Some(self.message_id(outbound.notification_id)))
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
