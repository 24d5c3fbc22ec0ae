//! Subscriptions of EMAIL, SMS and VOICE: each must be confirmed by following
//! a single-use link, sent to the address through the notification pipeline,
//! within 48 hours.

use serde_json::json;

use super::{existing, user_id_param, view::subscription_rows};
use crate::app::App;
use crate::domain::engineer::contact::mask_address;
use crate::domain::engineer::edit::SubscribeRequest;
use crate::domain::engineer::{channel_name, Engineer, SubscriptionState};
use crate::domain::notification::{Channel, Destination, EventKind, Message};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::notify::{self, Outgoing, Recipient};
use crate::ports::WriteOp;
use crate::repositories::engineers::{self, tokens};

/// The subscriptions a mobile number starts.
pub const MOBILE_CHANNELS: [Channel; 2] = [Channel::Sms, Channel::Voice];

/// The path of the confirmation route (`Operation::ConfirmSubscription`).
pub const CONFIRM_PATH: &str = "/v1/subscriptions/confirm";

/// New pending subscriptions: the writes that store their links and their
/// confirmation notifications (to join the engineer's write), and those
/// notifications, to dispatch once it landed.
#[derive(Debug, Default)]
pub struct Started {
    pub ops: Vec<WriteOp>,
    pub outgoing: Vec<Outgoing>,
}

/// The link that confirms a subscription.
fn confirmation_link(app: &App, token: &str) -> String {
    // Without COC_PUBLIC_URL the link is the path alone (see the README).
    format!("{}{CONFIRM_PATH}?token={token}", app.public_url.as_deref().unwrap_or(""))
}

fn confirmation_message(engineer: &Engineer, channel: Channel, link: String) -> Message {
    let name = channel_name(channel);
    let address = engineer.address_of(channel).map(mask_address).unwrap_or_default();
    Message {
        kind: EventKind::SubscriptionConfirmation,
        subject: format!("Confirm your COC {name} subscription"),
        text: format!(
            "COC (Cloud Operations Center) will notify {} by {name} at {address} once you confirm. \
             Open this link within 48 hours to confirm: {link}\n\
             If you did not expect this, ignore it: nothing is sent until the link is opened.",
            engineer.alias.as_deref().unwrap_or(&engineer.user_name)
        ),
        link: Some(link),
        subject_id: engineer.user_id.clone(),
    }
}

/// Starts a pending subscription of each of `channels` that has an address,
/// replacing an earlier one (whose link the caller deletes with
/// `Engineer::discarded_tokens`).
pub async fn start(app: &App, engineer: &mut Engineer, channels: &[Channel], now: i64) -> Result<Started, ApiError> {
    let mut started = Started::default();
    for &channel in channels {
        let (token, hash) = tokens::new_token();
        let Some(subscription) = engineer.start_subscription(channel, hash.clone(), now).cloned() else { continue };
        let owner = tokens::TokenOwner {
            project_id: engineer.project_id.clone(),
            user_id: engineer.user_id.clone(),
            channel,
            expires_at: subscription.expires_at,
        };
        started.ops.push(tokens::insert_op(&hash, &owner)?);
        // Voice subscriptions are confirmed by a text message too, as SMN does.
        let by = if channel == Channel::Email { Channel::Email } else { Channel::Sms };
        let destination = Destination { channel: by, address: subscription.address.clone(), sealed_key: None };
        let message = confirmation_message(engineer, channel, confirmation_link(app, &token));
        let project = engineer.project_id.clone();
        if let Some(outgoing) = notify::prepare(app, &project, Recipient::Address(destination), message).await? {
            started.ops.extend(outgoing.ops.iter().cloned());
            started.outgoing.push(outgoing);
        }
    }
    started.ops = merge_counts(std::mem::take(&mut started.ops));
    Ok(started)
}

/// DynamoDB refuses a transaction that touches one item twice, so the counts
/// of several notifications become one `Add`.
fn merge_counts(ops: Vec<WriteOp>) -> Vec<WriteOp> {
    let mut merged: Vec<WriteOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let WriteOp::Add { pk, sk, delta } = &op {
            let same = merged.iter_mut().find_map(|earlier| match earlier {
                WriteOp::Add { pk: p, sk: s, delta: total } if p == pk && s == sk => Some(total),
                _ => None,
            });
            if let Some(total) = same {
                *total += delta;
                continue;
            }
        }
        merged.push(op);
    }
    merged
}

