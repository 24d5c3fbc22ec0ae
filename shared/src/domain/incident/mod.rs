//! Incidents (spec 4.4.1): a ticket from report to verified fix, with a
//! workflow and a history of every action.

pub mod enums;
pub mod query;
pub mod workflow;

use std::collections::BTreeSet;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use enums::{AlarmLevel, IncidentLevel, IncidentSource, IncidentStatus, IncidentType, Named};

use crate::domain::absent::null_is_default;
use crate::domain::tenant::ProjectId;
use crate::limits::{self, Chars};

bounded_text!(Title, limits::INCIDENT_TITLE);
bounded_text!(Description, limits::INCIDENT_DESCRIPTION);
bounded_text!(UserRef, limits::INCIDENT_USER);
bounded_text!(ShortText, limits::INCIDENT_TEXT);
bounded_text!(ListItem, limits::INCIDENT_LIST_ITEM);
bounded_text!(IncidentNum, limits::INCIDENT_NUM);

/// `true`/`false`, as a JSON boolean or (as the SDK sends it) the strings "true"/"false".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Bool(b) => Ok(Flag(b)),
            Value::String(s) if s == "true" => Ok(Flag(true)),
            Value::String(s) if s == "false" => Ok(Flag(false)),
            other => Err(serde::de::Error::custom(format!("must be true or false, got {other}"))),
        }
    }
}

/// A list the spec allows at most one element in ("currently, only one … is supported").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<ListItem>", into = "Vec<ListItem>")]
pub struct AtMostOne(Vec<ListItem>);

impl TryFrom<Vec<ListItem>> for AtMostOne {
    type Error = String;
    fn try_from(items: Vec<ListItem>) -> Result<Self, String> {
        limits::INCIDENT_LIST.check(items.len(), "elements").map_err(|e| format!("{e} (only one is supported)"))?;
        Ok(AtMostOne(items))
    }
}

impl From<AtMostOne> for Vec<ListItem> {
    fn from(list: AtMostOne) -> Self {
        list.0
    }
}

impl AtMostOne {
    pub fn first(&self) -> Option<&str> {
        self.0.first().map(ListItem::as_str).filter(|s| !s.is_empty())
    }

    pub fn values(&self) -> Vec<String> {
        self.0.iter().map(|v| v.to_string()).collect()
    }
}

/// The body of `POST /v1/external/incident/create` (CreateExternalIncidentRequest).
#[derive(Debug, Clone, Deserialize)]
pub struct NewIncident {
    #[serde(default, deserialize_with = "null_is_default")]
    pub region: AtMostOne,
    #[serde(default, deserialize_with = "null_is_default")]
    pub enterprise_project: AtMostOne,
    pub current_cloud_service: AtMostOne,
    pub incident_level: IncidentLevel,
    pub is_service_interrupt: Flag,
    pub incident_type: IncidentType,
    pub incident_title: Title,
    pub incident_description: Description,
    pub incident_source: IncidentSource,
    #[serde(default, deserialize_with = "null_is_default")]
    pub incident_assignee: AtMostOne,
    #[serde(default)]
    pub assignee_scene: Option<ShortText>,
    #[serde(default)]
    pub assignee_role: Option<ShortText>,
    pub creator: UserRef,
    #[serde(default)]
    pub incident_ownership: Option<ShortText>,
    #[serde(default)]
    pub start_time: Option<i64>,
}

impl NewIncident {
    /// The rules that span fields. Returns the field at fault and why.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.current_cloud_service.first().is_none() {
            return Err(("current_cloud_service", "must hold the application id".into()));
        }
        let scene = self.assignee_scene.as_ref().is_some_and(|s| !s.as_str().is_empty());
        let role = self.assignee_role.as_ref().is_some_and(|s| !s.as_str().is_empty());
        if scene != role {
            return Err(("assignee_role", "assignee_scene and assignee_role go together: set both or neither".into()));
        }
        if self.incident_assignee.first().is_none() && !scene {
            return Err(("incident_assignee", "set incident_assignee, or assignee_scene with assignee_role".into()));
        }
        Ok(())
    }
}

