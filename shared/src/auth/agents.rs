//! Each agent has its own identity (after SSM hybrid activations): registering
//! an agent, with a user's key of the tenant or with a one-time activation an
//! operator created (limited in uses and lifetime), returns a credential for that
//! agent alone. Agent endpoints accept only that credential, for that agent's
//! own jobs; revoking the agent deletes it, so its next request is refused.

use serde::{Deserialize, Serialize};

use super::signature::sha256_hex;
use super::{random_hex, random_text, Credential};
use crate::domain::job::agent::{Agent, AgentRegistration};
use crate::domain::tenant::{Caller, ProjectId};
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::ports::{Store, WriteOp};
use crate::repositories::{credentials, jobs};
use crate::secrets::SecretBox;

/// How many agents one activation may register at most (as SSM: 1 to 1000).
pub const MAX_ACTIVATION_REGISTRATIONS: u32 = 1000;
/// The longest an activation may live (as SSM: 30 days), and the shortest.
pub const MAX_ACTIVATION_LIFETIME_SECS: u64 = 30 * 24 * 60 * 60;
pub const MIN_ACTIVATION_LIFETIME_SECS: u64 = 60;
/// The lifetime of an activation when its creator does not say.
pub const DEFAULT_ACTIVATION_LIFETIME_SECS: u64 = 24 * 60 * 60;

/// An operator's permission for a few agents to register themselves into a
/// tenant without holding a user's key. The code is shown once; only its
/// SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub activation_id: String,
    pub project_id: ProjectId,
    pub code_sha256: String,
    pub max_registrations: u32,
    pub registrations: u32,
    pub expires_at: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// The body of `POST /v1/agent-activations` (ours).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivationRequest {
    #[serde(default)]
    pub max_registrations: Option<u32>,
    #[serde(default)]
    pub expires_in_seconds: Option<u64>,
}

/// A new activation and its code, which only its creator ever sees.
pub struct NewActivation {
    pub activation: Activation,
    pub code: String,
}

/// Creates an activation in `caller`'s tenant.
pub async fn create_activation(
    store: &dyn Store,
    caller: &Caller,
    request: &ActivationRequest,
    now: i64,
) -> Result<NewActivation, ApiError> {
    let max_registrations = request.max_registrations.unwrap_or(1);
    if !(1..=MAX_ACTIVATION_REGISTRATIONS).contains(&max_registrations) {
        return Err(ApiError::invalid("max_registrations", format!("must be 1 to {MAX_ACTIVATION_REGISTRATIONS}")));
    }
    let lifetime = request.expires_in_seconds.unwrap_or(DEFAULT_ACTIVATION_LIFETIME_SECS);
    if !(MIN_ACTIVATION_LIFETIME_SECS..=MAX_ACTIVATION_LIFETIME_SECS).contains(&lifetime) {
        return Err(ApiError::invalid(
            "expires_in_seconds",
            format!("must be {MIN_ACTIVATION_LIFETIME_SECS} to {MAX_ACTIVATION_LIFETIME_SECS}"),
        ));
    }
    let code = random_text(40);
    let activation = Activation {
        activation_id: random_hex(32),
        project_id: caller.project_id.clone(),
        code_sha256: sha256_hex(code.as_bytes()),
        max_registrations,
        registrations: 0,
        expires_at: now + lifetime as i64 * 1000,
        created_by: caller.user_id.clone(),
        created_at: now,
    };
    credentials::insert_activation(store, &activation).await?;
    Ok(NewActivation { activation, code })
}

/// Who asks to register an agent.
pub enum Enrollment {
    /// A user of the tenant, proven by their key or token.
    User(Caller),
    /// The holder of an activation's id and code.
    Activation { id: String, code: String },
}

