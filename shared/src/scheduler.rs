//! Starting scheduled tasks when they are due. A sweep reads the due list
//! (`repositories::schedules`) in due order up to now and fires each entry:
//! one transaction claims the due time (the task's record on its version, its
//! due entry moved to the next due time, its run written on condition it does
//! not exist) together with the ticket the run starts. Of two sweeps (two
//! `coc-local` processes on one data directory, or concurrent Lambda
//! invocations) that find the same due time, exactly one transaction lands;
//! the other fails its condition and leaves it. A crash before the
//! transaction leaves the due entry in place for the next sweep; after it,
//! the ticket is active and the engine's own sweep starts it if the kick is lost.

use crate::app::App;
use crate::domain::job::execute::Execution;
use crate::domain::job::order::{check_param_names, Order};
use crate::domain::public_script;
use crate::domain::schedule::{self, AssociatedType, Refusal, RunStatus, ScheduledTask, TaskRequest, TaskRun};
use crate::domain::script::{Script, ScriptStatus};
use crate::domain::tenant::{Caller, ProjectId};
use crate::engine;
use crate::error::ApiError;
use crate::handlers::orders;
use crate::ids;
use crate::limits;
use crate::ports::{StoreError, WriteOp};
use crate::repositories::schedules::{self, Due};
use crate::repositories::{jobs, scripts, Versioned};
use crate::secrets;

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Other(String),
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Due times this sweep claimed (runs started or recorded as failed).
    pub fired: usize,
    /// Due entries another sweep claimed first, or whose task changed meanwhile.
    pub lost: usize,
}

/// Fires every task due at the app clock's now. Bounded per call: it reads
/// the due list in pages of [`limits::SWEEP_PAGE`] and stops at the first
/// entry not yet due.
pub async fn sweep(app: &App) -> Result<Swept, SweepError> {
    let now = app.clock.now_ms();
    let mut swept = Swept::default();
    let mut after: Option<String> = None;
    loop {
        let (page, last) = schedules::due_page(app.store.as_ref(), after.as_deref(), limits::SWEEP_PAGE).await?;
        for due in &page {
            if due.due_at > now {
                return Ok(swept);
            }
            match fire(app, due, now).await {
                Ok(true) => swept.fired += 1,
                Ok(false) => swept.lost += 1,
                Err(err) => {
                    // One task's trouble (a keyring outage, say) must not hold up the others.
                    tracing::warn!(task = %due.task_id, error = %err, "could not fire a scheduled task; the next sweep tries again");
                }
            }
        }
        match last {
            Some(last) => after = Some(last),
            None => return Ok(swept),
        }
    }
}

/// How [`task_script`] reads a tenant script: its sensitive defaults opened
/// (a run, whose ticket resolves them) or masked (a create or update, which only checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Defaults {
    Opened,
    Masked,
}

/// An execution's refusal (`execute_param.…: problem`) as a task's (`input_param.…`).
fn task_refusal(message: String) -> Refusal {
    let (field, problem) = message.split_once(": ").unwrap_or(("input_param", message.as_str()));
    (field.replace("execute_param", "input_param"), problem.to_owned())
}

/// The script `spec` runs on `execution`, checked as every run of it is: the
/// tenant's approved script or the library's, only parameters it has (and a
/// public script's required ones), and the confirmation a HIGH-risk script on
/// more than one batch needs. Creating or updating a task and each run ask
/// the same: `Ok(Err(refusal))` names the field; `Err` is the store's failure.
pub(crate) async fn task_script(
    app: &App,
    project: &ProjectId,
    spec: &TaskRequest,
    execution: &Execution,
    defaults: Defaults,
) -> Result<Result<Script, Refusal>, StoreError> {
    let id = spec.associated_task_id.as_str();
    let refuse = |problem: String| Ok(Err(("associated_task_id".to_owned(), problem)));
    let script = match spec.associated_task_type {
        AssociatedType::Customization => {
            let found = match defaults {
                Defaults::Opened => scripts::get(app.store.as_ref(), &app.secrets, project, id).await?,
                Defaults::Masked => scripts::get_masked(app.store.as_ref(), project, id).await?,
            };
            let Some(script) = found.map(|v| v.value) else {
                return refuse(format!("script {id} does not exist (it was deleted, or never was)"));
            };
            if script.status != ScriptStatus::Approved {
                return refuse(format!(
                    "script {id} is {:?}; only an approved script runs on a schedule",
                    script.status
                ));
            }
            if let Err(message) = check_param_names(&script, execution) {
                return Ok(Err(task_refusal(message)));
            }
            script
        }
        AssociatedType::Communal => {
            let Some(public) = public_script::find(id) else {
                return refuse(format!("public script {id} is not in the library"));
            };
            if let Err(message) = public.check(execution) {
                return Ok(Err(task_refusal(message)));
            }
            public.script.clone()
        }
    };
    Ok(spec.risk_refusal(&script, execution.execute_batches.len()).map(|()| script))
}

