//! The message queue that drives asynchronous work (SQS in the cloud, SQLite locally).
//! Delivery is at least once: consumers must tolerate duplicates.

use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub id: String,
    pub body: String,
    /// Proof of this delivery; deleting with it acknowledges the message.
    pub receipt: String,
    /// How many times the message has been handed out, this time included.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QueueError {
    #[error("queue backend failed: {0}")]
    Backend(String),
    #[error("invalid queue request: {0}")]
    Invalid(String),
}

/// The longest delay a message can be sent with (the SQS limit).
pub const MAX_DELAY: Duration = Duration::from_secs(900);

#[async_trait]
pub trait Queue: Send + Sync {
    /// Enqueues a message that becomes visible after `delay` (at most [`MAX_DELAY`]).
    async fn send(&self, body: &str, delay: Duration) -> Result<(), QueueError>;

    /// Takes up to `max` visible messages (1 to 10), waiting up to `wait` for one
    /// to arrive. A received message stays hidden for the visibility timeout and
    /// comes back if it is not deleted by then.
    async fn receive(&self, max: usize, wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError>;

    /// Acknowledges a message. Deleting with a stale receipt is not an error.
    async fn delete(&self, receipt: &str) -> Result<(), QueueError>;
}
