//! Agents' identities (ours): registering an agent for its own credential,
//! activations that let agents register without a user's key, and revocation.

use serde_json::json;

use crate::app::App;
use crate::auth::agents::{self, ActivationRequest, Enrollment};
use crate::auth::authenticate;
use crate::clock::{iso8601, now_ms};
use crate::domain::job::agent::AgentRegistration;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};

pub const ACTIVATION_ID_HEADER: &str = "x-activation-id";
pub const ACTIVATION_CODE_HEADER: &str = "x-activation-code";

fn header<'a>(request: &'a ApiRequest, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

/// `POST /v1/agents` with the host's details, signed with a user's key of the
/// tenant or carrying `X-Activation-Id` and `X-Activation-Code` →
/// `{"data": {"agent_sn", "project_id", "access_key", "secret_key"}}`: the
/// agent's own credential, shown this once. Who asks is settled before the body is read.
pub async fn register(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let now = now_ms();
    let store = app.store.as_ref();
    let enrollment = match (header(&request, ACTIVATION_ID_HEADER), header(&request, ACTIVATION_CODE_HEADER)) {
        (Some(id), Some(code)) => {
            agents::usable_activation(store, id, code, now).await?;
            Enrollment::Activation { id: id.to_owned(), code: code.to_owned() }
        }
        (None, None) => Enrollment::User(authenticate(store, &app.secrets, &app.public_hosts, &request, now).await?),
        _ => {
            return Err(ApiError::Unauthorized(
                "send both X-Activation-Id and X-Activation-Code, or sign with a user's key".into(),
            ))
        }
    };
    let registration: AgentRegistration = request.json_body()?;
    let (agent, credential) = agents::register(store, &app.secrets, &enrollment, registration, now).await?;
    ApiResponse::data(json!({
        "agent_sn": agent.agent_sn,
        "project_id": credential.project_id,
        "access_key": credential.access_key,
        "secret_key": credential.secret_key,
    }))
}

/// `POST /v1/agent-activations` with `{"max_registrations"?: 1..1000,
/// "expires_in_seconds"?: 60..2592000}` → `{"data": {"activation_id",
/// "activation_code", "max_registrations", "expires_at"}}`; the code is shown this once.
pub async fn create_activation(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let wanted: ActivationRequest = request.json_body()?;
    let created = agents::create_activation(app.store.as_ref(), caller, &wanted, now_ms()).await?;
    ApiResponse::data(json!({
        "activation_id": created.activation.activation_id,
        "activation_code": created.code,
        "max_registrations": created.activation.max_registrations,
        "expires_at": iso8601(created.activation.expires_at),
    }))
}

/// `DELETE /v1/agents/{agent_sn}` → `{"data": agent_sn}`: the agent's credential
/// stops working at once. Its jobs are not touched; they time out.
pub async fn revoke(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let agent_sn = request.path_param("agent_sn")?;
    if !agents::revoke(app.store.as_ref(), &caller.project_id, agent_sn).await? {
        return Err(ApiError::NotFound(format!("agent {agent_sn} is not registered in this project")));
    }
    ApiResponse::data(agent_sn)
}