/// Hands saved confirmations to the queue. A failure is logged, not
/// returned: the change is saved, and the sweep of pending notifications sends them.
pub async fn dispatch(app: &App, outgoing: &[Outgoing]) {
    for one in outgoing {
        if let Err(error) = notify::dispatch(app, one).await {
            tracing::warn!(
                notification = one.notification.notification_id,
                %error,
                "a subscription confirmation was saved but not queued; the sweep will send it"
            );
        }
    }
}

/// `POST /v1/engineers/{user_id}/subscriptions` `{"channels": ["EMAIL", "SMS", "VOICE"]}`
/// → `{"data": [subscriptions]}`: new links for those channels. A confirmed
/// channel cannot be picked again, nor one without its address.
pub async fn request(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = user_id_param(&request)?;
    let body: SubscribeRequest = request.json_body()?;
    let store = app.store.as_ref();
    let (engineer, outgoing) = until_written("the engineer", || async {
        let current = existing(app, caller, user_id).await?;
        let now = app.clock.now_ms();
        for &channel in &body.channels {
            let name = channel_name(channel);
            if current.value.subscription_state(channel, now) == SubscriptionState::Confirmed {
                return Err(ApiError::invalid("channels", format!("{name} is confirmed already")));
            }
            if current.value.address_of(channel).is_none() {
                let needs = if channel == Channel::Email { "an email" } else { "a mobile number" };
                return Err(ApiError::invalid("channels", format!("{name} needs {needs} first")));
            }
        }
        let mut next = current.value.clone();
        next.update_time = now;
        let started = start(app, &mut next, &body.channels, now).await?;
        let mut ops = vec![engineers::replace_op(&next, current.version)?];
        ops.extend(current.value.discarded_tokens(&next).iter().map(|hash| tokens::delete_op(hash)));
        ops.extend(started.ops);
        landed(store.write(ops).await, (next, started.outgoing))
    })
    .await?;
    dispatch(app, &outgoing).await;
    ApiResponse::data(subscription_rows(&engineer, app.clock.now_ms()))
}

/// `GET /v1/engineers/{user_id}/subscriptions` → `{"data": [{"channel", "state",
/// "address" (masked), "requested_at", "expires_at", "confirmed_at"}]}` for
/// EMAIL, SMS and VOICE; `state` as of now: UNSUBSCRIBED, PENDING, CONFIRMED or EXPIRED.
pub async fn list(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let user_id = user_id_param(&request)?;
    let engineer = existing(app, caller, user_id).await?;
    ApiResponse::data(subscription_rows(&engineer.value, app.clock.now_ms()))
}

fn unknown_link() -> ApiError {
    ApiError::NotFound(
        "This confirmation link is not valid: it was used already, or a newer subscription replaced it.".into(),
    )
}

/// `GET /v1/subscriptions/confirm?token=…` (public: the person opens it from a
/// message) → `{"data": {"channel", "address", "state": "CONFIRMED", "message"}}`.
/// The link is used up in the same transaction that confirms, so it works once
/// even when opened twice at the same moment.
pub async fn confirm(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    // A mangled link (cut short by a mail client, say) is as unknown as a used one.
    let token = request.query_param::<String>("token")?.ok_or_else(unknown_link)?;
    if limits::SUBSCRIPTION_TOKEN.check(&token).is_err() || !token.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(unknown_link());
    }
    let hash = tokens::hash_token(&token.to_ascii_lowercase());
    let store = app.store.as_ref();
    let (channel, address) = until_written("the subscription", || async {
        let owner = tokens::get(store, &hash).await?.ok_or_else(unknown_link)?;
        let now = app.clock.now_ms();
        let name = channel_name(owner.channel);
        if now >= owner.expires_at {
            return Err(ApiError::invalid(
                "token",
                format!(
                    "this confirmation link expired at {} (links are valid for 48 hours); \
                     a new {name} subscription can be requested in O&M Engineer Management",
                    crate::clock::iso8601(owner.expires_at)
                ),
            ));
        }
        let current = engineers::get(store, &owner.project_id, &owner.user_id).await?.ok_or_else(unknown_link)?;
        let mut next = current.value.clone();
        if !next.confirm_subscription(&hash, now) {
            return Err(unknown_link());
        }
        let address = next.address_of(owner.channel).map(mask_address);
        let ops = vec![tokens::use_op(&hash), engineers::replace_op(&next, current.version)?];
        landed(store.write(ops).await, (owner.channel, address))
    })
    .await?;
    tracing::info!(channel = channel_name(channel), "subscription confirmed");
    let name = channel_name(channel);
    ApiResponse::data(json!({
        "channel": name,
        "address": address,
        "state": SubscriptionState::Confirmed,
        "message": format!("Subscription confirmed: COC notifications will now reach you by {name}."),
    }))
}
