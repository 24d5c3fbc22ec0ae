//! Alarm intake (spec 4.4.2): a tenant's monitoring reports alarms to an
//! integration; duplicates of one alarmId are one alarm, `ok` clears it, and
//! the integration's rule turns alarms at or above a level into one incident.

pub mod manage;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use manage::{Clearance, HistoryEntry, HistoryKind, TaskRef, MONITORING};

use super::incident::{
    AlarmLevel, AlarmOrigin, AtMostOne, Description, Flag, Incident, IncidentLevel, IncidentSource, IncidentType,
    Named, NewIncident, Title, UserRef,
};
use crate::domain::absent::null_or;
use crate::domain::prometheus::LabelName;
use crate::domain::tenant::ProjectId;
use crate::limits::{self, Chars};

bounded_text!(IntegrationName, limits::INTEGRATION_NAME);
bounded_text!(AssigneeRef, limits::INTEGRATION_ASSIGNEE);

/// The body of `POST /v1/integrations` (ours).
#[derive(Debug, Clone, Deserialize)]
pub struct NewIntegration {
    pub name: IntegrationName,
    /// Alarms at this level or more severe open an incident.
    #[serde(default = "default_threshold", deserialize_with = "threshold_or_default")]
    pub alarm_level_threshold: AlarmLevel,
    #[serde(default = "default_level", deserialize_with = "level_or_default")]
    pub incident_level: IncidentLevel,
    #[serde(default = "default_type", deserialize_with = "type_or_default")]
    pub incident_type: IncidentType,
    /// Who incidents go to; the integration's creator when left out.
    #[serde(default)]
    pub incident_assignee: Option<AssigneeRef>,
    /// Alertmanager intake: the label holding the severity (default `severity`)…
    #[serde(default)]
    pub prometheus_severity_label: Option<LabelName>,
    /// … and the one naming the resource (default `instance`).
    #[serde(default)]
    pub prometheus_resource_label: Option<LabelName>,
    /// Whether an alarm's clearing resolves the incident linked to it
    /// (default false: people resolve incidents).
    #[serde(default)]
    pub auto_recover_incident: Option<Flag>,
}

fn default_threshold() -> AlarmLevel {
    AlarmLevel::Major
}

fn default_level() -> IncidentLevel {
    IncidentLevel::P3
}

fn default_type() -> IncidentType {
    IncidentType::Monitoring
}

fn threshold_or_default<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<AlarmLevel, D::Error> {
    null_or(deserializer, default_threshold)
}

fn level_or_default<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<IncidentLevel, D::Error> {
    null_or(deserializer, default_level)
}

fn type_or_default<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<IncidentType, D::Error> {
    null_or(deserializer, default_type)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub integration_id: String,
    /// The secret in the intake URL: whoever has it can report alarms to this tenant.
    pub integration_key: String,
    pub project_id: ProjectId,
    pub name: String,
    pub alarm_level_threshold: AlarmLevel,
    pub incident_level: IncidentLevel,
    pub incident_type: IncidentType,
    pub incident_assignee: String,
    pub creator: String,
    pub create_time: i64,
    /// The Alertmanager intake's label names, when not the defaults (integrations
    /// stored before these existed have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_severity_label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus_resource_label: Option<String>,
    /// The auto-recovery rule: when an alarm clears, its linked open incident
    /// moves to resolved (integrations stored before the rule have it off).
    #[serde(default)]
    pub auto_recover_incident: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlarmStatus {
    Alarm,
    Ok,
}

/// A checked report (ReportCustomEventRequestBody).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmReport {
    pub alarm_id: String,
    pub alarm_name: String,
    pub alarm_level: AlarmLevel,
    pub time: i64,
    pub name_space: String,
    pub region_id: Option<String>,
    pub application_id: String,
    pub resource_name: Option<String>,
    pub resource_id: Option<String>,
    pub alarm_desc: String,
    pub url: Option<String>,
    pub alarm_status: AlarmStatus,
    pub alarm_source: String,
    pub additional: Option<Value>,
}

