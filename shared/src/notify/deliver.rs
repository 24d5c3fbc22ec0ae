//! One delivery attempt, as the queue consumer makes it. Every step is a
//! conditional write on the notification, so that a message delivered twice,
//! late, or to two consumers at once sends at most once per attempt:
//!
//! 1. claim: the delivery is pending, due, and nobody holds a live claim →
//!    `attempts + 1`, `claimed_at = now` (a claim older than the claim timeout
//!    was lost with its consumer and counts as a failed attempt);
//! 2. send, outside any transaction;
//! 3. record, if the claim is still ours: sent; or failed for good (permanent
//!    error, or the last attempt); or pending again, due after the backoff,
//!    with a delayed message for the next attempt.
//!
//! A crash between 1 and 3 leaves a claim the sweep finds once it is stale; a
//! crash between 3 and the delayed message leaves a due delivery the sweep
//! finds. So nothing is lost, and a lost attempt is never retried early.

use std::time::Duration;

use super::config::DeliveryConfig;
use super::senders::Senders;
use super::{enqueue, DeliveryTask};
use crate::app::App;
use crate::domain::notification::{Delivery, DeliveryStatus, Notification};
use crate::ports::{Outbound, QueueError, SendError, StoreError};
use crate::repositories::notifications;

/// Conditional writes lost to a concurrent writer (another delivery of the
/// same notification) before a step gives up and lets the message come back.
const WRITE_ATTEMPTS: usize = 20;
/// A message may arrive this much before the due time it was delayed to:
/// SQS delays are whole seconds (rounded down), and consumers' clocks differ a little.
const EARLY_TOLERANCE_MS: i64 = 2_000;

/// What a consumer needs beside the app: who sends, and how hard to try.
#[derive(Clone)]
pub struct Deliverer {
    pub senders: Senders,
    pub config: DeliveryConfig,
}

/// What became of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    Sent,
    /// Failed this time; the next attempt is queued after this delay.
    Retrying(Duration),
    Failed,
    /// Nothing to do: the reason (already final, claimed by another consumer, early, unknown).
    Skipped(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("notification {0} kept changing under the consumer")]
    Contended(String),
}

/// The claim made in step 1: what step 3 must find still in place.
#[derive(Debug, Clone, Copy)]
struct Claim {
    attempts: u32,
    claimed_at: i64,
}

enum Claimed {
    Go(Claim, Notification),
    Done(Handled),
}

/// One attempt at the delivery `task` names, if it is due and nobody else is making it.
pub async fn deliver(app: &App, deliverer: &Deliverer, task: &DeliveryTask) -> Result<Handled, DeliverError> {
    let (claim, notification) = match claim(app, &deliverer.config, task).await? {
        Claimed::Go(claim, notification) => (claim, notification),
        Claimed::Done(handled) => return Ok(handled),
    };
    let delivery = &notification.deliveries[task.delivery];
    let outcome = send_one(app, &deliverer.senders, &notification, delivery).await;
    if let Err(err) = &outcome {
        tracing::info!(notification_id = task.notification_id, delivery = task.delivery, channel = ?delivery.destination.channel, attempt = claim.attempts, permanent = err.permanent, error = %err, "delivery attempt failed");
    }
    let handled = record(app, &deliverer.config, task, claim, outcome).await?;
    if let Handled::Retrying(delay) = handled {
        enqueue(app.notify_queue.as_ref(), &notification, task.delivery, delay).await?;
    }
    tracing::debug!(notification_id = task.notification_id, delivery = task.delivery, ?handled, "delivery handled");
    Ok(handled)
}

async fn send_one(
    app: &App,
    senders: &Senders,
    notification: &Notification,
    delivery: &Delivery,
) -> Result<(), SendError> {
    let destination = &delivery.destination;
    let key = match &destination.sealed_key {
        Some(sealed) => Some(
            app.secrets
                .open(sealed)
                .await
                .map_err(|e| SendError::transient(format!("cannot open the robot's key: {e}")))?,
        ),
        None => None,
    };
    let outbound = Outbound {
        channel: destination.channel,
        address: &destination.address,
        key: key.as_deref(),
        message: &notification.message,
        notification_id: &notification.notification_id,
    };
    senders.for_channel(destination.channel).send(&outbound).await
}

