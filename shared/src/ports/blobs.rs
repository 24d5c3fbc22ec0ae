//! Where files live (incident attachments): S3 in the cloud, the data
//! directory locally. The table holds what a file is (its metadata); this
//! holds its bytes, under a key the metadata names.

use async_trait::async_trait;
use bytes::Bytes;

/// What blobs hold, re-exported so that callers need no `bytes` dependency of their own.
pub use bytes::Bytes as BlobBytes;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlobError {
    /// The key is not one this port stores under (see [`check_key`]).
    #[error("not a blob key: {0}")]
    InvalidKey(String),
    #[error("blob backend failed: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Blobs: Send + Sync {
    /// Stores `bytes` under `key`, whole or not at all: a reader never sees
    /// part of a file. Replaces what the key held.
    async fn put(&self, key: &str, content_type: &str, bytes: Bytes) -> Result<(), BlobError>;

    /// The bytes under `key`; `None` when there are none.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError>;

    /// Removes what `key` holds; nothing there is not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
}

/// Keys are `/`-separated segments of letters, digits, `-`, `_` and `.`, none
/// of them `.` or `..`: the same on every backend, and never a way out of
/// the data directory.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if key.len() <= 512 && key.split('/').all(segment_ok) {
        Ok(())
    } else {
        Err(BlobError::InvalidKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        assert!(check_key("attachments/PROJECT-p1/0a1b.bin").is_ok());
        for bad in ["", "/abs", "a//b", "a/../b", "..", "a/./b", "a\\b", "a b", "a/b/"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
