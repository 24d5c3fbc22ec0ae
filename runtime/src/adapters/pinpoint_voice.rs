//! Voice calls on AWS: Amazon Pinpoint SMS and Voice v2 `SendVoiceMessage`,
//! which calls the number and reads the message out (text-to-speech). SNS,
//! which sends the SMS, places no calls.
//!
//! The call comes from an origination identity of the account (a phone
//! number, its ARN or id, or a pool) that is enabled for voice:
//! `COC_VOICE_ORIGINATION_IDENTITY`, required when `COC_VOICE_PROVIDER=pinpoint`.

use async_trait::async_trait;
use aws_sdk_pinpointsmsvoicev2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_pinpointsmsvoicev2::types::VoiceMessageBodyTextType;

use coc_shared::domain::notification::Message;
use coc_shared::ports::{Outbound, SendError, Sender};

pub const ORIGINATION_IDENTITY_VAR: &str = "COC_VOICE_ORIGINATION_IDENTITY";

/// The longest message body `SendVoiceMessage` takes, in characters.
pub const VOICE_BODY_MAX_CHARS: usize = 6_000;
/// The longest origination identity the API takes (an ARN), in characters.
const ORIGINATION_IDENTITY_MAX_CHARS: usize = 256;

/// The error codes of a send that a later attempt may get past: throttling,
/// the service's own failures and a quota (which a later minute may allow); a
/// bad number, a denied call or an unknown origination identity will not pass.
const TRANSIENT_CODES: &[&str] = &["ThrottlingException", "InternalServerException", "ServiceQuotaExceededException"];

pub struct PinpointVoice {
    client: aws_sdk_pinpointsmsvoicev2::Client,
    origination_identity: String,
}

impl PinpointVoice {
    pub fn new(client: aws_sdk_pinpointsmsvoicev2::Client, origination_identity: String) -> Self {
        PinpointVoice { client, origination_identity }
    }

    /// The client of the environment, calling from `COC_VOICE_ORIGINATION_IDENTITY`
    /// (checked here, so that a missing one stops the consumer at start, not at the first call).
    pub async fn from_env() -> Result<Self, String> {
        let identity = origination_identity(std::env::var(ORIGINATION_IDENTITY_VAR).ok().as_deref())?;
        let config = aws_config::load_from_env().await;
        Ok(PinpointVoice::new(aws_sdk_pinpointsmsvoicev2::Client::new(&config), identity))
    }
}

/// A usable origination identity, or what is wrong with it.
pub fn origination_identity(value: Option<&str>) -> Result<String, String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty()).ok_or_else(|| {
        format!("{ORIGINATION_IDENTITY_VAR} must be set with COC_VOICE_PROVIDER=pinpoint (a voice-enabled phone number, its ARN or a pool id)")
    })?;
    let valid_chars = value.chars().all(|c| c.is_ascii_alphanumeric() || "+-_:/.".contains(c));
    if value.chars().count() > ORIGINATION_IDENTITY_MAX_CHARS || !valid_chars {
        return Err(format!(
            "{ORIGINATION_IDENTITY_VAR}: not a phone number, ARN or pool id (at most {ORIGINATION_IDENTITY_MAX_CHARS} of A-Z a-z 0-9 + - _ : / .)"
        ));
    }
    Ok(value.to_owned())
}

/// What is read out: the subject and the text. A link means nothing on the
/// phone; the SMS and the mail carry it.
pub fn spoken(message: &Message) -> String {
    let text = format!("{}. {}", message.subject, message.text);
    match text.char_indices().nth(VOICE_BODY_MAX_CHARS) {
        Some((cut, _)) => text[..cut].to_owned(),
        None => text,
    }
}

#[async_trait]
impl Sender for PinpointVoice {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError> {
        let sent = self
            .client
            .send_voice_message()
            .destination_phone_number(outbound.address)
            .origination_identity(&self.origination_identity)
            .message_body(spoken(outbound.message))
            .message_body_text_type(VoiceMessageBodyTextType::Text)
            // For the account's event destinations: which notification this call was.
            .context("coc_notification_id", outbound.notification_id)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(err)) => {
                let err = err.err();
                Err(SendError::from_service("Pinpoint SMS and Voice", err.code(), err.message(), TRANSIENT_CODES))
            }
            Err(other) => Err(SendError::transient(format!("Pinpoint SMS and Voice: {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coc_shared::domain::notification::EventKind;

    #[test]
    fn an_origination_identity_is_required_and_checked() {
        assert!(origination_identity(None).unwrap_err().contains(ORIGINATION_IDENTITY_VAR));
        assert!(origination_identity(Some("  ")).is_err());
        assert!(origination_identity(Some("+1 206 555 0100")).is_err());
        assert!(origination_identity(Some(&"a".repeat(257))).is_err());
        assert_eq!(origination_identity(Some(" +12065550100 ")).unwrap(), "+12065550100");
        let arn = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef";
        assert_eq!(origination_identity(Some(arn)).unwrap(), arn);
    }

    #[test]
    fn the_spoken_text_leaves_out_the_link_and_keeps_within_the_limit() {
        let mut message = Message {
            kind: EventKind::IncidentAssigned,
            subject: "IM1".into(),
            text: "Incident IM1 (P1) is assigned to you.".into(),
            link: Some("https://coc.example.com/v1/external/incident/IM1".into()),
            subject_id: "IM1".into(),
        };
        assert_eq!(spoken(&message), "IM1. Incident IM1 (P1) is assigned to you.");
        message.text = "事".repeat(VOICE_BODY_MAX_CHARS);
        assert_eq!(spoken(&message).chars().count(), VOICE_BODY_MAX_CHARS);
    }
}