async fn claim(app: &App, config: &DeliveryConfig, task: &DeliveryTask) -> Result<Claimed, DeliverError> {
    let store = app.store.as_ref();
    for _ in 0..WRITE_ATTEMPTS {
        let Some(read) = notifications::get(store, &task.project_id, &task.notification_id).await? else {
            return Ok(Claimed::Done(Handled::Skipped("no such notification")));
        };
        let mut notification = read.value;
        let now = app.clock.now_ms();
        let Some(delivery) = notification.deliveries.get_mut(task.delivery) else {
            return Ok(Claimed::Done(Handled::Skipped("no such delivery")));
        };
        if delivery.is_final() {
            return Ok(Claimed::Done(Handled::Skipped("already final")));
        }
        let lost_claim = match delivery.claimed_at {
            Some(at) if now - at < config.claim_timeout.as_millis() as i64 => {
                return Ok(Claimed::Done(Handled::Skipped("another consumer is sending")));
            }
            Some(_) => true,
            None => false,
        };
        if !lost_claim && delivery.due_at > now + EARLY_TOLERANCE_MS {
            // A stale duplicate: the message for the due attempt is on its way.
            return Ok(Claimed::Done(Handled::Skipped("not due yet")));
        }
        let handled = if lost_claim && delivery.attempts >= config.max_attempts {
            delivery.status = DeliveryStatus::Failed;
            delivery.claimed_at = None;
            delivery.last_error = Some("the last attempt was lost: its consumer stopped while sending".into());
            Some(Handled::Failed)
        } else {
            if lost_claim {
                delivery.last_error =
                    Some(format!("attempt {} was lost: its consumer stopped while sending", delivery.attempts));
            }
            delivery.attempts += 1;
            delivery.claimed_at = Some(now);
            None
        };
        let claim = Claim { attempts: delivery.attempts, claimed_at: now };
        match notifications::replace(store, &notification, read.version).await {
            Ok(()) => {
                return Ok(match handled {
                    Some(handled) => Claimed::Done(handled),
                    None => Claimed::Go(claim, notification),
                })
            }
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DeliverError::Contended(task.notification_id.clone()))
}

async fn record(
    app: &App,
    config: &DeliveryConfig,
    task: &DeliveryTask,
    claim: Claim,
    outcome: Result<(), SendError>,
) -> Result<Handled, DeliverError> {
    let store = app.store.as_ref();
    for _ in 0..WRITE_ATTEMPTS {
        let Some(read) = notifications::get(store, &task.project_id, &task.notification_id).await? else {
            return Ok(Handled::Skipped("no such notification"));
        };
        let mut notification = read.value;
        let now = app.clock.now_ms();
        let delivery = &mut notification.deliveries[task.delivery];
        if delivery.is_final() || delivery.claimed_at != Some(claim.claimed_at) || delivery.attempts != claim.attempts {
            // Our claim was declared lost and another consumer took over.
            return Ok(Handled::Skipped("the claim was taken over"));
        }
        delivery.claimed_at = None;
        let handled = match &outcome {
            Ok(()) => {
                delivery.status = DeliveryStatus::Sent;
                delivery.sent_at = Some(now);
                Handled::Sent
            }
            Err(err) => {
                delivery.last_error = Some(err.reason.clone());
                if err.permanent || delivery.attempts >= config.max_attempts {
                    delivery.status = DeliveryStatus::Failed;
                    Handled::Failed
                } else {
                    let delay = config.backoff(delivery.attempts);
                    delivery.due_at = now + delay.as_millis() as i64;
                    Handled::Retrying(delay)
                }
            }
        };
        match notifications::replace(store, &notification, read.version).await {
            Ok(()) => return Ok(handled),
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(DeliverError::Contended(task.notification_id.clone()))
}
