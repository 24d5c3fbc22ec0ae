//! `/v1/integrations` (ours): a tenant's alarm integrations, each with the
//! key that its monitoring puts in the intake URL.

use http::StatusCode;
use serde_json::json;

use super::assignees;
use crate::app::App;
use crate::auth::random_hex;
use crate::clock::now_ms;
use crate::domain::alarm::{Integration, NewIntegration};
use crate::domain::incident::Named;
use crate::domain::prometheus::LabelNames;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::{alarms as alarm_records, incidents};

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
        "prometheus_intake_path": format!("/v1/event/prometheus/{}", integration.integration_key),
        "prometheus_severity_label": LabelNames::of(integration).severity,
        "prometheus_resource_label": LabelNames::of(integration).resource,
        "auto_recover_incident": integration.auto_recover_incident,
    })
}

/// `POST /v1/integrations` → `{"data": integration}` with its new key.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let new: NewIntegration = request.json_body()?;
    // The incidents its alarms open go to this engineer (the caller unless named).
    let assignee = new.incident_assignee.map(String::from).unwrap_or_else(|| caller.user_id.clone());
    assignees::require_engineer(app, &caller.project_id, "incident_assignee", &assignee).await?;
    let integration = Integration {
        integration_id: format!("INT{}", random_hex(24)),
        integration_key: random_hex(32),
        project_id: caller.project_id.clone(),
        name: new.name.to_string(),
        alarm_level_threshold: new.alarm_level_threshold,
        incident_level: new.incident_level,
        incident_type: new.incident_type,
        incident_assignee: assignee,
        creator: caller.user_id.clone(),
        create_time: now_ms(),
        prometheus_severity_label: new.prometheus_severity_label.map(String::from),
        prometheus_resource_label: new.prometheus_resource_label.map(String::from),
        auto_recover_incident: new.auto_recover_incident.is_some_and(|flag| flag.0),
    };
    incidents::insert_integration(app.store.as_ref(), &integration).await?;
    ApiResponse::data(view(&integration))
}

/// The paging of our own lists: `limit` (1–100, default 100) and `marker`, the
/// `next_marker` of the previous page (opaque: an index sort key,
/// `{13-digit time}#{id}`).
pub(crate) fn own_page(request: &ApiRequest) -> Result<(usize, Option<String>), ApiError> {
    let limit = request.query_number("limit", limits::OWN_PAGE)?.map_or(limits::OWN_PAGE_DEFAULT, |l| l as usize);
    let marker = request.query_text("marker", limits::OWN_MARKER)?;
    if let Some(marker) = &marker {
        let well_formed = marker.len() > 14
            && marker.as_bytes()[..13].iter().all(u8::is_ascii_digit)
            && marker.as_bytes()[13] == b'#';
        if !well_formed {
            return Err(ApiError::invalid("marker", "must be the next_marker of a previous page"));
        }
    }
    Ok((limit, marker))
}

/// `{"data": [rows], "count": all rows, "next_marker": marker of the next page or null}`.
pub(crate) fn page_response(rows: Vec<serde_json::Value>, count: usize, next: Option<String>) -> ApiResponse {
    ApiResponse::json(StatusCode::OK, json!({ "data": rows, "count": count, "next_marker": next }))
}

/// `GET /v1/integrations?limit=&marker=` → a page of integrations, oldest first.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let (limit, marker) = own_page(&request)?;
    let store = app.store.as_ref();
    let page = incidents::list_integrations(store, &caller.project_id, marker.as_deref(), limit).await?;
    let count = incidents::count_integrations(store, &caller.project_id).await?;
    Ok(page_response(page.rows.iter().map(view).collect(), count, page.next))
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

/// `GET /v1/integrations/{integration_id}/alarms?limit=&marker=` → a page of
/// alarms, the most recently reported first: each alarm once, with how often
/// it was reported, its state and its incident.
pub async fn alarms(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = request.path_param("integration_id")?;
    let (limit, marker) = own_page(&request)?;
    let store = app.store.as_ref();
    if incidents::get_integration(store, &caller.project_id, id).await?.is_none() {
        return Err(ApiError::NotFound(format!("integration {id} does not exist")));
    }
    let page = alarm_records::list_alarms(store, &caller.project_id, id, marker.as_deref(), limit).await?;
    let count = alarm_records::count_alarms(store, &caller.project_id, id).await?;
    let rows: Vec<_> = page
        .rows
        .iter()
        .map(|a| {
            json!({
                // The public id that /v1/alarm-mgmt/* names it by.
                "id": a.public_id(),
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
    Ok(page_response(rows, count, page.next))
}
