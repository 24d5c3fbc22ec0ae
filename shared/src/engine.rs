//! The engine that moves tickets along. It is driven by queue messages that
//! only name a ticket; every step re-reads the ticket and applies
//! `Order::advance`, so a message delivered twice, late or out of order does no
//! harm. Steps that lose a write race start over from a fresh read.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::tenant::ProjectId;
use crate::ports::{Queue, QueueError, StoreError, MAX_DELAY};
use crate::repositories::jobs;

const STEP_ATTEMPTS: usize = 10;

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

/// One step for the ticket a message names.
pub async fn step(app: &App, tick: &Tick) -> Result<(), EngineError> {
    for _ in 0..STEP_ATTEMPTS {
        let Some(current) = jobs::get_order(app.store.as_ref(), &tick.project_id, &tick.execute_uuid).await? else {
            // Unknown ticket: nothing to do, and nothing to retry.
            return Ok(());
        };
        let now = now_ms();
        let mut order = current.value.clone();
        let effects = order.advance(now);
        let changed = order != current.value;
        if changed {
            match jobs::save_order(app.store.as_ref(), &order, current.version, current.value.status, &effects).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed) => continue,
                Err(other) => return Err(other.into()),
            }
            if !effects.dispatch.is_empty() {
                app.jobs_handed_out.notify_waiters();
            }
        }
        // A timer is set when runs start; a timer that fired early (delays are
        // capped at 15 minutes) is set again.
        let rearm = !effects.dispatch.is_empty() || (tick.kind == TickKind::Check && !changed);
        if let (Some(at), true) = (effects.check_at, rearm) {
            let delay = Duration::from_millis((at - now).max(0) as u64 + 200);
            let check = Tick { kind: TickKind::Check, ..tick.clone() };
            send(app.queue.as_ref(), &check, delay).await?;
        }
        tracing::debug!(execute_uuid = tick.execute_uuid, kind = ?tick.kind, status = ?order.status, changed, "engine step");
        return Ok(());
    }
    Err(EngineError::Contended(tick.execute_uuid.clone()))
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
        for message in messages {
            match handle_message(&app, &message.body).await {
                Ok(()) | Err(EngineError::BadMessage(_)) => {
                    if let Err(err) = app.queue.delete(&message.receipt).await {
                        tracing::warn!(error = %err, "engine could not acknowledge a message");
                    }
                }
                Err(err) => tracing::warn!(error = %err, "engine step failed; the message will come back"),
            }
        }
    }
}