/// The body of `POST /v1/external/incident/handle` (HandleExternalIncidentRequest).
#[derive(Debug, Clone, Deserialize)]
pub struct HandleRequest {
    pub incident_num: IncidentNum,
    pub operator: UserRef,
    pub operate_key: String,
    /// The action's inputs; `null` or absent is none.
    #[serde(default)]
    pub parameter: Option<Map<String, Value>>,
}

/// One action in an incident's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub operate_key: String,
    pub operator: String,
    pub from_status: Option<IncidentStatus>,
    pub to_status: IncidentStatus,
    pub time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Who a forward handed the incident to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// The alarm an incident was opened for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmOrigin {
    pub integration_id: String,
    pub alarm_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub incident_num: String,
    pub project_id: ProjectId,
    pub region: Vec<String>,
    pub enterprise_project: Vec<String>,
    pub current_cloud_service: Vec<String>,
    pub incident_level: IncidentLevel,
    pub is_service_interrupt: bool,
    pub incident_type: IncidentType,
    pub incident_title: String,
    pub incident_description: String,
    pub incident_source: IncidentSource,
    pub incident_assignee: Vec<String>,
    pub assignee_scene: String,
    pub assignee_role: String,
    pub incident_ownership: String,
    pub creator: String,
    pub start_time: Option<i64>,
    pub create_time: i64,
    pub status: IncidentStatus,
    pub handle_time: Option<i64>,
    pub fault_recovery_time: Option<i64>,
    pub warroom_id: Option<String>,
    pub mtm_type: Option<IncidentType>,
    pub cause: Option<String>,
    pub solution: Option<String>,
    /// The actions not saved yet: the store keeps each action as an item of
    /// its own (an incident's life must not outgrow one item), so an incident
    /// read back carries none, except one saved before that, whose actions
    /// are still inside it (and move out with its next save).
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// How many actions are saved as items of their own.
    #[serde(default)]
    pub history_seq: u64,
    /// When and by whom the last action was taken (the creation for a new one).
    #[serde(default)]
    pub update_time: Option<i64>,
    #[serde(default)]
    pub last_operator: Option<String>,
    #[serde(default)]
    pub alarm: Option<AlarmOrigin>,
    /// The public ids of the linked alarms that fire: an alarm's clear takes
    /// it out, and auto-recovery resolves the incident when the last one
    /// clears. `None` for an incident opened before this was kept (then any
    /// linked alarm's clear is the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing_alarms: Option<BTreeSet<String>>,
}

/// The workflow's actions (`operate_key`).
pub const ACCEPT: &str = "acceptedIncident1";
pub const REJECT: &str = "rejectedIncident1";
pub const COMMIT_SOLUTION: &str = "commitSolution1";
pub const CONFIRM: &str = "confirm";
/// Forwarding to another assignee (COC's own action names): before accepting,
/// and after. The status stays; the new assignee is notified.
pub const FORWARD_UNACCEPTED: &str = "unAcceptedForward";
pub const FORWARD_ACCEPTED: &str = "acceptedForward";

/// Whether `operate_key` hands the incident to another assignee.
pub fn is_forward(operate_key: &str) -> bool {
    matches!(operate_key, FORWARD_UNACCEPTED | FORWARD_ACCEPTED)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandleError {
    /// A parameter is missing or invalid: (field, problem).
    #[error("{0}: {1}")]
    Invalid(String, String),
    #[error("cannot {action} an incident that is {status}")]
    IllegalTransition { action: &'static str, status: &'static str },
}

fn invalid(field: &str, problem: impl Into<String>) -> HandleError {
    HandleError::Invalid(format!("parameter.{field}"), problem.into())
}

/// A mandatory text of the handle's `parameter`; `null` is absent.
fn text_param(parameter: &Map<String, Value>, field: &str, limit: Chars) -> Result<String, HandleError> {
    match parameter.get(field) {
        Some(Value::String(s)) if s.trim().is_empty() => Err(invalid(field, "must not be blank")),
        Some(Value::String(s)) => limit.check(s).map(|()| s.clone()).map_err(|problem| invalid(field, problem)),
        Some(Value::Null) | None => Err(invalid(field, "is required")),
        Some(_) => Err(invalid(field, "must be a non-empty string")),
    }
}

/// An optional text of the handle's `parameter`: absent, `null` or blank is none.
fn optional_text_param(
    parameter: &Map<String, Value>,
    field: &str,
    limit: Chars,
) -> Result<Option<String>, HandleError> {
    match parameter.get(field) {
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::Null) | None => Ok(None),
        Some(_) => text_param(parameter, field, limit).map(Some),
    }
}

