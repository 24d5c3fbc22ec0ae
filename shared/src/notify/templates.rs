//! What COC tells people: one short plain-text [`Message`] per event, with a
//! link to the object it is about. The texts live here, in one place, so that
//! every channel (mail, SMS, robots) says the same thing.

use crate::domain::alarm::AlarmReport;
use crate::domain::incident::{HistoryEntry, Incident, Named};
use crate::domain::job::order::{InstanceStatus, Order};
use crate::domain::notification::{EventKind, Message};
use crate::domain::war_room::WarRoom;

/// Where an incident is read (its detail endpoint), under `public_url`.
pub fn incident_path(num: &str) -> String {
    format!("/v1/external/incident/{num}")
}

/// Where a ticket is read (its detail endpoint), under `public_url`.
pub fn ticket_path(execute_uuid: &str) -> String {
    format!("/v1/job/script/orders/{execute_uuid}")
}

/// The link to `path`: absolute when the public URL is configured
/// (`COC_PUBLIC_URL`), else the path alone, which still tells the reader where to look.
fn link(public_url: Option<&str>, path: &str) -> String {
    match public_url {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => path.to_owned(),
    }
}

fn message(kind: EventKind, subject: String, lines: &[String], link: String, subject_id: &str) -> Message {
    let mut text = lines.join("\n");
    text.push_str("\n\n");
    text.push_str(&link);
    Message { kind, subject, text, link: Some(link), subject_id: subject_id.to_owned() }
}

/// The lines every incident message starts with.
fn incident_lines(incident: &Incident) -> Vec<String> {
    vec![
        format!("Title: {}", incident.incident_title),
        format!("Level: {}   Status: {}", incident.incident_level.names().1, incident.status.names().1),
    ]
}

/// To the assignee of a new incident.
pub fn incident_created(public_url: Option<&str>, incident: &Incident) -> Message {
    let num = &incident.incident_num;
    let mut lines = incident_lines(incident);
    lines.push(format!("Created by {}; you are its assignee.", incident.creator));
    message(
        EventKind::IncidentCreated,
        format!("[COC] Incident {num} assigned to you: {}", incident.incident_title),
        &lines,
        link(public_url, &incident_path(num)),
        num,
    )
}

/// To the new assignee of an incident forwarded to them by `action`.
pub fn incident_assigned(public_url: Option<&str>, incident: &Incident, action: &HistoryEntry) -> Message {
    let num = &incident.incident_num;
    let mut lines = incident_lines(incident);
    lines.push(format!("Forwarded to you by {}.", action.operator));
    if let Some(comment) = &action.comment {
        lines.push(format!("Comment: {comment}"));
    }
    message(
        EventKind::IncidentAssigned,
        format!("[COC] Incident {num} forwarded to you: {}", incident.incident_title),
        &lines,
        link(public_url, &incident_path(num)),
        num,
    )
}

/// To the assignee of an incident that went through any other workflow action.
pub fn incident_transition(public_url: Option<&str>, incident: &Incident, action: &HistoryEntry) -> Message {
    let num = &incident.incident_num;
    let status = action.to_status.names().1;
    let mut lines = incident_lines(incident);
    lines.push(format!("Action {} by {}: now {status}.", action.operate_key, action.operator));
    if let Some(comment) = &action.comment {
        lines.push(format!("Comment: {comment}"));
    }
    message(
        EventKind::IncidentTransition,
        format!("[COC] Incident {num} is {status} ({} by {})", action.operate_key, action.operator),
        &lines,
        link(public_url, &incident_path(num)),
        num,
    )
}

/// To the assignee of an incident an alarm opened.
pub fn alarm_opened_incident(public_url: Option<&str>, incident: &Incident, alarm: &AlarmReport) -> Message {
    let num = &incident.incident_num;
    let mut lines = incident_lines(incident);
    lines.push(format!(
        "Opened by alarm {} ({}, {}) from {}.",
        alarm.alarm_name,
        alarm.alarm_id,
        alarm.alarm_level.names().1,
        alarm.name_space
    ));
    message(
        EventKind::AlarmOpenedIncident,
        format!("[COC] Alarm {} opened incident {num}", alarm.alarm_name),
        &lines,
        link(public_url, &incident_path(num)),
        num,
    )
}

/// To the creator of a ticket that ended ABNORMAL.
pub fn ticket_abnormal(public_url: Option<&str>, order: &Order) -> Message {
    let uuid = &order.execute_uuid;
    let failed = order.instances.iter().filter(|i| i.status == InstanceStatus::Abnormal).count();
    let lines = vec![
        format!("Script: {} (version {})", order.script.name, order.script.version),
        format!("{failed} of {} hosts ended abnormally.", order.instances.len()),
    ];
    message(
        EventKind::TicketAbnormal,
        format!("[COC] Ticket {uuid} ended ABNORMAL: {}", order.script.name),
        &lines,
        link(public_url, &ticket_path(uuid)),
        uuid,
    )
}

/// To each member of a war room that just opened: what it is for, who leads
/// it, who is in it, and the incident's link.
pub fn war_room_created(public_url: Option<&str>, room: &WarRoom) -> Message {
    let incident = &room.incident;
    let mut lines = vec![
        format!("War room: {} ({})", room.title, room.war_room_id),
        format!("For incident {}: {} (level {})", incident.incident_num, incident.title, incident.level),
        format!("Admin: {}   Members: {}", room.admin, room.members().collect::<Vec<_>>().join(", ")),
    ];
    if let Some(description) = room.description.as_deref().filter(|d| !d.is_empty()) {
        lines.push(format!("Description: {description}"));
    }
    lines.push(format!("Opened by {}; you are one of its members.", room.creator));
    message(
        EventKind::WarRoomCreated,
        format!("[COC] War room {} opened for incident {}", room.title, incident.incident_num),
        &lines,
        link(public_url, &incident_path(&incident.incident_num)),
        &room.war_room_id,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_absolute_under_the_public_url_and_paths_without_it() {
        assert_eq!(link(Some("https://coc.example.com/"), "/v1/x"), "https://coc.example.com/v1/x");
        assert_eq!(link(None, "/v1/x"), "/v1/x");
    }
}
