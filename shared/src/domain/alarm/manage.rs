//! Alarm management (SDK `/v1/alarm-mgmt/*`): what people do with an alarm
//! after intake (clear it, link it to an incident, run a task on its host), the
//! public id they name it by, and the history that records all of it beside
//! what the intake did.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AlarmStatus;
use crate::domain::incident::{
    AlarmLevel, AtMostOne, Description, Flag, Incident, IncidentLevel, IncidentNum, IncidentSource, IncidentStatus,
    IncidentType, ListItem, Named, NewIncident, ShortText, Title, UserRef, ACCEPT, COMMIT_SOLUTION,
};
use crate::limits::{self, Items};

bounded_text!(Remarks, limits::ALARM_REMARKS);
bounded_text!(AlarmIdsText, limits::ALARM_IDS_TEXT);

/// The id an alarm is named by in `/v1/alarm-mgmt/*`: `AL` and 30 hex digits
/// of a hash of its integration and its reporter's id. Derived, so that every
/// report of one alarm (and alarms stored before the id existed) agree on it
/// without a read; unique per tenant as long as the hash does not collide.
pub fn public_id(integration_id: &str, alarm_id: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(integration_id.as_bytes());
    hash.update([0u8]);
    hash.update(alarm_id.as_bytes());
    let digest = hex::encode(hash.finalize());
    format!("AL{}", &digest[..30])
}

/// The SDK's `alarm_ids`: ids joined by commas (ASCII or full-width, as its
/// documentation writes them), blanks around them ignored, each named once.
pub fn parse_alarm_ids(text: &str, count: Items) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for part in text.split([',', '，']) {
        let id = part.trim();
        if id.is_empty() {
            return Err("must be alarm ids separated by commas, with none empty".into());
        }
        limits::ALARM_PUBLIC_ID.check(id).map_err(|problem| format!("id {id:?} {problem}"))?;
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    count.check(ids.len(), "alarm ids")?;
    Ok(ids)
}

/// The SDK's severity names (`importance`) for our alarm levels.
pub fn importance(level: AlarmLevel) -> &'static str {
    match level {
        AlarmLevel::Critical => "urgent",
        AlarmLevel::Major => "major",
        AlarmLevel::Minor => "minor",
        AlarmLevel::Info => "warn",
    }
}

/// The level an `importance` filter names: the SDK's name or ours.
pub fn level_of_importance(name: &str) -> Option<AlarmLevel> {
    AlarmLevel::ALL.iter().copied().find(|level| importance(*level) == name || level.key() == name)
}

/// The SDK's state names: `alarming` while it fires, `resolved` once cleared.
pub fn state_name(status: AlarmStatus) -> &'static str {
    match status {
        AlarmStatus::Alarm => "alarming",
        AlarmStatus::Ok => "resolved",
    }
}

pub fn status_of_state(name: &str) -> Option<AlarmStatus> {
    match name {
        "alarming" | "alarm" => Some(AlarmStatus::Alarm),
        "resolved" | "ok" => Some(AlarmStatus::Ok),
        _ => None,
    }
}

/// How an alarm was cleared, when it was (the SDK's `resolved_record`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clearance {
    pub time: i64,
    /// Who: a user, or the monitoring that reported it resolved.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_service_interrupt: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_recovery_time: Option<i64>,
}

/// What a history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HistoryKind {
    /// The first report.
    Reported,
    /// A later report that changed nothing but the count and the latest report.
    Repeated,
    /// A report firing again after the alarm was cleared.
    Reopened,
    /// Cleared by a report (`ok`, Alertmanager's resolved) or by a person.
    Cleared,
    /// Linked to an incident: opened by the integration's rule or transferred.
    LinkedIncident,
    /// The linked incident was moved to resolved by the integration's auto-recovery.
    IncidentRecovered,
    /// A script or job started on the alarm's host.
    AutoProcessed,
}

/// A script or a job, as the SDK's auto-process names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TaskType {
    Script,
    Runbook,
}

