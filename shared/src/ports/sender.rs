//! How a notification leaves the system: one sender per channel (SMTP for
//! mail, an SMS/voice provider, the chat robots). The consumer (`notify`)
//! decides when to send and records the outcome; a sender only sends.

use async_trait::async_trait;

use crate::domain::notification::{Channel, Message};

/// One message to one address, ready to go.
#[derive(Debug, Clone, Copy)]
pub struct Outbound<'a> {
    pub channel: Channel,
    /// An email address, an E.164 number or a robot's webhook URL.
    pub address: &'a str,
    /// A robot's signing secret, opened just for this send; never logged.
    pub key: Option<&'a str>,
    pub message: &'a Message,
    /// For the receiver's and the operator's records (outbox lines, mail headers).
    pub notification_id: &'a str,
}

/// Why a send did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SendError {
    /// Trying again cannot help (nothing configured, the receiver refused the
    /// request itself): the delivery fails now instead of after every retry.
    pub permanent: bool,
    /// What went wrong, for the delivery log: never a secret.
    pub reason: String,
}

impl SendError {
    /// A failure that may pass (a timeout, a 5xx, a refused connection).
    pub fn transient(reason: impl Into<String>) -> Self {
        SendError { permanent: false, reason: reason.into() }
    }

    pub fn permanent(reason: impl Into<String>) -> Self {
        SendError { permanent: true, reason: reason.into() }
    }

    /// An AWS API's refusal of a send, by its error code: transient when the
    /// code is one of `transient_codes` (throttling, the service's own
    /// failures), permanent otherwise (a bad number, a denied call).
    pub fn from_service(service: &str, code: Option<&str>, message: Option<&str>, transient_codes: &[&str]) -> Self {
        let code = code.unwrap_or("unknown");
        let reason = format!("{service} {code}: {}", message.unwrap_or_default());
        if transient_codes.contains(&code) {
            SendError::transient(reason)
        } else {
            SendError::permanent(reason)
        }
    }
}

#[async_trait]
pub trait Sender: Send + Sync {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError>;
}

/// The sender of a channel nothing is configured for: every send fails at
/// once, saying what to configure (never a fake "sent").
pub struct Unconfigured {
    pub reason: &'static str,
}

#[async_trait]
impl Sender for Unconfigured {
    async fn send(&self, _outbound: &Outbound<'_>) -> Result<(), SendError> {
        Err(SendError::permanent(self.reason))
    }
}

#[cfg(test)]
mod tests {
    use super::SendError;

    #[test]
    fn a_service_refusal_is_transient_only_for_the_codes_named() {
        let throttled = SendError::from_service("SNS", Some("Throttled"), Some("slow down"), &["Throttled"]);
        assert_eq!(throttled, SendError::transient("SNS Throttled: slow down"));
        let denied = SendError::from_service("SNS", Some("AuthorizationError"), None, &["Throttled"]);
        assert_eq!(denied, SendError::permanent("SNS AuthorizationError: "));
        assert!(SendError::from_service("SNS", None, None, &["Throttled"]).permanent);
    }
}