/// The ticket of one run, or (inner `Err`) why none can start, recorded as a
/// failed run. A failure of the store or the keyring is the outer `Err`: the
/// due time stays in the list and the next sweep tries again.
async fn ticket_for(app: &App, task: &ScheduledTask, now: i64) -> Result<Result<Order, String>, SweepError> {
    let said = |(field, problem): Refusal| format!("{field}: {problem}");
    let execution = match task.spec.execution() {
        Ok(execution) => execution,
        Err(refusal) => return Ok(Err(said(refusal))),
    };
    // The script may have changed since the task was saved: it is checked again.
    let script = match task_script(app, &task.project_id, &task.spec, &execution, Defaults::Opened).await? {
        Ok(script) => script,
        Err(refusal) => return Ok(Err(said(refusal))),
    };
    let creator = Caller {
        project_id: task.project_id.clone(),
        user_id: task.created_by.clone(),
        user_name: task.created_user_name.clone(),
        agent_sn: None,
    };
    match orders::check_agents(app, &creator, &execution).await {
        Ok(()) => {}
        Err(ApiError::InvalidParameter(message)) => return Ok(Err(message)),
        Err(other) => return Err(SweepError::Other(other.to_string())),
    }
    let order_id = jobs::next_order_id(app.store.as_ref(), &task.project_id).await?;
    let mut order = match Order::create(execution, &script, order_id, ids::execute_uuid(now), &creator, now) {
        Ok(order) => order,
        Err(message) => return Ok(Err(message)),
    };
    secrets::seal_order(&app.secrets, &mut order).await.map_err(|e| SweepError::Other(e.to_string()))?;
    Ok(Ok(order))
}

/// Claims one due time and starts its run. `Ok(false)`: another sweep (or an
/// edit of the task) got there first, and nothing was written.
async fn fire(app: &App, due: &Due, now: i64) -> Result<bool, SweepError> {
    let store = app.store.as_ref();
    let Some(Versioned { value: task, version }) =
        schedules::get(store, &app.secrets, &due.project_id, &due.task_id).await?
    else {
        return Ok(false);
    };
    if !task.enabled || task.next_due != Some(due.due_at) {
        return Ok(false);
    }
    let timing = task.spec.trigger_time.check().map_err(|(f, p)| SweepError::Other(format!("{f}: {p}")))?;
    let firing = schedule::firing(&timing, due.due_at, now);
    let (ticket, mut message) = match ticket_for(app, &task, now).await? {
        Ok(order) => (Some(order), "ticket started".to_owned()),
        Err(reason) => (None, reason),
    };
    if let Some(note) = schedule::lateness_note(&firing, now) {
        message = format!("{message}; {note}");
    }
    let status = if ticket.is_some() { RunStatus::Started } else { RunStatus::Failed };
    let run = TaskRun {
        id: format!("{}_{}", task.id, due.due_at),
        task_id: task.id.clone(),
        project_id: task.project_id.clone(),
        due_at: due.due_at,
        started_time: now,
        status,
        execution_id: ticket.as_ref().map(|o| o.execute_uuid.clone()),
        execution_msg: message,
        created_by: task.created_by.clone(),
        task_type: task.spec.task_type,
        associated_task_name: task.spec.associated_task_name.as_str().to_owned(),
        associated_task_name_en: task.spec.associated_task_name_en.as_ref().map(|n| n.as_str().to_owned()),
    };
    let mut after = task.clone();
    after.next_due = firing.next_due;
    after.last_execution_time = Some(now);
    after.last_execution_status = Some(status);
    after.execution_count += 1;
    let mut ops: Vec<WriteOp> = schedules::save_ops(&app.secrets, &task, version, &after).await?;
    ops.extend(schedules::run_ops(&run)?);
    if let Some(order) = &ticket {
        ops.extend(jobs::insert_order_ops(order)?);
    }
    match store.write(ops).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed) => return Ok(false),
        Err(other) => return Err(other.into()),
    }
    if let Some(order) = &ticket {
        // Were this lost, the engine's sweep of active tickets would still start it.
        if let Err(err) = engine::kick(app.queue.as_ref(), &order.project_id, &order.execute_uuid).await {
            tracing::warn!(execute_uuid = %order.execute_uuid, error = %err, "could not kick a scheduled run's ticket");
        }
    }
    tracing::info!(task = %task.id, due_at = due.due_at, status = ?status, "fired a scheduled task");
    Ok(true)
}
