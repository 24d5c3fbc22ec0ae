//! Alertmanager's webhook notification (payload version 4), checked as it
//! arrives at `POST /v1/event/prometheus/{integration_key}`. Each alert is then
//! mapped onto the custom-event report the alarm intake already takes
//! ([`mapping`]), so deduplication, clearing and incidents work as for any alarm.

pub mod mapping;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::auth::signature::sha256_hex;
use crate::limits::{self, Chars};

pub use mapping::{severity, LabelName, LabelNames};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertStatus {
    Firing,
    Resolved,
}

/// One alert of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub status: AlertStatus,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Milliseconds since the epoch.
    pub starts_at: i64,
    /// None while the alert fires (Alertmanager sends Go's zero time then).
    pub ends_at: Option<i64>,
    pub generator_url: Option<String>,
    /// Alertmanager's, or (from senders that leave it out) one derived from the labels.
    pub fingerprint: String,
}

/// A checked notification: what every alert of it is mapped with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub receiver: Option<String>,
    pub group_key: Option<String>,
    pub external_url: Option<String>,
    pub common_labels: BTreeMap<String, String>,
    pub truncated_alerts: u64,
    pub alerts: Vec<Alert>,
}

/// Problems found so far; every one is reported at once, joined by " | " as
/// the custom intake does.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn add(&mut self, problem: String) {
        self.0.push(problem);
    }

    /// An optional text field: absent and null are None.
    fn text(&mut self, map: &Map<String, Value>, name: &str, path: &str, limit: Chars) -> Option<String> {
        match map.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match limit.check(s) {
                Ok(()) => Some(s.clone()),
                Err(problem) => {
                    self.add(format!("{path} {problem}"));
                    None
                }
            },
            Some(_) => {
                self.add(format!("{path} must be a string"));
                None
            }
        }
    }

    /// A label set or annotations: an object of strings, each name and value bounded.
    fn pairs(&mut self, map: &Map<String, Value>, name: &str, path: &str, limit: Chars) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let object = match map.get(name) {
            None | Some(Value::Null) => return out,
            Some(Value::Object(object)) => object,
            Some(_) => {
                self.add(format!("{path} must be an object of strings"));
                return out;
            }
        };
        if let Err(problem) = limits::PROMETHEUS_PAIRS.check(object.len(), "entries") {
            self.add(format!("{path}: {problem}"));
            return out;
        }
        for (key, value) in object {
            if let Err(problem) = limits::PROMETHEUS_LABEL_NAME.check(key) {
                self.add(format!("{path}: a name {problem}"));
                continue;
            }
            match value {
                Value::String(s) => match limit.check(s) {
                    Ok(()) => {
                        out.insert(key.clone(), s.clone());
                    }
                    Err(problem) => self.add(format!("{path}.{key} {problem}")),
                },
                _ => self.add(format!("{path}.{key} must be a string")),
            }
        }
        out
    }

    /// An RFC 3339 time in milliseconds; Go's zero time ("0001-01-01T00:00:00Z") is None.
    fn time(&mut self, map: &Map<String, Value>, name: &str, path: &str) -> Option<i64> {
        let text = self.text(map, name, path, limits::PROMETHEUS_TEXT)?;
        match OffsetDateTime::parse(&text, &Rfc3339) {
            Ok(t) if t.year() <= 1 => None,
            Ok(t) if t.unix_timestamp() < 0 => {
                self.add(format!("{path} must be after 1970"));
                None
            }
            Ok(t) => Some((t.unix_timestamp_nanos() / 1_000_000) as i64),
            Err(_) => {
                self.add(format!("{path} must be an RFC 3339 time, got {text:?}"));
                None
            }
        }
    }
}

