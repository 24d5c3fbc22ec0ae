//! `/v2/incidents/*`: the incident list, an action on an incident's task, and
//! its current task (histories: [`super::histories`]).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{envelope, take_action, Action};
use crate::app::App;
use crate::domain::incident::query::{IncidentQuery, SearchBody};
use crate::domain::incident::workflow::action_names;
use crate::domain::incident::{Incident, Named};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::incidents;

/// A body the SDK may send empty (every field of these is optional).
pub(super) fn search_body(request: &ApiRequest) -> Result<SearchBody, ApiError> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SearchBody::default());
    }
    request.json_body()
}

/// `POST /v2/incidents/list` → data `{"total", "list": [CocIncidentDataV2]}`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(list_incidents(app, caller, &request).await))
}

async fn list_incidents(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let query =
        IncidentQuery::parse(&search_body(request)?).map_err(|(field, problem)| ApiError::invalid(&field, problem))?;
    let page = incidents::list_incidents(app.store.as_ref(), &caller.project_id, &query).await?;
    let list: Vec<Value> = page.rows.iter().map(row).collect();
    Ok(json!({ "total": page.total, "list": list }))
}

fn ms(time: Option<i64>) -> Value {
    time.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// An incident as the list shows it (`CocIncidentDataV2`: every value a string).
fn row(incident: &Incident) -> Value {
    let first = |list: &[String]| list.first().cloned();
    let enum_data: Vec<Value> = incident
        .enum_data()
        .into_iter()
        .map(|e| json!({ "prop_id": e["filed_key"], "biz_id": e["enum_key"], "name_zh": e["name_zh"], "name_en": e["name_en"] }))
        .collect();
    json!({
        "ticket_id": incident.incident_num,
        "title": incident.incident_title,
        "description": incident.incident_description,
        "current_cloud_service_id": first(&incident.current_cloud_service),
        "level_id": incident.incident_level.key(),
        "mtm_region": first(&incident.region),
        "source_id": incident.incident_source.key(),
        "forward_rule_id": null,
        "enterprise_project_id": first(&incident.enterprise_project),
        "mtm_type": incident.mtm_type.unwrap_or(incident.incident_type).key(),
        "is_service_interrupt": incident.is_service_interrupt.to_string(),
        "work_flow_status": incident.status.key(),
        "phase": incident.status.names().1,
        "assignee": first(&incident.incident_assignee),
        "creator": incident.creator,
        "operator": incident.last_operator,
        "update_time": ms(incident.update_time),
        "create_time": ms(Some(incident.create_time)),
        "start_time": ms(incident.start_time),
        "handle_time": ms(incident.handle_time),
        "incident_ownership": incident.incident_ownership,
        "enum_data_list": enum_data,
    })
}

/// The body of `POST /v2/incidents/{incident_id}/actions` (ExecuteActionParamsV2).
#[derive(Debug, Deserialize)]
struct ActionBody {
    /// The task the action is for (`show_incident_task`); when given, it must
    /// still be the incident's task, so an action decided on a stale view is refused.
    #[serde(default)]
    task_id: Option<String>,
    action: String,
    /// The action's inputs, as v1's `parameter`.
    #[serde(default)]
    params: Option<Map<String, Value>>,
}

/// `POST /v2/incidents/{incident_id}/actions` → no data: v1's handle, the
/// caller its operator.
pub async fn act(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(act_on_incident(app, caller, &request).await))
}

async fn act_on_incident(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let num = request.path_param("incident_id")?;
    let body: ActionBody = request.json_body()?;
    limits::INCIDENT_ACTION.check(&body.action).map_err(|p| ApiError::invalid("action", p))?;
    if let Some(task) = &body.task_id {
        limits::INCIDENT_ACTION.check(task).map_err(|p| ApiError::invalid("task_id", p))?;
    }
    let parameter = body.params.unwrap_or_default();
    let action = Action { operate_key: &body.action, operator: &caller.user_id, parameter: &parameter };
    let task_id = body.task_id.as_deref();
    take_action(app, &caller.project_id, num, action, |incident| match (task_id, incident.current_task()) {
        (None, _) => Ok(()),
        (Some(want), Some(task)) if task.task_id == want => Ok(()),
        (Some(want), current) => Err(ApiError::Conflict(format!(
            "task_id: {want} is not the incident's current task ({})",
            current.map_or_else(|| "it has none: the incident is over".to_owned(), |t| t.task_id)
        ))),
    })
    .await?;
    Ok(Value::Null)
}

/// `GET /v2/incidents/{incident_id}/tasks` → data `[CocTaskDetailV2]`: the task
/// the incident waits in, with the actions it takes; empty once it is over.
pub async fn task(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(incident_task(app, caller, &request).await))
}

async fn incident_task(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let num = request.path_param("incident_id")?;
    let incident = incidents::get_incident(app.store.as_ref(), &caller.project_id, num)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {num} does not exist")))?
        .value;
    let Some(task) = incident.current_task() else { return Ok(json!([])) };
    let operations: Vec<Value> = task
        .actions
        .iter()
        .map(|key| json!({ "task_id": task.task_id, "key": key, "name": action_names(key).1 }))
        .collect();
    Ok(json!([{
        "type": "userTask",
        "key": task.status.key(),
        "name": task.status.names().1,
        "state": "running",
        "assignee": incident.incident_assignee.first(),
        "operations": operations,
    }]))
}
