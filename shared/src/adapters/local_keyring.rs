//! The master key in a local file, for `make run`: 32 random bytes created
//! 0600 at first start (by whichever process comes first; the others read it).
//! Keep the file out of backups and copies of the data directory, or set
//! COC_KEY_FILE to put it elsewhere.

use std::io::Write;
use std::path::Path;

use async_trait::async_trait;

use crate::ports::{DataKey, Keyring, KeyringError, DATA_KEY_LEN};
use crate::secrets::{decrypt, encrypt, random_bytes};

/// The key file's name in the data directory when COC_KEY_FILE is not set.
pub const KEY_FILE: &str = "master.key";

pub struct LocalKeyring {
    master: [u8; DATA_KEY_LEN],
}

impl LocalKeyring {
    pub fn from_key(master: [u8; DATA_KEY_LEN]) -> Self {
        LocalKeyring { master }
    }

    /// The key in `path`, created (0600, never wider) when there is none yet.
    pub fn open_or_create(path: &Path) -> Result<Self, String> {
        use std::os::unix::fs::OpenOptionsExt;
        let fresh = random_bytes::<DATA_KEY_LEN>();
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(mut file) => {
                file.write_all(hex::encode(fresh).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| format!("cannot write the key file {}: {e}", path.display()))?;
                tracing::info!(path = %path.display(), "created the master key file");
                Ok(LocalKeyring::from_key(fresh))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Self::read(path),
            Err(e) => Err(format!("cannot create the key file {}: {e}", path.display())),
        }
    }

    fn read(path: &Path) -> Result<Self, String> {
        // A process that created the file a moment ago may still be writing it.
        for _ in 0..50 {
            let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if let Ok(bytes) = hex::decode(text.trim()) {
                if let Ok(master) = <[u8; DATA_KEY_LEN]>::try_from(bytes.as_slice()) {
                    return Ok(LocalKeyring::from_key(master));
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Err(format!("{} does not hold a 32-byte hex key", path.display()))
    }
}

#[async_trait]
impl Keyring for LocalKeyring {
    async fn generate_data_key(&self) -> Result<DataKey, KeyringError> {
        let plain = random_bytes::<DATA_KEY_LEN>();
        Ok(DataKey { plain, wrapped: encrypt(&self.master, &plain) })
    }

    async fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<[u8; DATA_KEY_LEN], KeyringError> {
        let plain = decrypt(&self.master, wrapped)?;
        <[u8; DATA_KEY_LEN]>::try_from(plain.as_slice()).map_err(|_| KeyringError::Unreadable("not a data key".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[tokio::test]
    async fn the_key_file_is_made_once_and_only_its_owner_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let first = LocalKeyring::open_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let again = LocalKeyring::open_or_create(&path).unwrap();
        let key = first.generate_data_key().await.unwrap();
        assert_eq!(again.unwrap_data_key(&key.wrapped).await.unwrap(), key.plain, "the same master key");
    }
}
