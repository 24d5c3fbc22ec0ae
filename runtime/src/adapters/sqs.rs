//! The queue on SQS. Endpoint and credentials come from the environment through
//! aws-config (`AWS_ENDPOINT_URL_SQS` points it at a local server).

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use aws_sdk_sqs::Client;

use coc_shared::ports::{Queue, QueueError, ReceivedMessage, MAX_DELAY};

/// SQS long polling waits at most this long per call.
const MAX_WAIT: Duration = Duration::from_secs(20);

pub struct SqsQueue {
    client: Client,
    url: String,
    visibility_timeout: Duration,
}

fn backend<E: std::fmt::Debug>(err: E) -> QueueError {
    QueueError::Backend(format!("{err:?}"))
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>, visibility_timeout: Duration) -> Self {
        SqsQueue { client, url: url.into(), visibility_timeout }
    }

    pub async fn from_env(url: impl Into<String>, visibility_timeout: Duration) -> Self {
        Self::from_config(&aws_config::load_from_env().await, url, visibility_timeout)
    }

    /// With a configuration loaded once for all of a process's clients.
    pub fn from_config(config: &aws_config::SdkConfig, url: impl Into<String>, visibility_timeout: Duration) -> Self {
        Self::new(Client::new(config), url, visibility_timeout)
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError> {
        if delay > MAX_DELAY {
            return Err(QueueError::Invalid(format!("delay {delay:?} is over {MAX_DELAY:?}")));
        }
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body)
            .delay_seconds(delay.as_secs() as i32)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        if !(1..=10).contains(&max) {
            return Err(QueueError::Invalid(format!("max must be 1 to 10, got {max}")));
        }
        let output = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait.min(MAX_WAIT).as_secs() as i32)
            .visibility_timeout(self.visibility_timeout.as_secs() as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(backend)?;
        Ok(output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                ReceivedMessage {
                    id: m.message_id.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    receipt: m.receipt_handle.unwrap_or_default(),
                    receive_count,
                }
            })
            .collect())
    }

    async fn delete(&self, receipt: &str) -> Result<(), QueueError> {
        match self.client.delete_message().queue_url(&self.url).receipt_handle(receipt).send().await {
            Ok(_) => Ok(()),
            // The message was already deleted or handed out again: acknowledging it
            // twice is what at-least-once consumers do, not a failure.
            Err(err) if err.code() == Some("ReceiptHandleIsInvalid") => Ok(()),
            Err(err) => Err(backend(err)),
        }
    }
}
