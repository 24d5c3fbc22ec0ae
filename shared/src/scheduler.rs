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
use crate::domain::job::order::Order;
use crate::domain::public_script;
use crate::domain::schedule::{self, AssociatedType, RunStatus, ScheduledTask, TaskRun};
use crate::domain::script::{Script, ScriptStatus};
use crate::domain::tenant::Caller;
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

/// The script a run executes, or why there is none.
async fn script_of(app: &App, task: &ScheduledTask) -> Result<Script, String> {
    let id = task.spec.associated_task_id.as_str();
    match task.spec.associated_task_type {
        AssociatedType::Customization => {
            let script = scripts::get(app.store.as_ref(), &app.secrets, &task.project_id, id)
                .await
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("script {id} was deleted; no ticket was started"))?
                .value;
            if script.status != ScriptStatus::Approved {
                return Err(format!("script {id} is {:?}; only an approved script can run", script.status));
            }
            Ok(script)
        }
        AssociatedType::Communal => public_script::find(id)
            .map(|public| public.script.clone())
            .ok_or_else(|| format!("public script {id} is no longer in the library; no ticket was started")),
    }
}

/// The ticket of one run, or why none can start.
async fn ticket_for(app: &App, task: &ScheduledTask, now: i64) -> Result<Order, String> {
    let script = script_of(app, task).await?;
    let execution = task.spec.execution().map_err(|(field, problem)| format!("{field}: {problem}"))?;
    // The script may have changed since the task was saved: its analysis is taken again.
    task.spec
        .risk_refusal(&script, execution.execute_batches.len())
        .map_err(|(field, problem)| format!("{field}: {problem}"))?;
    if let Some(public) = public_script::find(task.spec.associated_task_id.as_str())
        .filter(|_| task.spec.associated_task_type == AssociatedType::Communal)
    {
        // Its required parameters, as at creation: the library may have changed since.
        public.check(&execution)?;
    }
    let creator = Caller {
        project_id: task.project_id.clone(),
        user_id: task.created_by.clone(),
        user_name: task.created_user_name.clone(),
        agent_sn: None,
    };
    orders::check_agents(app, &creator, &execution).await.map_err(|e| match e {
        ApiError::InvalidParameter(message) => message,
        other => other.to_string(),
    })?;
    let order_id = jobs::next_order_id(app.store.as_ref(), &task.project_id).await.map_err(|e| e.to_string())?;
    let mut order = Order::create(execution, &script, order_id, ids::execute_uuid(now), &creator, now)?;
    secrets::seal_order(&app.secrets, &mut order).await.map_err(|e| e.to_string())?;
    Ok(order)
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
    let (ticket, outcome) = match ticket_for(app, &task, now).await {
        Ok(order) => (Some(order), Ok(())),
        Err(reason) => (None, Err(reason)),
    };
    let mut message = match &outcome {
        Ok(()) => "ticket started".to_owned(),
        Err(reason) => reason.clone(),
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
