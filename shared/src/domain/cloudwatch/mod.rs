//! CloudWatch alarm state changes, as EventBridge delivers them ("CloudWatch
//! Alarm State Change", source `aws.cloudwatch`: [`eventbridge`]) and as an
//! alarm's SNS topic delivers them ([`sns`]). Both are read into one
//! [`StateChange`], which is mapped onto the custom-event report the alarm
//! intake already takes, so deduplication, clearing and incidents work as for
//! any alarm.

pub mod eventbridge;
pub mod signature;
pub mod sns;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::auth::signature::sha256_hex;
use crate::domain::alarm::AlarmStatus;
use crate::domain::incident::{AlarmLevel, Named};
use crate::domain::prometheus::severity;
use crate::limits;

pub const ALARM_SOURCE: &str = "Amazon CloudWatch";
/// The namespace of an alarm with no metric of its own (a composite alarm).
pub const NAME_SPACE: &str = "aws.cloudwatch";
/// Dimensions that name a resource, most telling first; without any of them,
/// the first dimension by name is the resource.
pub const RESOURCE_DIMENSIONS: &[&str] = &[
    "InstanceId",
    "DBInstanceIdentifier",
    "DBClusterIdentifier",
    "FunctionName",
    "AutoScalingGroupName",
    "LoadBalancer",
    "TargetGroup",
    "QueueName",
    "TopicName",
    "TableName",
    "BucketName",
    "ClusterName",
    "ServiceName",
    "CacheClusterId",
    "VolumeId",
];
/// The alarm tag whose value picks the level, when CloudWatch propagates tags.
pub const SEVERITY_TAG: &str = "severity";

/// A CloudWatch alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Alarm,
    Ok,
    InsufficientData,
}

impl State {
    pub fn parse(value: &str) -> Option<State> {
        match value {
            "ALARM" => Some(State::Alarm),
            "OK" => Some(State::Ok),
            "INSUFFICIENT_DATA" => Some(State::InsufficientData),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            State::Alarm => "ALARM",
            State::Ok => "OK",
            State::InsufficientData => "INSUFFICIENT_DATA",
        }
    }
}

/// The metric an alarm watches (its first, for a metric-math alarm).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metric {
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub dimensions: BTreeMap<String, String>,
}

/// One state change of one alarm, whichever way it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateChange {
    /// The EventBridge event id or the SNS MessageId: the same on every
    /// delivery of this change, different for the next change.
    pub delivery_id: String,
    pub alarm_arn: String,
    pub alarm_name: String,
    pub state: State,
    pub previous_state: Option<String>,
    pub reason: String,
    pub description: Option<String>,
    /// Milliseconds since the epoch.
    pub time: i64,
    pub region: Option<String>,
    pub account: Option<String>,
    pub metric: Metric,
    /// Alarm tags, when CloudWatch propagated them into the event.
    pub tags: BTreeMap<String, String>,
    /// How it came: `eventbridge` or `sns`, with the SNS topic for the latter.
    pub via: &'static str,
    pub topic_arn: Option<String>,
}

/// The first `max` characters of `text`.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect::<String>().trim_end().to_owned()
}

impl StateChange {
    /// The report's alarmId: the alarm's ARN (the same for every change of
    /// one alarm, so OK clears what ALARM opened), or, for an ARN longer than
    /// an alarmId may be, a digest of it.
    pub fn alarm_id(&self) -> String {
        if limits::ALARM_TEXT.check(&self.alarm_arn).is_ok() {
            self.alarm_arn.clone()
        } else {
            format!("cloudwatch-arn-sha256:{}", sha256_hex(self.alarm_arn.as_bytes()))
        }
    }

    /// Whether the change says nothing of the alarm's state (INSUFFICIENT_DATA):
    /// recorded as an occurrence that keeps the stored status and level.
    pub fn keeps_stored_state(&self) -> bool {
        self.state == State::InsufficientData
    }

    /// The resource the alarm is about: the most telling dimension.
    pub fn resource(&self) -> Option<&str> {
        let dimensions = &self.metric.dimensions;
        RESOURCE_DIMENSIONS
            .iter()
            .find_map(|name| dimensions.get(*name))
            .or_else(|| dimensions.values().next())
            .map(String::as_str)
            .filter(|value| !value.trim().is_empty())
    }

    /// The level: from the alarm's `severity` tag if CloudWatch sent its
    /// tags, the integration's CloudWatch default otherwise.
    pub fn level(&self, default: AlarmLevel) -> AlarmLevel {
        let tag = self.tags.iter().find(|(name, _)| name.eq_ignore_ascii_case(SEVERITY_TAG));
        match tag {
            Some((_, value)) => severity(Some(value)),
            None => default,
        }
    }

