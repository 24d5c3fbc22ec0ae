//! `/v1/integrations` (ours): a tenant's alarm integrations, each with the
//! key that its monitoring puts in the intake URL.

use serde_json::json;

use crate::app::App;
use crate::auth::random_hex;
use crate::clock::now_ms;
use crate::domain::alarm::{Integration, NewIntegration};
use crate::domain::incident::Named;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::incidents;

fn view(integration: &Integration) -> serde_json::Value {
    json!({
        "integration_id": integration.integration_id,
        "integration_key": integration.integration_key,
        "name": integration.name,
        "alarm_level_threshold": integration.alarm_level_threshold.key(),
        "incident_level": integration.incident_level.key(),
        "incident_type": integration.incident_type.key(),
        "incident_assignee": integration.incident_assignee,
        "creator": integration.creator,
        "create_time": integration.create_time,
        "intake_path": format!("/v1/event/huawei/custom/{}", integration.integration_key),
    })
}

/// `POST /v1/integrations` → `{"data": integration}` with its new key.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let new: NewIntegration = request.json_body()?;
    let integration = Integration {
        integration_id: format!("INT{}", random_hex(24)),
        integration_key: random_hex(32),
        project_id: caller.project_id.clone(),
        name: new.name.to_string(),
        alarm_level_threshold: new.alarm_level_threshold,
        incident_level: new.incident_level,
        incident_type: new.incident_type,
        incident_assignee: new.incident_assignee.map(String::from).unwrap_or_else(|| caller.user_id.clone()),
        creator: caller.user_id.clone(),
        create_time: now_ms(),
    };
    incidents::insert_integration(app.store.as_ref(), &integration).await?;
    ApiResponse::data(view(&integration))
}

/// `GET /v1/integrations` → `{"data": [integrations]}`, oldest first.
pub async fn list(app: &App, caller: &Caller, _request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let all = incidents::list_integrations(app.store.as_ref(), &caller.project_id).await?;
    ApiResponse::data(all.iter().map(view).collect::<Vec<_>>())
}

/// `DELETE /v1/integrations/{integration_id}` → `{"data": integration_id}`; its key stops working.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("integration_id")?;
    let integration = incidents::get_integration(app.store.as_ref(), &caller.project_id, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("integration {id} does not exist")))?;
    match incidents::delete_integration(app.store.as_ref(), &integration).await {
        Ok(()) | Err(crate::ports::StoreError::ConditionFailed) => ApiResponse::data(id),
        Err(other) => Err(other.into()),
    }
}

/// `GET /v1/integrations/{integration_id}/alarms` → `{"data": [alarms]}`: each
/// alarm once, with how often it was reported, its state and its incident.
pub async fn alarms(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("integration_id")?;
    if incidents::get_integration(app.store.as_ref(), &caller.project_id, id).await?.is_none() {
        return Err(ApiError::NotFound(format!("integration {id} does not exist")));
    }
    let alarms = incidents::list_alarms(app.store.as_ref(), &caller.project_id, id).await?;
    let rows: Vec<_> = alarms
        .iter()
        .map(|a| {
            json!({
                "alarm_id": a.alarm_id,
                "alarm_name": a.last.alarm_name,
                "alarm_level": a.last.alarm_level.key(),
                "alarm_status": a.status,
                "occurrences": a.occurrences,
                "first_seen": a.first_seen,
                "last_seen": a.last_seen,
                "incident_num": a.incident_num,
            })
        })
        .collect();
    ApiResponse::data(rows)
}
