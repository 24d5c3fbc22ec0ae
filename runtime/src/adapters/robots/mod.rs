//! The chat robots (WeCom, DingTalk, Lark): each message is one text message
//! in the vendor's documented format, posted to the engineer's webhook with
//! the vendor's signature where a secret is configured. A robot that answers
//! HTTP 200 with an error code in its JSON has not delivered.

mod dingtalk;
mod guard;
mod lark;
mod wecom;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use coc_shared::clock::now_ms;
use coc_shared::domain::engineer::webhook::AllowedHosts;
use coc_shared::domain::notification::Channel;
use coc_shared::ports::{Outbound, SendError, Sender};

pub use dingtalk::{dingtalk_sign, dingtalk_url};
pub use guard::{is_public, Resolver, SystemResolver};
pub use lark::lark_sign;

/// Each robot call, connection included, ends by then.
pub const ROBOT_TIMEOUT: Duration = Duration::from_secs(10);

pub struct RobotSender {
    allowed: AllowedHosts,
    timeout: Duration,
    resolver: Arc<dyn Resolver>,
}

impl RobotSender {
    /// Robots on the vendors' hosts and on the operator's allow-listed ones.
    pub fn new(allowed: AllowedHosts, timeout: Duration) -> Self {
        RobotSender { allowed, timeout, resolver: Arc::new(SystemResolver) }
    }

    /// The same, looking host names up with `resolver`.
    pub fn with_resolver(self, resolver: Arc<dyn Resolver>) -> Self {
        RobotSender { resolver, ..self }
    }
}

/// A robot's answer: whether it took the message.
struct Verdict {
    code: i64,
    message: String,
    /// The vendor's code for "too many messages": worth a later retry.
    rate_limited: bool,
}

#[async_trait]
impl Sender for RobotSender {
    async fn send(&self, outbound: &Outbound<'_>) -> Result<(), SendError> {
        let text = outbound.message.as_text();
        let now = now_ms();
        let (url, body) = match outbound.channel {
            Channel::Wecom => (outbound.address.to_owned(), wecom::body(&text)),
            Channel::Dingtalk => (dingtalk::dingtalk_url(outbound.address, outbound.key, now), dingtalk::body(&text)),
            Channel::Lark => (outbound.address.to_owned(), lark::body(&text, outbound.key, now / 1000)),
            other => return Err(SendError::permanent(format!("{other:?} is not a chat robot"))),
        };
        let answer =
            guard::post_json(&self.allowed, self.resolver.as_ref(), outbound.channel, &url, &body, self.timeout)
                .await?;
        let verdict = match outbound.channel {
            Channel::Lark => lark::verdict(&answer),
            Channel::Dingtalk => dingtalk::verdict(&answer),
            _ => wecom::verdict(&answer),
        };
        match verdict {
            Verdict { code: 0, .. } => Ok(()),
            Verdict { code, message, rate_limited } => {
                let reason = format!("{:?} robot refused the message: code {code}: {message}", outbound.channel);
                Err(if rate_limited { SendError::transient(reason) } else { SendError::permanent(reason) })
            }
        }
    }
}

/// `text` cut to at most `max` bytes at a character boundary (the vendors
/// reject longer text instead of cutting it).
fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The text message WeCom and DingTalk robots both take, its content cut to `max` bytes.
fn errcode_text_body(text: &str, max: usize) -> serde_json::Value {
    serde_json::json!({ "msgtype": "text", "text": { "content": truncated(text, max) } })
}

/// How WeCom and DingTalk robots both answer: `errcode` (0 when sent) and
/// `errmsg`; `rate_limited` is the vendor's code for too many messages.
fn errcode_verdict(answer: &serde_json::Value, rate_limited: i64) -> Verdict {
    let code = code_of(answer, "errcode").unwrap_or(-1);
    let message =
        answer.get("errmsg").and_then(serde_json::Value::as_str).unwrap_or("no errcode in the answer").to_owned();
    Verdict { code, message, rate_limited: code == rate_limited }
}

/// A robot's `errcode`/`code` field; an answer without one is no proof of delivery.
fn code_of(answer: &serde_json::Value, field: &str) -> Option<i64> {
    answer.get(field).and_then(serde_json::Value::as_i64)
}
