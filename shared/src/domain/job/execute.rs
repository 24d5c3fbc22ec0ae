//! The body of `POST /v1/job/scripts/{script_uuid}` (ScriptExecuteModel), spec 4.2.6.

use std::collections::HashSet;

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::absent::null_is_default;
use crate::domain::script::ParamValue;
use crate::limits;

bounded_text!(
    /// A Unix user name: the agent runs the script as this user.
    ExecuteUser, limits::EXECUTE_USER, unix_user_rule
);
bounded_text!(ResourceId, limits::RESOURCE_ID);
bounded_text!(AgentSn, limits::AGENT_SN, |v: &str| if v.contains('#') {
    Err("must not contain '#'".to_owned())
} else {
    Ok(())
});
bounded_text!(TargetProjectId, limits::TARGET_PROJECT_ID);
bounded_text!(RegionId, limits::REGION_ID);
bounded_text!(ParamNameRef, limits::PARAM_NAME);

/// The portable user-name form (POSIX, shadow's useradd): a letter or `_`
/// first, then letters, digits, `_`, `.` and `-`, optionally ending in `$`.
/// Nothing a shell or `runuser` could read as more than a name.
fn unix_user_rule(name: &str) -> Result<(), String> {
    let body = name.strip_suffix('$').unwrap_or(name);
    let mut chars = body.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err(format!(
            "must be a Unix user name (a letter or _ first, then letters, digits, _ . -), got {name:?}"
        ));
    }
    Ok(())
}

/// A success-rate threshold in percent: 1 to 100 with at most one decimal,
/// kept in tenths so comparisons are exact. The SDK sends a number; the spec's
/// example sends a string ("100.0"); both are accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "f64")]
pub struct SuccessRate(u16);

impl SuccessRate {
    /// 100 %: every instance that ran must finish.
    pub const ALL: SuccessRate = SuccessRate(1000);

    pub fn tenths(self) -> u16 {
        self.0
    }

    fn parse(text: &str) -> Result<Self, String> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 1 {
            return Err(format!("may have at most one decimal place, got {text}"));
        }
        let whole: u16 = whole.parse().map_err(|_| format!("must be a number, got {text:?}"))?;
        let tenths = whole.saturating_mul(10) + fraction.parse::<u16>().unwrap_or(0);
        let range = limits::SUCCESS_RATE;
        if !(range.min * 10..=range.max * 10).contains(&i64::from(tenths)) {
            return Err(format!("must be {} to {}, got {text}", range.min, range.max));
        }
        Ok(SuccessRate(tenths))
    }
}

impl From<SuccessRate> for f64 {
    fn from(rate: SuccessRate) -> f64 {
        f64::from(rate.0) / 10.0
    }
}

impl<'de> Deserialize<'de> for SuccessRate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(serde_json::Number),
            Text(String),
        }
        let text = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => n.to_string(),
            Raw::Text(t) => t,
        };
        SuccessRate::parse(text.trim()).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RotationStrategy {
    /// Go on to the next batch by itself.
    Continue,
    /// Pause the ticket after this batch until someone continues it.
    Pause,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteInputParam {
    pub param_name: ParamNameRef,
    pub param_value: ParamValue,
    #[serde(deserialize_with = "param_order")]
    pub param_order: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteParam {
    #[serde(default)]
    pub resourceful: Option<bool>,
    #[serde(deserialize_with = "timeout_secs")]
    pub timeout: u32,
    pub success_rate: SuccessRate,
    pub execute_user: ExecuteUser,
    #[serde(default, deserialize_with = "null_is_default")]
    pub script_params: Vec<ExecuteInputParam>,
}

fn timeout_secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::TIMEOUT_SECS.deserialize_u32(deserializer)
}

/// An optional timeout (absent or `null`: `None`), within the same limits.
pub fn optional_timeout_secs<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    let value = Option::<i64>::deserialize(deserializer)?;
    value
        .map(|secs| {
            limits::TIMEOUT_SECS.check(secs).map_err(serde::de::Error::custom)?;
            u32::try_from(secs).map_err(serde::de::Error::custom)
        })
        .transpose()
}

fn param_order<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::PARAM_ORDER.deserialize_u32(deserializer)
}

