//! The safety net for lost queue messages: a crash between saving a
//! notification and queueing it, a retry message lost, a consumer that died
//! while sending. Reads the pending list (never a scan) and re-queues every
//! pending delivery overdue by the sweep grace, or with a stale claim. A
//! re-queued delivery that turns out not to be lost costs one read: `deliver`
//! skips it.

use std::time::Duration;

use super::config::DeliveryConfig;
use super::deliver::DeliverError;
use super::enqueue;
use crate::app::App;
use crate::domain::notification::Delivery;
use crate::repositories::notifications;

/// Pending notifications read per page: memory stays bounded however many wait.
const PAGE: usize = 100;

/// Whether `delivery`'s message must have been lost by `now`.
fn lost(delivery: &Delivery, config: &DeliveryConfig, now: i64) -> bool {
    if delivery.is_final() {
        return false;
    }
    match delivery.claimed_at {
        Some(at) => now - at >= config.claim_timeout.as_millis() as i64,
        None => now - delivery.due_at >= config.sweep_grace.as_millis() as i64,
    }
}

/// Re-queues every lost delivery; how many.
pub async fn sweep(app: &App, config: &DeliveryConfig) -> Result<usize, DeliverError> {
    let store = app.store.as_ref();
    let mut requeued = 0;
    let mut after: Option<String> = None;
    loop {
        let (pending, next) = notifications::pending_page(store, after.as_deref(), PAGE).await?;
        let now = app.clock.now_ms();
        for entry in &pending {
            let Some(read) = notifications::get(store, &entry.project_id, &entry.notification_id).await? else {
                continue;
            };
            let notification = read.value;
            if notification.is_final() {
                // Its last write's removal of the entry did not land: finish it.
                notifications::replace(store, &notification, read.version).await.ok();
                continue;
            }
            for (index, delivery) in notification.deliveries.iter().enumerate() {
                if lost(delivery, config, now) {
                    enqueue(app.notify_queue.as_ref(), &notification, index, Duration::ZERO).await?;
                    requeued += 1;
                }
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(requeued),
        }
    }
}