impl AlarmReport {
    /// Checks every field and reports every problem at once, joined by " | "
    /// as the spec's example error does.
    pub fn parse(body: &Value) -> Result<AlarmReport, String> {
        let Some(map) = body.as_object() else { return Err("the body must be a JSON object".into()) };
        let mut problems = Vec::new();
        let mut text = |name: &str, limit: Chars| -> Option<String> {
            let required = limit.min > 0;
            match map.get(name) {
                None | Some(Value::Null) => {
                    if required {
                        problems.push(format!("{name} must not be null"));
                    }
                    None
                }
                Some(Value::String(s)) if s.trim().is_empty() && required => {
                    problems.push(format!("{name} must not be blank"));
                    None
                }
                Some(Value::String(s)) => match limit.check(s) {
                    Ok(()) => Some(s.clone()),
                    Err(problem) => {
                        problems.push(format!("{name} {problem}"));
                        None
                    }
                },
                Some(_) => {
                    problems.push(format!("{name} must be a string"));
                    None
                }
            }
        };
        let alarm_id = text("alarmId", limits::ALARM_TEXT);
        let alarm_name = text("alarmName", limits::ALARM_TEXT);
        let level = text("alarmLevel", limits::ALARM_TEXT);
        let name_space = text("nameSpace", limits::ALARM_TEXT);
        let region_id = text("regionId", limits::ALARM_OPTIONAL_TEXT);
        let application_id = text("applicationId", limits::ALARM_TEXT);
        let resource_name = text("resourceName", limits::ALARM_OPTIONAL_TEXT);
        let resource_id = text("resourceId", limits::ALARM_OPTIONAL_TEXT);
        let alarm_desc = text("alarmDesc", limits::ALARM_TEXT);
        let url = text("URL", limits::ALARM_OPTIONAL_TEXT);
        let status = text("alarmStatus", limits::ALARM_OPTIONAL_TEXT);
        let alarm_source = text("alarmSource", limits::ALARM_TEXT);
        let alarm_level = level.as_deref().and_then(|l| {
            let parsed = AlarmLevel::parse(l);
            if parsed.is_none() {
                problems.push(format!("alarmLevel must be one of {}", AlarmLevel::keys()));
            }
            parsed
        });
        let alarm_status = match status.as_deref() {
            None | Some("") | Some("alarm") => Some(AlarmStatus::Alarm),
            Some("ok") => Some(AlarmStatus::Ok),
            Some(_) => {
                problems.push("alarmStatus must be alarm or ok".into());
                None
            }
        };
        let time = match map.get("time") {
            Some(Value::Number(n)) if n.as_i64().is_some_and(|t| t >= 0) => n.as_i64(),
            None | Some(Value::Null) => {
                problems.push("time must not be null".into());
                None
            }
            Some(_) => {
                problems.push("time must be a timestamp in milliseconds".into());
                None
            }
        };
        let additional = match map.get("additional") {
            None | Some(Value::Null) => None,
            Some(v @ Value::Object(_)) => Some(v.clone()),
            Some(_) => {
                problems.push("additional must be an object".into());
                None
            }
        };
        if !problems.is_empty() {
            return Err(problems.join(" | "));
        }
        let required = |v: Option<String>| v.expect("checked above");
        Ok(AlarmReport {
            alarm_id: required(alarm_id),
            alarm_name: required(alarm_name),
            alarm_level: alarm_level.expect("checked above"),
            time: time.expect("checked above"),
            name_space: required(name_space),
            region_id: region_id.filter(|r| !r.is_empty()),
            application_id: required(application_id),
            resource_name,
            resource_id,
            alarm_desc: required(alarm_desc),
            url,
            alarm_status: alarm_status.expect("checked above"),
            alarm_source: required(alarm_source),
            additional,
        })
    }
}

/// An alarm as deduplicated by its alarmId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alarm {
    pub integration_id: String,
    pub alarm_id: String,
    pub status: AlarmStatus,
    pub occurrences: u64,
    pub first_seen: i64,
    pub last_seen: i64,
    /// The latest report.
    pub last: AlarmReport,
    /// The incident this alarm opened, if it met the integration's rule, or
    /// was linked to by a transfer.
    pub incident_num: Option<String>,
    /// How it was cleared, while it is (`None` while it fires).
    #[serde(default)]
    pub cleared: Option<Clearance>,
    /// The script or job its latest auto-process ran, and that ticket.
    #[serde(default)]
    pub last_task: Option<(TaskRef, String)>,
    /// History entries besides one per report (links, recoveries,
    /// auto-processes); less those reports that had none, made before
    /// histories were kept. So the history's length is `occurrences + actions`.
    #[serde(default)]
    pub actions: i64,
}

