//! The first credential of a fresh installation. Without one nobody could call
//! the API, so the local server makes it at first start: from
//! COC_BOOTSTRAP_PROJECT_ID / COC_BOOTSTRAP_AK / COC_BOOTSTRAP_SK when set,
//! otherwise at random (printed once by the caller).

use super::Credential;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};
use crate::repositories::credentials as stored;
use crate::secrets::SecretBox;

const MARKER_PK: &str = "SYSTEM";
const MARKER_SK: &str = "BOOTSTRAP";
const BOOTSTRAP_USER: &str = "admin";

#[derive(Debug, Clone, Default)]
pub struct BootstrapConfig {
    pub project_id: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

impl BootstrapConfig {
    pub fn from_env() -> Self {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        BootstrapConfig {
            project_id: var("COC_BOOTSTRAP_PROJECT_ID"),
            access_key: var("COC_BOOTSTRAP_AK"),
            secret_key: var("COC_BOOTSTRAP_SK"),
        }
    }
}

/// Makes sure a first credential exists. Returns a credential only when it was
/// generated now at random, so that its secret can be shown once.
pub async fn bootstrap(
    store: &dyn Store,
    secrets: &SecretBox,
    config: &BootstrapConfig,
    now: i64,
) -> Result<Option<Credential>, String> {
    let project = match &config.project_id {
        Some(p) => ProjectId::parse(p.clone()).map_err(|e| format!("COC_BOOTSTRAP_PROJECT_ID {e}"))?,
        None => ProjectId::parse(super::random_hex(32)).expect("hex is a valid project id"),
    };
    let marker = WriteOp::Put {
        item: Item::new(MARKER_PK, MARKER_SK, serde_json::json!({ "at": now }).to_string(), 1),
        condition: Condition::NotExists,
    };
    match (&config.access_key, &config.secret_key) {
        (Some(ak), Some(sk)) => {
            let credential = Credential {
                access_key: ak.clone(),
                secret_key: sk.clone(),
                project_id: project,
                user_id: BOOTSTRAP_USER.into(),
                user_name: BOOTSTRAP_USER.into(),
                created_at: now,
                agent_sn: None,
            };
            match stored::get(store, secrets, ak).await.map_err(|e| e.to_string())? {
                Some(existing) if existing.secret_key == *sk && existing.project_id == credential.project_id => {}
                Some(_) => return Err(format!("access key {ak} exists with another secret or project; not changed")),
                None => match stored::insert(store, secrets, &credential).await {
                    Ok(()) | Err(StoreError::ConditionFailed) => {}
                    Err(e) => return Err(e.to_string()),
                },
            }
            let _ = store.write(vec![marker]).await;
            Ok(None)
        }
        (None, None) => {
            if store.get(MARKER_PK, MARKER_SK).await.map_err(|e| e.to_string())?.is_some() {
                return Ok(None);
            }
            let credential = Credential::generate(project, BOOTSTRAP_USER.into(), BOOTSTRAP_USER.into(), now);
            let ops = vec![marker, stored::insert_op(secrets, &credential).await.map_err(|e| e.to_string())?];
            match store.write(ops).await {
                Ok(()) => Ok(Some(credential)),
                // Another process bootstrapped at the same moment.
                Err(StoreError::ConditionFailed) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
        _ => Err("set both COC_BOOTSTRAP_AK and COC_BOOTSTRAP_SK, or neither".into()),
    }
}
