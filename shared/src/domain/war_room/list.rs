//! `POST /v1/external/warrooms/list` (ListTenantWarRoomRequestBody): its
//! filters, checked, and how a war room is judged against them.

use serde::Deserialize;

use super::{check_list, check_text, Refusal, WarRoom};
use crate::limits;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
    /// Rooms any of these users is a member of.
    #[serde(default)]
    pub current_users: Vec<String>,
    /// When given, every other filter is ignored (the reference).
    #[serde(default)]
    pub war_room_nums: Vec<String>,
    #[serde(default)]
    pub incident_num: Option<String>,
    /// A case-insensitive part of the title.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub region_code_list: Vec<String>,
    #[serde(default)]
    pub incident_levels: Vec<String>,
    #[serde(default)]
    pub impacted_application_ids: Vec<String>,
    #[serde(default)]
    pub admin: Vec<String>,
    /// Status ids: RUNNING, CLOSED.
    #[serde(default)]
    pub status: Vec<String>,
    #[serde(default)]
    pub triggered_start_time: Option<i64>,
    #[serde(default)]
    pub triggered_end_time: Option<i64>,
    #[serde(default)]
    pub occur_start_time: Option<i64>,
    #[serde(default)]
    pub occur_end_time: Option<i64>,
    #[serde(default)]
    pub recover_start_time: Option<i64>,
    #[serde(default)]
    pub recover_end_time: Option<i64>,
    #[serde(default)]
    pub notification_level: Vec<String>,
    #[serde(default)]
    pub enterprise_project_ids: Vec<String>,
    /// One room's number (the console's): like a one-element `war_room_nums`.
    #[serde(default)]
    pub war_room_num: Option<String>,
    /// Only the counts (total_num, running_num, closed_num), no rows.
    #[serde(default)]
    pub statistic_flag: bool,
}

fn within(value: Option<i64>, start: Option<i64>, end: Option<i64>) -> bool {
    match (start, end) {
        (None, None) => true,
        _ => value.is_some_and(|v| start.is_none_or(|s| v >= s) && end.is_none_or(|e| v <= e)),
    }
}

fn any_of(wanted: &[String], value: &str) -> bool {
    wanted.is_empty() || wanted.iter().any(|w| w == value)
}

impl ListQuery {
    pub fn check(&self) -> Result<(), Refusal> {
        let number = |field: &str, value: Option<i64>, range: limits::Range| match value {
            Some(v) => range.check(v).map_err(|problem| (field.to_owned(), problem)),
            None => Ok(()),
        };
        number("limit", self.limit, limits::WAR_ROOMS_LIMIT)?;
        number("offset", self.offset, limits::WAR_ROOMS_OFFSET)?;
        let values = limits::WAR_ROOMS_FILTER_VALUES;
        let id = limits::WAR_ROOMS_FILTER_ID;
        check_list("current_users", &self.current_users, values, id)?;
        check_list("war_room_nums", &self.war_room_nums, values, limits::WAR_ROOMS_FILTER_NUM)?;
        check_list("region_code_list", &self.region_code_list, values, id)?;
        check_list("incident_levels", &self.incident_levels, values, limits::WAR_ROOMS_LEVEL)?;
        check_list("impacted_application_ids", &self.impacted_application_ids, values, id)?;
        check_list("admin", &self.admin, values, id)?;
        check_list("status", &self.status, values, limits::WAR_ROOMS_STATUS)?;
        check_list("notification_level", &self.notification_level, values, limits::WAR_ROOMS_LEVEL)?;
        check_list(
            "enterprise_project_ids",
            &self.enterprise_project_ids,
            values,
            limits::WAR_ROOMS_ENTERPRISE_PROJECT,
        )?;
        for (index, status) in self.status.iter().enumerate() {
            if !super::WarRoomStatus::ALL.iter().any(|s| s.id() == status) {
                return Err((format!("status[{index}]"), format!("must be RUNNING or CLOSED, got {status:?}")));
            }
        }
        if let Some(num) = &self.incident_num {
            check_text("incident_num", num, limits::WAR_ROOMS_INCIDENT_NUM)?;
        }
        if let Some(title) = &self.title {
            check_text("title", title, limits::WAR_ROOMS_TITLE)?;
        }
        if let Some(num) = &self.war_room_num {
            check_text("war_room_num", num, limits::WAR_ROOMS_FILTER_NUM)?;
        }
        let times = [
            ("triggered_start_time", self.triggered_start_time),
            ("triggered_end_time", self.triggered_end_time),
            ("occur_start_time", self.occur_start_time),
            ("occur_end_time", self.occur_end_time),
            ("recover_start_time", self.recover_start_time),
            ("recover_end_time", self.recover_end_time),
        ];
        for (field, value) in times {
            number(field, value, limits::WAR_ROOMS_TIME)?;
        }
        Ok(())
    }

