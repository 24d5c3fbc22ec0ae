//! Scheduled tasks (`/v1/schedule/task*`): a script run on chosen hosts with
//! the batch settings of a normal execution, on a trigger (once, on weekdays,
//! or on a cron expression) in a time zone. Each run is a normal ticket.
//!
//! The SDK's body (ScheduledTaskRequestBody) carries the execution in two
//! generic fields, read here as follows (README, "Scheduled tasks"):
//! - `input_param` (text → text): `timeout`, `success_rate`, `execute_user`
//!   as in an execution's `execute_param`, and `script_params`, a JSON array
//!   of `{param_name, param_value, param_order}`;
//! - `target_instances`: one entry per batch, `order_no` its batch index
//!   (1, 2, …), `target_selection` `MANUAL`, and `target_instances` a JSON
//!   array of the batch's hosts `{resource_id, agent_sn, project_id, region_id}`.

pub mod trigger;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::domain::absent::null_is_default;
use crate::domain::job::execute::Execution;
use crate::domain::script::{risk, RiskLevel, Script};
use crate::domain::tenant::ProjectId;
use crate::limits;
pub use trigger::{Policy, Timing, TriggerTime};

bounded_text!(
    TaskName,
    limits::TASK_NAME,
    |v: &str| if v.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        Err("may contain only letters, digits, '_' and '-'".to_owned())
    }
);
bounded_text!(VersionNo, limits::TASK_VERSION_NO);
bounded_text!(AssociatedId, limits::TASK_ASSOCIATED_ID);
bounded_text!(AssociatedName, limits::TASK_ASSOCIATED_NAME);
bounded_text!(ReviewerName, limits::TASK_REVIEWER_NAME);
bounded_text!(TaskEnterpriseProject, limits::TASK_ENTERPRISE_PROJECT);
bounded_text!(AgencyName, limits::TASK_AGENCY);
bounded_text!(BatchInstances, limits::TASK_BATCH_INSTANCES);
bounded_text!(InputValue, limits::TASK_INPUT_VALUE);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskType {
    Script,
    /// Runbooks (jobs) are not implemented here: refused with a 400.
    Runbook,
}

/// Which library the script comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssociatedType {
    /// A public script (`/v1/job/public-scripts`).
    Communal,
    /// One of the tenant's own scripts (`/v1/job/scripts`).
    Customization,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TargetSelection {
    Manual,
    All,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BatchStrategy {
    AutoBatch,
    ManualBatch,
    None,
}

/// One entry of the body's `target_instances`: one batch of every run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleInstance {
    pub target_selection: TargetSelection,
    #[serde(deserialize_with = "order_no")]
    pub order_no: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_strategy: Option<BatchStrategy>,
    /// JSON text: the batch's hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_instances: Option<BatchInstances>,
}

fn order_no<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::BATCH_INDEX.deserialize_u32(deserializer)
}

/// The body of create and update (the SDK's ScheduledTaskRequestBody).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRequest {
    pub name: TaskName,
    pub version_no: VersionNo,
    pub trigger_time: TriggerTime,
    pub task_type: TaskType,
    pub associated_task_id: AssociatedId,
    pub associated_task_type: AssociatedType,
    pub associated_task_name: AssociatedName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_task_name_en: Option<AssociatedName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associated_task_enterprise_project_id: Option<AssociatedName>,
    pub risk_level: RiskLevel,
    pub input_param: BTreeMap<String, InputValue>,
    pub target_instances: Vec<ScheduleInstance>,
    pub enable_approve: bool,
    pub enable_message_notification: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_project_id: Option<TaskEnterpriseProject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency_name: Option<AgencyName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_instance_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_user_name: Option<ReviewerName>,
    /// Kept and shown as given (notifications of scheduled runs are not sent: README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer_notification: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_notification: Option<Value>,
    #[serde(default, deserialize_with = "null_is_default", skip_serializing_if = "Vec::is_empty")]
    pub ticket_infos: Vec<Value>,
}

/// What a request is refused for: the field and the problem.
pub type Refusal = (String, String);

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> Refusal {
    (field.into(), problem.into())
}

