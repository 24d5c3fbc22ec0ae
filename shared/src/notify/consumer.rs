//! The notification queue's consumers: the local one (a task of coc-local on
//! the embedded queue) and the message handler the Lambda consumer shares.

use std::sync::Arc;
use std::time::Duration;

use super::deliver::{deliver, DeliverError, Deliverer, Handled};
use super::sweep::sweep;
use super::DeliveryTask;
use crate::app::App;

/// How often the local consumer sweeps for deliveries whose message was lost.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// It can never be handled: dropped.
    #[error("unreadable notification message: {0}")]
    BadMessage(String),
    /// It may be handled later: the message comes back.
    #[error(transparent)]
    Deliver(#[from] DeliverError),
}

/// Handles one raw queue message.
pub async fn handle_message(app: &App, deliverer: &Deliverer, body: &str) -> Result<Handled, MessageError> {
    let task: DeliveryTask = serde_json::from_str(body).map_err(|e| MessageError::BadMessage(e.to_string()))?;
    Ok(deliver(app, deliverer, &task).await?)
}

/// Takes messages from `app.notify_queue` until the task is dropped, each
/// batch's deliveries concurrently (a slow mail server holds up no robot). A
/// message whose handling failed is not deleted and comes back after the
/// visibility timeout; an unreadable one is dropped.
pub async fn run_consumer(app: App, deliverer: Deliverer) {
    let deliverer = Arc::new(deliverer);
    // Backs off while the queue fails (down, or not configured: one line a minute, not a flood).
    let mut pause = Duration::from_secs(1);
    loop {
        let messages = match app.notify_queue.receive(10, Duration::from_secs(1)).await {
            Ok(messages) => {
                pause = Duration::from_secs(1);
                messages
            }
            Err(err) => {
                tracing::error!(error = %err, retry_in_secs = pause.as_secs(), "notification consumer cannot read its queue");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
                continue;
            }
        };
        let mut batch = tokio::task::JoinSet::new();
        for message in messages {
            let (app, deliverer) = (app.clone(), deliverer.clone());
            batch.spawn(async move {
                let acknowledge = match handle_message(&app, &deliverer, &message.body).await {
                    Ok(_) => true,
                    Err(err @ MessageError::BadMessage(_)) => {
                        tracing::error!(error = %err, "dropping a notification message");
                        true
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "delivery failed; the message will come back");
                        false
                    }
                };
                if acknowledge {
                    if let Err(err) = app.notify_queue.delete(&message.receipt).await {
                        tracing::warn!(error = %err, "notification consumer could not acknowledge a message");
                    }
                }
            });
        }
        while batch.join_next().await.is_some() {}
    }
}

/// Sweeps every `every` until the task is dropped (the first sweep at once:
/// after a restart it re-queues what was pending before).
pub async fn run_sweeper(app: App, deliverer: Deliverer, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep(&app, &deliverer.config).await {
            Ok(0) => {}
            Ok(requeued) => tracing::info!(requeued, "re-queued deliveries whose message was lost"),
            Err(err) => tracing::warn!(error = %err, "notification sweep failed; the next one tries again"),
        }
    }
}