/// The script or job an alarm's auto-process ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRef {
    pub task_type: TaskType,
    pub associated_task_id: String,
    pub associated_task_name: String,
    /// `CUSTOMIZATION` (the tenant's own) or `COMMUNAL`.
    pub associated_task_type: String,
}

/// One thing that happened to an alarm, who did it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub kind: HistoryKind,
    pub time: i64,
    /// A user id, `monitoring` for the intake, `auto-recovery` for the rule.
    pub operator: String,
    /// The alarm's state after it.
    pub status: AlarmStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_num: Option<String>,
    /// The ticket (`execute_uuid`) an auto-process started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

impl HistoryEntry {
    pub fn new(kind: HistoryKind, operator: &str, status: AlarmStatus, time: i64) -> HistoryEntry {
        HistoryEntry {
            kind,
            time,
            operator: operator.to_owned(),
            status,
            incident_num: None,
            ticket_id: None,
            task: None,
            remarks: None,
        }
    }

    pub fn with_incident(mut self, incident_num: &str) -> HistoryEntry {
        self.incident_num = Some(incident_num.to_owned());
        self
    }
}

/// Who the intake's entries name.
pub const MONITORING: &str = "monitoring";
/// Who the auto-recovery rule's actions name, in the alarm's and the incident's history.
pub const AUTO_RECOVERY: &str = "auto-recovery";

/// The body of `POST /v1/alarm-mgmt/alarms/cancel` (ClearAlarmRequestBody).
#[derive(Debug, Clone, Deserialize)]
pub struct ClearRequest {
    pub alarm_ids: AlarmIdsText,
    #[serde(default)]
    pub remarks: Option<Remarks>,
    #[serde(default)]
    pub is_service_interrupt: Option<Flag>,
    #[serde(default)]
    pub start_time: Option<u64>,
    #[serde(default)]
    pub fault_recovery_time: Option<u64>,
}

impl ClearRequest {
    pub fn clearance(&self, by: &str, now: i64) -> Clearance {
        Clearance {
            time: now,
            by: by.to_owned(),
            remarks: self.remarks.as_ref().map(|r| r.to_string()).filter(|r| !r.is_empty()),
            is_service_interrupt: self.is_service_interrupt.map(|f| f.0),
            start_time: self.start_time.map(|t| t as i64),
            fault_recovery_time: self.fault_recovery_time.map(|t| t as i64),
        }
    }
}

/// What a clear did to one alarm: the strings of ClearAlarmResponse's `data`
/// are `{alarm_id}:{outcome}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearOutcome {
    Cleared,
    AlreadyCleared,
    NotFound,
}

impl ClearOutcome {
    pub fn name(self) -> &'static str {
        match self {
            ClearOutcome::Cleared => "cleared",
            ClearOutcome::AlreadyCleared => "already_cleared",
            ClearOutcome::NotFound => "not_found",
        }
    }
}

/// The body of `POST /v1/alarm-mgmt/alarms-linked-incident`
/// (AlarmToIncidentRequestBody): the incident to open for the alarms, or, with
/// our `incident_num`, the open incident to link them to (then the incident's
/// fields are not read).
#[derive(Debug, Clone, Deserialize)]
pub struct TransferRequest {
    pub alarm_ids: AlarmIdsText,
    #[serde(default)]
    pub incident_num: Option<IncidentNum>,
    #[serde(default)]
    pub title: Option<Title>,
    #[serde(default)]
    pub description: Option<Description>,
    #[serde(default)]
    pub level_id: Option<IncidentLevel>,
    #[serde(default)]
    pub mtm_type: Option<IncidentType>,
    #[serde(default)]
    pub current_cloud_service_id: Option<ListItem>,
    #[serde(default)]
    pub is_service_interrupt: Option<Flag>,
    #[serde(default)]
    pub assignee: Option<ListItem>,
    #[serde(default)]
    pub assignee_role: Option<ShortText>,
    #[serde(default)]
    pub assignee_scene: Option<ShortText>,
    #[serde(default)]
    pub mtm_region: Option<ListItem>,
    #[serde(default)]
    pub enterprise_project_id: Option<ListItem>,
    #[serde(default)]
    pub source_id: Option<ShortText>,
    #[serde(default)]
    pub attachment: Option<ShortText>,
    #[serde(default)]
    pub is_change_event: Option<Flag>,
}

