//! How tasks and runs read back: the SDK's ShowScheduledTaskResponse (no
//! envelope; `input_param` and `target_instances` as JSON text),
//! ScheduledTaskBasicInfo and ScheduledTaskHistory.

use serde_json::{json, Value};

use crate::domain::job::order::Order;
use crate::domain::schedule::{RunStatus, ScheduledTask, TaskRun};

fn text(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// The whole task, sensitive values masked (the caller reads it masked).
pub fn task(task: &ScheduledTask) -> Value {
    let spec = &task.spec;
    json!({
        "id": task.id,
        "enterprise_project_id": spec.enterprise_project_id,
        "name": spec.name,
        "agency_name": spec.agency_name,
        "trigger_time": spec.trigger_time,
        "version_no": spec.version_no,
        "task_type": spec.task_type,
        "associated_task_id": spec.associated_task_id,
        "associated_task_name": spec.associated_task_name,
        "associated_task_name_en": spec.associated_task_name_en,
        "associated_task_type": spec.associated_task_type,
        "runbook_instance_mode": spec.runbook_instance_mode,
        "risk_level": spec.risk_level,
        "input_param": text(&spec.input_param),
        "enable_approve": spec.enable_approve,
        "reviewer_notification": spec.reviewer_notification,
        "created_user_name": task.created_user_name,
        "reviewer_user_name": spec.reviewer_user_name,
        "approve_status": "APPROVED",
        "approve_comments": null,
        "target_instances": text(&spec.target_instances),
        "enable_message_notification": spec.enable_message_notification,
        "message_notification": spec.message_notification,
        // Ours, beside the SDK's fields.
        "enabled": task.enabled,
        "next_execution_time": task.next_due,
    })
}

/// A row of the task list.
pub fn basic(task: &ScheduledTask) -> Value {
    let spec = &task.spec;
    json!({
        "id": task.id,
        "enterprise_project_id": spec.enterprise_project_id,
        "name": spec.name,
        "scheduled_type": spec.trigger_time.policy,
        "task_type": spec.task_type,
        "associated_task_type": spec.associated_task_type,
        "risk_level": spec.risk_level,
        "created_by": task.created_by,
        "update_by": task.update_by,
        "created_user_name": task.created_user_name,
        "reviewer": null,
        "reviewer_user_name": spec.reviewer_user_name,
        "approve_status": "APPROVED",
        "last_execution_time": task.last_execution_time,
        "last_execution_status": task.last_execution_status,
        "execution_count": task.execution_count,
        "enabled": task.enabled,
        "created_time": task.created_time,
        "modified_time": task.modified_time,
        "region_id": null,
        "associated_task_name": spec.associated_task_name,
        "associated_task_name_en": spec.associated_task_name_en,
        "next_execution_time": task.next_due,
    })
}

/// The status a run shows: its ticket's while there is one, else FAILED.
pub fn run_status(run: &TaskRun, ticket: Option<&Order>) -> String {
    match (run.status, ticket) {
        (RunStatus::Started, Some(order)) => crate::repositories::listing::key_name(&order.status),
        // A started run whose ticket is gone (deleted with its data) still started.
        (RunStatus::Started, None) => "STARTED".to_owned(),
        (RunStatus::Failed, _) => "FAILED".to_owned(),
    }
}

/// A history entry, with its ticket's status and end when it has one.
pub fn run(run: &TaskRun, ticket: Option<&Order>) -> Value {
    json!({
        "id": run.id,
        "task_type": run.task_type,
        "execution_id": run.execution_id,
        "associated_task_name": run.associated_task_name,
        "associated_task_name_en": run.associated_task_name_en,
        "region": null,
        "created_by": run.created_by,
        "started_time": run.started_time,
        "finished_time": match run.status {
            RunStatus::Failed => Some(run.started_time),
            RunStatus::Started => ticket.and_then(|o| o.gmt_finished),
        },
        "status": run_status(run, ticket),
        "execution_msg": run.execution_msg,
        // Ours: the due time this run was for.
        "scheduled_time": run.due_at,
        "task_id": run.task_id,
    })
}
