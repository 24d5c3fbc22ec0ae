//! Where data keys come from: envelope encryption keeps every secret at rest
//! under its own data key, and only the data key, wrapped, under the master
//! key (a local key file, or KMS on AWS). A copy of the table alone holds
//! nothing usable.

use async_trait::async_trait;

/// The length of a data key: AES-256.
pub const DATA_KEY_LEN: usize = 32;

/// A fresh data key: `plain` to encrypt with (then forget), `wrapped` to store.
pub struct DataKey {
    pub plain: [u8; DATA_KEY_LEN],
    pub wrapped: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    /// The wrapped key or the sealed value is not one this keyring made.
    #[error("a sealed value cannot be opened: {0}")]
    Unreadable(String),
    #[error("the keyring failed: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Keyring: Send + Sync {
    async fn generate_data_key(&self) -> Result<DataKey, KeyringError>;

    /// The plain data key of a `wrapped` one this keyring made.
    async fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<[u8; DATA_KEY_LEN], KeyringError>;
}
