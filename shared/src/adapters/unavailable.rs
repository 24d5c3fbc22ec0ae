//! Ports a binary was built without (see the adapter features of coc-runtime):
//! a Lambda function whose route never kicks the job engine is built without
//! the SQS client, one that never opens a secret without the KMS client. They
//! refuse every call with an error that says so, should a route use one after all.

use std::time::Duration;

use async_trait::async_trait;

use crate::ports::{DataKey, Keyring, KeyringError, Queue, QueueError, ReceivedMessage, DATA_KEY_LEN};

/// The queue of a binary built without one.
pub struct NoQueue {
    /// Why there is none, e.g. "built without the `sqs` feature".
    pub reason: &'static str,
}

#[async_trait]
impl Queue for NoQueue {
    async fn send(&self, _body: &str, _delay: Duration) -> Result<(), QueueError> {
        Err(QueueError::Backend(format!("no queue: {}", self.reason)))
    }

    async fn receive(&self, _max: usize, _wait: Duration) -> Result<Vec<ReceivedMessage>, QueueError> {
        Err(QueueError::Backend(format!("no queue: {}", self.reason)))
    }

    async fn delete(&self, _receipt: &str) -> Result<(), QueueError> {
        Err(QueueError::Backend(format!("no queue: {}", self.reason)))
    }
}

/// The keyring of a binary built without one.
pub struct NoKeyring {
    pub reason: &'static str,
}

#[async_trait]
impl Keyring for NoKeyring {
    async fn generate_data_key(&self) -> Result<DataKey, KeyringError> {
        Err(KeyringError::Backend(format!("no keyring: {}", self.reason)))
    }

    async fn unwrap_data_key(&self, _wrapped: &[u8]) -> Result<[u8; DATA_KEY_LEN], KeyringError> {
        Err(KeyringError::Backend(format!("no keyring: {}", self.reason)))
    }
}

/// The blob store of a binary built without one (its route stores no files).
pub struct NoBlobs {
    pub reason: &'static str,
}

#[async_trait]
impl crate::ports::Blobs for NoBlobs {
    async fn put(&self, _key: &str, _content_type: &str, _bytes: bytes::Bytes) -> Result<(), crate::ports::BlobError> {
        Err(crate::ports::BlobError::Backend(format!("no blob store: {}", self.reason)))
    }

    async fn get(&self, _key: &str) -> Result<Option<bytes::Bytes>, crate::ports::BlobError> {
        Err(crate::ports::BlobError::Backend(format!("no blob store: {}", self.reason)))
    }

    async fn delete(&self, _key: &str) -> Result<(), crate::ports::BlobError> {
        Err(crate::ports::BlobError::Backend(format!("no blob store: {}", self.reason)))
    }
}
