//! What the add and modify requests say, decoded into valid values, and how a
//! modification changes an engineer.

use serde::{Deserialize, Deserializer};

use super::contact::{Alias, EmailAddress, IdentityProvider, Mobile, SigningKey, UserName, WebhookUrl};
use super::webhook::AllowedHosts;
use super::{channel_name, Engineer};
use crate::domain::notification::Channel;

/// `POST /v1/engineers`: a federated (SSO) user added by hand.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFederatedUser {
    pub user_name: UserName,
    #[serde(default)]
    pub alias: Option<Alias>,
    pub identity_provider: IdentityProvider,
}

/// A field of the modify request: absent (`None`, unchanged), null or empty
/// (`Some(None)`, cleared) or a value.
pub type Edit<T> = Option<Option<T>>;

fn clearable<'de, D, T>(deserializer: D) -> Result<Edit<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<String, Error = String>,
{
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(Some(None)),
        Some(text) if text.is_empty() => Ok(Some(None)),
        Some(text) => T::try_from(text).map(|v| Some(Some(v))).map_err(serde::de::Error::custom),
    }
}

/// `PUT /v1/engineers/{user_id}`: the contact methods to change.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineerEdit {
    #[serde(default, deserialize_with = "clearable")]
    pub alias: Edit<Alias>,
    #[serde(default, deserialize_with = "clearable")]
    pub mobile: Edit<Mobile>,
    #[serde(default, deserialize_with = "clearable")]
    pub email: Edit<EmailAddress>,
    #[serde(default, deserialize_with = "clearable")]
    pub wecom_webhook: Edit<WebhookUrl>,
    #[serde(default, deserialize_with = "clearable")]
    pub dingtalk_webhook: Edit<WebhookUrl>,
    #[serde(default, deserialize_with = "clearable")]
    pub dingtalk_key: Edit<SigningKey>,
    #[serde(default, deserialize_with = "clearable")]
    pub lark_webhook: Edit<WebhookUrl>,
    #[serde(default, deserialize_with = "clearable")]
    pub lark_key: Edit<SigningKey>,
}

/// A refusal naming the field: `(field, problem)`.
pub type FieldProblem = (&'static str, String);

impl EngineerEdit {
    /// Every webhook it sets, against the host policy.
    pub fn check_webhooks(&self, hosts: &AllowedHosts) -> Result<(), FieldProblem> {
        let webhooks = [
            ("wecom_webhook", Channel::Wecom, &self.wecom_webhook),
            ("dingtalk_webhook", Channel::Dingtalk, &self.dingtalk_webhook),
            ("lark_webhook", Channel::Lark, &self.lark_webhook),
        ];
        for (field, channel, value) in webhooks {
            if let Some(Some(url)) = value {
                hosts.check(channel, url.as_str()).map_err(|problem| (field, problem))?;
            }
        }
        Ok(())
    }
}

/// The signing keys of an edit, sealed (`SecretBox::seal`) before they reach the engineer.
#[derive(Debug, Clone, Default)]
pub struct SealedKeys {
    pub dingtalk: Edit<String>,
    pub lark: Edit<String>,
}

/// Which addresses an edit changed (set, replaced or cleared): their
/// subscriptions start over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AddressChanges {
    pub mobile: bool,
    pub email: bool,
}

/// Applies one field's edit; whether the value changed.
fn set<T: Clone + Into<String>>(slot: &mut Option<String>, edit: &Edit<T>) -> bool {
    let Some(new) = edit else { return false };
    let new: Option<String> = new.clone().map(Into::into);
    let changed = *slot != new;
    *slot = new;
    changed
}

impl Engineer {
    /// The engineer after `edit` (keys already sealed), or the field that makes
    /// it inconsistent; the engineer is unchanged then.
    pub fn apply(
        &self,
        edit: &EngineerEdit,
        sealed: SealedKeys,
        now: i64,
    ) -> Result<(Self, AddressChanges), FieldProblem> {
        let mut next = self.clone();
        set(&mut next.alias, &edit.alias);
        let changes =
            AddressChanges { mobile: set(&mut next.mobile, &edit.mobile), email: set(&mut next.email, &edit.email) };
        set(&mut next.wecom_webhook, &edit.wecom_webhook);
        set(&mut next.dingtalk_webhook, &edit.dingtalk_webhook);
        set(&mut next.lark_webhook, &edit.lark_webhook);
        set(&mut next.dingtalk_key, &sealed.dingtalk);
        set(&mut next.lark_key, &sealed.lark);
        // A robot removed takes its key with it, unless the request sets one.
        // Keys are optional: DingTalk robots may be secured by keywords or IP
        // ranges instead of a signature ("Add Endorsement" is a choice).
        if next.dingtalk_webhook.is_none() && sealed.dingtalk.is_none() {
            next.dingtalk_key = None;
        }
        if next.lark_webhook.is_none() && sealed.lark.is_none() {
            next.lark_key = None;
        }
        if next.dingtalk_key.is_some() && next.dingtalk_webhook.is_none() {
            return Err(("dingtalk_key", "needs a dingtalk_webhook to sign for".into()));
        }
        if next.lark_key.is_some() && next.lark_webhook.is_none() {
            return Err(("lark_key", "needs a lark_webhook to sign for".into()));
        }
        if changes.mobile {
            next.drop_subscription(Channel::Sms);
            next.drop_subscription(Channel::Voice);
        }
        if changes.email {
            next.drop_subscription(Channel::Email);
        }
        next.update_time = now;
        Ok((next, changes))
    }
}

/// `POST /v1/engineers/{user_id}/subscriptions`: the channels to (re)subscribe.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    #[serde(deserialize_with = "subscribed_channels")]
    pub channels: Vec<Channel>,
}

/// 1 to 3 distinct channels among EMAIL, SMS and VOICE.
fn subscribed_channels<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Channel>, D::Error> {
    use serde::de::Error;
    let channels = Vec::<Channel>::deserialize(deserializer)?;
    crate::limits::SUBSCRIPTION_CHANNELS.check(channels.len(), "channels").map_err(D::Error::custom)?;
    for (n, channel) in channels.iter().enumerate() {
        if !channel.needs_subscription() {
            return Err(D::Error::custom(format!(
                "{} needs no subscription: only EMAIL, SMS and VOICE have one",
                channel_name(*channel)
            )));
        }
        if channels[..n].contains(channel) {
            return Err(D::Error::custom(format!("{} is named twice", channel_name(*channel))));
        }
    }
    Ok(channels)
}
