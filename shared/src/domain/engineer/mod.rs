//! O&M engineers (om-engineer-management.txt): the people COC notifies, with
//! their contact methods and the subscriptions that email, SMS and voice need
//! before they are used.

use serde::{Deserialize, Serialize};

use crate::domain::notification::{Channel, Destination};
use crate::domain::tenant::ProjectId;

/// Where an engineer comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Source {
    /// A user of the tenant, made an engineer by synchronization.
    Iam,
    /// A federated (SSO) user added by hand.
    Federated { identity_provider: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubscriptionState {
    Unsubscribed,
    /// Waiting for the confirmation link to be followed, until `expires_at`.
    Pending,
    Confirmed,
    /// The link was not followed within 48 hours; a new subscription can be requested.
    Expired,
}

/// An engineer's subscription to one of the channels that need one (email, SMS, voice).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub channel: Channel,
    /// The address it was requested for; a changed address needs a new subscription.
    pub address: String,
    /// As stored: `Pending` stays `Pending` past `expires_at`; see [`Subscription::state_at`].
    pub state: SubscriptionState,
    pub requested_at: i64,
    pub expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmed_at: Option<i64>,
}

impl Subscription {
    /// The state as of `now`: a pending subscription past its expiry is expired.
    pub fn state_at(&self, now: i64) -> SubscriptionState {
        match self.state {
            SubscriptionState::Pending if now >= self.expires_at => SubscriptionState::Expired,
            state => state,
        }
    }
}

/// An O&M engineer of one tenant, keyed by `user_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engineer {
    pub project_id: ProjectId,
    /// The IAM user id (synchronized users) or the federated username.
    pub user_id: String,
    pub user_name: String,
    pub alias: Option<String>,
    pub source: Source,
    /// E.164, e.g. `+8613800000000`.
    pub mobile: Option<String>,
    pub email: Option<String>,
    pub wecom_webhook: Option<String>,
    pub dingtalk_webhook: Option<String>,
    /// DingTalk's signing secret, sealed by `SecretBox`; write-only in the API.
    pub dingtalk_key: Option<String>,
    pub lark_webhook: Option<String>,
    /// Lark's signing secret, sealed; write-only.
    pub lark_key: Option<String>,
    pub subscriptions: Vec<Subscription>,
    pub create_time: i64,
    pub update_time: i64,
}

impl Engineer {
    /// Where a notification to this engineer goes at `now`: every confirmed
    /// subscription at its current address, and every configured robot.
    pub fn destinations(&self, now: i64) -> Vec<Destination> {
        let mut out: Vec<Destination> = self
            .subscriptions
            .iter()
            .filter(|s| s.state_at(now) == SubscriptionState::Confirmed)
            .map(|s| Destination { channel: s.channel, address: s.address.clone(), sealed_key: None })
            .collect();
        let robots = [
            (Channel::Wecom, &self.wecom_webhook, &None),
            (Channel::Dingtalk, &self.dingtalk_webhook, &self.dingtalk_key),
            (Channel::Lark, &self.lark_webhook, &self.lark_key),
        ];
        for (channel, webhook, key) in robots {
            if let Some(url) = webhook {
                out.push(Destination { channel, address: url.clone(), sealed_key: key.clone() });
            }
        }
        out
    }
}