/// The `input_param` keys a script task reads.
pub const INPUT_KEYS: [&str; 5] = ["timeout", "success_rate", "execute_user", "script_params", CONFIRM_KEY];
/// `"true"` runs a script whose analysis is HIGH on more than one batch (README, "Script risk analysis").
pub const CONFIRM_KEY: &str = "confirm_high_risk";

impl TaskRequest {
    /// Checks what the field types alone do not: the policy's fields, the
    /// supported task kinds, and that the execution the task will start is
    /// one a normal execution request could be. Returns the trigger's timing.
    pub fn check(&self) -> Result<(Timing, Execution), Refusal> {
        let timing = self.trigger_time.check()?;
        if self.task_type == TaskType::Runbook {
            return Err(refuse("task_type", "RUNBOOK tasks are not supported here; use SCRIPT"));
        }
        if self.enable_approve {
            return Err(refuse(
                "enable_approve",
                "approval of scheduled tasks is not supported here; the script itself is reviewed before it can run",
            ));
        }
        limits::TASK_TICKET_INFOS
            .check(self.ticket_infos.len(), "ticket infos")
            .map_err(|e| refuse("ticket_infos", e))?;
        Ok((timing, self.execution()?))
    }

    /// Whether `input_param.confirm_high_risk` is `"true"` (absent or `"false"`: no).
    pub fn confirms_high_risk(&self) -> Result<bool, Refusal> {
        match self.input_param.get(CONFIRM_KEY).map(InputValue::as_str) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => {
                Err(refuse(format!("input_param.{CONFIRM_KEY}"), format!("must be true or false, got {other:?}")))
            }
        }
    }

    /// Why a run of `script` may not start: a HIGH-risk script on more than
    /// one batch without the confirmation (the rule of an execution).
    pub fn risk_refusal(&self, script: &Script, batches: usize) -> Result<(), Refusal> {
        let confirmed = self.confirms_high_risk()?;
        match risk::of_script(script).refuses(batches, confirmed) {
            None => Ok(()),
            Some(problem) => Err(refuse(
                format!("input_param.{CONFIRM_KEY}"),
                problem.replace(risk::CONFIRM_FIELD, &format!("input_param.{CONFIRM_KEY}")),
            )),
        }
    }

    /// The execution every run starts, checked by the rules of a normal one.
    pub fn execution(&self) -> Result<Execution, Refusal> {
        if let Some(unknown) = self.input_param.keys().find(|k| !INPUT_KEYS.contains(&k.as_str())) {
            return Err(refuse(
                format!("input_param.{unknown}"),
                format!("is not a key a script task reads (those are {})", INPUT_KEYS.join(", ")),
            ));
        }
        limits::TASK_INPUT_PARAMS.check(self.input_param.len(), "entries").map_err(|e| refuse("input_param", e))?;
        let text = |key: &str| self.input_param.get(key).map(InputValue::as_str);
        let script_params: Value = match text("script_params") {
            None | Some("") => json!([]),
            Some(list) => serde_json::from_str(list)
                .map_err(|e| refuse("input_param.script_params", format!("must be a JSON array: {e}")))?,
        };
        let number_or_text = |key: &str| {
            text(key).map(|v| v.parse::<f64>().map(|n| json!(n)).unwrap_or_else(|_| json!(v))).unwrap_or(Value::Null)
        };
        let timeout = text("timeout").map(|v| v.parse::<i64>().map(|n| json!(n)).unwrap_or_else(|_| json!(v)));
        let execute_param = json!({
            "timeout": timeout.unwrap_or(Value::Null),
            "success_rate": number_or_text("success_rate"),
            "execute_user": text("execute_user").map(|v| json!(v)).unwrap_or(Value::Null),
            "script_params": script_params,
        });
        let execute_param = serde_path_to_error::deserialize(execute_param).map_err(|e| {
            let path = e.path().to_string();
            refuse(format!("input_param.{path}"), e.into_inner().to_string())
        })?;
        limits::TASK_BATCHES
            .check(self.target_instances.len(), "batches")
            .map_err(|e| refuse("target_instances", e))?;
        let mut batches = Vec::with_capacity(self.target_instances.len());
        for (n, entry) in self.target_instances.iter().enumerate() {
            let field = format!("target_instances[{n}]");
            if entry.target_selection != TargetSelection::Manual {
                return Err(refuse(
                    format!("{field}.target_selection"),
                    "only MANUAL (the hosts listed in target_instances) is supported",
                ));
            }
            let hosts = entry
                .target_instances
                .as_ref()
                .ok_or_else(|| refuse(format!("{field}.target_instances"), "is required: the batch's hosts"))?;
            let hosts: Value = serde_json::from_str(hosts.as_str())
                .map_err(|e| refuse(format!("{field}.target_instances"), format!("must be a JSON array: {e}")))?;
            batches.push(json!({
                "batch_index": entry.order_no,
                "target_instances": hosts,
                "rotation_strategy": "CONTINUE",
            }));
        }
        let batches = serde_path_to_error::deserialize(Value::Array(batches)).map_err(|e| {
            let path = e.path().to_string();
            refuse(format!("target_instances{}", path.trim_start_matches('.')), e.into_inner().to_string())
        })?;
        Execution::checked(execute_param, batches).map_err(|e| {
            let (field, problem) = e.split_once(": ").unwrap_or(("target_instances", e.as_str()));
            let field = field.replace("execute_batches", "target_instances").replace("execute_param", "input_param");
            refuse(field, problem.to_owned())
        })
    }
}

