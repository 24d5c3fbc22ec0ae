//! `count_resources`, `count_multi_resources`, `count_other_resource`: from
//! the counts the writes keep (`COUNT#AGENT`, `COUNT#OTHER…`) and the tag
//! catalogues, never by reading the resources, except for `agent_state`:
//! the state is the age of the last heartbeat (ONLINE within 60 s), which no
//! write can count, so it is counted by reading the tenant's agents page by
//! page, at most [`limits::AGENT_STATE_COUNT_WALK`] of them (more → 400).
//! Any other filter of the SDK's request is answered 400 naming it.

use serde_json::json;

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::inventory::other::{OtherType, OTHER_PROVIDER};
use crate::domain::inventory::tags::{TagFilter, TagKind};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::resources::{PROVIDER, RESOURCE_TYPE};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::{jobs, other_resources, tags};

/// 400 for the first query parameter not in `supported`.
fn only(request: &ApiRequest, supported: &[&str]) -> Result<(), ApiError> {
    if let Some((name, _)) = request.query.iter().find(|(name, _)| !supported.contains(&name.as_str())) {
        return Err(ApiError::invalid(
            name,
            format!("is not supported by this count; it counts by {}", supported.join(", ")),
        ));
    }
    Ok(())
}

/// Which resources a provider/type pair names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scope {
    agents: bool,
    /// `Some(None)`: imported hosts of every type.
    other: Option<Option<OtherType>>,
}

const NOTHING: Scope = Scope { agents: false, other: None };

fn scope(provider: Option<&str>, resource_type: Option<&str>) -> Scope {
    match (provider, resource_type) {
        (None, None) => Scope { agents: true, other: Some(None) },
        (Some(PROVIDER) | None, Some(RESOURCE_TYPE)) | (Some(PROVIDER), None) => Scope { agents: true, other: None },
        (Some(OTHER_PROVIDER), None) => Scope { agents: false, other: Some(None) },
        (Some(OTHER_PROVIDER) | None, Some(t)) => match OtherType::parse(t) {
            Some(t) => Scope { agents: false, other: Some(Some(t)) },
            None => NOTHING,
        },
        _ => NOTHING,
    }
}

const AGENT_STATES: [&str; 6] = ["ONLINE", "OFFLINE", "INSTALLING", "FAILED", "UNINSTALLED", "null"];

/// How many of the tenant's agents are in `state` now.
async fn agents_in_state(app: &App, caller: &Caller, state: &str) -> Result<u64, ApiError> {
    let now = now_ms();
    let mut count = 0;
    let mut read = 0;
    let mut after: Option<String> = None;
    loop {
        let chunk = limits::LIST_COUNT_CHUNK;
        let (agents, next) = jobs::agents_page(app.store.as_ref(), &caller.project_id, after.as_deref(), chunk).await?;
        read += agents.len();
        if read > limits::AGENT_STATE_COUNT_WALK {
            return Err(ApiError::invalid(
                "agent_state",
                format!(
                    "counting by agent state is supported for at most {} hosts; this tenant has more",
                    limits::AGENT_STATE_COUNT_WALK
                ),
            ));
        }
        count += agents.iter().filter(|a| a.state(now) == state).count() as u64;
        match next {
            Some(next) => after = Some(next),
            None => return Ok(count),
        }
    }
}

/// `GET /v1/resources/count?provider=&type=&agent_state=&tag=&tag_key=` → `{"data": n}`.
pub async fn count_resources(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    only(&request, &["provider", "type", "agent_state", "tag", "tag_key"])?;
    let provider = request.query_param::<String>("provider")?;
    let resource_type = request.query_param::<String>("type")?;
    let agent_state = request.query_param::<String>("agent_state")?;
    let tag = TagFilter::from_query(request.query_param("tag")?, request.query_param("tag_key")?)?;
    if let Some(state) = &agent_state {
        if !AGENT_STATES.contains(&state.as_str()) {
            return Err(ApiError::invalid("agent_state", format!("must be one of {}", AGENT_STATES.join(", "))));
        }
        if tag.is_some() {
            return Err(ApiError::invalid("agent_state", "cannot be counted together with a tag"));
        }
    }
    let scope = scope(provider.as_deref(), resource_type.as_deref());
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let mut total: u64 = 0;
    if scope.agents {
        total += match (&agent_state, &tag) {
            (Some(state), _) => agents_in_state(app, caller, state).await?,
            (None, Some(tag)) => tags::count(store, project, TagKind::Agent, tag).await?,
            (None, None) => jobs::count_agents(store, project).await? as u64,
        };
    }
    if let Some(other_type) = scope.other {
        total += match (&agent_state, &tag) {
            // Imported hosts have no agent: `null`, never ONLINE or OFFLINE.
            (Some(state), _) if state == "null" => other_resources::count(store, project, other_type).await? as u64,
            (Some(_), _) => 0,
            (None, Some(tag)) if other_type.is_none() => tags::count(store, project, TagKind::Other, tag).await?,
            (None, Some(_)) => {
                return Err(ApiError::invalid("tag", "imported hosts are counted by tag over all their types only"))
            }
            (None, None) => other_resources::count(store, project, other_type).await? as u64,
        };
    }
    ApiResponse::data(total)
}

/// `GET /v1/resources/multi-count` → `{"data": [{"resource_type", "count"}]}`:
/// hosts with agents (`cloudservers`) and imported hosts per type.
pub async fn count_multi_resources(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    only(&request, &["vendor", "is_resource"])?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let mut rows = vec![json!({ "resource_type": RESOURCE_TYPE, "count": jobs::count_agents(store, project).await? })];
    for other_type in OtherType::ALL {
        let count = other_resources::count(store, project, Some(other_type)).await?;
        rows.push(json!({ "resource_type": other_type.name(), "count": count }));
    }
    ApiResponse::data(rows)
}

/// `GET /v1/other-resources/count?type=` → `{"data": "n"}` (a string: the SDK's model).
pub async fn count_other_resource(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    only(&request, &["type"])?;
    let other_type = match request.query_param::<String>("type")? {
        None => None,
        Some(t) => Some(OtherType::parse(&t).ok_or_else(|| ApiError::invalid("type", "must be vm, PM or Middleware"))?),
    };
    let count = other_resources::count(app.store.as_ref(), &caller.project_id, other_type).await?;
    ApiResponse::data(count.to_string())
}
