//! An incident's timeline: `POST /v2/incidents/{incident_id}/histories` and
//! the ticket-history list `POST /v1/external/{ticket_type}/list-histories`,
//! both every action with who, when and what changed, oldest first unless
//! sorted otherwise, at most [`limits::INCIDENT_HISTORY_PAGE`] per answer.

use serde_json::{json, Value};

use super::envelope;
use super::v2::search_body;
use crate::app::App;
use crate::domain::incident::query::HistoryQuery;
use crate::domain::incident::workflow::action_names;
use crate::domain::incident::Named;
use crate::domain::tenant::{Caller, ProjectId};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::incidents::{self, SavedEntry};

/// The ticket types the ticket-history list answers.
const INCIDENT_TICKETS: &str = "incident";

/// `POST /v2/incidents/{incident_id}/histories` → data CocListHistoryResponseDataV2 `{"total", "info"}`.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(incident_histories(app, caller, &request).await))
}

async fn incident_histories(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let num = request.path_param("incident_id")?;
    let query = parse(request)?;
    if query.ticket_id.as_deref().is_some_and(|t| t != num) {
        return Err(ApiError::invalid("string_filters", format!("ticket_id names another incident than {num}")));
    }
    let (total, info) = timeline(app, &caller.project_id, num, &query).await?;
    Ok(json!({ "total": total, "info": info }))
}

/// `POST /v1/external/{ticket_type}/list-histories` → data `{"total", "list"}`:
/// the ticket is the `ticket_id` of `string_filters`.
pub async fn list_for_ticket(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(ticket_histories(app, caller, &request).await))
}

async fn ticket_histories(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let ticket_type = request.path_param("ticket_type")?;
    if ticket_type != INCIDENT_TICKETS {
        return Err(ApiError::invalid(
            "ticket_type",
            format!("{ticket_type:?} is not a ticket type here: only {INCIDENT_TICKETS} tickets have histories"),
        ));
    }
    let query = parse(request)?;
    let num = query.ticket_id.clone().ok_or_else(|| {
        ApiError::invalid(
            "string_filters",
            "must name the ticket: {\"field\": \"ticket_id\", \"operator\": \"=\", \"values\": [id]}",
        )
    })?;
    let (total, list) = timeline(app, &caller.project_id, &num, &query).await?;
    Ok(json!({ "total": total, "list": list }))
}

fn parse(request: &ApiRequest) -> Result<HistoryQuery, ApiError> {
    HistoryQuery::parse(&search_body(request)?).map_err(|(field, problem)| ApiError::invalid(&field, problem))
}

async fn timeline(
    app: &App,
    project: &ProjectId,
    num: &str,
    query: &HistoryQuery,
) -> Result<(usize, Vec<Value>), ApiError> {
    let incident = incidents::get_incident(app.store.as_ref(), project, num)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {num} does not exist")))?
        .value;
    let page = incidents::history(app.store.as_ref(), &incident, query, limits::INCIDENT_HISTORY_PAGE).await?;
    Ok((page.total, page.entries.iter().map(entry).collect()))
}

/// One action (`CocTicketHistoryBaseInfoV2`): times as ms strings, the status
/// it left the incident in, and what it changed as enum data.
fn entry(saved: &SavedEntry) -> Value {
    let e = &saved.entry;
    let (zh, en) = action_names(&e.operate_key);
    let (status_zh, status_en) = e.to_status.names();
    let mut changed = vec![json!({
        "prop_id": "work_flow_status", "biz_id": e.to_status.key(), "name_zh": status_zh, "name_en": status_en,
    })];
    if let Some(from) = e.from_status.filter(|from| *from != e.to_status) {
        let (zh, en) = from.names();
        changed.push(json!({ "prop_id": "from_work_flow_status", "biz_id": from.key(), "name_zh": zh, "name_en": en }));
    }
    if let Some(assignee) = &e.assignee {
        changed.push(json!({ "prop_id": "assignee", "biz_id": assignee, "name_zh": assignee, "name_en": assignee }));
    }
    json!({
        "seq": saved.seq,
        "action": e.operate_key,
        "action_name_zh": zh,
        "action_name_en": en,
        "operator": e.operator,
        "status": e.to_status.key(),
        "start_time": e.time.to_string(),
        "stop_time": e.time.to_string(),
        "comment": e.comment,
        "enum_data_list": changed,
    })
}