impl TransferRequest {
    /// The incident the alarms open (source: alarm), created by `creator`.
    /// Returns the field at fault and why.
    pub fn new_incident(&self, creator: &str, start_time: Option<i64>) -> Result<NewIncident, (&'static str, String)> {
        fn required<T: Clone>(value: &Option<T>, field: &'static str) -> Result<T, (&'static str, String)> {
            value.clone().ok_or((field, "is required to open an incident (or name one in incident_num)".into()))
        }
        fn one(value: &Option<ListItem>, field: &'static str) -> Result<AtMostOne, (&'static str, String)> {
            let items: Vec<ListItem> = value.iter().filter(|v| !v.as_str().is_empty()).cloned().collect();
            AtMostOne::try_from(items).map_err(|problem| (field, problem))
        }
        let new = NewIncident {
            region: one(&self.mtm_region, "mtm_region")?,
            enterprise_project: one(&self.enterprise_project_id, "enterprise_project_id")?,
            current_cloud_service: one(
                &Some(required(&self.current_cloud_service_id, "current_cloud_service_id")?),
                "current_cloud_service_id",
            )?,
            incident_level: required(&self.level_id, "level_id")?,
            is_service_interrupt: required(&self.is_service_interrupt, "is_service_interrupt")?,
            incident_type: required(&self.mtm_type, "mtm_type")?,
            incident_title: required(&self.title, "title")?,
            incident_description: required(&self.description, "description")?,
            incident_source: IncidentSource::Alarm,
            incident_assignee: one(&self.assignee, "assignee")?,
            assignee_scene: self.assignee_scene.clone(),
            assignee_role: self.assignee_role.clone(),
            creator: UserRef::parse(creator).map_err(|problem| ("creator", problem))?,
            incident_ownership: None,
            start_time,
        };
        new.check().map_err(|(field, problem)| {
            let field = match field {
                "current_cloud_service" => "current_cloud_service_id",
                "incident_assignee" => "assignee",
                other => other,
            };
            (field, problem)
        })?;
        Ok(new)
    }
}

bounded_text!(TaskId, limits::ALARM_TASK_ID);
bounded_text!(TaskName, limits::ALARM_TASK_NAME);
bounded_text!(TaskText, limits::ALARM_TASK_TEXT);
bounded_text!(TaskParamValue, limits::ALARM_TASK_PARAM_VALUE);

/// One step's hosts in the SDK's AlarmScheduleInstance: `target_instances`
/// holds the hosts' agent serial numbers, separated by commas.
#[derive(Debug, Clone, Deserialize)]
pub struct ScheduleInstance {
    #[serde(default)]
    pub target_selection: Option<TaskText>,
    #[serde(default)]
    pub target_instances: Option<AlarmIdsText>,
    #[serde(default)]
    pub order_no: Option<u32>,
    #[serde(default)]
    pub batch_strategy: Option<TaskText>,
}

/// The body of `POST /v1/alarm-mgmt/alarm/{alarm_id}/auto-process`
/// (AutoHandlerAlarmRequestBody).
#[derive(Debug, Clone, Deserialize)]
pub struct AutoProcessRequest {
    pub task_type: TaskType,
    pub associated_task_id: TaskId,
    #[serde(default)]
    pub associated_task_type: Option<TaskText>,
    #[serde(default)]
    pub associated_task_name: Option<TaskName>,
    #[serde(default)]
    pub associated_task_enterprise_project_id: Option<TaskText>,
    #[serde(default)]
    pub runbook_instance_mode: Option<TaskText>,
    /// The script's parameters by name.
    #[serde(default)]
    pub input_param: Option<std::collections::BTreeMap<String, TaskParamValue>>,
    /// The hosts; the alarm's own (its `resourceId` as an agent serial number) when absent.
    #[serde(default)]
    pub target_instances: Option<Vec<ScheduleInstance>>,
    #[serde(default)]
    pub region_id: Option<TaskText>,
    #[serde(default)]
    pub sub_task_info: Option<serde_json::Value>,
}

