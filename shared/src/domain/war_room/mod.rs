//! War rooms: the people gathered to restore service after a major incident.
//! A war room is for one incident of its tenant (one room per incident); its
//! members (the admin and the participants) are O&M engineers, each told when
//! the room opens. The list filters are [`ListQuery`]'s.

mod list;

use serde::{Deserialize, Serialize};

pub use list::ListQuery;

use crate::domain::incident::{Incident, Named};
use crate::domain::tenant::ProjectId;
use crate::limits::{self, Chars, Items};

/// Why a request is refused: the field (with its place in a list) and the problem.
pub type Refusal = (String, String);

pub(crate) fn check_text(field: &str, value: &str, limit: Chars) -> Result<(), Refusal> {
    limit.check(value).map_err(|problem| (field.to_owned(), problem))
}

pub(crate) fn check_list(field: &str, values: &[String], count: Items, each: Chars) -> Result<(), Refusal> {
    count.check(values.len(), "values").map_err(|problem| (field.to_owned(), problem))?;
    for (index, value) in values.iter().enumerate() {
        check_text(&format!("{field}[{index}]"), value, each)?;
    }
    Ok(())
}

/// A schedule group the room was raised for (its role and scene).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleGroup {
    pub role_id: String,
    pub scene_id: String,
}

/// How the room's chat group is created (the reference's enumeration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    Wechat,
    DingTalk,
    Lark,
    NullGroup,
}

/// `POST /v1/external/warrooms` (CreateWarRoomRequestBody).
#[derive(Debug, Clone, Deserialize)]
pub struct NewWarRoom {
    pub war_room_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub region_code_list: Vec<String>,
    pub application_id_list: Vec<String>,
    /// Optional in the SDK's model, mandatory in the reference: a war room is for an incident.
    pub incident_number: String,
    #[serde(default)]
    pub schedule_group: Vec<ScheduleGroup>,
    #[serde(default)]
    pub participant: Vec<String>,
    pub war_room_admin: String,
    #[serde(default)]
    pub application_names: Vec<String>,
    #[serde(default)]
    pub region_names: Vec<String>,
    pub enterprise_project_id: String,
    #[serde(default)]
    pub notification_type: Option<NotificationType>,
    /// The SDK's NotificationMode has no fields: counted, not kept.
    #[serde(default)]
    pub notification_modes: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl NewWarRoom {
    pub fn check(&self) -> Result<(), Refusal> {
        check_text("war_room_name", &self.war_room_name, limits::WAR_ROOM_NAME)?;
        if let Some(description) = &self.description {
            check_text("description", description, limits::WAR_ROOM_DESCRIPTION)?;
        }
        let code = limits::WAR_ROOM_CODE;
        check_list("region_code_list", &self.region_code_list, limits::WAR_ROOM_REGIONS, code)?;
        check_list("application_id_list", &self.application_id_list, limits::WAR_ROOM_APPLICATIONS, code)?;
        let label = limits::WAR_ROOM_LABEL;
        check_list("application_names", &self.application_names, limits::WAR_ROOM_NAMES, label)?;
        check_list("region_names", &self.region_names, limits::WAR_ROOM_NAMES, label)?;
        check_text("incident_number", &self.incident_number, limits::WAR_ROOM_INCIDENT)?;
        limits::WAR_ROOM_SCHEDULE_GROUPS
            .check(self.schedule_group.len(), "schedule groups")
            .map_err(|problem| ("schedule_group".to_owned(), problem))?;
        for (index, group) in self.schedule_group.iter().enumerate() {
            check_text(&format!("schedule_group[{index}].role_id"), &group.role_id, limits::WAR_ROOM_SCHEDULE_ID)?;
            check_text(&format!("schedule_group[{index}].scene_id"), &group.scene_id, limits::WAR_ROOM_SCHEDULE_ID)?;
        }
        check_text("war_room_admin", &self.war_room_admin, limits::WAR_ROOM_USER)?;
        check_list("participant", &self.participant, limits::WAR_ROOM_PARTICIPANTS, limits::WAR_ROOM_USER)?;
        check_text("enterprise_project_id", &self.enterprise_project_id, limits::WAR_ROOM_ENTERPRISE_PROJECT)?;
        limits::WAR_ROOM_NOTIFICATION_MODES
            .check(self.notification_modes.len(), "notification modes")
            .map_err(|problem| ("notification_modes".to_owned(), problem))?;
        if self.members().len() > limits::WAR_ROOM_MEMBERS {
            let problem = format!("a war room has at most {} members with its admin", limits::WAR_ROOM_MEMBERS);
            return Err(("participant".into(), problem));
        }
        Ok(())
    }

    /// The admin, then each participant once: everyone the room tells.
    pub fn members(&self) -> Vec<String> {
        let mut members = vec![self.war_room_admin.clone()];
        for user in &self.participant {
            if !members.contains(user) {
                members.push(user.clone());
            }
        }
        members
    }
}

/// The state of a war room (WarRoomEnumeration's `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum WarRoomStatus {
    Running,
    Closed,
}

