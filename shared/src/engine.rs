//! The engine that moves tickets along. It is driven by queue messages that
//! only name a ticket; every step re-reads the ticket and the results agents
//! reported for it (`repositories::reports`), folds them in with `Order::report`
//! and applies `Order::advance`, so a message delivered twice, late or out of
//! order does no harm. Steps that lose a write race start over from a fresh read.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::order::{Effects, Order, OrderStatus};
use crate::domain::tenant::ProjectId;
use crate::notify::{templates, triggers, Outgoing};
use crate::ports::{Queue, QueueError, StoreError, WriteOp, MAX_DELAY};
use crate::repositories::jobs;
use crate::repositories::reports::{self, PendingResult};

const STEP_ATTEMPTS: usize = 10;
/// How many pending results a step reads: more than fit one transaction, so
/// that the step folds as many as it can (a batch has at most 10 runs).
const FOLD_PAGE: usize = reports::MAX_WRITE_OPS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TickKind {
    /// Something happened (new ticket, report, operation): look now.
    Kick,
    /// A timer for the earliest timeout of the running instances.
    Check,
}

/// The queue message: which ticket to look at, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    pub project_id: ProjectId,
    pub execute_uuid: String,
    pub kind: TickKind,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("unreadable message: {0}")]
    BadMessage(String),
    #[error("ticket {0} kept changing under the engine")]
    Contended(String),
}

pub async fn send(queue: &dyn Queue, tick: &Tick, delay: Duration) -> Result<(), QueueError> {
    let body = serde_json::to_string(tick).expect("a tick always encodes");
    queue.send(&body, delay.min(MAX_DELAY)).await
}

/// Asks the engine to look at a ticket now.
pub async fn kick(queue: &dyn Queue, project_id: &ProjectId, execute_uuid: &str) -> Result<(), QueueError> {
    let tick = Tick { project_id: project_id.clone(), execute_uuid: execute_uuid.to_owned(), kind: TickKind::Kick };
    send(queue, &tick, Duration::ZERO).await
}

/// One step for the ticket a message names: fold in the results agents have
/// reported since the last step, advance, and save it all in one transaction.
pub async fn step(app: &App, tick: &Tick) -> Result<(), EngineError> {
    let store = app.store.as_ref();
    for _ in 0..STEP_ATTEMPTS {
        let Some(current) = jobs::get_order(store, &tick.project_id, &tick.execute_uuid).await? else {
            // Unknown ticket: nothing to do, and nothing to retry.
            return Ok(());
        };
        let pending = reports::pending(store, &tick.project_id, &tick.execute_uuid, FOLD_PAGE).await?;
        let now = now_ms();
        let (step, outgoing) = plan_with_notice(app, &current.value, current.version, &pending.results, now).await?;
        let (order, effects) = (&step.order, &step.effects);
        let changed = *order != current.value;
        if changed || step.folded > 0 {
            let mut ops = step.ops;
            ops.extend(pending.results[..step.folded].iter().map(|r| reports::folded_op(&tick.project_id, r)));
            match store.write(triggers::with_notification(ops, outgoing.as_ref())).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed) => continue,
                Err(other) => return Err(other.into()),
            }
            triggers::dispatch_saved(app, outgoing.as_ref()).await;
            for id in &effects.dispatch {
                if let Some(instance) = order.instance(*id) {
                    app.wakeups.wake(&order.project_id, instance.target.agent_sn.as_str());
                }
            }
        }
        if pending.more || step.folded < pending.results.len() {
            // Results that did not fit this step's transaction: the next step takes them.
            kick(app.queue.as_ref(), &tick.project_id, &tick.execute_uuid).await?;
        }
        // A timer is set when runs start; a timer that fired early (delays are
        // capped at 15 minutes) is set again.
        let rearm = !effects.dispatch.is_empty() || (tick.kind == TickKind::Check && !changed);
        if let (Some(at), true) = (effects.check_at, rearm) {
            let delay = Duration::from_millis((at - now).max(0) as u64 + 200);
            let check = Tick { kind: TickKind::Check, ..tick.clone() };
            send(app.queue.as_ref(), &check, delay).await?;
        }
        tracing::debug!(execute_uuid = tick.execute_uuid, kind = ?tick.kind, status = ?order.status, changed, folded = step.folded, "engine step");
        return Ok(());
    }
    Err(EngineError::Contended(tick.execute_uuid.clone()))
}

