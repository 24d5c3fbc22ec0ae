//! WeCom group robots: `POST {webhook}` (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`)
//! with `{"msgtype":"text","text":{"content":…}}`, content at most 2048
//! bytes; the answer is `{"errcode":0,"errmsg":"ok"}` when it was taken.

use serde_json::{json, Value};

use super::{code_of, truncated, Verdict};

const MAX_CONTENT_BYTES: usize = 2048;
/// "API freq out of limit" (20 messages a minute per robot).
const RATE_LIMITED: i64 = 45009;

pub(super) fn body(text: &str) -> Value {
    json!({ "msgtype": "text", "text": { "content": truncated(text, MAX_CONTENT_BYTES) } })
}

pub(super) fn verdict(answer: &Value) -> Verdict {
    let code = code_of(answer, "errcode").unwrap_or(-1);
    let message = answer.get("errmsg").and_then(Value::as_str).unwrap_or("no errcode in the answer").to_owned();
    Verdict { code, message, rate_limited: code == RATE_LIMITED }
}
