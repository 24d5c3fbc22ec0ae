//! SMS on AWS: Amazon SNS `Publish` straight to a phone number (no topic).
//! SNS has no voice calls: voice on AWS is refused by `notify::senders` with
//! a recorded failure, never a fake "sent".

use async_trait::async_trait;
use aws_sdk_sns::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sns::types::MessageAttributeValue;

use crate::ports::{Outbound, SendError, Sender};

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
                let code = err.err().code().unwrap_or("unknown").to_owned();
                let reason = format!("SNS {code}: {}", err.err().message().unwrap_or_default());
                // Throttling and SNS's own failures pass; a bad number or a denied publish does not.
                match code.as_str() {
                    "Throttled" | "ThrottlingException" | "InternalError" | "KMSThrottling" => {
                        Err(SendError::transient(reason))
                    }
                    _ => Err(SendError::permanent(reason)),
                }
            }
            Err(other) => Err(SendError::transient(format!("SNS: {other}"))),
        }
    }
}
