//! A script ticket and the rules that move it: batches run one after another,
//! a batch starts only when the one before it is over, PAUSE rotation stops
//! after its batch, and the success-rate threshold stops the ticket when missed.
//!
//! Everything here is a pure function of the ticket and the clock, so a step can
//! be repeated or come late (duplicate or out-of-order queue messages) and lead
//! to the same state.

use serde::{Deserialize, Serialize};

use super::execute::{ExecuteParam, Execution, RotationStrategy, TargetInstance};
use crate::domain::patch::PatchJob;
use crate::domain::script::{Script, ScriptType, MASK};
use crate::domain::tenant::{Caller, ProjectId};

/// How long past its timeout an instance may go unreported before it is
/// abnormal: time for the agent's own timeout kill and its report to arrive.
pub const REPORT_GRACE_MS: i64 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Ready,
    Processing,
    Paused,
    Abnormal,
    Canceled,
    Finished,
}

impl OrderStatus {
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Abnormal | OrderStatus::Canceled | OrderStatus::Finished)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InstanceStatus {
    Ready,
    Processing,
    Abnormal,
    Canceled,
    Finished,
}

impl InstanceStatus {
    pub const ALL: [InstanceStatus; 5] = [
        InstanceStatus::Ready,
        InstanceStatus::Processing,
        InstanceStatus::Abnormal,
        InstanceStatus::Canceled,
        InstanceStatus::Finished,
    ];

    pub fn is_terminal(self) -> bool {
        matches!(self, InstanceStatus::Abnormal | InstanceStatus::Canceled | InstanceStatus::Finished)
    }
}

/// A parameter as the job runs it: the execute request's value, else the script's default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedParam {
    pub name: String,
    pub value: String,
    pub sensitive: bool,
}

/// What ran: the script as it was when the ticket was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptSnapshot {
    pub script_uuid: String,
    pub name: String,
    /// The script's version name (`properties.version`).
    pub version: String,
    pub script_type: ScriptType,
    pub content: String,
    pub params: Vec<ResolvedParam>,
    /// The script's revision, the one its approval was about (the spec's `script_version_uuid`).
    #[serde(default)]
    pub revision: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// 1, 2, … within the ticket, in batch order.
    pub id: u64,
    pub batch_index: u32,
    pub target: TargetInstance,
    pub status: InstanceStatus,
    /// Bumped by each (re)dispatch, so a late report of an earlier run is ignored.
    pub attempt: u32,
    pub gmt_created: i64,
    pub gmt_started: Option<i64>,
    pub gmt_finished: Option<i64>,
    pub exit_code: Option<i32>,
    /// Why the instance ended, when no log says it (cancel, timeout).
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub batch_index: u32,
    pub rotation_strategy: RotationStrategy,
    /// A PAUSE batch pauses the ticket once, when it is over.
    pub paused_after: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: u64,
    pub execute_uuid: String,
    pub project_id: ProjectId,
    pub creator: String,
    pub creator_id: String,
    pub script: ScriptSnapshot,
    pub execute_param: ExecuteParam,
    pub batches: Vec<Batch>,
    pub instances: Vec<Instance>,
    pub status: OrderStatus,
    pub current_batch_index: u32,
    pub gmt_created: i64,
    pub gmt_finished: Option<i64>,
    /// A patch ticket's work (scan or install, and the baselines); its hosts run
    /// this instead of the script, which only names the ticket. Tickets stored
    /// before patch tickets existed have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<PatchJob>,
}

