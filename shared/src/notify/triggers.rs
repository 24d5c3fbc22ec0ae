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

/// `ops` followed by what saves each of `outgoing`: one transaction. A
/// transaction may touch an item once, so the notifications' counts (one
/// counter for all) become one addition.
pub fn with_notifications(mut ops: Vec<WriteOp>, outgoing: &[Outgoing]) -> Vec<WriteOp> {
    for op in outgoing.iter().flat_map(|one| one.ops.iter().cloned()) {
        let same_counter = |existing: &WriteOp| match (existing, &op) {
            (WriteOp::Add { pk: a, sk: b, .. }, WriteOp::Add { pk: c, sk: d, .. }) => a == c && b == d,
            _ => false,
        };
        match (ops.iter_mut().find(|existing| same_counter(existing)), &op) {
            (Some(WriteOp::Add { delta, .. }), WriteOp::Add { delta: more, .. }) => *delta += more,
            _ => ops.push(op),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notification::{EventKind, Notification};
    use crate::ports::{Condition, Item};

    fn outgoing(id: &str) -> Outgoing {
        let project = ProjectId::parse("p").unwrap();
        let message = Message {
            kind: EventKind::WarRoomCreated,
            subject: "s".into(),
            text: "t".into(),
            link: None,
            subject_id: "WR1".into(),
        };
        let notification = Notification {
            notification_id: id.into(),
            project_id: project,
            user_id: Some("u".into()),
            message,
            deliveries: Vec::new(),
            create_time: 1,
        };
        let ops = crate::repositories::notifications::insert_ops(&notification).unwrap();
        Outgoing { notification, ops }
    }

    #[test]
    fn several_notifications_add_to_their_count_once() {
        let room =
            WriteOp::Put { item: Item::new("PROJECT#p", "WARROOM#1", "{}".into(), 1), condition: Condition::NotExists };
        let ops = with_notifications(vec![room], &[outgoing("NT1"), outgoing("NT2"), outgoing("NT3")]);
        let adds: Vec<i64> = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Add { delta, .. } => Some(*delta),
                _ => None,
            })
            .collect();
        assert_eq!(adds, [3], "one addition of three: {ops:?}");
        assert_eq!(ops.len(), 1 + 3 + 1, "the room, each notification's own item, one count");
    }
}
