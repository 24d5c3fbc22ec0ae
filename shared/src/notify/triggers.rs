//! How the triggers (incidents, alarms, tickets) join a notification to the
//! write that causes it: prepared before the write, its ops in the same
//! transaction, handed to the queue once the write landed.

use super::{dispatch, prepare, Outgoing, Recipient};
use crate::app::App;
use crate::domain::notification::Message;
use crate::domain::tenant::ProjectId;
use crate::ports::{StoreError, WriteOp};

/// The notification of `message` to engineer `user_id`, ready to join a write;
/// `None` when there is no one (no user, not an engineer, no destination).
pub async fn to_engineer(
    app: &App,
    project: &ProjectId,
    user_id: Option<&str>,
    message: Message,
) -> Result<Option<Outgoing>, StoreError> {
    match user_id.filter(|id| !id.is_empty()) {
        Some(id) => prepare(app, project, Recipient::Engineer(id), message).await,
        None => Ok(None),
    }
}

/// The notifications of `message` to each of `user_ids` who has somewhere to
/// be told (a war room's members), ready to join one write.
pub async fn to_engineers(
    app: &App,
    project: &ProjectId,
    user_ids: impl IntoIterator<Item = &str>,
    message: &Message,
) -> Result<Vec<Outgoing>, StoreError> {
    let mut outgoing = Vec::new();
    for user_id in user_ids {
        outgoing.extend(to_engineer(app, project, Some(user_id), message.clone()).await?);
    }
    Ok(outgoing)
}

/// `ops` followed by what saves each of `outgoing`: one transaction.
pub fn with_notifications(mut ops: Vec<WriteOp>, outgoing: &[Outgoing]) -> Vec<WriteOp> {
    for one in outgoing {
        ops.extend(one.ops.iter().cloned());
    }
    ops
}

/// `ops` followed by what saves `outgoing`, if any: one transaction.
pub fn with_notification(mut ops: Vec<WriteOp>, outgoing: Option<&Outgoing>) -> Vec<WriteOp> {
    if let Some(outgoing) = outgoing {
        ops.extend(outgoing.ops.iter().cloned());
    }
    ops
}

/// Hands a saved notification to the queue. The change that caused it has
/// landed, so a failure here must not fail it: the sweep of pending
/// notifications sends what a lost dispatch did not.
pub async fn dispatch_saved(app: &App, outgoing: Option<&Outgoing>) {
    let Some(outgoing) = outgoing else { return };
    if let Err(err) = dispatch(app, outgoing).await {
        tracing::warn!(
            notification_id = outgoing.notification.notification_id,
            error = %err,
            "notification saved but not queued; the sweep will send it"
        );
    }
}
