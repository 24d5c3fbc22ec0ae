//! O&M engineers (om-engineer-management.txt): the people COC notifies, with
//! their contact methods and the subscriptions that email, SMS and voice need
//! before they are used.

pub mod contact;
pub mod edit;
pub mod webhook;

use serde::{Deserialize, Serialize};

use crate::domain::notification::{Channel, Destination};
use crate::domain::tenant::ProjectId;
use crate::limits;

/// A channel's name in the API (`EMAIL`, `SMS`, `DINGTALK`, …).
pub fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EMAIL",
        Channel::Sms => "SMS",
        Channel::Voice => "VOICE",
        Channel::Wecom => "WECOM",
        Channel::Dingtalk => "DINGTALK",
        Channel::Lark => "LARK",
    }
}

/// The channels that need a subscription, in the order lists show them.
pub const SUBSCRIBED_CHANNELS: [Channel; 3] = [Channel::Email, Channel::Sms, Channel::Voice];

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
    /// The SHA-256 (hex) of its confirmation token while it is pending: the
    /// key of the token's item, deleted with the subscription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_hash: Option<String>,
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
    /// A user of the tenant, as synchronization makes it.
    pub fn iam(project_id: ProjectId, user_id: String, user_name: String, now: i64) -> Self {
        Engineer {
            project_id,
            user_id,
            user_name,
            alias: None,
            source: Source::Iam,
            mobile: None,
            email: None,
            wecom_webhook: None,
            dingtalk_webhook: None,
            dingtalk_key: None,
            lark_webhook: None,
            lark_key: None,
            subscriptions: Vec::new(),
            create_time: now,
            update_time: now,
        }
    }

    /// A federated user added by hand: its username is its `user_id`.
    pub fn federated(project_id: ProjectId, new: edit::NewFederatedUser, now: i64) -> Self {
        let name = new.user_name.to_string();
        Engineer {
            alias: new.alias.map(String::from),
            source: Source::Federated { identity_provider: new.identity_provider.into() },
            ..Engineer::iam(project_id, name.clone(), name, now)
        }
    }

    /// The address a subscribed channel goes to: the email for EMAIL, the mobile for SMS and VOICE.
    pub fn address_of(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email.as_deref(),
            Channel::Sms | Channel::Voice => self.mobile.as_deref(),
            Channel::Wecom | Channel::Dingtalk | Channel::Lark => None,
        }
    }

    pub fn subscription(&self, channel: Channel) -> Option<&Subscription> {
        self.subscriptions.iter().find(|s| s.channel == channel)
    }

    /// The state of a channel's subscription at `now`.
    pub fn subscription_state(&self, channel: Channel, now: i64) -> SubscriptionState {
        self.subscription(channel).map_or(SubscriptionState::Unsubscribed, |s| s.state_at(now))
    }

    /// Removes a channel's subscription (its link stops working once its token
    /// item goes too), returning it.
    pub fn drop_subscription(&mut self, channel: Channel) -> Option<Subscription> {
        let at = self.subscriptions.iter().position(|s| s.channel == channel)?;
        Some(self.subscriptions.remove(at))
    }

    /// A new pending subscription of `channel` to its current address, valid
    /// for 48 hours, replacing any earlier one; `None` when the channel has no
    /// address.
    pub fn start_subscription(&mut self, channel: Channel, token_hash: String, now: i64) -> Option<&Subscription> {
        let address = self.address_of(channel)?.to_owned();
        self.drop_subscription(channel);
        self.subscriptions.push(Subscription {
            channel,
            address,
            state: SubscriptionState::Pending,
            requested_at: now,
            expires_at: now + limits::SUBSCRIPTION_VALIDITY_MS,
            confirmed_at: None,
            token_hash: Some(token_hash),
        });
        self.subscriptions.last()
    }

    /// Confirms the pending subscription whose token hashes to `token_hash`;
    /// `false` when there is none (replaced, removed, or already confirmed).
    pub fn confirm_subscription(&mut self, token_hash: &str, now: i64) -> bool {
        let pending = self
            .subscriptions
            .iter_mut()
            .find(|s| s.token_hash.as_deref() == Some(token_hash) && s.state_at(now) == SubscriptionState::Pending);
        match pending {
            Some(subscription) => {
                subscription.state = SubscriptionState::Confirmed;
                subscription.confirmed_at = Some(now);
                subscription.token_hash = None;
                true
            }
            None => false,
        }
    }

    /// The token hashes of subscriptions `self` has and `next` no longer has:
    /// their items are deleted with the change.
    pub fn discarded_tokens(&self, next: &Engineer) -> Vec<String> {
        let kept: Vec<&str> = next.subscriptions.iter().filter_map(|s| s.token_hash.as_deref()).collect();
        self.subscriptions
            .iter()
            .filter_map(|s| s.token_hash.clone())
            .filter(|hash| !kept.contains(&hash.as_str()))
            .collect()
    }

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
