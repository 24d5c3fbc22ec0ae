//! Secrets at rest: envelope encryption over a [`Keyring`]. Each sealed value
//! gets a data key of its own (AES-256-GCM); the store keeps the value's
//! ciphertext and the data key wrapped by the master key, never either in clear.
//!
//! Sealed text: `sealed:v1:{base64 wrapped data key}:{base64 nonce ‖ ciphertext ‖ tag}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;

use crate::adapters::local_keyring::LocalKeyring;
use crate::domain::job::order::Order;
use crate::ports::{Keyring, KeyringError, DATA_KEY_LEN};
use crate::repositories::jobs::Job;

const PREFIX: &str = "sealed:v1:";
/// Unwrapped data keys kept in memory, so that checking a signature does not
/// cost a KMS call each time. Past this many it starts over.
const CACHE_LIMIT: usize = 4096;

/// Random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    SystemRandom::new().fill(&mut bytes).expect("the OS random source works");
    bytes
}

/// AES-256-GCM with a random nonce: `nonce ‖ ciphertext ‖ tag`.
pub fn encrypt(key: &[u8; DATA_KEY_LEN], plain: &[u8]) -> Vec<u8> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key"));
    let nonce = random_bytes::<NONCE_LEN>();
    let mut sealed = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
        .expect("AES-GCM seals any length we store");
    [nonce.as_slice(), &sealed].concat()
}

pub fn decrypt(key: &[u8; DATA_KEY_LEN], sealed: &[u8]) -> Result<Vec<u8>, KeyringError> {
    let unreadable = || KeyringError::Unreadable("wrong key or altered ciphertext".into());
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte key"));
    let (nonce, body) = sealed.split_at_checked(NONCE_LEN).ok_or_else(unreadable)?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unreadable())?;
    let mut body = body.to_vec();
    let plain = key.open_in_place(nonce, Aad::empty(), &mut body).map_err(|_| unreadable())?;
    Ok(plain.to_vec())
}

/// A [`LocalKeyring`] whose random master key is drawn on first use.
#[derive(Default)]
struct EphemeralKeyring(OnceLock<LocalKeyring>);

impl EphemeralKeyring {
    fn keyring(&self) -> &LocalKeyring {
        self.0.get_or_init(|| LocalKeyring::from_key(random_bytes()))
    }
}

#[async_trait::async_trait]
impl Keyring for EphemeralKeyring {
    async fn generate_data_key(&self) -> Result<crate::ports::DataKey, KeyringError> {
        self.keyring().generate_data_key().await
    }

    async fn unwrap_data_key(&self, wrapped: &[u8]) -> Result<[u8; DATA_KEY_LEN], KeyringError> {
        self.keyring().unwrap_data_key(wrapped).await
    }
}

/// Seals and opens secrets with data keys from its keyring.
#[derive(Clone)]
pub struct SecretBox {
    keyring: Arc<dyn Keyring>,
    unwrapped: Arc<Mutex<HashMap<Vec<u8>, [u8; DATA_KEY_LEN]>>>,
}

impl SecretBox {
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        SecretBox { keyring, unwrapped: Arc::default() }
    }

    /// One random master key for this whole process, kept only in memory: for
    /// tests and tools whose data does not outlive the process. The key is
    /// drawn when first used, not here: every `App` starts with this box until
    /// its real keyring is set, and drawing it at once made each Lambda cold
    /// start pay AWS-LC's first seeding of its random generator (about 20 ms
    /// of CPU), though a function configured with KMS never uses this key.
    pub fn ephemeral() -> Self {
        static PROCESS: OnceLock<SecretBox> = OnceLock::new();
        PROCESS.get_or_init(|| SecretBox::new(Arc::new(EphemeralKeyring::default()))).clone()
    }

    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(PREFIX)
    }

    pub async fn seal(&self, plain: &str) -> Result<String, KeyringError> {
        let key = self.keyring.generate_data_key().await?;
        let body = encrypt(&key.plain, plain.as_bytes());
        Ok(format!("{PREFIX}{}:{}", BASE64.encode(&key.wrapped), BASE64.encode(body)))
    }

    /// The clear text of a sealed value. Text that was never sealed (written
    /// before sealing existed) comes back as it is.
    pub async fn open(&self, text: &str) -> Result<String, KeyringError> {
        let Some(rest) = text.strip_prefix(PREFIX) else {
            return Ok(text.to_owned());
        };
        let unreadable = |what: &str| KeyringError::Unreadable(what.to_owned());
        let (wrapped, body) = rest.split_once(':').ok_or_else(|| unreadable("no ':' in the sealed text"))?;
        let wrapped = BASE64.decode(wrapped).map_err(|_| unreadable("the wrapped key is not base64"))?;
        let body = BASE64.decode(body).map_err(|_| unreadable("the ciphertext is not base64"))?;
        let cached = self.unwrapped.lock().expect("key cache lock").get(&wrapped).copied();
        let key = match cached {
            Some(key) => key,
            None => {
                let key = self.keyring.unwrap_data_key(&wrapped).await?;
                let mut cache = self.unwrapped.lock().expect("key cache lock");
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(wrapped, key);
                key
            }
        };
        String::from_utf8(decrypt(&key, &body)?).map_err(|_| unreadable("the clear text is not UTF-8"))
    }
}

/// Readies a new ticket for the store: the request's sensitive values are
/// masked (the resolved parameters carry them) and the resolved ones sealed.
/// The jobs handed to agents copy the sealed values.
pub async fn seal_order(secrets: &SecretBox, order: &mut Order) -> Result<(), KeyringError> {
    order.execute_param = order.shown_execute_param();
    for param in order.script.params.iter_mut().filter(|p| p.sensitive && !SecretBox::is_sealed(&p.value)) {
        param.value = secrets.seal(&param.value).await?;
    }
    Ok(())
}

/// A job as its agent needs it: sensitive values in clear, decrypted only now,
/// on their way to the agent that runs them.
pub async fn open_job(secrets: &SecretBox, job: &mut Job) -> Result<(), KeyringError> {
    for param in job.params.iter_mut().filter(|p| p.sensitive) {
        param.value = secrets.open(&param.value).await?;
    }
    Ok(())
}

/// The clear sensitive values of a ticket, to mask them in what its agents report.
pub async fn order_secrets(secrets: &SecretBox, order: &Order) -> Result<Vec<String>, KeyringError> {
    let mut clear = Vec::new();
    for sealed in order.secrets() {
        clear.push(secrets.open(&sealed).await?);
    }
    // An empty value matches everywhere: there is nothing of it to mask.
    clear.retain(|value| !value.is_empty());
    Ok(clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sealed_values_open_only_with_their_master_key() {
        let secrets = SecretBox::new(Arc::new(LocalKeyring::from_key(random_bytes())));
        let sealed = secrets.seal("p@ss word").await.unwrap();
        assert!(SecretBox::is_sealed(&sealed) && !sealed.contains("p@ss"));
        assert_ne!(sealed, secrets.seal("p@ss word").await.unwrap(), "a data key and nonce of its own each time");
        assert_eq!(secrets.open(&sealed).await.unwrap(), "p@ss word");
        let stranger = SecretBox::new(Arc::new(LocalKeyring::from_key(random_bytes())));
        assert!(stranger.open(&sealed).await.is_err(), "another master key opens nothing");
        let altered = format!("{}A", &sealed[..sealed.len() - 1]);
        assert!(secrets.open(&altered).await.is_err() || altered == sealed);
        assert_eq!(secrets.open("never sealed").await.unwrap(), "never sealed");
    }
}
