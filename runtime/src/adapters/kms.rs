//! The master key in AWS KMS: data keys come from GenerateDataKey and are
//! unwrapped with Decrypt, so the master key never leaves KMS.

use async_trait::async_trait;
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;

use coc_shared::ports::{DataKey, Keyring, KeyringError, DATA_KEY_LEN};

/// Bound into every data key: a blob from another use of the same KMS key does not unwrap here.
const CONTEXT: (&str, &str) = ("purpose", "coc-secrets-at-rest");

pub struct KmsKeyring {
    client: aws_sdk_kms::Client,
    key_id: String,
}

impl KmsKeyring {
    pub fn new(client: aws_sdk_kms::Client, key_id: String) -> Self {
        KmsKeyring { client, key_id }
    }

    pub async fn from_env(key_id: String) -> Self {
        Self::from_config(&aws_config::load_from_env().await, key_id)
    }

    /// With a configuration loaded once for all of a process's clients.
    pub fn from_config(config: &aws_config::SdkConfig, key_id: String) -> Self {
        KmsKeyring::new(aws_sdk_kms::Client::new(config), key_id)
    }
}

fn backend(e: impl std::fmt::Display) -> KeyringError {
    KeyringError::Backend(e.to_string())
}

fn data_key(bytes: Option<&Blob>) -> Result<[u8; DATA_KEY_LEN], KeyringError> {
    let bytes = bytes.ok_or_else(|| backend("KMS returned no plaintext key"))?;
    <[u8; DATA_KEY_LEN]>::try_from(bytes.as_ref()).map_err(|_| backend("KMS returned a key of another size"))
}

#[async_trait]
impl Keyring for KmsKeyring {
    async fn generate_data_key(&self) -> Result<DataKey, KeyringError> {
        let out = self
            .client
            .generate_data_key()
            .key_id(&self.key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(CONTEXT.0, CONTEXT.1)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_kms::error::DisplayErrorContext(e)))?;
        let wrapped = out.ciphertext_blob().ok_or_else(|| backend("KMS returned no wrapped key"))?.as_ref().to_vec();
        Ok(DataKey { plain: data_key(out.plaintext())?, wrapped })
    }

    async fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<[u8; DATA_KEY_LEN], KeyringError> {
        let out = self
            .client
            .decrypt()
            .key_id(&self.key_id)
            .ciphertext_blob(Blob::new(wrapped))
            .encryption_context(CONTEXT.0, CONTEXT.1)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_kms::error::DisplayErrorContext(e)))?;
        data_key(out.plaintext())
    }
}
