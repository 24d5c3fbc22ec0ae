//! `/v1/external/incident/*` (spec 4.4.1) and the v2 incident API ([`v2`],
//! [`histories`]). These answer in the incident envelope `{"provider_code",
//! "error_code", "error_msg", "data"}`, errors included.

pub mod histories;
pub mod v2;

use serde_json::{json, Map, Value};

use super::assignees;
use super::retry::{landed, until_written};
use crate::app::App;
use crate::domain::incident::query::HistoryQuery;
use crate::domain::incident::{is_forward, HandleError, HandleRequest, Incident, Named, NewIncident};
use crate::domain::tenant::{Caller, ProjectId};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::notify::{templates, triggers, Outgoing};
use crate::repositories::incidents;

pub const PROVIDER_CODE: &str = "049";
pub const SUCCESS: &str = "GOM.00000000";
/// The spec's code for invalid parameters.
pub const INVALID: &str = "GOM.00007256";
/// An action the incident's status does not allow.
pub const ILLEGAL_TRANSITION: &str = "GOM.00007257";
pub const NOT_FOUND: &str = "GOM.00007404";

pub(super) fn envelope(result: Result<Value, ApiError>) -> ApiResponse {
    match result {
        Ok(data) => ApiResponse::json(
            http::StatusCode::OK,
            json!({ "provider_code": PROVIDER_CODE, "error_code": SUCCESS, "error_msg": null, "data": data }),
        ),
        Err(err) => {
            let code = match &err {
                ApiError::NotFound(_) => NOT_FOUND,
                ApiError::Conflict(_) => ILLEGAL_TRANSITION,
                ApiError::InvalidParameter(_) => INVALID,
                other => other.code(),
            };
            // An illegal transition is a bad request to the client, as the spec's codes say.
            let status =
                if matches!(err, ApiError::Conflict(_)) { http::StatusCode::BAD_REQUEST } else { err.status() };
            if let ApiError::Internal(detail) = &err {
                tracing::error!(detail, "internal error");
            }
            ApiResponse::json(
                status,
                json!({ "provider_code": PROVIDER_CODE, "error_code": code, "error_msg": err.to_string(), "data": null }),
            )
        }
    }
}

/// `POST /v1/external/incident/create` → data `{"incident_num"}`.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(create_incident(app, caller, &request).await))
}

async fn create_incident(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let new: NewIncident = request.json_body()?;
    new.check().map_err(|(field, problem)| ApiError::invalid(field, problem))?;
    let project = &caller.project_id;
    if let Some(assignee) = new.incident_assignee.first() {
        assignees::require_engineer(app, project, "incident_assignee", assignee).await?;
    }
    let now = app.clock.now_ms();
    // A war room is opened for incidents that name their region.
    let warroom = new.region.first().map(|_| ids::warroom_id(now));
    let incident = Incident::create(new, ids::incident_num(now), warroom, project.clone(), now);
    // The assignee's notification is saved with the incident: neither lands without the other.
    let message = templates::incident_created(app.public_url.as_deref(), &incident);
    let outgoing =
        triggers::to_engineer(app, project, incident.incident_assignee.first().map(String::as_str), message).await?;
    let ops = triggers::with_notification(incidents::insert_incident_ops(&incident)?, outgoing.as_ref());
    app.store.write(ops).await?;
    triggers::dispatch_saved(app, outgoing.as_ref()).await;
    Ok(json!({ "incident_num": incident.incident_num }))
}

/// `POST /v1/external/incident/handle` → data `null`.
pub async fn handle(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(handle_incident(app, caller, &request).await))
}

async fn handle_incident(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let body: HandleRequest = request.json_body()?;
    let parameter = body.parameter.unwrap_or_default();
    let action = Action { operate_key: &body.operate_key, operator: body.operator.as_str(), parameter: &parameter };
    take_action(app, &caller.project_id, body.incident_num.as_str(), action, |_| Ok(())).await?;
    Ok(Value::Null)
}

/// One workflow action on an incident, as v1 and v2 name it.
pub(super) struct Action<'a> {
    pub operate_key: &'a str,
    pub operator: &'a str,
    pub parameter: &'a Map<String, Value>,
}

