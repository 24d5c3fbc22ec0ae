//! `list_script_resource_tags`, `update_resource_tags` (scripts),
//! `list_resource_tags` and `create_resource_tags` (resources).

use serde::Deserialize;
use serde_json::json;

use super::{find, Resource};
use crate::app::App;
use crate::domain::inventory::tags::{self, Tag, TagKind, SCRIPT_RESOURCE_TYPE};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::tags::{self as tag_store, RetagError};
use crate::repositories::{jobs, other_resources, scripts};

fn script_resource_type(request: &ApiRequest) -> Result<(), ApiError> {
    let resource_type = request.path_param("resource_type")?;
    if resource_type != SCRIPT_RESOURCE_TYPE {
        return Err(ApiError::invalid(
            "resource_type",
            format!("must be {SCRIPT_RESOURCE_TYPE}, got {resource_type:?}"),
        ));
    }
    Ok(())
}

/// A retag's outcome for `until_written`: a lost race on the record or the catalogue is tried again.
fn retagged<T>(result: Result<(), RetagError>, value: T) -> Result<Option<T>, ApiError> {
    match result {
        Ok(()) => Ok(Some(value)),
        Err(RetagError::Store(e)) => landed(Err(e), value),
        Err(other) => Err(other.into()),
    }
}

/// `GET /v1/script/coc:script/tags?limit=&offset=` → `{"data": {"tags": [{key, values}], "total"}}`:
/// the keys of the tenant's script tags in key order with every value each has; `total` counts keys.
pub async fn list_script_tags(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    script_resource_type(&request)?;
    let limit = request
        .query_number("limit", limits::TAG_CATALOGUE_PAGE)?
        .map(|n| n as usize)
        .unwrap_or(limits::TAG_CATALOGUE_PAGE_DEFAULT);
    let offset = request.query_number("offset", limits::TAG_CATALOGUE_OFFSET)?.unwrap_or(0) as usize;
    let catalogue = tag_store::catalogue(app.store.as_ref(), &caller.project_id, TagKind::Script).await?;
    let catalogue = catalogue.map(|c| c.value).unwrap_or_default();
    let tags: Vec<_> = catalogue
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(key, values)| json!({ "key": key, "values": values.keys().collect::<Vec<_>>() }))
        .collect();
    ApiResponse::data(json!({ "tags": tags, "total": catalogue.len() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    tags: Vec<Tag>,
}

/// `POST /v1/script/coc:script/{resource_id}/tags/update` with `{"tags": [{key, value}]}` →
/// `{"data": script_uuid}`: the script's tags become exactly these (an empty list removes all).
pub async fn update_script_tags(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    script_resource_type(&request)?;
    let script_uuid = request.path_param("resource_id")?.to_owned();
    let body: TagsBody = request.json_body()?;
    let new = tags::checked("tags", body.tags)?;
    let store = app.store.as_ref();
    until_written(&format!("script {script_uuid}"), || async {
        let (script, item) = scripts::get_item(store, &caller.project_id, &script_uuid)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("script {script_uuid} does not exist")))?;
        retagged(scripts::retag(store, &script, &item, &new).await, ())
    })
    .await?;
    ApiResponse::data(&script_uuid)
}

fn tag_rows(tags: &[Tag]) -> Vec<serde_json::Value> {
    tags.iter().map(|t| json!({ "key": t.key, "value": t.value })).collect()
}

/// `GET /v1/resources/{resource_id}/tags` → `{"tags": [{key, value}]}` (no `data` envelope: the SDK's model).
pub async fn list_resource_tags(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("resource_id")?;
    let tags = match find(app, caller, id).await? {
        Resource::Agent(agent) => agent.value.tags,
        Resource::Other(other) => other.value.tags,
    };
    Ok(ApiResponse::json(http::StatusCode::OK, json!({ "tags": tag_rows(&tags) })))
}

/// `POST /v1/resources/{resource_id}/tags` with `{"tags": [{key, value}]}` →
/// `{"data": {"id": resource_id}}`: the tags are put on the resource; a key it
/// has already takes the new value, its other tags stay.
pub async fn create_resource_tags(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("resource_id")?.to_owned();
    let body: TagsBody = request.json_body()?;
    tags::checked("tags", body.tags.clone())?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    until_written(&format!("resource {id}"), || async {
        let (kind, order, old, put) = match find(app, caller, &id).await? {
            Resource::Agent(agent) => {
                let mut changed = agent.value.clone();
                changed.tags = tags::merged("tags", &agent.value.tags, body.tags.clone())?;
                let put = jobs::agent_put_op(&changed, Some(agent.version))?;
                (TagKind::Agent, jobs::agent_order_sk(&id), (agent.value.tags, changed.tags), put)
            }
            Resource::Other(other) => {
                let mut changed = other.value.clone();
                changed.tags = tags::merged("tags", &other.value.tags, body.tags.clone())?;
                let put = other_resources::put_op(&changed, Some(other.version))?;
                (TagKind::Other, other_resources::order_sk(&id), (other.value.tags, changed.tags), put)
            }
        };
        let result = async {
            let mut ops = tag_store::retag_ops(store, project, kind, &id, &order, &old.0, &old.1).await?;
            ops.push(put);
            store.write(ops).await.map_err(RetagError::from)
        }
        .await;
        retagged(result, ())
    })
    .await?;
    ApiResponse::data(json!({ "id": id }))
}