impl AutoProcessRequest {
    /// The hosts named in `target_instances`, in order, each once (empty: none named).
    pub fn named_hosts(&self) -> Result<Vec<String>, (String, String)> {
        let mut hosts = Vec::new();
        for (n, step) in self.target_instances.iter().flatten().enumerate() {
            let Some(text) = &step.target_instances else { continue };
            for host in text.as_str().split([',', '，']).map(str::trim).filter(|h| !h.is_empty()) {
                if !hosts.iter().any(|known| known == host) {
                    hosts.push(host.to_owned());
                }
            }
            limits::ALARM_TASK_TARGETS
                .check(hosts.len(), "hosts")
                .map_err(|problem| (format!("target_instances[{n}].target_instances"), problem))?;
        }
        Ok(hosts)
    }
}

/// Auto-recovery: moves an alarm's open incident to resolved through the
/// workflow's own actions (accepting it first when nobody has), so its history
/// shows each step by [`AUTO_RECOVERY`]. Returns whether it changed anything:
/// a resolved, completed or rejected incident is left alone.
pub fn recover_incident(incident: &mut Incident, alarm_name: &str, now: i64) -> bool {
    let empty = serde_json::Map::new();
    if incident.status == IncidentStatus::Triggered && incident.handle(ACCEPT, AUTO_RECOVERY, &empty, now).is_err() {
        return false;
    }
    if incident.status != IncidentStatus::Acknowledged {
        return false;
    }
    let mut solution = serde_json::Map::new();
    solution.insert("mtm_type".into(), incident.incident_type.key().into());
    solution.insert("is_service_interrupt".into(), incident.is_service_interrupt.into());
    solution.insert("cause".into(), format!("alarm {alarm_name} cleared").into());
    solution.insert(
        "solution".into(),
        "recovered automatically: the alarm cleared (the integration's auto-recovery rule)".into(),
    );
    incident.handle(COMMIT_SOLUTION, AUTO_RECOVERY, &solution, now).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_ids_are_stable_and_distinct() {
        let a = public_id("INT1", "cpu");
        assert_eq!(a, public_id("INT1", "cpu"));
        assert_eq!(a.len(), 32);
        assert!(a.starts_with("AL"));
        assert_ne!(a, public_id("INT2", "cpu"));
        // The separator keeps ("INT1", "0cpu") apart from ("INT10", "cpu").
        assert_ne!(public_id("INT1", "0cpu"), public_id("INT10", "cpu"));
    }

    #[test]
    fn alarm_ids_split_on_both_commas_and_are_deduplicated() {
        let ids = parse_alarm_ids(" a, b，a ", limits::ALARM_CLEAR_BATCH).unwrap();
        assert_eq!(ids, vec!["a", "b"]);
        assert!(parse_alarm_ids("a,,b", limits::ALARM_CLEAR_BATCH).is_err());
        let eleven = (0..11).map(|n| n.to_string()).collect::<Vec<_>>().join(",");
        assert!(parse_alarm_ids(&eleven, limits::ALARM_TRANSFER_BATCH).unwrap_err().contains("10"));
    }

    #[test]
    fn importance_names_round_trip() {
        for level in AlarmLevel::ALL {
            assert_eq!(level_of_importance(importance(*level)), Some(*level));
        }
        assert_eq!(level_of_importance("Critical"), Some(AlarmLevel::Critical));
        assert_eq!(level_of_importance("loud"), None);
    }
}