/// Applies `action` to the incident `num` and saves it with its history entry
/// and notification in one write, reading again when another write landed in
/// between (so of two racing actions, the second is judged on the first's
/// result). `check` sees the incident as read, before the action.
pub(super) async fn take_action(
    app: &App,
    project: &ProjectId,
    num: &str,
    action: Action<'_>,
    check: impl Fn(&Incident) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let outgoing = until_written(&format!("incident {num}"), || async {
        let current = incidents::get_incident(app.store.as_ref(), project, num)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("incident {num} does not exist")))?;
        check(&current.value)?;
        let mut incident = current.value.clone();
        incident.handle(action.operate_key, action.operator, action.parameter, app.clock.now_ms()).map_err(
            |e| match e {
                HandleError::Invalid(field, problem) => ApiError::invalid(&field, problem),
                illegal @ HandleError::IllegalTransition { .. } => ApiError::Conflict(illegal.to_string()),
            },
        )?;
        // Prepared per attempt: only the attempt whose write lands saves its notification.
        let outgoing = notify_action(app, &incident).await?;
        let ops = incidents::replace_incident_ops(&incident, &current)?;
        landed(app.store.write(triggers::with_notification(ops, outgoing.as_ref())).await, outgoing)
    })
    .await?;
    triggers::dispatch_saved(app, outgoing.as_ref()).await;
    Ok(())
}

/// The notification of the action just applied (the incident's last history
/// entry): a forward tells the new assignee, whom it checks is an engineer;
/// any other action tells the assignee.
async fn notify_action(app: &App, incident: &Incident) -> Result<Option<Outgoing>, ApiError> {
    let Some(action) = incident.history.last() else { return Ok(None) };
    let project = &incident.project_id;
    let base = app.public_url.as_deref();
    let assignee = incident.incident_assignee.first().map(String::as_str);
    let message = if is_forward(&action.operate_key) {
        let to = action.assignee.as_deref().unwrap_or_default();
        assignees::require_engineer(app, project, "parameter.virtual_send_assignee", to).await?;
        templates::incident_assigned(base, incident, action)
    } else {
        templates::incident_transition(base, incident, action)
    };
    Ok(triggers::to_engineer(app, project, assignee, message).await?)
}

/// `GET /v1/external/incident/{incident_num}` → data IncidentTicketInfoResponseData, plus its history.
pub async fn detail(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    Ok(envelope(incident_detail(app, caller, &request).await))
}

async fn incident_detail(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Value, ApiError> {
    let num = request.path_param("incident_num")?;
    let incident = incidents::get_incident(app.store.as_ref(), &caller.project_id, num)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("incident {num} does not exist")))?
        .value;
    // The first actions, oldest first, as before actions were items of their own.
    let history =
        incidents::history(app.store.as_ref(), &incident, &HistoryQuery::default(), limits::INCIDENT_HISTORY_PAGE)
            .await?;
    let history: Vec<_> = history.entries.into_iter().map(|saved| saved.entry).collect();
    Ok(json!({
        "incident_num": incident.incident_num,
        "region": incident.region,
        "enterprise_project": incident.enterprise_project,
        "current_cloud_service": incident.current_cloud_service,
        "incident_level": incident.incident_level.key(),
        "is_service_interrupt": incident.is_service_interrupt,
        "start_time": incident.start_time,
        "fault_recovery_time": incident.fault_recovery_time,
        "fault_delineation_time": incident.handle_time,
        "incident_ownership": incident.incident_ownership,
        "incident_type": incident.incident_type.key(),
        "incident_title": incident.incident_title,
        "incident_description": incident.incident_description,
        "incident_source": incident.incident_source.key(),
        "incident_assignee": incident.incident_assignee,
        "assignee_scene": incident.assignee_scene,
        "assignee_role": incident.assignee_role,
        "warroom_id": incident.warroom_id,
        "handle_time": incident.handle_time,
        "status": incident.status.key(),
        "create_time": incident.create_time,
        "creator": incident.creator,
        "enum_data_list": incident.enum_data(),
        "mtm_type": incident.mtm_type.map(|t| t.key()),
        "cause": incident.cause,
        "solution": incident.solution,
        "alarm": incident.alarm,
        "history": history,
    }))
}
