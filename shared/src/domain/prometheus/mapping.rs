//! An Alertmanager alert as the custom-event report of the alarm intake
//! (`AlarmReport::parse` takes what [`Alert::custom_event`] makes).

use serde_json::{json, Value};

use super::{Alert, AlertStatus, Notification};
use crate::domain::alarm::{AlarmReport, Integration};
use crate::domain::incident::{AlarmLevel, Named};
use crate::limits;

bounded_text!(
    /// A label name an integration reads (Prometheus' rule: `[a-zA-Z_][a-zA-Z0-9_]*`).
    LabelName,
    limits::PROMETHEUS_LABEL_NAME,
    |value: &str| {
        let first_ok = value.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if first_ok && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            Ok(())
        } else {
            Err("must be a Prometheus label name: letters, digits and _, not starting with a digit".to_owned())
        }
    }
);

/// The label names the mapping reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelNames {
    /// Its value picks the alarm level ([`severity`]).
    pub severity: String,
    /// The alarm's resource (name and id).
    pub resource: String,
    /// The alarm's application (the incident's cloud service).
    pub service: String,
}

impl Default for LabelNames {
    fn default() -> Self {
        LabelNames { severity: "severity".into(), resource: "instance".into(), service: "job".into() }
    }
}

impl LabelNames {
    /// The integration's choices, the defaults where it made none.
    pub fn of(integration: &Integration) -> LabelNames {
        let defaults = LabelNames::default();
        LabelNames {
            severity: integration.prometheus_severity_label.clone().unwrap_or(defaults.severity),
            resource: integration.prometheus_resource_label.clone().unwrap_or(defaults.resource),
            service: defaults.service,
        }
    }
}

pub const ALARM_SOURCE: &str = "Prometheus Alertmanager";
pub const NAME_SPACE: &str = "prometheus";
/// The alarm name of an alert without `alertname` (Alertmanager's API takes those).
pub const UNNAMED: &str = "Prometheus alert";

/// The alarm level of a severity label's value, case-insensitively (README,
/// "Connect Prometheus", has the table). An alert without one, or with a value
/// nobody agreed on, is Major: someone routed it here to be seen, and Major is
/// the default threshold at which an integration opens incidents.
pub fn severity(value: Option<&str>) -> AlarmLevel {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("critical" | "fatal" | "emergency" | "alert" | "page" | "disaster" | "p1") => AlarmLevel::Critical,
        Some("warning" | "warn" | "minor" | "medium" | "average" | "p3") => AlarmLevel::Minor,
        Some("info" | "informational" | "information" | "notice" | "low" | "none" | "debug" | "ok" | "p4" | "p5") => {
            AlarmLevel::Info
        }
        // error, high, major, p2 and anything else.
        _ => AlarmLevel::Major,
    }
}

/// The first candidate that is not blank, cut to the report's text limit.
fn fitted<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Option<String> {
    candidates
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(|s| s.chars().take(limits::ALARM_TEXT.max).collect::<String>().trim_end().to_owned())
}

impl Alert {
    /// commonLabels are in every alert's own labels: these are the whole set.
    fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// The report of the custom intake this alert stands for: its fingerprint
    /// is the alarmId (Alertmanager's repeat notifications are one alarm), and
    /// resolved is `ok` (which clears it). Texts longer than the report takes
    /// are cut; every label and annotation, whole, goes into `additional`.
    pub fn custom_event(&self, notification: &Notification, names: &LabelNames) -> Value {
        let alertname = self.labels.get("alertname").map(String::as_str);
        let annotation = |name: &str| self.annotations.get(name).map(String::as_str);
        let resource = fitted([self.label(&names.resource)]);
        let (status, time) = match self.status {
            AlertStatus::Firing => ("alarm", self.starts_at),
            AlertStatus::Resolved => ("ok", self.ends_at.unwrap_or(self.starts_at)),
        };
        // A link cut short leads nowhere: too long for URL, it is only in `additional`.
        let url = self.generator_url.as_deref().filter(|u| limits::ALARM_OPTIONAL_TEXT.check(u).is_ok());
        json!({
            "alarmId": self.fingerprint,
            "alarmName": fitted([alertname, Some(UNNAMED)]),
            "alarmLevel": severity(self.label(&names.severity)).key(),
            "time": time,
            "nameSpace": NAME_SPACE,
            "applicationId": fitted([self.label(&names.service), Some(NAME_SPACE)]),
            "resourceName": resource,
            "resourceId": resource,
            "alarmDesc": fitted([annotation("summary"), annotation("description"), annotation("message"), alertname, Some(UNNAMED)]),
            "URL": url,
            "alarmStatus": status,
            "alarmSource": ALARM_SOURCE,
            "additional": {
                "labels": self.labels,
                "annotations": self.annotations,
                "startsAt": self.starts_at,
                "endsAt": self.ends_at,
                "generatorURL": self.generator_url,
                "fingerprint": self.fingerprint,
                "receiver": notification.receiver,
                "groupKey": notification.group_key,
                "externalURL": notification.external_url,
            },
        })
    }
}

impl Notification {
    /// The reports this notification stands for, each checked by the custom
    /// intake's own parser, so that a bad alert rejects the whole notification
    /// before anything is recorded.
    pub fn reports(&self, names: &LabelNames) -> Result<Vec<Value>, String> {
        let events: Vec<Value> = self.alerts.iter().map(|a| a.custom_event(self, names)).collect();
        for (i, event) in events.iter().enumerate() {
            AlarmReport::parse(event).map_err(|problem| format!("alerts[{i}]: {problem}"))?;
        }
        Ok(events)
    }
}
