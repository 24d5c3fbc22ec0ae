//! A notification as the delivery log shows it: addresses masked, robot keys never.

use serde_json::{json, Value};

use crate::domain::notification::{mask_address, Delivery, Notification};
use crate::repositories::listing::key_name;

fn delivery(delivery: &Delivery) -> Value {
    let destination = &delivery.destination;
    json!({
        "channel": key_name(&destination.channel),
        "recipient": mask_address(destination.channel, &destination.address),
        "status": key_name(&delivery.status),
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "sent_time": delivery.sent_at,
        // When the next attempt is due, while there is one.
        "next_attempt_time": (!delivery.is_final()).then_some(delivery.due_at),
    })
}

pub(super) fn notification(notification: &Notification) -> Value {
    let message = &notification.message;
    json!({
        "notification_id": notification.notification_id,
        "user_id": notification.user_id,
        "event": key_name(&message.kind),
        "subject": message.subject,
        "subject_id": message.subject_id,
        "link": message.link,
        "create_time": notification.create_time,
        "deliveries": notification.deliveries.iter().map(delivery).collect::<Vec<_>>(),
    })
}
