//! The constrained fields of a job script (spec 4.2.1, tables 4-5 to 4-8).

use serde::{Deserialize, Serialize};

use crate::domain::is_word;
use crate::limits;

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
    ScriptName, limits::SCRIPT_NAME, word_rule
);
bounded_text!(ScriptDescription, limits::SCRIPT_DESCRIPTION);
bounded_text!(ScriptContent, limits::SCRIPT_CONTENT);
bounded_text!(ScriptVersion, limits::SCRIPT_VERSION);
bounded_text!(ReviewerName, limits::REVIEWER_NAME);
bounded_text!(ReviewerId, limits::REVIEWER_ID);
bounded_text!(ParamName, limits::PARAM_NAME, word_rule);
bounded_text!(ParamValue, limits::PARAM_VALUE, param_value_rule);
bounded_text!(ParamDescription, limits::PARAM_DESCRIPTION);
bounded_text!(
    /// Not constrained by the spec; bounded so a record cannot grow without limit.
    EnterpriseProjectId, limits::ENTERPRISE_PROJECT_ID
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