    /// The report of the custom intake this change stands for. ALARM is
    /// `alarm`, OK is `ok` (which clears it). INSUFFICIENT_DATA is `ok` at
    /// Info, what an alarm never seen before is recorded as; the intake
    /// records it keeping a stored alarm's status and level instead
    /// ([`StateChange::keeps_stored_state`]), so it neither opens an incident
    /// nor clears an alarm; its state is in the description and in
    /// `additional.state`.
    pub fn custom_event(&self, default: AlarmLevel) -> Value {
        let (status, level) = match self.state {
            State::Alarm => (AlarmStatus::Alarm, self.level(default)),
            State::Ok => (AlarmStatus::Ok, self.level(default)),
            State::InsufficientData => (AlarmStatus::Ok, AlarmLevel::Info),
        };
        let status = match status {
            AlarmStatus::Alarm => "alarm",
            AlarmStatus::Ok => "ok",
        };
        let max = limits::ALARM_TEXT.max;
        let namespace = self.metric.namespace.as_deref().filter(|n| !n.trim().is_empty()).unwrap_or(NAME_SPACE);
        let reason = Some(self.reason.as_str()).filter(|r| !r.trim().is_empty());
        let description = match self.state {
            State::InsufficientData => {
                format!("INSUFFICIENT_DATA: {}", reason.or(self.description.as_deref()).unwrap_or(&self.alarm_name))
            }
            _ => reason.or(self.description.as_deref()).unwrap_or(&self.alarm_name).to_owned(),
        };
        let resource = self.resource().map(|r| clip(r, max));
        let region = self.region.as_deref().filter(|r| limits::ALARM_OPTIONAL_TEXT.check(r).is_ok());
        json!({
            "alarmId": self.alarm_id(),
            "alarmName": clip(&self.alarm_name, max),
            "alarmLevel": level.key(),
            "time": self.time,
            "nameSpace": clip(namespace, max),
            "regionId": region,
            "applicationId": clip(namespace, max),
            "resourceName": resource,
            "resourceId": resource,
            "alarmDesc": clip(&description, max),
            "URL": self.console_url(),
            "alarmStatus": status,
            "alarmSource": ALARM_SOURCE,
            "additional": {
                "state": self.state.key(),
                "previousState": self.previous_state,
                "reason": self.reason,
                "description": self.description,
                "alarmArn": self.alarm_arn,
                "account": self.account,
                "region": self.region,
                "namespace": self.metric.namespace,
                "metricName": self.metric.name,
                "dimensions": self.metric.dimensions,
                "tags": self.tags,
                "via": self.via,
                "deliveryId": self.delivery_id,
                "topicArn": self.topic_arn,
            },
        })
    }

    /// The alarm in the CloudWatch console, when its region is known and the
    /// link fits the report's URL.
    fn console_url(&self) -> Option<String> {
        let region = self.region.as_deref()?;
        if !region.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        let name = percent_encoding::utf8_percent_encode(&self.alarm_name, percent_encoding::NON_ALPHANUMERIC);
        let url = format!("https://console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{name}");
        limits::ALARM_OPTIONAL_TEXT.check(&url).is_ok().then_some(url)
    }
}

/// The region of an ARN (`arn:partition:service:region:account:…`).
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

/// The account of an ARN.
pub fn arn_account(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(3).filter(|a| !a.is_empty())
}

/// Problems found so far, reported together as the other intakes do.
#[derive(Default)]
pub(crate) struct Problems(pub(crate) Vec<String>);

impl Problems {
    pub(crate) fn add(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// Checks a text against its limit, naming the field.
    pub(crate) fn check(&mut self, path: &str, value: &str, limit: limits::Chars) -> bool {
        match limit.check(value) {
            Ok(()) => true,
            Err(problem) => {
                self.add(format!("{path} {problem}"));
                false
            }
        }
    }

    /// An optional text, checked; too long is a problem, not a cut.
    pub(crate) fn optional(&mut self, path: &str, value: Option<String>, limit: limits::Chars) -> Option<String> {
        let value = value?;
        self.check(path, &value, limit).then_some(value)
    }

    /// Name-value pairs (dimensions, tags): how many, and each name and value.
    pub(crate) fn pairs(
        &mut self,
        path: &str,
        pairs: BTreeMap<String, String>,
        limit: limits::Items,
    ) -> BTreeMap<String, String> {
        if let Err(problem) = limit.check(pairs.len(), "entries") {
            self.add(format!("{path}: {problem}"));
            return BTreeMap::new();
        }
        for (name, value) in &pairs {
            self.check(&format!("{path}: a name"), name, limits::CLOUDWATCH_TEXT);
            self.check(&format!("{path}.{name}"), value, limits::CLOUDWATCH_TEXT);
        }
        pairs
    }

    pub(crate) fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, String> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self.0.join(" | "))
        }
    }
}

/// A JSON value decoded into `T`, a failure naming the field (`prefix.path`).
pub(crate) fn decode<T: serde::de::DeserializeOwned>(prefix: &str, value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let at = match (prefix.is_empty(), path == ".") {
            (true, true) => String::new(),
            (true, false) => format!("{path}: "),
            (false, true) => format!("{prefix}: "),
            (false, false) => format!("{prefix}.{path}: "),
        };
        format!("{at}{}", err.into_inner())
    })
}
