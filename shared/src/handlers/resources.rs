//! `GET /v1/resources` (spec 4.1.1): the tenant's hosts, as their agents
//! registered them. They are ECS servers to the API: provider `ecs`, type `cloudservers`.

use serde_json::json;

use crate::app::App;
use crate::clock::{iso8601, now_ms};
use crate::domain::job::agent::Agent;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::jobs;

pub const PROVIDER: &str = "ecs";
pub const RESOURCE_TYPE: &str = "cloudservers";

fn required(request: &ApiRequest, name: &str) -> Result<String, ApiError> {
    request.query_param::<String>(name)?.filter(|v| !v.is_empty()).ok_or_else(|| ApiError::invalid(name, "is required"))
}

/// `?provider=&type=&limit=&marker=&resource_id_list=a&resource_id_list=b` →
/// `{"data": [...]}` ordered by id; `marker` is the id of the last row seen.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let provider = required(&request, "provider")?;
    let resource_type = required(&request, "type")?;
    let limit = request.limit(limits::RESOURCES_PAGE, true)?;
    let marker = request.query_param::<String>("marker")?;
    let wanted_ids = request.query_all("resource_id_list");
    if provider != PROVIDER || resource_type != RESOURCE_TYPE {
        // Hosts are the only resources: nothing else to read.
        return ApiResponse::data(Vec::<serde_json::Value>::new());
    }
    let agents = agents_page(app, caller, marker, &wanted_ids, limit).await?;
    let now = now_ms();
    let rows: Vec<_> = agents
        .iter()
        .map(|a| {
            json!({
                "id": a.agent_sn,
                "resource_id": a.resource_id,
                "name": a.host_name,
                "provider": PROVIDER,
                "type": RESOURCE_TYPE,
                "project_id": a.project_id,
                "region_id": a.region_id,
                "ep_id": "0",
                "tags": [],
                "agent_id": a.agent_sn,
                "agent_state": a.state(now),
                "inner_ip": a.fixed_ip,
                "properties": { "host_name": a.host_name, "fixed_ip": a.fixed_ip, "os_type": a.os_type },
                "create_time": iso8601(a.registered_at),
                "update_time": iso8601(a.last_heartbeat),
            })
        })
        .collect();
    ApiResponse::data(rows)
}

/// At most `limit` agents after serial number `marker` whose resource id is
/// listed (any when the list is empty), in serial number order: the agents'
/// keys are in that order, so this reads the page and what the list discards.
async fn agents_page(
    app: &App,
    caller: &Caller,
    marker: Option<String>,
    wanted_ids: &[&str],
    limit: usize,
) -> Result<Vec<Agent>, ApiError> {
    let mut found = Vec::with_capacity(limit);
    let mut after = marker;
    while found.len() < limit {
        let missing = limit - found.len();
        let chunk = if wanted_ids.is_empty() { missing } else { missing.max(limits::LIST_WALK_MIN_CHUNK) };
        let (agents, next) = jobs::agents_page(app.store.as_ref(), &caller.project_id, after.as_deref(), chunk).await?;
        found.extend(
            agents.into_iter().filter(|a| wanted_ids.is_empty() || wanted_ids.contains(&a.resource_id.as_str())),
        );
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    found.truncate(limit);
    Ok(found)
}
