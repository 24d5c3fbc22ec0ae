//! The constrained fields of a job script (spec 4.2.1, tables 4-5 to 4-8).

use serde::{Deserialize, Serialize};

use crate::domain::is_word;

fn word_rule(value: &str) -> Result<(), String> {
    if is_word(value) {
        Ok(())
    } else {
        Err("may contain only letters, digits and underscores".into())
    }
}

/// The spec gives the parameter value rule as a garbled regular expression
/// (two versions, 4.2.1 and 4.2.6). Read together they allow letters, digits,
/// space and `_-/.*?:",=+@\[{]}`, and forbid `..` (path traversal).
pub fn param_value_rule(value: &str) -> Result<(), String> {
    const PUNCTUATION: &str = "_-/.*?:\",=+@\\[{]} ";
    if let Some(bad) = value.chars().find(|c| !c.is_ascii_alphanumeric() && !PUNCTUATION.contains(*c)) {
        return Err(format!("contains the character {bad:?}, which is not allowed"));
    }
    if value.contains("..") {
        return Err("must not contain '..'".into());
    }
    Ok(())
}

bounded_text!(
    /// Unique per tenant; letters, digits and underscores.
    ScriptName, 1, 64, word_rule
);
bounded_text!(ScriptDescription, 1, 256);
bounded_text!(ScriptContent, 1, 4096);
bounded_text!(ScriptVersion, 1, 10);
bounded_text!(ReviewerName, 1, 64);
bounded_text!(ReviewerId, 0, 32);
bounded_text!(ParamName, 1, 64, word_rule);
bounded_text!(ParamValue, 0, 1024, param_value_rule);
bounded_text!(ParamDescription, 0, 256);
bounded_text!(
    /// Not constrained by the spec; bounded so a record cannot grow without limit.
    EnterpriseProjectId, 1, 64
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScriptType {
    Shell,
    Python,
    Bat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// How reviewers are told about a script waiting for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotifyProtocol {
    Default,
    Sms,
    Email,
    DingTalk,
    WeLink,
    Wechat,
    Callnotify,
    NotToNotify,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScriptStatus {
    PendingApprove,
    Approved,
    Rejected,
}