/// What a step writes: the ticket with the first `folded` pending results in
/// it, advanced, and the writes that save it (without the results' removal).
struct Step {
    order: Order,
    effects: Effects,
    folded: usize,
    ops: Vec<WriteOp>,
}

/// [`plan`], and when the step ends the ticket ABNORMAL, the notification to
/// its creator, saved in the step's transaction: the plan then leaves room
/// for the notification's writes (folding fewer results, which the next step
/// takes; if the ticket then no longer ends in this step, no one is told yet).
async fn plan_with_notice(
    app: &App,
    current: &Order,
    version: u64,
    pending: &[PendingResult],
    now: i64,
) -> Result<(Step, Option<Outgoing>), StoreError> {
    let mut reserve = 0;
    loop {
        let step = plan(current, version, pending, now, reserve)?;
        let ended_abnormal = current.status != OrderStatus::Abnormal && step.order.status == OrderStatus::Abnormal;
        let outgoing = if ended_abnormal {
            let message = templates::ticket_abnormal(app.public_url.as_deref(), &step.order);
            triggers::to_engineer(app, &current.project_id, Some(&current.creator_id), message).await?
        } else {
            None
        };
        let needed = outgoing.as_ref().map_or(0, |o| o.ops.len());
        if needed <= reserve || step.ops.len() + step.folded + needed <= reports::MAX_WRITE_OPS || step.folded == 0 {
            return Ok((step, outgoing));
        }
        reserve = needed;
    }
}

/// Folds in as many of the pending results as fit one transaction with the
/// save they lead to (each folded result costs the removal of its item) and
/// `reserve` more writes, and advances the ticket.
fn plan(
    current: &Order,
    version: u64,
    pending: &[PendingResult],
    now: i64,
    reserve: usize,
) -> Result<Step, StoreError> {
    let mut folded = pending.len();
    loop {
        let mut order = current.clone();
        for PendingResult { result, .. } in &pending[..folded] {
            // A result of a run that is over by now (canceled, timed out) changes nothing.
            let summary = format!("exit code {}", result.exit_code);
            order.report(result.instance_id, result.attempt, result.exit_code, &summary, result.reported_at);
        }
        let effects = order.advance(now);
        let ops = jobs::save_order_ops(&order, version, current.status, &effects)?;
        if ops.len() + folded + reserve <= reports::MAX_WRITE_OPS || folded == 0 {
            return Ok(Step { order, effects, folded, ops });
        }
        folded -= 1;
    }
}

/// Handles one raw queue message.
pub async fn handle_message(app: &App, body: &str) -> Result<(), EngineError> {
    let tick: Tick = serde_json::from_str(body).map_err(|e| EngineError::BadMessage(e.to_string()))?;
    step(app, &tick).await
}

/// Kicks every ticket that is not over: after a restart, and as a safety net
/// for a kick lost between saving a ticket and sending its message.
pub async fn resume_active(app: &App) -> Result<usize, EngineError> {
    // In pages, so that memory stays bounded however many tickets are open.
    const PAGE: usize = 100;
    let mut kicked = 0;
    let mut after = None;
    loop {
        let (active, next) = jobs::active_orders_page(app.store.as_ref(), after.as_deref(), PAGE).await?;
        for (project, execute_uuid) in &active {
            kick(app.queue.as_ref(), project, execute_uuid).await?;
        }
        kicked += active.len();
        match next {
            Some(next) => after = Some(next),
            None => return Ok(kicked),
        }
    }
}

