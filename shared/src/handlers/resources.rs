//! `GET /v1/resources` (spec 4.1.1): the tenant's hosts, as their agents
//! registered them. They are ECS servers to the API: provider `ecs`, type `cloudservers`.
//! Hosts imported without an agent are provider `other`, type `vm`, `PM` or
//! `Middleware`. `tag=key.value` or `tag_key=key` lists only hosts with the tag,
//! through the tag's index partition (`repositories::tags`).

use serde_json::json;

use crate::app::App;
use crate::clock::{iso8601, now_ms};
use crate::domain::inventory::other::{OtherResource, OtherType, OTHER_PROVIDER};
use crate::domain::inventory::tags::{TagFilter, TagKind};
use crate::domain::job::agent::Agent;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::{jobs, other_resources, tags};

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
    let tag = TagFilter::from_query(request.query_param("tag")?, request.query_param("tag_key")?)?;
    if provider == OTHER_PROVIDER {
        return match OtherType::parse(&resource_type) {
            Some(other_type) => others_list(app, caller, other_type, marker, &wanted_ids, tag.as_ref(), limit).await,
            None => ApiResponse::data(Vec::<serde_json::Value>::new()),
        };
    }
    if provider != PROVIDER || resource_type != RESOURCE_TYPE {
        // Hosts are the only resources: nothing else to read.
        return ApiResponse::data(Vec::<serde_json::Value>::new());
    }
    let agents = match &tag {
        None => agents_page(app, caller, marker, &wanted_ids, limit).await?,
        Some(tag) => tagged_agents_page(app, caller, tag, marker, &wanted_ids, limit).await?,
    };
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
                "tags": a.tags,
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

/// At most `limit` agents carrying the filter's tag after serial number
/// `marker`, in serial number order: reads the tag's index partition and the
/// agents it names, none without the tag.
async fn tagged_agents_page(
    app: &App,
    caller: &Caller,
    tag: &TagFilter,
    marker: Option<String>,
    wanted_ids: &[&str],
    limit: usize,
) -> Result<Vec<Agent>, ApiError> {
    let store = app.store.as_ref();
    let mut found = Vec::with_capacity(limit);
    let mut after = marker.map(|sn| jobs::agent_order_sk(&sn));
    while found.len() < limit {
        let missing = limit - found.len();
        let chunk = if wanted_ids.is_empty() { missing } else { missing.max(limits::LIST_WALK_MIN_CHUNK) };
        let (ids, next) =
            tags::ids_page(store, &caller.project_id, TagKind::Agent, tag, after.as_deref(), chunk).await?;
        for sn in ids {
            if found.len() == limit {
                // Full: the agents after it are the next page's, not read for this one.
                return Ok(found);
            }
            if let Some(agent) = jobs::get_agent(store, &caller.project_id, &sn).await? {
                let wanted = wanted_ids.is_empty() || wanted_ids.contains(&agent.resource_id.as_str());
                if wanted && tag.matches(&agent.tags) {
                    found.push(agent);
                }
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    Ok(found)
}

/// Imported hosts of one type (no agent: `agent_state` null), in id order after `marker`.
async fn others_list(
    app: &App,
    caller: &Caller,
    other_type: OtherType,
    marker: Option<String>,
    wanted_ids: &[&str],
    tag: Option<&TagFilter>,
    limit: usize,
) -> Result<ApiResponse, ApiError> {
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let keep = |r: &OtherResource| {
        r.other_type == other_type
            && (wanted_ids.is_empty() || wanted_ids.contains(&r.id.as_str()))
            && tag.is_none_or(|t| t.matches(&r.tags))
    };
    let mut found: Vec<OtherResource> = Vec::with_capacity(limit);
    let mut after = marker.map(|id| other_resources::order_sk(&id));
    let filtered = !wanted_ids.is_empty() || tag.is_some();
    while found.len() < limit {
        let missing = limit - found.len();
        let chunk = if filtered { missing.max(limits::LIST_WALK_MIN_CHUNK) } else { missing };
        let (rows, next) = match tag {
            None => other_resources::page(store, project, other_type, after.as_deref(), chunk).await?,
            Some(tag) => {
                let (ids, next) = tags::ids_page(store, project, TagKind::Other, tag, after.as_deref(), chunk).await?;
                let mut rows = Vec::new();
                for id in ids {
                    if found.len() + rows.len() == limit {
                        // Full: the hosts after it are the next page's, not read for this one.
                        break;
                    }
                    rows.extend(other_resources::get(store, project, &id).await?.map(|r| r.value).filter(|r| keep(r)));
                }
                (rows, next)
            }
        };
        found.extend(rows.into_iter().filter(|r| keep(r)));
        match next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    found.truncate(limit);
    let rows: Vec<_> = found
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "resource_id": r.id,
                "name": r.name,
                "provider": OTHER_PROVIDER,
                "type": other_type.name(),
                "project_id": r.project_id,
                "region_id": r.region_id,
                "ep_id": "0",
                "tags": r.tags,
                "agent_id": null,
                "agent_state": null,
                "inner_ip": r.ip,
                "properties": { "host_name": r.name, "fixed_ip": r.ip, "os_type": r.os_type, "os_version": r.os_version },
                "create_time": iso8601(r.created_at),
                "update_time": iso8601(r.created_at),
            })
        })
        .collect();
    ApiResponse::data(rows)
}
