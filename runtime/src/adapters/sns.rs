//! SMS on AWS: Amazon SNS `Publish` straight to a phone number (no topic).
//! SNS has no voice calls: voice on AWS is refused by `notify::senders` with
//! a recorded failure, never a fake "sent".

use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;

use coc_shared::ports::{Outbound, SendError, Sender};

/// The error codes of a send that a later attempt may get past: throttling and
/// SNS's own failures; a bad number or a denied publish will not pass.
const TRANSIENT_CODES: &[&str] = &["Throttled", "ThrottlingException", "InternalError", "KMSThrottling"];

pub struct SnsSms {
    client: aws_sdk_sns::Client,
}

impl SnsSms {
    pub fn new(client: aws_sdk_sns::Client) -> Self {
        SnsSms { client }
    }

    pub async fn from_env() -> Self {
        let config = aws_config::load_from_env().await;
        SnsSms::new(aws_sdk_sns::Client::new(&config))
    }
}

#[async_trait]
impl Sender for SnsSms {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError> {
        // Alerts must arrive: transactional, not promotional (which SNS may drop to save cost).
        let sms_type = MessageAttributeValue::builder()
            .data_type("String")
            .string_value("Transactional")
            .build()
            .map_err(|e| SendError::permanent(format!("SNS: {e}")))?;
        let sent = self
            .client
            .publish()
            .phone_number(outbound.address)
            .message(outbound.message.as_text())
            .message_attributes("AWS.SNS.SMS.SMSType", sms_type)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(err)) => {
                let err = err.err();
                Err(SendError::from_service("SNS", err.code(), err.message(), TRANSIENT_CODES))
            }
            Err(other) => Err(SendError::transient(format!("SNS: {other}"))),
        }
    }
}
