//! `sync_resource` and `sync_resource_agent`. Hosts here are what their agents
//! (or an import) put in; there is no cloud inventory to pull from, and the
//! agent state shown is computed from the last heartbeat on every read. So a
//! sync is done when it answers: it checks what it is asked to refresh
//! exists and reads those agents again (their state as of now).

use serde::Deserialize;
use serde_json::json;

use super::{find, Resource};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::inventory::other::{OtherType, OTHER_PROVIDER};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::resources::{PROVIDER, RESOURCE_TYPE};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;

#[derive(Deserialize)]
struct SyncBody {
    provider: String,
    #[serde(rename = "type")]
    resource_type: String,
}

/// `POST /v1/resources/sync` with `{"provider", "type"}` → `{}` (the SDK's
/// response has no field): the provider and type must be ones we list.
pub async fn sync_resource(_app: &App, _caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: SyncBody = request.json_body()?;
    let known = (body.provider == PROVIDER && body.resource_type == RESOURCE_TYPE)
        || (body.provider == OTHER_PROVIDER && OtherType::parse(&body.resource_type).is_some());
    if !known {
        return Err(ApiError::invalid(
            "provider",
            format!(
                "{}/{} is not a resource kind of this service (ecs/cloudservers, other/vm|PM|Middleware)",
                body.provider, body.resource_type
            ),
        ));
    }
    Ok(ApiResponse::json(http::StatusCode::OK, json!({})))
}

#[derive(Deserialize)]
struct ResourceInfo {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    resource_id: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    region_id: Option<String>,
}

#[derive(Deserialize)]
struct SyncAgentBody {
    resource_infos: Vec<ResourceInfo>,
    #[serde(default)]
    #[allow(dead_code)]
    vendor: Option<String>,
}

/// `POST /v1/resources/uniagent/sync` with `{"resource_infos": [{"id", "resource_id", "region_id"}]}`
/// (1 to 100; `id` is the id `GET /v1/resources` shows, `resource_id` is used
/// when it is missing) → `{"data": task_id}`. Each resource is read again;
/// an unknown one is a 400 naming its place in the list.
pub async fn sync_resource_agent(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: SyncAgentBody = request.json_body()?;
    limits::SYNC_RESOURCES
        .check(body.resource_infos.len(), "resources")
        .map_err(|p| ApiError::invalid("resource_infos", p))?;
    let now = now_ms();
    let mut states = Vec::new();
    for (n, info) in body.resource_infos.iter().enumerate() {
        let field = format!("resource_infos[{n}].id");
        let id = info
            .id
            .as_deref()
            .or(info.resource_id.as_deref())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::invalid(&field, "is required (or resource_id)"))?;
        limits::RESOURCE_ID.check(id).map_err(|p| ApiError::invalid(&field, p))?;
        match find(app, caller, id).await {
            Ok(Resource::Agent(agent)) => states.push((id.to_owned(), agent.value.state(now))),
            Ok(Resource::Other(_)) => states.push((id.to_owned(), "null")),
            Err(ApiError::NotFound(_)) => return Err(ApiError::invalid(&field, format!("no resource {id}"))),
            Err(other) => return Err(other),
        }
    }
    let task_id = format!("SYNC{}", uuid::Uuid::new_v4().simple());
    tracing::info!(task_id, resources = states.len(), ?states, "agent states refreshed");
    ApiResponse::data(task_id)
}