/// The activation `id`/`code` names, if it can still register an agent.
pub async fn usable_activation(
    store: &dyn Store,
    id: &str,
    code: &str,
    now: i64,
) -> Result<crate::repositories::Versioned<Activation>, ApiError> {
    let refused = || ApiError::Unauthorized("the activation is unknown or its code does not match".into());
    let found = credentials::get_activation(store, id).await?.ok_or_else(refused)?;
    // Comparing digests: the time taken tells nothing about the code itself.
    if found.value.code_sha256 != sha256_hex(code.as_bytes()) {
        return Err(refused());
    }
    if found.value.expires_at <= now {
        return Err(ApiError::Forbidden(format!("activation {id} has expired")));
    }
    if found.value.registrations >= found.value.max_registrations {
        return Err(ApiError::Forbidden(format!(
            "activation {id} has registered its {} agents already",
            found.value.max_registrations
        )));
    }
    Ok(found)
}

/// Registers (or, for a user, registers again) an agent and returns it with
/// its new credential. Registering again replaces the agent's credential: the
/// old one stops working. An activation may register only agents not yet known,
/// so that its holder cannot take over an existing agent.
pub async fn register(
    store: &dyn Store,
    secrets: &SecretBox,
    enrollment: &Enrollment,
    registration: AgentRegistration,
    now: i64,
) -> Result<(Agent, Credential), ApiError> {
    let agent_sn = registration.agent_sn.to_string();
    until_written(&format!("agent {agent_sn}"), || async {
        let mut ops: Vec<WriteOp> = Vec::new();
        let project = match enrollment {
            Enrollment::User(caller) => caller.project_id.clone(),
            Enrollment::Activation { id, code } => {
                let mut activation = usable_activation(store, id, code, now).await?;
                let version = activation.version;
                activation.value.registrations += 1;
                ops.push(credentials::activation_use_op(&activation.value, version)?);
                activation.value.project_id
            }
        };
        let existing = jobs::get_agent_versioned(store, &project, &agent_sn).await?;
        let credential = Credential::for_agent(project.clone(), &agent_sn, now);
        let mut agent = Agent::register(registration.clone(), project, now);
        agent.access_key = Some(credential.access_key.clone());
        match (&existing, enrollment) {
            (Some(_), Enrollment::Activation { .. }) => {
                return Err(ApiError::Conflict(format!(
                    "agent {agent_sn} is registered already; revoke it first, or register it again with a user's key"
                )))
            }
            (Some(old), Enrollment::User(_)) => {
                agent.registered_at = old.value.registered_at;
                // Registering again keeps the host's tags (and their index items),
                // and counts an agent registered before the count was kept.
                agent.tags = old.value.tags.clone();
                if !old.value.counted {
                    ops.push(jobs::agent_count_op(&agent.project_id, 1));
                }
                if let Some(old_key) = &old.value.access_key {
                    ops.push(credentials::delete_op(old_key));
                }
            }
            (None, _) => ops.push(jobs::agent_count_op(&agent.project_id, 1)),
        }
        ops.push(jobs::agent_put_op(&agent, existing.as_ref().map(|e| e.version))?);
        ops.push(credentials::insert_op(secrets, &credential).await?);
        landed(store.write(ops).await, (agent.clone(), credential.clone()))
    })
    .await
}

/// Revokes an agent: its credential and registration are deleted together, so
/// its very next request is refused. Returns false when no such agent exists.
pub async fn revoke(store: &dyn Store, project: &ProjectId, agent_sn: &str) -> Result<bool, ApiError> {
    until_written(&format!("agent {agent_sn}"), || async {
        let Some(agent) = jobs::get_agent_versioned(store, project, agent_sn).await? else {
            return Ok(Some(false));
        };
        let mut ops = vec![jobs::agent_delete_op(&agent.value, agent.version)];
        if agent.value.counted {
            ops.push(jobs::agent_count_op(project, -1));
        }
        if let Some(key) = &agent.value.access_key {
            ops.push(credentials::delete_op(key));
        }
        // Its tags go with it: index items and catalogue uses.
        let untag = crate::repositories::tags::retag_ops(
            store,
            project,
            crate::domain::inventory::tags::TagKind::Agent,
            agent_sn,
            &jobs::agent_order_sk(agent_sn),
            &agent.value.tags,
            &[],
        )
        .await?;
        ops.extend(untag);
        landed(store.write(ops).await, true)
    })
    .await
}
