//! The agent's own identity: registering once (with an operator's activation
//! or a user's key) gets a credential for this agent alone, kept in a file only
//! its owner can read (0600) in the state directory. Later starts use the file
//! and need neither the activation nor the user's key again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::ApiClient;
use crate::Config;

const CREDENTIAL_FILE: &str = "credential.json";

/// An operator's one-time activation (`POST /v1/agent-activations`, `coc-admin create-activation`).
#[derive(Clone)]
pub struct Activation {
    pub id: String,
    pub code: String,
}

impl std::fmt::Debug for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activation").field("id", &self.id).field("code", &"<redacted>").finish()
    }
}

/// What registration returns: the key this agent signs with from then on.
#[derive(Clone, Serialize, Deserialize)]
pub struct AgentCredential {
    pub agent_sn: String,
    pub project_id: String,
    pub access_key: String,
    pub secret_key: String,
}

pub fn credential_path(state_dir: &Path) -> PathBuf {
    state_dir.join(CREDENTIAL_FILE)
}

/// The stored credential, if the agent registered before.
pub fn load(path: &Path) -> Result<Option<AgentCredential>, String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            serde_json::from_slice(&bytes).map(Some).map_err(|e| format!("{} is unreadable: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes the credential readable by its owner only: created 0600 (never
/// wider, not even for a moment) and moved into place whole.
pub fn save(path: &Path, credential: &AgentCredential) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let partial = path.with_extension("json.partial");
    let _ = std::fs::remove_file(&partial);
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&partial)?;
        file.write_all(&serde_json::to_vec(credential).expect("a credential serializes"))?;
        file.sync_all()?;
        std::fs::rename(&partial, path)
    };
    write().map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A refusal (4xx) will not change by asking again; anything else might.
fn refused(error: &str) -> bool {
    error.contains(" answered 4")
}

/// The agent's credential: the stored one, or a new one from registering now
/// (then stored). Network trouble is retried; a refusal is returned.
pub async fn establish(config: &Config) -> Result<AgentCredential, String> {
    let path = credential_path(&config.state_dir);
    if let Some(stored) = load(&path)? {
        if stored.agent_sn != config.agent_sn {
            return Err(format!("{} belongs to agent {}, not {}", path.display(), stored.agent_sn, config.agent_sn));
        }
        return Ok(stored);
    }
    if config.activation.is_none() && (config.access_key.is_empty() || config.secret_key.is_empty()) {
        return Err(format!(
            "{} does not exist: set COC_ACTIVATION_ID and COC_ACTIVATION_CODE (or COC_AK, COC_SK and \
             COC_PROJECT_ID) to register this agent once",
            path.display()
        ));
    }
    let client = ApiClient::new(config.clone())?;
    let mut backoff = Duration::from_millis(200);
    let credential = loop {
        match client.register(config.activation.as_ref()).await {
            Ok(credential) => break credential,
            Err(err) if refused(&err) => return Err(format!("registration refused: {err}")),
            Err(err) => {
                tracing::warn!(error = %err, "registration failed; retrying");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    };
    save(&path, &credential)?;
    tracing::info!(agent_sn = credential.agent_sn, path = %path.display(), "registered; credential stored");
    Ok(credential)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn the_credential_file_is_readable_by_its_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = credential_path(&dir.path().join("state"));
        let credential = AgentCredential {
            agent_sn: "a1".into(),
            project_id: "p".into(),
            access_key: "AK".into(),
            secret_key: "SK".into(),
        };
        save(&path, &credential).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(load(&path).unwrap().unwrap().secret_key, "SK");
        save(&path, &credential).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