    /// Rows per page: `limit`, where 0 or none is the default.
    pub fn page_size(&self) -> usize {
        match self.limit {
            Some(limit) if limit > 0 => limit as usize,
            _ => limits::WAR_ROOMS_PAGE_DEFAULT,
        }
    }

    pub fn offset(&self) -> usize {
        self.offset.unwrap_or(0).max(0) as usize
    }

    /// The rooms asked for by number (`war_room_nums`, or `war_room_num`), if any.
    pub fn numbers(&self) -> Vec<String> {
        let mut numbers = self.war_room_nums.clone();
        numbers.extend(self.war_room_num.iter().filter(|n| !n.is_empty()).cloned());
        numbers.retain(|n| !n.is_empty());
        numbers.sort();
        numbers.dedup();
        numbers
    }

    /// Whether any filter besides the creation-time range narrows the list,
    /// so that counters cannot answer its counts.
    pub fn filters_rows(&self) -> bool {
        !(self.current_users.is_empty()
            && self.incident_num.as_deref().is_none_or(str::is_empty)
            && self.title.as_deref().is_none_or(str::is_empty)
            && self.region_code_list.is_empty()
            && self.incident_levels.is_empty()
            && self.impacted_application_ids.is_empty()
            && self.admin.is_empty()
            && self.status.is_empty()
            && self.occur_start_time.is_none()
            && self.occur_end_time.is_none()
            && self.recover_start_time.is_none()
            && self.recover_end_time.is_none()
            && self.notification_level.is_empty()
            && self.enterprise_project_ids.is_empty())
    }

    /// Whether `room` passes every filter, the creation-time range included.
    pub fn matches(&self, room: &WarRoom) -> bool {
        let members: Vec<&str> = room.members().collect();
        (self.current_users.is_empty() || self.current_users.iter().any(|u| members.contains(&u.as_str())))
            && self.incident_num.as_deref().is_none_or(|n| n.is_empty() || n == room.incident.incident_num)
            && self.title.as_deref().is_none_or(|t| room.title.to_lowercase().contains(&t.to_lowercase()))
            && (self.region_code_list.is_empty() || room.regions.iter().any(|r| any_of(&self.region_code_list, &r.id)))
            && any_of(&self.incident_levels, &room.incident.level)
            && (self.impacted_application_ids.is_empty()
                || room.applications.iter().any(|a| any_of(&self.impacted_application_ids, &a.id)))
            && any_of(&self.admin, &room.admin)
            && any_of(&self.status, room.status.id())
            && within(Some(room.create_time), self.triggered_start_time, self.triggered_end_time)
            && within(room.incident.start_time, self.occur_start_time, self.occur_end_time)
            // Rooms are not closed yet: none has a recovery time or a notification level.
            && within(None, self.recover_start_time, self.recover_end_time)
            && self.notification_level.is_empty()
            && any_of(&self.enterprise_project_ids, &room.enterprise_project_id)
    }
}
