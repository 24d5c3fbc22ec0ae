//! Lark (Feishu) custom bots: `POST {webhook}` (`https://open.feishu.cn/open-apis/bot/v2/hook/…`)
//! with `{"msg_type":"text","content":{"text":…}}`. A bot with signature
//! verification wants, in the body, `timestamp` (seconds, a string) and
//! `sign` = base64(HMAC-SHA256(key = "{timestamp}\n{secret}", message = empty));
//! a wrong one is answered `{"code":19021,"msg":"sign match fail…"}`.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{code_of, truncated, Verdict};

/// The request body may be at most 20 KB.
const MAX_CONTENT_BYTES: usize = 18_000;
/// "frequency limited" (100 a minute, 5 a second per bot).
const RATE_LIMITED: i64 = 11232;

pub fn lark_sign(secret: &str, timestamp_secs: i64) -> String {
    let key = format!("{timestamp_secs}\n{secret}");
    let mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes a key of any length");
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

pub(super) fn body(text: &str, secret: Option<&str>, timestamp_secs: i64) -> Value {
    let mut body = json!({ "msg_type": "text", "content": { "text": truncated(text, MAX_CONTENT_BYTES) } });
    if let Some(secret) = secret {
        body["timestamp"] = json!(timestamp_secs.to_string());
        body["sign"] = json!(lark_sign(secret, timestamp_secs));
    }
    body
}

/// `code` 0 is taken; older bots answer `StatusCode` 0 instead.
pub(super) fn verdict(answer: &Value) -> Verdict {
    let code = code_of(answer, "code").or_else(|| code_of(answer, "StatusCode")).unwrap_or(-1);
    let message = answer
        .get("msg")
        .or_else(|| answer.get("StatusMessage"))
        .and_then(Value::as_str)
        .unwrap_or("no code in the answer")
        .to_owned();
    Verdict { code, message, rate_limited: code == RATE_LIMITED }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_nothing_keyed_by_timestamp_newline_secret() {
        // Computed with the vendor's Python sample (hmac.new(f"{ts}\n{secret}", b"", sha256), base64).
        assert_eq!(lark_sign("demo", 1_700_000_000), "8oT2n3SMKFfEnDoiwer8BUM/SjKLwe9SqoEIHlhDTKo=");
        let body = body("hi", Some("demo"), 1_700_000_000);
        assert_eq!(body["timestamp"], "1700000000");
        assert_eq!(body["content"]["text"], "hi");
    }
}