fn flag_param(parameter: &Map<String, Value>, field: &str, default: Option<bool>) -> Result<bool, HandleError> {
    match parameter.get(field) {
        Some(value @ (Value::Bool(_) | Value::String(_))) => {
            serde_json::from_value::<Flag>(value.clone()).map(|f| f.0).map_err(|e| invalid(field, e.to_string()))
        }
        Some(Value::Null) | None => default.ok_or_else(|| invalid(field, "is required")),
        Some(_) => Err(invalid(field, "must be true or false")),
    }
}

impl Incident {
    pub fn create(
        new: NewIncident,
        incident_num: String,
        warroom_id: Option<String>,
        project_id: ProjectId,
        now: i64,
    ) -> Incident {
        let status = IncidentStatus::Triggered;
        Incident {
            history: vec![HistoryEntry {
                operate_key: "create".into(),
                operator: new.creator.to_string(),
                from_status: None,
                to_status: status,
                time: now,
                comment: None,
                assignee: None,
            }],
            incident_num,
            project_id,
            warroom_id,
            region: new.region.values(),
            enterprise_project: new.enterprise_project.values(),
            current_cloud_service: new.current_cloud_service.values(),
            incident_level: new.incident_level,
            is_service_interrupt: new.is_service_interrupt.0,
            incident_type: new.incident_type,
            incident_title: new.incident_title.to_string(),
            incident_description: new.incident_description.to_string(),
            incident_source: new.incident_source,
            incident_assignee: new.incident_assignee.values(),
            assignee_scene: new.assignee_scene.map(String::from).unwrap_or_default(),
            assignee_role: new.assignee_role.map(String::from).unwrap_or_default(),
            incident_ownership: new.incident_ownership.map(String::from).unwrap_or_default(),
            creator: new.creator.to_string(),
            start_time: new.start_time,
            create_time: now,
            status,
            handle_time: None,
            fault_recovery_time: None,
            mtm_type: None,
            cause: None,
            solution: None,
            history_seq: 0,
            update_time: Some(now),
            last_operator: Some(new.creator.to_string()),
            alarm: None,
            firing_alarms: None,
        }
    }

    /// How many actions the incident has had, creation included: the saved
    /// ones and those not saved yet.
    pub fn actions_taken(&self) -> u64 {
        self.history_seq + self.history.len() as u64
    }

    /// Whether the incident is over (nothing more will happen to it).
    pub fn is_closed(&self) -> bool {
        matches!(self.status, IncidentStatus::Completed | IncidentStatus::Rejected)
    }

