//! A war room as the list answers it (WarRoomTenantInfo).

use serde_json::{json, Value};

use crate::domain::war_room::{Labelled, WarRoom};
use crate::notify::templates::incident_path;

fn pairs(values: &[Labelled], id: &str) -> Vec<Value> {
    values.iter().map(|v| json!({ id: v.id, "name": v.name })).collect()
}

pub fn war_room(room: &WarRoom, now: i64) -> Value {
    let (name_zh, name_en) = room.status.names();
    let incident = &room.incident;
    json!({
        "id": room.war_room_id,
        "war_room_num": room.war_room_id,
        "title": room.title,
        "description": room.description,
        "admin": room.admin,
        "recover_leader": [room.admin],
        "recover_member": room.participants,
        "incident": {
            "id": incident.incident_num,
            "incident_id": incident.incident_num,
            "is_change_event": false,
            "failure_level": incident.level,
            "incident_url": incident_path(&incident.incident_num),
        },
        "source": incident.source,
        "regions": pairs(&room.regions, "code"),
        "impacted_application": pairs(&room.applications, "id"),
        "occur_time": incident.start_time,
        "create_time": room.create_time,
        "war_room_status": {"id": room.status.id(), "name_zh": name_zh, "name_en": name_en, "type": "war_room_status"},
        "processing_duration": (now - room.create_time).max(0),
        "enterprise_project_id": room.enterprise_project_id,
    })
}
