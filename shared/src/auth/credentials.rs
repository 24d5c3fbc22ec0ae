//! Access keys and tokens: who a request acts for.

use serde::{Deserialize, Serialize};

use crate::domain::tenant::{Caller, ProjectId};

/// How long an issued X-Auth-Token is valid.
pub const TOKEN_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// An AK/SK pair bound to one user of one tenant, or to one agent of it. The
/// secret key is needed to check HMAC signatures, so it is stored (sealed); it
/// is never logged or returned after creation.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub access_key: String,
    pub secret_key: String,
    pub project_id: ProjectId,
    pub user_id: String,
    pub user_name: String,
    pub created_at: i64,
    /// Set for an agent's credential: it may call only that agent's endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_sn: Option<String>,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("project_id", &self.project_id)
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("agent_sn", &self.agent_sn)
            .finish()
    }
}

/// Random upper-case letters and digits from the OS random source (through uuid v4).
pub fn random_text(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for byte in uuid::Uuid::new_v4().into_bytes() {
            // 252 = 7 × 36: dropping bytes above it keeps every character equally likely.
            if byte < 252 && out.len() < len {
                out.push(ALPHABET[(byte % 36) as usize] as char);
            }
        }
    }
    out
}

/// Random lower-case hex of `len` characters.
pub fn random_hex(len: usize) -> String {
    let mut out = String::with_capacity(len + 32);
    while out.len() < len {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(len);
    out
}

impl Credential {
    /// A fresh pair in the shape Huawei Cloud uses: a 20-character AK, a 40-character SK.
    pub fn generate(project_id: ProjectId, user_id: String, user_name: String, now: i64) -> Self {
        Credential {
            access_key: random_text(20),
            secret_key: random_text(40),
            project_id,
            user_id,
            user_name,
            created_at: now,
            agent_sn: None,
        }
    }

    /// A fresh credential for one agent alone. Its access key starts with
    /// `AGENT` so that operators can tell it apart; the server never relies on that.
    pub fn for_agent(project_id: ProjectId, agent_sn: &str, now: i64) -> Self {
        let user = format!("agent/{agent_sn}");
        Credential {
            access_key: format!("AGENT{}", random_text(15)),
            secret_key: random_text(40),
            project_id,
            user_id: user.clone(),
            user_name: user,
            created_at: now,
            agent_sn: Some(agent_sn.to_owned()),
        }
    }

    pub fn caller(&self) -> Caller {
        Caller {
            project_id: self.project_id.clone(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            agent_sn: self.agent_sn.clone(),
        }
    }
}

/// What a token stands for. The token itself is not stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub project_id: ProjectId,
    pub user_id: String,
    pub user_name: String,
    /// The access key that asked for it.
    pub issued_by: String,
    pub expires_at: i64,
}

impl TokenRecord {
    /// Tokens are issued to users only, never to agents.
    pub fn caller(&self) -> Caller {
        Caller {
            project_id: self.project_id.clone(),
            user_id: self.user_id.clone(),
            user_name: self.user_name.clone(),
            agent_sn: None,
        }
    }
}

/// A new token: the secret text for the client, and the record to store.
pub fn issue_token(credential: &Credential, now: i64) -> (String, TokenRecord) {
    let token = format!("coc-{}", random_hex(64));
    let record = TokenRecord {
        project_id: credential.project_id.clone(),
        user_id: credential.user_id.clone(),
        user_name: credential.user_name.clone(),
        issued_by: credential.access_key.clone(),
        expires_at: now + TOKEN_LIFETIME_MS,
    };
    (token, record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_huawei_shape_and_differ() {
        let project = ProjectId::parse("p").unwrap();
        let a = Credential::generate(project.clone(), "u".into(), "n".into(), 0);
        let b = Credential::generate(project, "u".into(), "n".into(), 0);
        assert_eq!(a.access_key.len(), 20);
        assert_eq!(a.secret_key.len(), 40);
        assert!(a.secret_key.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_ne!(a.access_key, b.access_key);
        assert_ne!(a.secret_key, b.secret_key);
        assert!(!format!("{a:?}").contains(&a.secret_key), "Debug never shows the secret");
    }
}
