//! WeCom group robots: `POST {webhook}` (`https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`)
//! with `{"msgtype":"text","text":{"content":…}}`, content at most 2048
//! bytes; the answer is `{"errcode":0,"errmsg":"ok"}` when it was taken.

use serde_json::Value;

use super::{errcode_text_body, errcode_verdict, Verdict};

const MAX_CONTENT_BYTES: usize = 2048;
/// "API freq out of limit" (20 messages a minute per robot).
const RATE_LIMITED: i64 = 45009;

pub(super) fn body(text: &str) -> Value {
    errcode_text_body(text, MAX_CONTENT_BYTES)
}

pub(super) fn verdict(answer: &Value) -> Verdict {
    errcode_verdict(answer, RATE_LIMITED)
}
