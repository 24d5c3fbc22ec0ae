//! The incident workflow, action by action.

use serde_json::{json, Map, Value};

use super::*;

fn new_incident(body: Value) -> Result<NewIncident, String> {
    let parsed: NewIncident = serde_json::from_value(body).map_err(|e| e.to_string())?;
    parsed.check().map_err(|(field, problem)| format!("{field}: {problem}"))?;
    Ok(parsed)
}

fn valid() -> Value {
    json!({
        "region": ["cn-north-4"], "enterprise_project": ["0"], "current_cloud_service": ["app-1"],
        "incident_level": "level_30", "is_service_interrupt": "false", "incident_type": "inc_type_p_security_issues",
        "incident_title": "db down", "incident_description": "primary unreachable", "incident_source": "incident_source_manual",
        "incident_assignee": ["u-1"], "creator": "u-0"
    })
}

fn params(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn incident() -> Incident {
    Incident::create(new_incident(valid()).unwrap(), "IM1".into(), None, ProjectId::parse("p").unwrap(), 1)
}

#[test]
fn creation_rules() {
    assert!(new_incident(valid()).is_ok());
    let mut with_bool = valid();
    with_bool["is_service_interrupt"] = json!(true);
    assert!(new_incident(with_bool).unwrap().is_service_interrupt.0);
    let mut scene_only = valid();
    scene_only["incident_assignee"] = json!([]);
    scene_only["assignee_scene"] = json!("oncall");
    assert!(new_incident(scene_only.clone()).unwrap_err().contains("assignee_role"));
    scene_only["assignee_role"] = json!("sre");
    assert!(new_incident(scene_only).is_ok(), "a scene with a role is an assignee");
    for (field, value) in [
        ("incident_level", json!("level_60")),
        ("incident_type", json!("inc_type_p_boredom")),
        ("incident_source", json!("incident_source_psychic")),
        ("incident_title", json!("t".repeat(201))),
        ("incident_description", json!("d".repeat(601))),
        ("region", json!(["a", "b"])),
        ("current_cloud_service", json!([])),
        ("is_service_interrupt", json!("maybe")),
        ("incident_assignee", json!([])),
    ] {
        let mut body = valid();
        body[field] = value;
        assert!(new_incident(body).is_err(), "{field} accepted");
    }
}

#[test]
fn the_workflow_from_report_to_verified_fix() {
    let mut i = incident();
    assert_eq!(i.status, IncidentStatus::Triggered);
    let illegal = i.handle(COMMIT_SOLUTION, "u-1", &Map::new(), 2).unwrap_err();
    assert!(matches!(illegal, HandleError::IllegalTransition { .. }));
    i.handle(ACCEPT, "u-1", &Map::new(), 3).unwrap();
    assert_eq!(i.status, IncidentStatus::Acknowledged);
    assert!(i.handle(ACCEPT, "u-1", &Map::new(), 3).is_err(), "accepting twice is illegal");

    let missing =
        i.handle(COMMIT_SOLUTION, "u-1", &params(json!({"mtm_type": "inc_type_p_config_issues"})), 4).unwrap_err();
    assert_eq!(missing, HandleError::Invalid("parameter.is_service_interrupt".into(), "is required".into()));
    let long = json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": true, "cause": "c".repeat(10_001), "solution": "s"});
    assert!(i.handle(COMMIT_SOLUTION, "u-1", &params(long), 4).is_err());
    assert_eq!(i.status, IncidentStatus::Acknowledged, "a refused action changes nothing");
    assert_eq!(i.cause, None);

    let solution = json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": true, "cause": "bad config", "solution": "rolled back"});
    i.handle(COMMIT_SOLUTION, "u-1", &params(solution), 5).unwrap();
    assert_eq!((i.status, i.handle_time, i.is_service_interrupt), (IncidentStatus::Resolved, Some(5), true));

    assert!(
        i.handle(CONFIRM, "u-0", &params(json!({"virtual_confirm_result": false})), 6).is_err(),
        "a comment is required"
    );
    i.handle(
        CONFIRM,
        "u-0",
        &params(json!({"virtual_confirm_result": false, "virtual_confirm_comment": "still down"})),
        6,
    )
    .unwrap();
    assert_eq!(i.status, IncidentStatus::Acknowledged, "a failed verification sends it back");
    i.handle(COMMIT_SOLUTION, "u-1", &params(json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": "false", "cause": "c", "solution": "s2"})), 7).unwrap();
    i.handle(CONFIRM, "u-0", &params(json!({"virtual_confirm_comment": "fine now"})), 8).unwrap();
    assert_eq!(i.status, IncidentStatus::Completed, "verification defaults to true");
    assert!(i.handle(REJECT, "u-1", &Map::new(), 9).is_err());

    let trail: Vec<_> = i.history.iter().map(|h| (h.operate_key.as_str(), h.to_status)).collect();
    assert_eq!(
        trail,
        [
            ("create", IncidentStatus::Triggered),
            (ACCEPT, IncidentStatus::Acknowledged),
            (COMMIT_SOLUTION, IncidentStatus::Resolved),
            (CONFIRM, IncidentStatus::Acknowledged),
            (COMMIT_SOLUTION, IncidentStatus::Resolved),
            (CONFIRM, IncidentStatus::Completed),
        ]
    );
    assert!(i.handle("shrug", "u-1", &Map::new(), 10).is_err());
}

#[test]
fn rejection_and_names() {
    let mut i = incident();
    i.handle(REJECT, "u-1", &params(json!({"reason": "not ours"})), 2).unwrap();
    assert_eq!(i.status, IncidentStatus::Rejected);
    assert!(i.is_closed());
    let names = i.enum_data();
    assert!(names.contains(&json!({"filed_key": "level_id", "enum_key": "level_30", "name_zh": "P3", "name_en": "P3"})));
    assert!(names.contains(&json!({"filed_key": "work_flow_status", "enum_key": "INCIDENT_STATUS_REJECTED", "name_zh": "已驳回", "name_en": "REJECTED"})));
    assert!(AlarmLevel::Critical.at_least(AlarmLevel::Major));
    assert!(!AlarmLevel::Minor.at_least(AlarmLevel::Major));
}