impl Alarm {
    pub fn first(integration: &Integration, report: AlarmReport, now: i64) -> Alarm {
        Alarm {
            integration_id: integration.integration_id.clone(),
            alarm_id: report.alarm_id.clone(),
            status: report.alarm_status,
            occurrences: 1,
            first_seen: now,
            last_seen: now,
            cleared: (report.alarm_status == AlarmStatus::Ok).then(|| Alarm::cleared_by_report(now)),
            last: report,
            incident_num: None,
            last_task: None,
            actions: 0,
        }
    }

    /// The id `/v1/alarm-mgmt/*` names it by ([`manage::public_id`]).
    pub fn public_id(&self) -> String {
        manage::public_id(&self.integration_id, &self.alarm_id)
    }

    fn cleared_by_report(now: i64) -> Clearance {
        Clearance {
            time: now,
            by: MONITORING.into(),
            remarks: None,
            is_service_interrupt: None,
            start_time: None,
            fault_recovery_time: None,
        }
    }

    /// Applies a later report; says what it was to the alarm's history.
    pub fn again(&mut self, report: AlarmReport, now: i64) -> HistoryKind {
        let kind = match (self.status, report.alarm_status) {
            (AlarmStatus::Alarm, AlarmStatus::Ok) => HistoryKind::Cleared,
            (AlarmStatus::Ok, AlarmStatus::Alarm) => HistoryKind::Reopened,
            _ => HistoryKind::Repeated,
        };
        match kind {
            HistoryKind::Cleared => self.cleared = Some(Alarm::cleared_by_report(now)),
            HistoryKind::Reopened => self.cleared = None,
            _ => {}
        }
        self.occurrences += 1;
        self.last_seen = now;
        self.status = report.alarm_status;
        self.last = report;
        kind
    }

    /// The history entry of the first report.
    pub fn reported(&self, now: i64) -> HistoryEntry {
        HistoryEntry::new(HistoryKind::Reported, MONITORING, self.status, now)
    }
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

impl AlarmReport {
    /// This report with the status and level `stored` has, for a report that
    /// does not know the alarm's state.
    pub fn keeping_state_of(&self, stored: &Alarm) -> AlarmReport {
        AlarmReport { alarm_status: stored.status, alarm_level: stored.last.alarm_level, ..self.clone() }
    }
}

/// Whether a report, under the integration's rule, calls for an incident.
pub fn opens_incident(integration: &Integration, report: &AlarmReport) -> bool {
    report.alarm_status == AlarmStatus::Alarm && report.alarm_level.at_least(integration.alarm_level_threshold)
}

/// The incident an alarm opens (source: alarm).
pub fn incident_for(
    integration: &Integration,
    report: &AlarmReport,
    incident_num: String,
    warroom_id: Option<String>,
    now: i64,
) -> Result<Incident, String> {
    let one = |v: Option<&str>| -> Result<AtMostOne, String> {
        serde_json::from_value(Value::Array(
            v.into_iter().map(|s| Value::String(clip(s, limits::INCIDENT_LIST_ITEM.max))).collect(),
        ))
        .map_err(|e| e.to_string())
    };
    let new = NewIncident {
        region: one(report.region_id.as_deref())?,
        enterprise_project: one(None)?,
        current_cloud_service: one(Some(&report.application_id))?,
        incident_level: integration.incident_level,
        is_service_interrupt: Flag(false),
        incident_type: integration.incident_type,
        incident_title: Title::parse(clip(&report.alarm_name, limits::INCIDENT_TITLE.max))?,
        incident_description: Description::parse(clip(&report.alarm_desc, limits::INCIDENT_DESCRIPTION.max))?,
        incident_source: IncidentSource::Alarm,
        incident_assignee: one(Some(&integration.incident_assignee))?,
        assignee_scene: None,
        assignee_role: None,
        creator: UserRef::parse(integration.creator.clone())?,
        incident_ownership: None,
        start_time: Some(report.time),
    };
    let mut incident = Incident::create(new, incident_num, warroom_id, integration.project_id.clone(), now);
    incident.alarm =
        Some(AlarmOrigin { integration_id: integration.integration_id.clone(), alarm_id: report.alarm_id.clone() });
    incident.firing_alarms = Some([manage::public_id(&integration.integration_id, &report.alarm_id)].into());
    Ok(incident)
}