impl WarRoomStatus {
    pub const ALL: [WarRoomStatus; 2] = [WarRoomStatus::Running, WarRoomStatus::Closed];

    pub fn id(self) -> &'static str {
        match self {
            WarRoomStatus::Running => "RUNNING",
            WarRoomStatus::Closed => "CLOSED",
        }
    }

    /// (Chinese, English) names, as the console shows them.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            WarRoomStatus::Running => ("进行中", "Running"),
            WarRoomStatus::Closed => ("已关闭", "Closed"),
        }
    }
}

/// A code or id with the name the request gave it, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Labelled {
    pub id: String,
    pub name: Option<String>,
}

fn labelled(ids: &[String], names: &[String]) -> Vec<Labelled> {
    ids.iter().enumerate().map(|(i, id)| Labelled { id: id.clone(), name: names.get(i).cloned() }).collect()
}

/// What a war room keeps of its incident, as it was when the room opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentSummary {
    pub incident_num: String,
    pub title: String,
    /// The incident level's key (`level_10` …).
    pub level: String,
    /// The incident source's key.
    pub source: String,
    pub start_time: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarRoom {
    pub war_room_id: String,
    pub project_id: ProjectId,
    pub title: String,
    pub description: Option<String>,
    pub admin: String,
    /// The participants besides the admin, each once.
    pub participants: Vec<String>,
    pub regions: Vec<Labelled>,
    pub applications: Vec<Labelled>,
    pub schedule_group: Vec<ScheduleGroup>,
    pub enterprise_project_id: String,
    pub notification_type: Option<NotificationType>,
    pub incident: IncidentSummary,
    pub status: WarRoomStatus,
    /// Who opened it (the caller's user id).
    pub creator: String,
    pub create_time: i64,
}

impl WarRoom {
    pub fn open(new: NewWarRoom, id: String, incident: &Incident, creator: String, now: i64) -> WarRoom {
        let members = new.members();
        WarRoom {
            war_room_id: id,
            project_id: incident.project_id.clone(),
            title: new.war_room_name,
            description: new.description,
            admin: new.war_room_admin,
            participants: members.into_iter().skip(1).collect(),
            regions: labelled(&new.region_code_list, &new.region_names),
            applications: labelled(&new.application_id_list, &new.application_names),
            schedule_group: new.schedule_group,
            enterprise_project_id: new.enterprise_project_id,
            notification_type: new.notification_type,
            incident: IncidentSummary {
                incident_num: incident.incident_num.clone(),
                title: incident.incident_title.clone(),
                level: incident.incident_level.key().to_owned(),
                source: incident.incident_source.key().to_owned(),
                start_time: incident.start_time,
            },
            status: WarRoomStatus::Running,
            creator,
            create_time: now,
        }
    }

    /// The admin, then the participants.
    pub fn members(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.admin.as_str()).chain(self.participants.iter().map(String::as_str))
    }
}

#[cfg(test)]
mod tests;