/// What the store and the queue must do after a step, besides saving the ticket.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Effects {
    /// Instances to hand to their agents (ids).
    pub dispatch: Vec<u64>,
    /// Instances whose pending job must be taken back (ids).
    pub withdraw: Vec<u64>,
    /// When the ticket must be looked at again (for timeouts), ms since the epoch.
    pub check_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OperationType {
    CancelInstance,
    SkipBatch,
    CancelOrder,
    PauseOrder,
    ContinueOrder,
    RetryInstance,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperationError {
    #[error("{0} is required for this operation")]
    Missing(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    NotAllowed(String),
}

/// Every parameter an execution gives is one of the script's.
pub fn check_param_names(script: &Script, execution: &Execution) -> Result<(), String> {
    match execution
        .execute_param
        .script_params
        .iter()
        .find(|given| !script.script_params.iter().any(|p| p.param_name.as_str() == given.param_name.as_str()))
    {
        Some(unknown) => {
            Err(format!("execute_param.script_params: the script has no parameter named {}", unknown.param_name))
        }
        None => Ok(()),
    }
}

impl Order {
    /// A new ticket, all instances READY. Parameter values not given default to the script's.
    pub fn create(
        execution: Execution,
        script: &Script,
        order_id: u64,
        execute_uuid: String,
        caller: &Caller,
        now: i64,
    ) -> Result<Order, String> {
        check_param_names(script, &execution)?;
        let given = &execution.execute_param.script_params;
        let params = script
            .script_params
            .iter()
            .map(|p| ResolvedParam {
                name: p.param_name.to_string(),
                value: given
                    .iter()
                    .find(|g| g.param_name.as_str() == p.param_name.as_str())
                    .map(|g| g.param_value.to_string())
                    .unwrap_or_else(|| p.param_value.to_string()),
                sensitive: p.sensitive,
            })
            .collect();
        let snapshot = ScriptSnapshot {
            script_uuid: script.script_uuid.clone(),
            name: script.name.to_string(),
            version: script.properties.version.to_string(),
            script_type: script.script_type,
            content: script.content.to_string(),
            params,
            revision: script.revision,
        };
        Ok(Order::new(execution, snapshot, None, order_id, execute_uuid, caller, now))
    }

    /// A new patch ticket, all instances READY: its hosts run `patch`, and its
    /// script is the operation's name (see `PatchOperation::snapshot`).
    pub fn create_patch(
        execution: Execution,
        patch: PatchJob,
        order_id: u64,
        execute_uuid: String,
        caller: &Caller,
        now: i64,
    ) -> Order {
        let snapshot = patch.operation.snapshot();
        Order::new(execution, snapshot, Some(patch), order_id, execute_uuid, caller, now)
    }

    fn new(
        execution: Execution,
        script: ScriptSnapshot,
        patch: Option<PatchJob>,
        order_id: u64,
        execute_uuid: String,
        caller: &Caller,
        now: i64,
    ) -> Order {
        let mut instances = Vec::new();
        for batch in &execution.execute_batches {
            for target in &batch.target_instances {
                instances.push(Instance {
                    id: instances.len() as u64 + 1,
                    batch_index: batch.batch_index,
                    target: target.clone(),
                    status: InstanceStatus::Ready,
                    attempt: 0,
                    gmt_created: now,
                    gmt_started: None,
                    gmt_finished: None,
                    exit_code: None,
                    message: String::new(),
                });
            }
        }
        Order {
            order_id,
            execute_uuid,
            project_id: caller.project_id.clone(),
            creator: caller.user_name.clone(),
            creator_id: caller.user_id.clone(),
            script,
            batches: execution
                .execute_batches
                .iter()
                .map(|b| Batch {
                    batch_index: b.batch_index,
                    rotation_strategy: b.rotation_strategy,
                    paused_after: false,
                })
                .collect(),
            execute_param: execution.execute_param,
            instances,
            status: OrderStatus::Ready,
            current_batch_index: 1,
            gmt_created: now,
            gmt_finished: None,
            patch,
        }
    }

    pub fn instance(&self, id: u64) -> Option<&Instance> {
        self.instances.iter().find(|i| i.id == id)
    }

    fn timeout_ms(&self) -> i64 {
        i64::from(self.execute_param.timeout) * 1000
    }

    fn last_batch(&self) -> u32 {
        self.batches.len() as u32
    }

    /// The execute parameters as shown to users: sensitive values masked.
    pub fn shown_execute_param(&self) -> ExecuteParam {
        let mut shown = self.execute_param.clone();
        for param in &mut shown.script_params {
            let sensitive = self.script.params.iter().any(|p| p.sensitive && p.name == param.param_name.as_str());
            if sensitive {
                param.param_value = crate::domain::script::ParamValue::parse(MASK).expect("the mask is a valid value");
            }
        }
        shown
    }

    /// The values that must never appear in logs or views.
    pub fn secrets(&self) -> Vec<String> {
        self.script.params.iter().filter(|p| p.sensitive && !p.value.is_empty()).map(|p| p.value.clone()).collect()
    }

    fn finish(&mut self, status: OrderStatus, now: i64) {
        self.status = status;
        self.gmt_finished = Some(now);
    }

    fn end_instance(instance: &mut Instance, status: InstanceStatus, message: &str, now: i64) {
        instance.status = status;
        instance.gmt_finished = Some(now);
        if !message.is_empty() {
            instance.message = message.to_owned();
        }
    }

    /// Whether FINISHED instances reach the threshold among those that ran in
    /// batches up to `through` (FINISHED + ABNORMAL; canceled ones do not count).
    fn success_rate_met(&self, through: u32) -> bool {
        let ran = self.instances.iter().filter(|i| {
            i.batch_index <= through && matches!(i.status, InstanceStatus::Finished | InstanceStatus::Abnormal)
        });
        let (mut finished, mut total) = (0u64, 0u64);
        for instance in ran {
            total += 1;
            finished += u64::from(instance.status == InstanceStatus::Finished);
        }
        total == 0 || finished * 1000 >= u64::from(self.execute_param.success_rate.tenths()) * total
    }

    /// One step of the engine at time `now`. Safe to repeat.
    pub fn advance(&mut self, now: i64) -> Effects {
        let mut effects = Effects::default();
        let timeout = self.timeout_ms();
        for instance in self.instances.iter_mut().filter(|i| i.status == InstanceStatus::Processing) {
            let started = instance.gmt_started.unwrap_or(now);
            if now >= started + timeout + REPORT_GRACE_MS {
                let message = format!("timed out after {}s: the agent did not report", timeout / 1000);
                Self::end_instance(instance, InstanceStatus::Abnormal, &message, now);
                effects.withdraw.push(instance.id);
            }
        }
        if self.status == OrderStatus::Ready {
            self.status = OrderStatus::Processing;
        }
        while self.status == OrderStatus::Processing {
            let current = self.current_batch_index;
            for instance in self.instances.iter_mut() {
                if instance.batch_index <= current && instance.status == InstanceStatus::Ready {
                    instance.status = InstanceStatus::Processing;
                    instance.attempt += 1;
                    instance.gmt_started = Some(now);
                    instance.gmt_finished = None;
                    instance.exit_code = None;
                    instance.message.clear();
                    effects.dispatch.push(instance.id);
                }
            }
            if self.instances.iter().any(|i| i.batch_index <= current && !i.status.is_terminal()) {
                break;
            }
            if !self.success_rate_met(current) {
                for instance in self.instances.iter_mut().filter(|i| i.status == InstanceStatus::Ready) {
                    Self::end_instance(
                        instance,
                        InstanceStatus::Canceled,
                        "canceled: the success rate fell below the threshold",
                        now,
                    );
                }
                self.finish(OrderStatus::Abnormal, now);
                break;
            }
            if current >= self.last_batch() {
                self.finish(OrderStatus::Finished, now);
                break;
            }
            let batch = &mut self.batches[current as usize - 1];
            self.current_batch_index += 1;
            if batch.rotation_strategy == RotationStrategy::Pause && !batch.paused_after {
                batch.paused_after = true;
                self.status = OrderStatus::Paused;
            }
        }
        effects.check_at = self
            .instances
            .iter()
            .filter(|i| i.status == InstanceStatus::Processing)
            .filter_map(|i| i.gmt_started)
            .map(|started| started + timeout + REPORT_GRACE_MS)
            .min();
        effects
    }

    /// An agent's report of one run. Reports for another attempt, or for an
    /// instance that is no longer running, change nothing (returns false).
    pub fn report(&mut self, instance_id: u64, attempt: u32, exit_code: i32, message: &str, now: i64) -> bool {
        let Some(instance) = self.instances.iter_mut().find(|i| i.id == instance_id) else {
            return false;
        };
        if instance.status != InstanceStatus::Processing || instance.attempt != attempt {
            return false;
        }
        let status = if exit_code == 0 { InstanceStatus::Finished } else { InstanceStatus::Abnormal };
        Self::end_instance(instance, status, message, now);
        instance.exit_code = Some(exit_code);
        true
    }

    /// Whether this attempt of the instance already ended with a report of this
    /// exit code: a resent report of it is the same report, not a new one.
    pub fn has_report(&self, instance_id: u64, attempt: u32, exit_code: i32) -> bool {
        self.instance(instance_id)
            .is_some_and(|i| i.status.is_terminal() && i.attempt == attempt && i.exit_code == Some(exit_code))
    }

    /// A user's operation (spec 4.3.6). Returns the instances whose jobs must be taken back.
    pub fn operate(
        &mut self,
        operation: OperationType,
        batch_index: Option<u32>,
        instance_id: Option<u64>,
        now: i64,
    ) -> Result<Vec<u64>, OperationError> {
        let mut withdrawn = Vec::new();
        let not_allowed = |what: &str, status: OrderStatus| {
            OperationError::NotAllowed(format!("cannot {what} a ticket that is {status:?}"))
        };
        match operation {
            OperationType::CancelInstance => {
                let id = instance_id.ok_or(OperationError::Missing("instance_id"))?;
                if self.status.is_terminal() {
                    return Err(not_allowed("cancel an instance of", self.status));
                }
                let instance = self
                    .instances
                    .iter_mut()
                    .find(|i| i.id == id)
                    .ok_or_else(|| OperationError::NotFound(format!("instance {id} is not in this ticket")))?;
                if instance.status.is_terminal() {
                    return Err(OperationError::NotAllowed(format!("instance {id} is already {:?}", instance.status)));
                }
                if instance.status == InstanceStatus::Processing {
                    withdrawn.push(id);
                }
                Self::end_instance(instance, InstanceStatus::Canceled, "canceled by user", now);
            }
            OperationType::SkipBatch => {
                let index = batch_index.ok_or(OperationError::Missing("batch_index"))?;
                if self.status.is_terminal() {
                    return Err(not_allowed("skip a batch of", self.status));
                }
                if index == 0 || index > self.last_batch() {
                    return Err(OperationError::NotFound(format!("batch {index} is not in this ticket")));
                }
                let open: Vec<&mut Instance> =
                    self.instances.iter_mut().filter(|i| i.batch_index == index && !i.status.is_terminal()).collect();
                if open.is_empty() {
                    return Err(OperationError::NotAllowed(format!("batch {index} is already over")));
                }
                for instance in open {
                    if instance.status == InstanceStatus::Processing {
                        withdrawn.push(instance.id);
                    }
                    Self::end_instance(instance, InstanceStatus::Canceled, "canceled: batch skipped", now);
                }
            }
            OperationType::CancelOrder => {
                if self.status.is_terminal() {
                    return Err(not_allowed("cancel", self.status));
                }
                for instance in self.instances.iter_mut().filter(|i| !i.status.is_terminal()) {
                    if instance.status == InstanceStatus::Processing {
                        withdrawn.push(instance.id);
                    }
                    Self::end_instance(instance, InstanceStatus::Canceled, "canceled: ticket canceled", now);
                }
                self.finish(OrderStatus::Canceled, now);
            }
            OperationType::PauseOrder => {
                if !matches!(self.status, OrderStatus::Ready | OrderStatus::Processing) {
                    return Err(not_allowed("pause", self.status));
                }
                self.status = OrderStatus::Paused;
            }
            OperationType::ContinueOrder => {
                if self.status != OrderStatus::Paused {
                    return Err(not_allowed("continue", self.status));
                }
                self.status = OrderStatus::Processing;
            }
            OperationType::RetryInstance => {
                let id = instance_id.ok_or(OperationError::Missing("instance_id"))?;
                if self.status == OrderStatus::Canceled {
                    return Err(not_allowed("retry an instance of", self.status));
                }
                let instance = self
                    .instances
                    .iter_mut()
                    .find(|i| i.id == id)
                    .ok_or_else(|| OperationError::NotFound(format!("instance {id} is not in this ticket")))?;
                if !matches!(instance.status, InstanceStatus::Abnormal | InstanceStatus::Canceled) {
                    return Err(OperationError::NotAllowed(format!(
                        "only an ABNORMAL or CANCELED instance can be retried; instance {id} is {:?}",
                        instance.status
                    )));
                }
                instance.status = InstanceStatus::Ready;
                instance.gmt_finished = None;
                // A retry on a ticket that had ended re-opens it.
                if matches!(self.status, OrderStatus::Abnormal | OrderStatus::Finished) {
                    self.status = OrderStatus::Processing;
                    self.gmt_finished = None;
                }
            }
        }
        Ok(withdrawn)
    }
}
