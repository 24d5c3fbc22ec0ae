use serde_json::json;

use super::*;

fn query(body: Value) -> Result<IncidentQuery, Invalid> {
    IncidentQuery::parse(&serde_json::from_value(body).unwrap())
}

fn field_of(body: Value) -> String {
    query(body).unwrap_err().0
}

#[test]
fn an_empty_body_is_the_first_page_of_everything_newest_first() {
    let q = query(json!({})).unwrap();
    assert_eq!((q.skip, q.per_page, q.newest_first, q.contain_total), (0, 10, true, true));
    assert_eq!(q.served_by(), Served::All);
    assert!(!q.filters_beyond(Served::All));
}

#[test]
fn filters_read_into_the_fields_they_name() {
    let q = query(json!({
        "page": 3, "per_page": 20,
        "string_filters": [
            {"field": "work_flow_status", "operator": "in", "values": ["INCIDENT_STATUS_TRIGGERED"]},
            {"field": "level_id", "operator": "in", "values": ["level_10", "level_20"]},
            {"field": "title", "operator": "like", "values": ["Disk"]},
        ],
        "int_filters": [
            {"field": "create_time", "operator": ">=", "values": [1000]},
            {"field": "create_time", "operator": "<", "values": ["2000"]},
        ],
        "sort_filter": {"field": "create_time", "operator": "asc"},
    }))
    .unwrap();
    assert_eq!(q.skip, 40);
    assert_eq!(q.statuses, [IncidentStatus::Triggered]);
    assert_eq!(q.levels, [IncidentLevel::P1, IncidentLevel::P2]);
    assert_eq!((q.created_from, q.created_to), (Some(1000), Some(1999)));
    assert!(!q.newest_first);
    assert_eq!(q.served_by(), Served::Status);
    assert!(q.filters_beyond(Served::Status), "level and title are walked");
}

#[test]
fn an_assignee_is_served_by_its_own_partition() {
    let q = query(json!({"string_filters": [
        {"field": "assignee", "operator": "=", "values": ["u-1"]},
        {"field": "work_flow_status", "operator": "=", "values": ["INCIDENT_STATUS_ACKNOWLEDGED"]},
    ]}))
    .unwrap();
    assert_eq!(q.served_by(), Served::Assignee);
    assert!(q.filters_beyond(Served::Assignee), "the status is walked");
}

#[test]
fn what_we_cannot_answer_is_refused_by_name() {
    assert_eq!(field_of(json!({"condition": "a | b"})), "condition");
    assert_eq!(field_of(json!({"count_filters": [{"name": "x"}]})), "count_filters");
    assert_eq!(field_of(json!({"group_by_filter": {"field": "x"}})), "group_by_filter");
    assert_eq!(field_of(json!({"contain_all": true})), "contain_all");
    assert_eq!(field_of(json!({"ticket_types": ["issues_mgmt"]})), "ticket_types[0]");
    assert_eq!(
        field_of(json!({"string_filters": [{"field": "colour", "operator": "=", "values": ["x"]}]})),
        "string_filters[0].field"
    );
    assert_eq!(
        field_of(json!({"string_filters": [{"field": "level_id", "operator": "in", "values": ["level_99"]}]})),
        "string_filters[0].values[0]"
    );
    assert_eq!(
        field_of(json!({"string_filters": [{"field": "creator", "operator": ">", "values": ["x"]}]})),
        "string_filters[0].operator"
    );
    assert_eq!(
        field_of(json!({"int_filters": [{"field": "create_time", "operator": ">", "values": ["soon"]}]})),
        "int_filters[0].values[0]"
    );
    assert_eq!(field_of(json!({"sort_filter": {"field": "title", "operator": "asc"}})), "sort_filter.field");
}

#[test]
fn paging_stays_within_its_limits() {
    assert_eq!(field_of(json!({"page": 0})), "page");
    assert_eq!(field_of(json!({"per_page": 201})), "per_page");
    assert!(query(json!({"per_page": 200, "page": 51})).is_ok(), "10 000 rows in");
    assert_eq!(field_of(json!({"per_page": 200, "page": 52})), "page");
}

#[test]
fn a_history_query_names_its_ticket_and_actions() {
    let body = serde_json::from_value(json!({"string_filters": [
        {"field": "ticket_id", "operator": "=", "values": ["IM1"]},
        {"field": "action", "operator": "in", "values": ["acceptedIncident1", "confirm"]},
    ]}))
    .unwrap();
    let q = HistoryQuery::parse(&body).unwrap();
    assert_eq!(q.ticket_id.as_deref(), Some("IM1"));
    assert_eq!(q.actions, ["acceptedIncident1", "confirm"]);
    assert!(!q.newest_first);
    let body =
        serde_json::from_value(json!({"string_filters": [{"field": "title", "operator": "=", "values": ["x"]}]}))
            .unwrap();
    assert_eq!(HistoryQuery::parse(&body).unwrap_err().0, "string_filters[0].field");
}
