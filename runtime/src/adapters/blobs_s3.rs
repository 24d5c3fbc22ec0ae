//! Blobs in an S3 bucket (`COC_ATTACHMENTS_BUCKET`). Endpoint and credentials
//! come from the environment through aws-config (`AWS_ENDPOINT_URL_S3` points
//! it at a local server, addressed by path as such servers want). S3 stores an
//! object whole or not at all, and reads after a write see it.

use async_trait::async_trait;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;

use coc_shared::ports::{check_key, BlobError, Blobs};

/// The variable naming the bucket.
pub const BUCKET_VAR: &str = coc_shared::app::ATTACHMENTS_BUCKET_VAR;

pub struct S3Blobs {
    client: Client,
    bucket: String,
}

fn backend<E: std::fmt::Debug>(what: &str, err: E) -> BlobError {
    BlobError::Backend(format!("cannot {what}: {err:?}"))
}

impl S3Blobs {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blobs { client, bucket: bucket.into() }
    }

    /// A client from the environment. A custom endpoint (a local server) is
    /// addressed by path, since it has no per-bucket host names.
    pub async fn from_env(bucket: impl Into<String>) -> Self {
        Self::from_config(&aws_config::load_from_env().await, bucket)
    }

    /// With a configuration loaded once for all of a process's clients.
    pub fn from_config(config: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        let local = std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.is_empty());
        let s3 = aws_sdk_s3::config::Builder::from(config).force_path_style(local).build();
        Self::new(Client::from_conf(s3), bucket)
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), BlobError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| backend("store an object", e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        check_key(key)?;
        let output = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => output,
            Err(err) if err.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(err) if err.code() == Some("NoSuchKey") => return Ok(None),
            Err(err) => return Err(backend("read an object", err)),
        };
        let body = output.body.collect().await.map_err(|e| backend("read an object's body", e))?;
        Ok(Some(body.into_bytes()))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        // S3 answers a delete of a missing key with success too.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend("delete an object", e))?;
        Ok(())
    }
}
