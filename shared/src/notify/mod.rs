//! Delivery of notifications: triggers call [`prepare`] (or [`send`]); the
//! queue consumer delivers each destination, retrying with backoff, and
//! records how it went. Nothing is sent inline in an API call.

pub mod config;
pub mod consumer;
pub mod deliver;
pub mod senders;
pub mod sweep;
pub mod templates;
pub mod triggers;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::domain::notification::{Delivery, Destination, Message, Notification};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::ids;
use crate::ports::{Queue, QueueError, StoreError, WriteOp, MAX_DELAY};
use crate::repositories::{engineers, notifications};

/// Who a message is for.
#[derive(Debug, Clone)]
pub enum Recipient<'a> {
    /// An engineer of the tenant: every destination `Engineer::destinations` gives.
    Engineer(&'a str),
    /// One address, whatever its subscription (a subscription's confirmation).
    Address(Destination),
}

/// A notification ready to be saved by `ops` (put them in the same
/// transaction as the change that caused it, so neither lands without the
/// other) and then handed to the queue by [`dispatch`].
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub notification: Notification,
    pub ops: Vec<WriteOp>,
}

/// The queue message: one delivery of one notification. The consumer re-reads
/// the notification, so a message delivered twice or late does no harm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryTask {
    pub project_id: ProjectId,
    pub notification_id: String,
    /// The delivery's index in the notification's `deliveries`.
    pub delivery: usize,
}

/// The notification of `message` to `recipient`, or `None` when there is no
/// one to tell (no such engineer, or one with no usable destination).
pub async fn prepare(
    app: &App,
    project: &ProjectId,
    recipient: Recipient<'_>,
    message: Message,
) -> Result<Option<Outgoing>, StoreError> {
    let now = app.clock.now_ms();
    let (user_id, destinations) = match recipient {
        Recipient::Engineer(user_id) => match engineers::get(app.store.as_ref(), project, user_id).await? {
            Some(engineer) => (Some(user_id.to_owned()), engineer.value.destinations(now)),
            None => return Ok(None),
        },
        Recipient::Address(destination) => (None, vec![destination]),
    };
    if destinations.is_empty() {
        return Ok(None);
    }
    let notification = Notification {
        notification_id: ids::notification_id(now),
        project_id: project.clone(),
        user_id,
        message,
        deliveries: destinations.into_iter().map(|d| Delivery::new(d, now)).collect(),
        create_time: now,
    };
    let ops = notifications::insert_ops(&notification)?;
    Ok(Some(Outgoing { notification, ops }))
}

/// Hands a saved notification's deliveries to the queue. If this is lost (a
/// crash after the save), the sweep of pending notifications sends them.
pub async fn dispatch(app: &App, outgoing: &Outgoing) -> Result<(), QueueError> {
    let notification = &outgoing.notification;
    for (index, delivery) in notification.deliveries.iter().enumerate() {
        if !delivery.is_final() {
            enqueue(app.notify_queue.as_ref(), notification, index, Duration::ZERO).await?;
        }
    }
    Ok(())
}

/// Queues delivery `index` of `notification` to be attempted after `delay`
/// (capped at the queue's longest delay; an early message waits again).
pub(crate) async fn enqueue(
    queue: &dyn Queue,
    notification: &Notification,
    index: usize,
    delay: Duration,
) -> Result<(), QueueError> {
    let task = DeliveryTask {
        project_id: notification.project_id.clone(),
        notification_id: notification.notification_id.clone(),
        delivery: index,
    };
    let body = serde_json::to_string(&task).expect("a delivery task always encodes");
    queue.send(&body, delay.min(MAX_DELAY)).await
}

/// [`prepare`], save and [`dispatch`] in one, for a trigger with no write of
/// its own to join; the notification's id, if there was anyone to tell.
pub async fn send(
    app: &App,
    project: &ProjectId,
    recipient: Recipient<'_>,
    message: Message,
) -> Result<Option<String>, ApiError> {
    let Some(outgoing) = prepare(app, project, recipient, message).await? else { return Ok(None) };
    app.store.write(outgoing.ops.clone()).await?;
    if let Err(err) = dispatch(app, &outgoing).await {
        // Saved but not queued: the sweep finds it among the pending ones.
        tracing::warn!(error = %err, notification_id = outgoing.notification.notification_id, "notification saved but not queued; the sweep will send it");
    }
    Ok(Some(outgoing.notification.notification_id))
}
