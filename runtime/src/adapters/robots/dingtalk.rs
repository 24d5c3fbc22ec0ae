//! DingTalk custom robots: `POST {webhook}` (`https://oapi.dingtalk.com/robot/send?access_token=…`)
//! with `{"msgtype":"text","text":{"content":…}}`. A robot with signing
//! ("加签") wants `timestamp` (ms) and `sign` = URL-encoded
//! base64(HMAC-SHA256(key = secret, message = "{timestamp}\n{secret}")) as
//! query parameters; a wrong one is answered `{"errcode":310000,"errmsg":"sign not match…"}`.

use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::Value;
use sha2::Sha256;

use super::{errcode_text_body, errcode_verdict, Verdict};

const MAX_CONTENT_BYTES: usize = 20_000;
/// "send too fast" (20 messages a minute per robot).
const RATE_LIMITED: i64 = 130101;

/// The signature DingTalk checks, before URL encoding.
pub fn dingtalk_sign(secret: &str, timestamp_ms: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp_ms}\n{secret}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The webhook with `timestamp` and `sign` appended when the robot has a secret.
pub fn dingtalk_url(webhook: &str, secret: Option<&str>, timestamp_ms: i64) -> String {
    let Some(secret) = secret else { return webhook.to_owned() };
    let sign = utf8_percent_encode(&dingtalk_sign(secret, timestamp_ms), NON_ALPHANUMERIC).to_string();
    let joiner = if webhook.contains('?') { '&' } else { '?' };
    format!("{webhook}{joiner}timestamp={timestamp_ms}&sign={sign}")
}

pub(super) fn body(text: &str) -> Value {
    errcode_text_body(text, MAX_CONTENT_BYTES)
}

pub(super) fn verdict(answer: &Value) -> Verdict {
    errcode_verdict(answer, RATE_LIMITED)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_vendors_hmac_of_timestamp_newline_secret() {
        // Computed with the vendor's Python sample (hmac.new(secret, f"{ts}\n{secret}", sha256), base64).
        assert_eq!(dingtalk_sign("this is secret", 1_700_000_000_000), "sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0=");
        let url = dingtalk_url(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            Some("this is secret"),
            1_700_000_000_000,
        );
        assert_eq!(
            url,
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000000&sign=sSFWELbV2YwjdDQhWZwTcWlX5BWUx5J6TPpsZmuPii0%3D"
        );
        assert_eq!(dingtalk_url("https://h/robot", None, 1), "https://h/robot");
    }
}