/// A stored scheduled task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduledTask {
    pub id: String,
    pub project_id: ProjectId,
    pub spec: TaskRequest,
    pub enabled: bool,
    pub created_by: String,
    pub created_user_name: String,
    pub update_by: String,
    pub created_time: i64,
    pub modified_time: i64,
    /// The next due time while enabled and the trigger has one: the task is
    /// then in the due list under exactly this time.
    pub next_due: Option<i64>,
    pub last_execution_time: Option<i64>,
    pub last_execution_status: Option<RunStatus>,
    pub execution_count: u64,
    /// Names of the script's sensitive parameters: their values in
    /// `input_param.script_params` are sealed at rest and masked when shown.
    #[serde(default)]
    pub sensitive_params: Vec<String>,
}

impl ScheduledTask {
    pub fn scheduled_type(&self) -> Policy {
        self.spec.trigger_time.policy
    }
}

/// What became of one due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    /// A ticket was started; its own status tells how it is going.
    Started,
    /// No ticket could be started (the script was deleted, is not approved, a host's agent is gone).
    Failed,
}

/// One due time of a task, claimed once: its history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRun {
    pub id: String,
    pub task_id: String,
    pub project_id: ProjectId,
    pub due_at: i64,
    pub started_time: i64,
    pub status: RunStatus,
    /// The ticket's execute_uuid, when one was started.
    pub execution_id: Option<String>,
    pub execution_msg: String,
    pub created_by: String,
    pub task_type: TaskType,
    pub associated_task_name: String,
    #[serde(default)]
    pub associated_task_name_en: Option<String>,
}

/// What a sweep does with a due time it finds late: run once now, and
/// skip every due time missed in between (README, "Scheduled tasks").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub due_at: i64,
    /// The task's next due time after now, if any.
    pub next_due: Option<i64>,
    /// Due times between `due_at` and now that were not run.
    pub missed: usize,
}

/// The firing of a task found due at `due_at` by a sweep at `now`.
pub fn firing(timing: &Timing, due_at: i64, now: i64) -> Firing {
    Firing {
        due_at,
        next_due: timing.next_after(now.max(due_at)),
        missed: timing.count_between(due_at, now.saturating_add(1), limits::SWEEP_MISSED_COUNT),
    }
}

/// The history message of a run the sweep at `now` started late, or that skipped due times.
pub fn lateness_note(firing: &Firing, now: i64) -> Option<String> {
    let late_secs = (now - firing.due_at) / 1000;
    if late_secs < 120 && firing.missed == 0 {
        return None;
    }
    Some(format!(
        "started {late_secs} s after its due time (the scheduler was not running); {} missed due time(s) in between were skipped",
        firing.missed
    ))
}

#[cfg(test)]
pub(crate) mod tests;
