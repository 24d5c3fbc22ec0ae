//! `/v1/alarm-mgmt/*`: the SDK's alarm management (show, history, clear,
//! transfer to an incident, auto-process) and our tenant-wide alarm list.
//! An alarm is named by its public id ([`crate::domain::alarm::manage::public_id`]).

pub mod auto_process;
pub mod clear;
pub mod list;
pub mod recovery;
pub mod show;
pub mod transfer;

use serde_json::{json, Value};

use crate::domain::alarm::manage::{importance, state_name, HistoryEntry, HistoryKind};
use crate::domain::alarm::{Alarm, Integration};
use crate::error::ApiError;
use crate::limits;
use crate::repositories::listing::key_name;

/// The path parameter naming an alarm.
pub(crate) const ALARM_ID: &str = "alarm_id";

pub(crate) fn not_found(public_id: &str) -> ApiError {
    ApiError::NotFound(format!("alarm {public_id} does not exist"))
}

/// The alarm id of a path, checked.
pub(crate) fn path_alarm_id(request: &crate::http::ApiRequest) -> Result<String, ApiError> {
    let id = request.path_param(ALARM_ID)?;
    limits::ALARM_PUBLIC_ID.check(id).map_err(|problem| ApiError::invalid(ALARM_ID, problem))?;
    Ok(id.to_owned())
}

/// An alarm as the SDK's AlarmInfoDTO shows it, with what only we have
/// (`integration_id`, the reporter's `source_alarm_id`, the resource) beside.
pub(crate) fn alarm_view(alarm: &Alarm, integration: Option<&Integration>) -> Value {
    let task = alarm.last_task.as_ref();
    json!({
        "id": alarm.public_id(),
        "name": alarm.last.alarm_name,
        "importance": importance(alarm.last.alarm_level),
        "come_from": alarm.last.alarm_source,
        "come_from_en": alarm.last.alarm_source,
        "transfer_rule": alarm.integration_id,
        "transfer_rule_name": integration.map(|i| i.name.as_str()),
        "app": alarm.last.application_id,
        "status": state_name(alarm.status),
        "owner": integration.map(|i| i.incident_assignee.as_str()),
        "owner_name": integration.map(|i| i.incident_assignee.as_str()),
        "converge_count": alarm.occurrences,
        "associate_event_id": alarm.incident_num,
        "domain_id": integration.map(|i| i.project_id.to_string()),
        "creator": integration.map(|i| i.creator.as_str()),
        "creator_name": integration.map(|i| i.creator.as_str()),
        "create_time": alarm.first_seen,
        "update_time": alarm.last_seen,
        "remarks": alarm.cleared.as_ref().and_then(|c| c.remarks.as_deref()).unwrap_or(&alarm.last.alarm_desc),
        "region": alarm.last.region_id,
        "task_type": task.map(|(t, _)| key_name(&t.task_type)),
        "associated_task_type": task.map(|(t, _)| t.associated_task_type.as_str()),
        "associated_task_id": task.map(|(t, _)| t.associated_task_id.as_str()),
        "associated_task_name": task.map(|(t, _)| t.associated_task_name.as_str()),
        "integration_id": alarm.integration_id,
        "source_alarm_id": alarm.alarm_id,
        "resource_id": alarm.last.resource_id,
        "resource_name": alarm.last.resource_name,
        "name_space": alarm.last.name_space,
        "description": alarm.last.alarm_desc,
    })
}

/// A history entry as the SDK's AlarmHandleHistory shows it: an auto-process
/// names its ticket (`work_order_id`) and task; other entries name what
/// happened in `task_type` (`REPORTED`, `CLEARED`, `LINKED_INCIDENT`, …) and
/// their incident, if any, as the work order.
pub(crate) fn history_view(entry: &HistoryEntry) -> Value {
    let task = entry.task.as_ref();
    let task_type = match (entry.kind, task) {
        (HistoryKind::AutoProcessed, Some(task)) => key_name(&task.task_type),
        (kind, _) => key_name(&kind),
    };
    json!({
        "work_order_id": entry.ticket_id.as_deref().or(entry.incident_num.as_deref()),
        "create_name": entry.operator,
        "create_alias": entry.operator,
        "task_type": task_type,
        "start_time": entry.time,
        "end_time": entry.time,
        "duration": 0,
        "status": state_name(entry.status),
        "associated_task_id": task.map(|t| t.associated_task_id.as_str()),
        "associated_task_name": task.map(|t| t.associated_task_name.as_str()),
        "kind": key_name(&entry.kind),
        "incident_num": entry.incident_num,
        "remarks": entry.remarks,
    })
}
