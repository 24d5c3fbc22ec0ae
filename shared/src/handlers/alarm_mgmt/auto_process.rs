//! `POST /v1/alarm-mgmt/alarm/{alarm_id}/auto-process` (SDK `handler_alarm`):
//! runs an approved script on the alarm's host through the ticket engine, as
//! `POST /v1/job/scripts/{script_uuid}` would, and records it in the alarm: the
//! ticket, the alarm's latest task and its history entry are one transaction
//! (conditional on the alarm read), and the engine is asked to start it after.
//!
//! The hosts are those named in `target_instances` (agent serial numbers), or
//! else the alarm's host: its `resourceId`, as the serial number of a
//! registered agent. Jobs (`RUNBOOK`) do not exist here: only `SCRIPT` runs.

use serde_json::{json, Value};

use super::{not_found, path_alarm_id};
use crate::app::App;
use crate::domain::alarm::manage::{AutoProcessRequest, HistoryEntry, HistoryKind, TaskRef, TaskType};
use crate::domain::job::execute::Execution;
use crate::domain::job::order::Order;
use crate::domain::script::ScriptStatus;
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::repositories::alarms::{self, history};
use crate::repositories::{jobs, scripts};
use crate::secrets;

/// How the alarm's ticket runs: as root, within five minutes, every host must succeed.
const EXECUTE_USER: &str = "root";
const TIMEOUT_SECS: u32 = 300;

/// → `{"data": execute_uuid}` (the ticket, readable at `/v1/job/script/orders/{execute_uuid}`).
pub async fn auto_process(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = path_alarm_id(&request)?;
    let body: AutoProcessRequest = request.json_body()?;
    if body.task_type != TaskType::Script {
        return Err(ApiError::invalid("task_type", "only SCRIPT can run here (there are no jobs)"));
    }
    let params = body.input_param.clone().unwrap_or_default();
    limits::ALARM_TASK_PARAMS
        .check(params.len(), "parameters")
        .map_err(|problem| ApiError::invalid("input_param", problem))?;
    let named = body.named_hosts().map_err(|(field, problem)| ApiError::invalid(&field, problem))?;
    let store = app.store.as_ref();
    let project = &caller.project_id;
    let alarm = alarms::get_by_public_id(store, project, &id).await?.ok_or_else(|| not_found(&id))?;
    let script_uuid = body.associated_task_id.as_str();
    let script = scripts::get(store, &app.secrets, project, script_uuid)
        .await?
        .ok_or_else(|| ApiError::invalid("associated_task_id", format!("no script {script_uuid} exists")))?
        .value;
    if script.status != ScriptStatus::Approved {
        return Err(ApiError::invalid(
            "associated_task_id",
            format!("script {script_uuid} is {:?}; only an approved script can run", script.status),
        ));
    }
    let (hosts, field) = if named.is_empty() {
        let host = alarm.value.last.resource_id.clone().filter(|h| !h.is_empty()).ok_or_else(|| {
            ApiError::invalid("target_instances", "the alarm names no resource: name the hosts to run on")
        })?;
        (vec![host], "target_instances (the alarm's resourceId)")
    } else {
        (named, "target_instances")
    };
    let mut targets = Vec::with_capacity(hosts.len());
    for host in &hosts {
        let agent = jobs::get_agent(store, project, host)
            .await?
            .ok_or_else(|| ApiError::invalid(field, format!("no agent {host} is registered in this project")))?;
        targets.push(json!({
            "resource_id": agent.resource_id, "agent_sn": agent.agent_sn,
            "project_id": project.to_string(), "region_id": agent.region_id,
        }));
    }
    let script_params: Vec<Value> = params
        .iter()
        .enumerate()
        .map(|(n, (name, value))| json!({"param_name": name, "param_value": value.as_str(), "param_order": n + 1}))
        .collect();
    let execution: Execution = serde_json::from_value(json!({
        "execute_param": {"timeout": TIMEOUT_SECS, "success_rate": 100, "execute_user": EXECUTE_USER,
                          "script_params": script_params},
        "execute_batches": [{"batch_index": 1, "target_instances": targets, "rotation_strategy": "CONTINUE"}],
    }))
    .map_err(|e| ApiError::invalid("input_param", e))?;
    let now = app.clock.now_ms();
    let order_id = jobs::next_order_id(store, project).await?;
    let mut order = Order::create(execution, &script, order_id, ids::execute_uuid(now), caller, now)
        .map_err(|problem| ApiError::invalid("input_param", problem))?;
    secrets::seal_order(&app.secrets, &mut order).await?;
    let task = TaskRef {
        task_type: TaskType::Script,
        associated_task_id: script.script_uuid.clone(),
        associated_task_name: script.name.to_string(),
        associated_task_type: body
            .associated_task_type
            .as_ref()
            .map(|t| t.to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| "CUSTOMIZATION".into()),
    };
    let ticket = order.execute_uuid.clone();
    until_written(&format!("alarm {id}"), || async {
        let read = alarms::get_by_public_id(store, project, &id).await?.ok_or_else(|| not_found(&id))?;
        let mut alarm = read.value.clone();
        alarm.last_task = Some((task.clone(), ticket.clone()));
        alarm.actions += 1;
        let mut entry = HistoryEntry::new(HistoryKind::AutoProcessed, &caller.user_id, alarm.status, now);
        entry.ticket_id = Some(ticket.clone());
        entry.task = Some(task.clone());
        let mut ops = jobs::insert_order_ops(&order)?;
        ops.extend(alarms::changed_ops(project, &read, &alarm, 0)?);
        ops.extend(history::entry_ops(project, &id, &[entry])?);
        landed(store.write(ops).await, ())
    })
    .await?;
    // Were this lost, the engine's sweep of active tickets would still start it.
    engine::kick(app.queue.as_ref(), project, &ticket).await?;
    ApiResponse::data(&ticket)
}