    /// One workflow action. Checks the transition and the action's parameters;
    /// changes nothing when either is wrong.
    pub fn handle(
        &mut self,
        operate_key: &str,
        operator: &str,
        parameter: &Map<String, Value>,
        now: i64,
    ) -> Result<(), HandleError> {
        let from = self.status;
        let illegal = |action| HandleError::IllegalTransition { action, status: from.names().1 };
        let mut comment = None;
        let mut assignee = None;
        let to = match operate_key {
            ACCEPT => {
                if from != IncidentStatus::Triggered {
                    return Err(illegal("accept"));
                }
                IncidentStatus::Acknowledged
            }
            REJECT => {
                if from != IncidentStatus::Triggered {
                    return Err(illegal("reject"));
                }
                comment = parameter
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(|s| s.chars().take(limits::CONFIRM_COMMENT.max).collect());
                IncidentStatus::Rejected
            }
            COMMIT_SOLUTION => {
                if from != IncidentStatus::Acknowledged {
                    return Err(illegal("submit a solution to"));
                }
                let mtm_key = text_param(parameter, "mtm_type", limits::INCIDENT_KEY)?;
                let mtm_type = IncidentType::parse(&mtm_key)
                    .ok_or_else(|| invalid("mtm_type", format!("must be one of {}", IncidentType::keys())))?;
                let interrupt = flag_param(parameter, "is_service_interrupt", None)?;
                let cause = text_param(parameter, "cause", limits::CAUSE)?;
                let solution = text_param(parameter, "solution", limits::SOLUTION)?;
                self.mtm_type = Some(mtm_type);
                self.is_service_interrupt = interrupt;
                self.cause = Some(cause);
                self.solution = Some(solution);
                self.handle_time = Some(now);
                IncidentStatus::Resolved
            }
            CONFIRM => {
                if from != IncidentStatus::Resolved {
                    return Err(illegal("confirm"));
                }
                let confirmed = flag_param(parameter, "virtual_confirm_result", Some(true))?;
                let note = text_param(parameter, "virtual_confirm_comment", limits::CONFIRM_COMMENT)?;
                comment = Some(note);
                if confirmed {
                    self.fault_recovery_time = Some(now);
                    IncidentStatus::Completed
                } else {
                    IncidentStatus::Acknowledged
                }
            }
            FORWARD_UNACCEPTED | FORWARD_ACCEPTED => {
                let (action, at) = match operate_key {
                    FORWARD_UNACCEPTED => ("forward (unaccepted)", IncidentStatus::Triggered),
                    _ => ("forward (accepted)", IncidentStatus::Acknowledged),
                };
                if from != at {
                    return Err(illegal(action));
                }
                let to = text_param(parameter, "virtual_send_assignee", limits::INCIDENT_USER)?;
                comment = optional_text_param(parameter, "virtual_send_comment", limits::FORWARD_COMMENT)?;
                self.incident_assignee = vec![to.clone()];
                assignee = Some(to);
                from
            }
            other => {
                return Err(HandleError::Invalid(
                    "operate_key".into(),
                    format!(
                        "{other:?} is not one of {ACCEPT}, {REJECT}, {COMMIT_SOLUTION}, {CONFIRM}, \
                         {FORWARD_UNACCEPTED}, {FORWARD_ACCEPTED}"
                    ),
                ))
            }
        };
        self.status = to;
        self.update_time = Some(now);
        self.last_operator = Some(operator.to_owned());
        self.history.push(HistoryEntry {
            operate_key: operate_key.to_owned(),
            operator: operator.to_owned(),
            from_status: Some(from),
            to_status: to,
            time: now,
            comment,
            assignee,
        });
        Ok(())
    }

    /// Records that `alarm_ids` (public ids) were linked to this incident by
    /// `operator`: an action in its history that keeps its status.
    pub fn note_linked_alarms(&mut self, operator: &str, alarm_ids: &[String], now: i64) {
        self.update_time = Some(now);
        self.last_operator = Some(operator.to_owned());
        self.history.push(HistoryEntry {
            operate_key: workflow::LINK_ALARMS.to_owned(),
            operator: operator.to_owned(),
            from_status: Some(self.status),
            to_status: self.status,
            time: now,
            comment: Some(format!("alarms linked: {}", alarm_ids.join(", "))),
            assignee: None,
        });
    }

    /// The detail's `enum_data_list`: the names of every enumerated value shown.
    pub fn enum_data(&self) -> Vec<Value> {
        fn entry(field: &str, key: &str, zh: &str, en: &str) -> Value {
            serde_json::json!({ "filed_key": field, "enum_key": key, "name_zh": zh, "name_en": en })
        }
        fn named<T: Named>(field: &str, value: T) -> Value {
            let (zh, en) = value.names();
            entry(field, value.key(), zh, en)
        }
        let mut list = vec![
            named("level_id", self.incident_level),
            named("work_flow_status", self.status),
            named("mtm_type", self.mtm_type.unwrap_or(self.incident_type)),
            named("source_id", self.incident_source),
            entry("creator", &self.creator, &self.creator, &self.creator),
        ];
        for app in &self.current_cloud_service {
            list.push(entry("current_cloud_service_id", app, app, app));
        }
        for assignee in &self.incident_assignee {
            list.push(entry("assignee", assignee, assignee, assignee));
        }
        list
    }
}

#[cfg(test)]
mod tests;
