//! Blobs as files under a directory (`coc-local`: `{data_dir}/attachments/`).
//! A file is written to a temporary name beside its place, synced, renamed
//! into place and its directory synced: after a crash it is either whole or
//! absent, never half written.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use crate::ports::{check_key, BlobError, Blobs};

pub struct FsBlobs {
    root: PathBuf,
}

impl FsBlobs {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsBlobs { root: root.into() }
    }

    fn path_of(&self, key: &str) -> Result<PathBuf, BlobError> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn backend(what: &str, path: &Path, err: std::io::Error) -> BlobError {
    BlobError::Backend(format!("cannot {what} {}: {err}", path.display()))
}

/// Writes `bytes` to `path` through a synced temporary file and a rename.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), BlobError> {
    let dir = path.parent().ok_or_else(|| BlobError::InvalidKey(path.display().to_string()))?;
    std::fs::create_dir_all(dir).map_err(|e| backend("create", dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    // Starts with `.`, which no key segment may: never mistaken for a blob.
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let written = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        // The rename is durable once the directory entry is.
        std::fs::File::open(dir)?.sync_all()
    })();
    written.map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        backend("write", path, e)
    })
}

#[async_trait]
impl Blobs for FsBlobs {
    async fn put(&self, key: &str, _content_type: &str, bytes: Bytes) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        tokio::task::spawn_blocking(move || write_whole(&path, &bytes))
            .await
            .map_err(|e| BlobError::Backend(format!("the write did not finish: {e}")))?
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        let path = self.path_of(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(backend("read", &path, e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        let path = self.path_of(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(backend("delete", &path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_blob_is_stored_whole_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::new(dir.path().join("attachments"));
        assert_eq!(blobs.get("p/doc").await.unwrap(), None);
        blobs.put("p/doc", "text/plain", Bytes::from_static(b"first")).await.unwrap();
        blobs.put("p/doc", "text/plain", Bytes::from_static(b"second")).await.unwrap();
        assert_eq!(blobs.get("p/doc").await.unwrap().as_deref(), Some(&b"second"[..]));
        // Only the blob is left: no temporary file beside it.
        let names: Vec<_> =
            std::fs::read_dir(dir.path().join("attachments/p")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("doc")]);
        blobs.delete("p/doc").await.unwrap();
        blobs.delete("p/doc").await.unwrap();
        assert_eq!(blobs.get("p/doc").await.unwrap(), None);
    }

    #[tokio::test]
    async fn keys_cannot_leave_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FsBlobs::new(dir.path().join("attachments"));
        let refused = blobs.put("../escape", "text/plain", Bytes::from_static(b"x")).await;
        assert!(matches!(refused, Err(BlobError::InvalidKey(_))));
        assert!(!dir.path().join("escape").exists());
    }
}