/// The local consumer: takes messages from the embedded queue until the task
/// is dropped. A message whose step fails is not deleted and comes back after
/// the visibility timeout; an unreadable one is dropped.
pub async fn run_consumer(app: App) {
    loop {
        let messages = match app.queue.receive(10, Duration::from_secs(1)).await {
            Ok(messages) => messages,
            Err(err) => {
                tracing::error!(error = %err, "engine cannot read the queue");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        // The reports of one batch each kick the ticket: one step sees them all,
        // so a message that repeats one already handled in this receive is only
        // acknowledged (with the outcome of the step it repeats).
        let mut done: Vec<&str> = Vec::new();
        for message in &messages {
            let handled = if done.contains(&message.body.as_str()) {
                true
            } else {
                match handle_message(&app, &message.body).await {
                    Ok(()) | Err(EngineError::BadMessage(_)) => {
                        done.push(&message.body);
                        true
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "engine step failed; the message will come back");
                        false
                    }
                }
            };
            if handled {
                if let Err(err) = app.queue.delete(&message.receipt).await {
                    tracing::warn!(error = %err, "engine could not acknowledge a message");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::job::execute::Execution;
    use crate::domain::job::order::InstanceStatus;
    use crate::domain::script::{NewScript, Script};
    use crate::domain::tenant::Caller;
    use crate::repositories::reports::RunResult;

    /// A ticket of two batches of ten hosts, the first batch handed out.
    fn running_ticket() -> Order {
        let caller = Caller {
            project_id: ProjectId::parse("p").unwrap(),
            user_id: "u".into(),
            user_name: "n".into(),
            agent_sn: None,
        };
        let new: NewScript = serde_json::from_value(json!({
            "name": "s", "type": "SHELL", "content": "true", "description": "d",
            "properties": {"risk_level": "LOW", "version": "1"}
        }))
        .unwrap();
        let script = Script::create(new, 1, "SC1".into(), &caller, 0);
        let batch = |index: usize| {
            let targets: Vec<_> = (1..=10)
                .map(|h| json!({"resource_id": format!("r{index}-{h}"), "agent_sn": format!("a{index}-{h}"), "project_id": "p", "region_id": "r"}))
                .collect();
            json!({"batch_index": index, "rotation_strategy": "CONTINUE", "target_instances": targets})
        };
        let execution: Execution = serde_json::from_value(json!({
            "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
            "execute_batches": [batch(1), batch(2)]
        }))
        .unwrap();
        let mut order = Order::create(execution, &script, 1, "SCT1".into(), &caller, 0).unwrap();
        assert_eq!(order.advance(0).dispatch.len(), 10);
        order
    }

    fn results(ids: std::ops::RangeInclusive<u64>, attempt: u32) -> Vec<PendingResult> {
        ids.map(|id| PendingResult::read(RunResult { instance_id: id, attempt, exit_code: 0, reported_at: 5 }, "SCT1"))
            .collect()
    }

    #[test]
    fn a_step_folds_a_whole_batch_and_hands_out_the_next_in_one_transaction() {
        let ticket = running_ticket();
        let step = plan(&ticket, 3, &results(1..=10, 1), 10, 0).unwrap();
        assert_eq!(step.folded, 10);
        assert_eq!(step.effects.dispatch, (11..=20).collect::<Vec<_>>(), "batch 2 starts in the same step");
        assert!(step.ops.len() + step.folded <= reports::MAX_WRITE_OPS);
        let first = step.order.instance(1).unwrap();
        assert_eq!((first.status, first.exit_code, first.gmt_finished), (InstanceStatus::Finished, Some(0), Some(5)));
    }

    #[test]
    fn results_beyond_one_transaction_wait_for_the_next_step() {
        let ticket = running_ticket();
        // Ten results of batch 1, and results of runs of batch 2 that are not
        // running (an attempt never handed out): they change nothing, but their
        // items must go too.
        let mut pending = results(1..=10, 1);
        pending.extend(results(11..=20, 9));
        let step = plan(&ticket, 3, &pending, 10, 0).unwrap();
        assert!(step.folded < pending.len(), "not all fit");
        assert_eq!(step.ops.len() + step.folded, reports::MAX_WRITE_OPS, "as many as fit");
        assert!(step.order.instances[..10].iter().all(|i| i.status == InstanceStatus::Finished));
        let next = plan(&step.order, 4, &pending[step.folded..], 11, 0).unwrap();
        assert_eq!(next.folded, pending.len() - step.folded, "the next step takes the rest");
        assert_eq!(next.order, step.order, "stale results change nothing");
    }
}