fn batch_index<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::BATCH_INDEX.deserialize_u32(deserializer)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetInstance {
    pub resource_id: ResourceId,
    pub agent_sn: AgentSn,
    pub project_id: TargetProjectId,
    pub region_id: RegionId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecuteBatch {
    #[serde(deserialize_with = "batch_index")]
    pub batch_index: u32,
    pub target_instances: Vec<TargetInstance>,
    pub rotation_strategy: RotationStrategy,
}

/// A checked execution request: every count and order rule of spec 4.2.6 holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawExecution")]
pub struct Execution {
    pub execute_param: ExecuteParam,
    /// Sorted by batch_index, which runs 1, 2, … n.
    pub execute_batches: Vec<ExecuteBatch>,
}

#[derive(Deserialize)]
struct RawExecution {
    execute_param: ExecuteParam,
    execute_batches: Vec<ExecuteBatch>,
}

impl TryFrom<RawExecution> for Execution {
    type Error = String;

    fn try_from(raw: RawExecution) -> Result<Self, String> {
        Execution::checked(raw.execute_param, raw.execute_batches)
    }
}

impl Execution {
    /// Checks the batches and parameters together (spec 4.2.6); the error names
    /// the field. Patch tickets build their `execute_param` themselves and pass
    /// the request's batches through the same rules.
    pub fn checked(execute_param: ExecuteParam, batches: Vec<ExecuteBatch>) -> Result<Execution, String> {
        let mut batches = batches;
        limits::EXECUTE_BATCHES.check(batches.len(), "batches").map_err(|e| format!("execute_batches: {e}"))?;
        batches.sort_by_key(|b| b.batch_index);
        let mut hosts = HashSet::new();
        for (position, batch) in batches.iter().enumerate() {
            if batch.batch_index != position as u32 + 1 {
                return Err(format!(
                    "execute_batches: batch_index must run 1, 2, 3 … without gaps or repeats; expected {}, got {}",
                    position + 1,
                    batch.batch_index
                ));
            }
            limits::BATCH_HOSTS
                .check(batch.target_instances.len(), "hosts per batch")
                .map_err(|e| format!("execute_batches[{position}].target_instances: {e}"))?;
            for target in &batch.target_instances {
                if !hosts.insert(target.agent_sn.clone()) {
                    return Err(format!(
                        "execute_batches[{position}].target_instances: agent_sn {} appears more than once in the ticket",
                        target.agent_sn
                    ));
                }
            }
        }
        if hosts.len() > limits::TICKET_HOSTS {
            return Err(format!(
                "execute_batches: at most {} hosts per ticket, got {}",
                limits::TICKET_HOSTS,
                hosts.len()
            ));
        }
        let mut names = HashSet::new();
        let mut params = execute_param.script_params.clone();
        params.sort_by_key(|p| p.param_order);
        for (position, param) in params.iter().enumerate() {
            if !names.insert(param.param_name.as_str().to_owned()) {
                return Err(format!(
                    "execute_param.script_params: param_name {} is used more than once",
                    param.param_name
                ));
            }
            if param.param_order != position as u32 + 1 {
                return Err(format!(
                    "execute_param.script_params: param_order must run 1, 2, 3 … without gaps; expected {}, got {}",
                    position + 1,
                    param.param_order
                ));
            }
        }
        limits::SCRIPT_PARAMS
            .check(params.len(), "parameters")
            .map_err(|e| format!("execute_param.script_params: {e}"))?;
        Ok(Execution { execute_param, execute_batches: batches })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(value: serde_json::Value) -> Result<SuccessRate, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn execute_user_must_be_a_unix_user_name() {
        let user =
            |name: &str| serde_json::from_value::<ExecuteUser>(serde_json::json!(name)).map_err(|e| e.to_string());
        for good in ["root", "_svc", "deploy-bot", "a.b_c1", "machine$"] {
            assert!(user(good).is_ok(), "{good}");
        }
        for bad in ["", "-r", "1abc", "root; id", "a b", "$(id)", "ro$ot", "üser", "../x"] {
            assert!(user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn success_rates_take_numbers_and_strings_with_one_decimal() {
        assert_eq!(rate(serde_json::json!(100)).unwrap().tenths(), 1000);
        assert_eq!(rate(serde_json::json!("100.0")).unwrap().tenths(), 1000);
        assert_eq!(rate(serde_json::json!(99.5)).unwrap().tenths(), 995);
        assert_eq!(rate(serde_json::json!(1)).unwrap().tenths(), 10);
        assert!(rate(serde_json::json!(99.55)).is_err());
        assert!(rate(serde_json::json!(0.5)).is_err());
        assert!(rate(serde_json::json!(100.1)).is_err());
        assert!(rate(serde_json::json!("high")).is_err());
        assert_eq!(serde_json::to_value(rate(serde_json::json!("99.5")).unwrap()).unwrap(), serde_json::json!(99.5));
    }
}
