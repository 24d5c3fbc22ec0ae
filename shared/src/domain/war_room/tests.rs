use serde_json::{json, Value};

use super::*;

fn body() -> Value {
    json!({
        "war_room_name": "VPN down in cn-north-4", "application_id_list": ["app-1"], "incident_number": "IM1",
        "schedule_group": [{"role_id": "r1", "scene_id": "s1"}], "war_room_admin": "u-admin",
        "participant": ["u-a", "u-b", "u-admin", "u-a"], "enterprise_project_id": "0",
        "region_code_list": ["cn-north-4"], "region_names": ["Beijing4"], "notification_type": "LARK",
    })
}

fn parse(value: Value) -> NewWarRoom {
    serde_json::from_value(value).unwrap()
}

#[test]
fn members_are_the_admin_then_each_participant_once() {
    assert_eq!(parse(body()).members(), ["u-admin", "u-a", "u-b"]);
    assert!(parse(body()).check().is_ok());
}

#[test]
fn each_bound_names_its_field() {
    for (field, value, named) in [
        ("war_room_name", json!(""), "war_room_name"),
        ("war_room_name", json!("x".repeat(256)), "war_room_name"),
        ("application_id_list", json!([]), "application_id_list"),
        ("application_id_list", json!([""]), "application_id_list[0]"),
        ("incident_number", json!(""), "incident_number"),
        ("schedule_group", json!([{"role_id": "r".repeat(256), "scene_id": ""}]), "schedule_group[0].role_id"),
        ("war_room_admin", json!(""), "war_room_admin"),
        ("participant", json!(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u10"]), "participant"),
        ("participant", json!(["u1", ""]), "participant[1]"),
        ("enterprise_project_id", json!("e".repeat(65)), "enterprise_project_id"),
        ("description", json!("d".repeat(256)), "description"),
        ("region_code_list", json!(vec!["r"; 21]), "region_code_list"),
    ] {
        let mut request = body();
        request[field] = value;
        let (refused, _) = parse(request).check().unwrap_err();
        assert_eq!(refused, named, "{field}");
    }
}

#[test]
fn ten_members_with_the_admin_is_the_most() {
    let mut request = body();
    request["participant"] = json!(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"]);
    assert!(parse(request.clone()).check().is_ok());
    request["participant"] = json!(["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "u-admin"]);
    assert_eq!(parse(request).check().unwrap_err().0, "participant", "ten entries are refused even with a repeat");
}

#[test]
fn list_filters_are_checked_and_applied() {
    let query: ListQuery = serde_json::from_value(json!({"status": ["OPEN"]})).unwrap();
    assert_eq!(query.check().unwrap_err().0, "status[0]");
    let query: ListQuery = serde_json::from_value(json!({"limit": 1001})).unwrap();
    assert_eq!(query.check().unwrap_err().0, "limit");
    let room = WarRoom {
        war_room_id: "WR1".into(),
        project_id: ProjectId::parse("p").unwrap(),
        title: "VPN Down".into(),
        description: None,
        admin: "u-admin".into(),
        participants: vec!["u-a".into()],
        regions: vec![Labelled { id: "cn-north-4".into(), name: None }],
        applications: vec![Labelled { id: "app-1".into(), name: Some("shop".into()) }],
        schedule_group: vec![],
        enterprise_project_id: "0".into(),
        notification_type: None,
        incident: IncidentSummary {
            incident_num: "IM1".into(),
            title: "t".into(),
            level: "level_10".into(),
            source: "incident_source_manual".into(),
            start_time: Some(500),
        },
        status: WarRoomStatus::Running,
        creator: "u-admin".into(),
        create_time: 1_000,
    };
    let judge = |filters: Value| serde_json::from_value::<ListQuery>(filters).unwrap().matches(&room);
    for kept in [
        json!({}),
        json!({"title": "vpn"}),
        json!({"current_users": ["u-a"]}),
        json!({"admin": ["u-admin"], "status": ["RUNNING"]}),
        json!({"incident_levels": ["level_10"], "region_code_list": ["x", "cn-north-4"]}),
        json!({"triggered_start_time": 1_000, "triggered_end_time": 1_000, "occur_end_time": 500}),
        json!({"impacted_application_ids": ["app-1"], "enterprise_project_ids": ["0"]}),
    ] {
        assert!(judge(kept.clone()), "{kept}");
    }
    for dropped in [
        json!({"title": "disk"}),
        json!({"current_users": ["u-z"]}),
        json!({"status": ["CLOSED"]}),
        json!({"incident_num": "IM2"}),
        json!({"triggered_start_time": 1_001}),
        json!({"occur_start_time": 501}),
        json!({"recover_start_time": 0}),
        json!({"notification_level": ["p1"]}),
    ] {
        assert!(!judge(dropped.clone()), "{dropped}");
    }
}
