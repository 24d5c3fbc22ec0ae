//! Which sender serves each channel (chosen from the environment once when a
//! consumer starts, by coc-runtime's `senders_from_env`). A channel nothing serves fails its deliveries with a
//! clear error; nothing is ever marked sent that was not.

use std::sync::Arc;

use crate::domain::notification::Channel;
use crate::ports::{Sender, Unconfigured};

/// `outbox` (the default: a JSON-lines file in the data dir) or `sns` (Amazon SNS, AWS).
pub const SMS_PROVIDER_VAR: &str = "COC_SMS_PROVIDER";
/// `outbox` (the default while SMS goes to the outbox) or `pinpoint` (Amazon
/// Pinpoint SMS and Voice v2, AWS; needs `COC_VOICE_ORIGINATION_IDENTITY`).
pub const VOICE_PROVIDER_VAR: &str = "COC_VOICE_PROVIDER";

#[derive(Clone)]
pub struct Senders {
    pub email: Arc<dyn Sender>,
    pub sms: Arc<dyn Sender>,
    pub voice: Arc<dyn Sender>,
    /// WeCom, DingTalk and Lark.
    pub robots: Arc<dyn Sender>,
}

impl Senders {
    /// Every channel refused (a start for tests to replace some).
    pub fn unconfigured() -> Self {
        Senders {
            email: Arc::new(Unconfigured { reason: "no mail server is configured (COC_SMTP_HOST)" }),
            sms: Arc::new(Unconfigured { reason: "no SMS provider is configured" }),
            voice: Arc::new(Unconfigured { reason: "no voice provider is configured" }),
            robots: Arc::new(Unconfigured { reason: "this build has no chat robot sender" }),
        }
    }

    pub fn for_channel(&self, channel: Channel) -> &dyn Sender {
        match channel {
            Channel::Email => self.email.as_ref(),
            Channel::Sms => self.sms.as_ref(),
            Channel::Voice => self.voice.as_ref(),
            Channel::Wecom | Channel::Dingtalk | Channel::Lark => self.robots.as_ref(),
        }
    }
}