impl Notification {
    /// Checks every field Alertmanager sends (others, as Grafana's `orgId`, are
    /// ignored) and reports every problem at once.
    pub fn parse(body: &Value) -> Result<Notification, String> {
        let Some(map) = body.as_object() else { return Err("the body must be a JSON object".into()) };
        let mut problems = Problems::default();
        let text = limits::PROMETHEUS_TEXT;
        let receiver = problems.text(map, "receiver", "receiver", text);
        let group_key = problems.text(map, "groupKey", "groupKey", text);
        let external_url = problems.text(map, "externalURL", "externalURL", limits::PROMETHEUS_URL);
        if let Some(status) = problems.text(map, "status", "status", text) {
            if status != "firing" && status != "resolved" {
                problems.add("status must be firing or resolved".into());
            }
        }
        let labels = limits::PROMETHEUS_LABEL_VALUE;
        let annotations = limits::PROMETHEUS_ANNOTATION_VALUE;
        problems.pairs(map, "groupLabels", "groupLabels", labels);
        let common_labels = problems.pairs(map, "commonLabels", "commonLabels", labels);
        problems.pairs(map, "commonAnnotations", "commonAnnotations", annotations);
        let truncated_alerts = match map.get("truncatedAlerts") {
            None | Some(Value::Null) => 0,
            Some(Value::Number(n)) if n.as_u64().is_some() => n.as_u64().unwrap_or(0),
            Some(_) => {
                problems.add("truncatedAlerts must be a whole number, 0 or more".into());
                0
            }
        };
        let alerts = match map.get("alerts") {
            Some(Value::Array(alerts)) => match limits::PROMETHEUS_ALERTS.check(alerts.len(), "alerts") {
                Ok(()) => alerts
                    .iter()
                    .enumerate()
                    .filter_map(|(i, alert)| Alert::parse(alert, &format!("alerts[{i}]"), &mut problems))
                    .collect(),
                Err(problem) => {
                    problems.add(format!("alerts: {problem}"));
                    Vec::new()
                }
            },
            None | Some(Value::Null) => {
                problems.add("alerts must not be null".into());
                Vec::new()
            }
            Some(_) => {
                problems.add("alerts must be an array".into());
                Vec::new()
            }
        };
        if !problems.0.is_empty() {
            return Err(problems.0.join(" | "));
        }
        Ok(Notification { receiver, group_key, external_url, common_labels, truncated_alerts, alerts })
    }
}

impl Alert {
    fn parse(value: &Value, path: &str, problems: &mut Problems) -> Option<Alert> {
        let Some(map) = value.as_object() else {
            problems.add(format!("{path} must be an object"));
            return None;
        };
        let before = problems.0.len();
        let status = match problems.text(map, "status", &format!("{path}.status"), limits::PROMETHEUS_TEXT).as_deref() {
            Some("firing") => Some(AlertStatus::Firing),
            Some("resolved") => Some(AlertStatus::Resolved),
            None => {
                problems.add(format!("{path}.status must not be null"));
                None
            }
            Some(_) => {
                problems.add(format!("{path}.status must be firing or resolved"));
                None
            }
        };
        let labels = problems.pairs(map, "labels", &format!("{path}.labels"), limits::PROMETHEUS_LABEL_VALUE);
        let annotations =
            problems.pairs(map, "annotations", &format!("{path}.annotations"), limits::PROMETHEUS_ANNOTATION_VALUE);
        let starts_path = format!("{path}.startsAt");
        let starts_given = !matches!(map.get("startsAt"), None | Some(Value::Null));
        let checked = problems.0.len();
        let starts_at = problems.time(map, "startsAt", &starts_path);
        if starts_at.is_none() && problems.0.len() == checked {
            problems.add(if starts_given {
                format!("{starts_path} must be the time the alert started, not the zero time")
            } else {
                format!("{starts_path} must not be null")
            });
        }
        let ends_at = problems.time(map, "endsAt", &format!("{path}.endsAt"));
        let generator_url = problems.text(map, "generatorURL", &format!("{path}.generatorURL"), limits::PROMETHEUS_URL);
        let fingerprint =
            problems.text(map, "fingerprint", &format!("{path}.fingerprint"), limits::PROMETHEUS_FINGERPRINT);
        if problems.0.len() > before {
            return None;
        }
        let fingerprint = fingerprint.filter(|f| !f.trim().is_empty()).unwrap_or_else(|| derived_fingerprint(&labels));
        Some(Alert {
            status: status?,
            labels,
            annotations,
            starts_at: starts_at?,
            ends_at: ends_at.filter(|t| *t > 0),
            generator_url: generator_url.filter(|u| !u.is_empty()),
            fingerprint,
        })
    }
}

/// Alertmanager identifies an alert by its label set; senders that send no
/// fingerprint get one from the same labels, so their repeats are one alarm too.
fn derived_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut canonical = String::new();
    for (name, value) in labels {
        canonical.push_str(name);
        canonical.push('\u{1f}');
        canonical.push_str(value);
        canonical.push('\u{1e}');
    }
    sha256_hex(canonical.as_bytes())[..16].to_owned()
}
