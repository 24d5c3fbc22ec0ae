//! How an engineer reads back: signing keys masked, subscriptions by state.

use serde_json::{json, Value};

use crate::domain::engineer::contact::{mask_address, MASK};
use crate::domain::engineer::{channel_name, Engineer, Source, SUBSCRIBED_CHANNELS};
use crate::repositories::engineers::source_key;

/// `"******"` for a key that is set, null otherwise: keys are write-only.
fn masked(key: &Option<String>) -> Value {
    key.as_ref().map_or(Value::Null, |_| json!(MASK))
}

/// Each subscribed channel with its state at `now`, its address masked.
pub fn subscription_rows(engineer: &Engineer, now: i64) -> Vec<Value> {
    SUBSCRIBED_CHANNELS
        .iter()
        .map(|&channel| {
            let subscription = engineer.subscription(channel);
            let address = subscription.map(|s| s.address.as_str()).or(engineer.address_of(channel));
            json!({
                "channel": channel_name(channel),
                "state": engineer.subscription_state(channel, now),
                "address": address.map(mask_address),
                "requested_at": subscription.map(|s| s.requested_at),
                "expires_at": subscription.filter(|s| s.confirmed_at.is_none()).map(|s| s.expires_at),
                "confirmed_at": subscription.and_then(|s| s.confirmed_at),
            })
        })
        .collect()
}

pub fn view(engineer: &Engineer, now: i64) -> Value {
    let identity_provider = match &engineer.source {
        Source::Iam => None,
        Source::Federated { identity_provider } => Some(identity_provider.as_str()),
    };
    json!({
        "user_id": engineer.user_id,
        "user_name": engineer.user_name,
        "alias": engineer.alias,
        "source": source_key(&engineer.source),
        "identity_provider": identity_provider,
        "mobile": engineer.mobile,
        "email": engineer.email,
        "wecom_webhook": engineer.wecom_webhook,
        "dingtalk_webhook": engineer.dingtalk_webhook,
        "dingtalk_key": masked(&engineer.dingtalk_key),
        "lark_webhook": engineer.lark_webhook,
        "lark_key": masked(&engineer.lark_key),
        "subscriptions": subscription_rows(engineer, now),
        "create_time": engineer.create_time,
        "update_time": engineer.update_time,
    })
}
