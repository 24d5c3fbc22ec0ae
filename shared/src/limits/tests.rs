//! Walks [`TABLE`]: every body field at its limits is accepted, and one past
//! them is rejected with a message naming the field. Query and path entries are
//! walked over HTTP by `tests/tests/limits_api.rs`.

use bytes::Bytes;
use http::{HeaderMap, Method};
use serde_json::{json, Value};

use super::*;
use crate::domain::alarm::manage::{AutoProcessRequest, ClearRequest, TransferRequest};
use crate::domain::alarm::{AlarmReport, NewIntegration};
use crate::domain::engineer::edit::{EngineerEdit, NewFederatedUser, SealedKeys, SubscribeRequest};
use crate::domain::engineer::Engineer;
use crate::domain::incident::{self, HandleRequest, Incident, NewIncident};
use crate::domain::job::agent::AgentRegistration;
use crate::domain::job::execute::Execution;
use crate::domain::job::operation::OperationRequest;
use crate::domain::job::patch::{InventoryReport, PatchExecution};
use crate::domain::patch::BaselineInput;
use crate::domain::prometheus::{LabelNames, Notification};
use crate::domain::schedule::TaskRequest;
use crate::domain::script::{NewScript, ReviewDecision, ScriptEdit};
use crate::domain::tenant::ProjectId;
use crate::domain::war_room::{ListQuery, NewWarRoom};
use crate::http::ApiRequest;

/// Decodes a body the way handlers do, so errors carry the field's path.
fn decode<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T, String> {
    let request = ApiRequest {
        method: Method::POST,
        path: "/".into(),
        path_params: Default::default(),
        query: Vec::new(),
        raw_query: None,
        headers: HeaderMap::new(),
        body: Bytes::from(body.to_string()),
    };
    request.json_body().map_err(|e| e.to_string())
}

fn param(order: usize) -> Value {
    json!({"param_name": format!("p{order}"), "param_value": "v", "param_description": "d", "param_order": order, "sensitive": false})
}

fn exec_param(order: usize) -> Value {
    json!({"param_name": format!("p{order}"), "param_value": "v", "param_order": order})
}

fn target(n: usize) -> Value {
    json!({"resource_id": format!("r{n}"), "agent_sn": format!("a{n}"), "project_id": "p", "region_id": "cn-north-4"})
}

fn batch(index: usize) -> Value {
    json!({"batch_index": index, "target_instances": [target(index)], "rotation_strategy": "CONTINUE"})
}

fn package(n: usize) -> Value {
    json!({"name": format!("p{n}"), "version": "1.0-1", "architecture": "amd64", "classification": "admin", "severity": "optional"})
}

fn prometheus_alert(n: usize) -> Value {
    json!({
        "status": "firing", "labels": {"alertname": "cpu", "instance": format!("web-{n}:9100"), "severity": "critical"},
        "annotations": {"summary": "cpu high"}, "startsAt": "2023-02-06T13:08:45.828Z",
        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom:9090/graph", "fingerprint": format!("{n:016x}"),
    })
}

fn new_incident() -> Value {
    json!({
        "region": ["cn-north-4"], "enterprise_project": ["0"], "current_cloud_service": ["app"],
        "incident_level": "level_30", "is_service_interrupt": "false", "incident_type": "inc_type_p_config_issues",
        "incident_title": "disk full", "incident_description": "no space", "incident_source": "incident_source_manual",
        "incident_assignee": ["u1"], "assignee_scene": "s", "assignee_role": "r", "creator": "u1",
        "incident_ownership": "o", "start_time": 1_700_000_000_000_i64,
    })
}

/// A valid request of `operation` that has the field `field`.
/// One batch of a scheduled task: entry `order_no` with one host of its own.
fn scheduled_batch(order_no: usize) -> Value {
    let hosts = json!([{"resource_id": format!("r{order_no}"), "agent_sn": format!("a{order_no}"),
                        "project_id": "p", "region_id": "local"}]);
    json!({"target_selection": "MANUAL", "order_no": order_no, "target_instances": hosts.to_string()})
}

fn base(operation: Operation, field: &str) -> Value {
    let properties =
        json!({"risk_level": "LOW", "version": "1.0", "reviewers": [{"reviewer_name": "r", "reviewer_id": ""}]});
    match operation {
        CreateScript => json!({
            "name": "base", "description": "d", "type": "SHELL", "content": "echo", "properties": properties,
            "script_params": [param(1)], "enterprise_project_id": "0",
        }),
        UpdateScript => {
            json!({"description": "d", "content": "echo", "properties": properties, "script_params": [param(1)]})
        }
        ReviewScript => json!({"status": "APPROVED", "comments": "fine"}),
        CreateScheduledTask | UpdateScheduledTask => crate::domain::schedule::tests::body("0 0 2 * * ?"),
        ExecuteScript => json!({
            "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root", "script_params": [exec_param(1)]},
            "execute_batches": [batch(1)],
        }),
        OperateScriptJob => json!({"operation_type": "CANCEL_INSTANCE", "batch_index": 1, "instance_id": 1}),
        CreateIncident => new_incident(),
        ClearAlarm => json!({"alarm_ids": "AL1,AL2", "remarks": "done"}),
        TransferAlarmToIncident => json!({
            "alarm_ids": "AL1", "title": "t", "description": "d", "level_id": "level_30",
            "mtm_type": "inc_type_p_config_issues", "current_cloud_service_id": "app", "is_service_interrupt": false,
            "assignee": "u1",
        }),
        HandlerAlarm => json!({
            "task_type": "SCRIPT", "associated_task_id": "SC1", "associated_task_type": "CUSTOMIZATION",
            "associated_task_name": "restart", "input_param": {"p": "v"},
        }),
        HandleIncident => match field {
            "parameter.cause" | "parameter.solution" => json!({
                "incident_num": "IM1", "operator": "u1", "operate_key": incident::COMMIT_SOLUTION,
                "parameter": {"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false, "cause": "c", "solution": "s"},
            }),
            "parameter.virtual_confirm_comment" => json!({
                "incident_num": "IM1", "operator": "u1", "operate_key": incident::CONFIRM,
                "parameter": {"virtual_confirm_result": true, "virtual_confirm_comment": "ok"},
            }),
            "parameter.virtual_send_assignee" | "parameter.virtual_send_comment" => json!({
                "incident_num": "IM1", "operator": "u1", "operate_key": incident::FORWARD_UNACCEPTED,
                "parameter": {"virtual_send_assignee": "u2", "virtual_send_comment": "over to you"},
            }),
            _ => json!({"incident_num": "IM1", "operator": "u1", "operate_key": incident::ACCEPT, "parameter": {}}),
        },
        ReportAlarm => json!({
            "alarmId": "a1", "alarmName": "cpu", "alarmLevel": "Major", "time": 1_700_000_000_000_i64,
            "nameSpace": "ns", "regionId": "cn-north-4", "applicationId": "app", "resourceName": "vm",
            "resourceId": "i-1", "alarmDesc": "high", "URL": "https://example.com", "alarmStatus": "alarm",
            "alarmSource": "zabbix", "additional": {},
        }),
        ReportPrometheusEvent => json!({
            "version": "4", "status": "firing", "receiver": "coc", "groupKey": "{}:{alertname=\"cpu\"}",
            "groupLabels": {"alertname": "cpu"}, "commonLabels": {"alertname": "cpu", "job": "node"},
            "commonAnnotations": {"description": "high"}, "externalURL": "http://am:9093", "truncatedAlerts": 0,
            "alerts": [prometheus_alert(0)],
        }),
        CreateIntegration => json!({"name": "zabbix", "incident_assignee": "u1"}),
        RegisterAgent => json!({
            "agent_sn": "a1", "resource_id": "r1", "region_id": "cn-north-4", "host_name": "web-1",
            "fixed_ip": "10.0.0.1", "floating_ip": "1.2.3.4", "zone_id": "cn-north-4a", "os_type": "linux",
        }),
        StartPatchJob => json!({
            "operation": "INSTALL", "baseline_id": "PB-default-debian", "timeout": 60, "success_rate": 100,
            "execute_batches": [batch(1)],
        }),
        ReportPatchInventory => json!({
            "attempt": 1,
            "inventory": {
                "operating_system": "Debian", "os_version": "12", "package_manager": "dpkg",
                "installed": [package(1)], "available": [package(1)], "reboot_required": true,
                "reboot_packages": ["p1"], "installed_now": ["p1"], "failed": ["p2"], "scanned_at": 1,
            },
        }),
        CreatePatchBaseline | UpdatePatchBaseline => json!({
            "name": "web", "description": "d", "operating_system": "Debian", "is_default": false,
            "approval_rules": [{"classifications": ["Security"], "severities": ["Critical"], "security_only": false,
                                "approve_after_days": 7, "compliance_level": "HIGH"}],
            "approved_patches": ["openssl"], "rejected_patches": ["telnet"], "approved_compliance_level": "LOW",
        }),
        AddEngineer => json!({"user_name": "sso.alice", "alias": "Alice", "identity_provider": "corp-idp"}),
        UpdateEngineer => json!({
            "alias": "Alice", "dingtalk_webhook": "https://oapi.dingtalk.com/robot/send?access_token=t",
            "dingtalk_key": "SECabc", "lark_webhook": "https://open.feishu.cn/open-apis/bot/v2/hook/x", "lark_key": "k",
        }),
        RequestSubscriptions => json!({"channels": ["EMAIL"]}),
        CreateWarRoom => json!({
            "war_room_name": "w", "description": "d", "application_id_list": ["app"], "region_code_list": ["r"],
            "incident_number": "IM1", "schedule_group": [], "war_room_admin": "admin", "participant": ["u1"],
            "enterprise_project_id": "0",
        }),
        ListWarRooms => json!({"limit": 10, "offset": 0, "title": "t", "incident_num": "IM1", "admin": ["u1"]}),
        other => panic!("no body for {other:?}"),
    }
}

/// Brings an incident to where `operate_key` applies, then applies it.
fn handle(request: HandleRequest) -> Result<(), String> {
    let new: NewIncident = decode(&new_incident())?;
    let mut incident = Incident::create(new, "IM1".into(), None, ProjectId::parse("p").unwrap(), 1);
    let empty = serde_json::Map::new();
    let solution =
        json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false, "cause": "c", "solution": "s"});
    let solution = solution.as_object().unwrap();
    let steps: Vec<(&str, &serde_json::Map<String, Value>)> = match request.operate_key.as_str() {
        incident::COMMIT_SOLUTION => vec![(incident::ACCEPT, &empty)],
        incident::CONFIRM => vec![(incident::ACCEPT, &empty), (incident::COMMIT_SOLUTION, solution)],
        _ => Vec::new(),
    };
    for (key, parameter) in steps {
        incident.handle(key, "u1", parameter, 2).expect("the way to the action is valid");
    }
    let parameter = request.parameter.unwrap_or_default();
    incident.handle(&request.operate_key, request.operator.as_str(), &parameter, 3).map_err(|e| e.to_string())
}

/// Runs the operation's validation on a body.
fn validate(operation: Operation, body: &Value) -> Result<(), String> {
    match operation {
        CreateScript => decode::<NewScript>(body).map(drop),
        UpdateScript => decode::<ScriptEdit>(body).map(drop),
        ReviewScript => decode::<ReviewDecision>(body).map(drop),
        ExecuteScript => decode::<Execution>(body).map(drop),
        OperateScriptJob => decode::<OperationRequest>(body).map(drop),
        CreateIncident => {
            decode::<NewIncident>(body)?.check().map_err(|(field, problem)| format!("{field}: {problem}"))
        }
        HandleIncident => handle(decode(body)?),
        ReportAlarm => AlarmReport::parse(body).map(drop),
        ReportPrometheusEvent => Notification::parse(body)?.reports(&LabelNames::default()).map(drop),
        CreateIntegration => decode::<NewIntegration>(body).map(drop),
        RegisterAgent => decode::<AgentRegistration>(body).map(drop),
        StartPatchJob => decode::<PatchExecution>(body).map(drop),
        ReportPatchInventory => decode::<InventoryReport>(body).map(drop),
        CreatePatchBaseline | UpdatePatchBaseline => decode::<BaselineInput>(body).map(drop),
        AddEngineer => decode::<NewFederatedUser>(body).map(drop),
        UpdateEngineer => {
            let edit: EngineerEdit = decode(body)?;
            let engineer = Engineer::iam(ProjectId::parse("p").unwrap(), "u1".into(), "u1".into(), 1);
            let sealed = SealedKeys {
                dingtalk: edit.dingtalk_key.clone().map(|k| k.map(String::from)),
                lark: edit.lark_key.clone().map(|k| k.map(String::from)),
            };
            engineer.apply(&edit, sealed, 2).map(drop).map_err(|(field, problem)| format!("{field}: {problem}"))
        }
        RequestSubscriptions => decode::<SubscribeRequest>(body).map(drop),
        ClearAlarm => decode::<ClearRequest>(body).map(drop),
        TransferAlarmToIncident => decode::<TransferRequest>(body)?
            .new_incident("u1", None)
            .map(drop)
            .map_err(|(field, problem)| format!("{field}: {problem}")),
        HandlerAlarm => {
            decode::<AutoProcessRequest>(body)?.named_hosts().map(drop).map_err(|(f, p)| format!("{f}: {p}"))
        }
        CreateWarRoom => decode::<NewWarRoom>(body)?.check().map_err(|(field, problem)| format!("{field}: {problem}")),
        ListWarRooms => decode::<ListQuery>(body)?.check().map_err(|(field, problem)| format!("{field}: {problem}")),
        CreateScheduledTask | UpdateScheduledTask => {
            decode::<TaskRequest>(body)?.check().map(drop).map_err(|(field, problem)| format!("{field}: {problem}"))
        }
        other => panic!("no validation for {other:?}"),
    }
}

#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        out.push(Step::Key(key));
        if !rest.is_empty() {
            out.push(Step::Index(rest.trim_end_matches(']').parse().unwrap()));
        }
    }
    out
}

fn slot<'a>(body: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(body, |value, step| match step {
        Step::Key(key) => &mut value[*key],
        Step::Index(i) => &mut value[*i],
    })
}

/// The leaf's name, which every rejection must mention.
fn leaf(field: &str) -> &str {
    let last = field.rsplit('.').next().unwrap();
    last.split('[').next().unwrap()
}

/// `n` distinct valid elements for the array at `field`.
fn elements(field: &str, n: usize) -> Value {
    let one = |i: usize| match field {
        "properties.reviewers" => json!({"reviewer_name": format!("r{i}"), "reviewer_id": ""}),
        "script_params" => param(i + 1),
        "execute_param.script_params" => exec_param(i + 1),
        "execute_batches" => batch(i + 1),
        "execute_batches[0].target_instances" => target(i + 1),
        "region" | "enterprise_project" | "current_cloud_service" | "incident_assignee" => json!(format!("x{i}")),
        "inventory.installed" | "inventory.available" => package(i + 1),
        "inventory.reboot_packages" | "inventory.installed_now" | "inventory.failed" => json!(format!("p{i}")),
        "approval_rules" => json!({"approve_after_days": 0, "compliance_level": "LOW"}),
        "approval_rules[0].classifications" | "approval_rules[0].severities" => json!(format!("v{i}")),
        "approved_patches" | "rejected_patches" => json!(format!("pkg{i}")),
        "channels" => json!(["EMAIL", "SMS", "VOICE"][i % 3]),
        "alerts" => prometheus_alert(i),
        "target_instances" => scheduled_batch(i + 1),
        "application_id_list" | "region_code_list" | "participant" | "admin" => json!(format!("x{i}")),
        other => panic!("no elements for {other}"),
    };
    Value::Array((0..n).map(one).collect())
}

/// The body with `field` set to a value of size `size` (characters, number, elements).
fn with(entry: &FieldLimit, size: i128) -> Value {
    let mut body = base(entry.operation, entry.field);
    let path = steps(entry.field);
    let value = match entry.rule {
        Rule::Chars(_) => json!("a".repeat(size as usize)),
        Rule::Items(_) => elements(entry.field, size as usize),
        Rule::Range(_) if size > i128::from(i64::MAX) => json!(size as u64),
        Rule::Range(_) => json!(size as i64),
    };
    // An index inside an array (param_order, batch_index) must still run 1, 2, … n:
    // reach `size` by having that many elements.
    let numbers_elements = entry.field.ends_with("_order") || entry.field.ends_with("batch_index");
    if let (Rule::Range(_), true, Some(array_end)) =
        (entry.rule, numbers_elements, path.iter().rposition(|s| matches!(s, Step::Index(_))))
    {
        let array_field: String = entry.field[..entry.field.rfind('[').unwrap()].to_owned();
        let count = usize::try_from(size).unwrap_or(0).max(1);
        *slot(&mut body, &path[..array_end]) = elements(&array_field, count);
        let mut last = path.to_vec();
        last[array_end] = Step::Index(count - 1);
        *slot(&mut body, &last) = value;
        return body;
    }
    *slot(&mut body, &path) = value.clone();
    // The scheduling scene and role go together: give the partner the same value.
    let partner = match entry.field {
        "assignee_scene" => Some("assignee_role"),
        "assignee_role" => Some("assignee_scene"),
        _ => None,
    };
    if let (Some(partner), Rule::Chars(limit)) = (partner, entry.rule) {
        if (limit.min..=limit.max).contains(&(size as usize)) {
            body[partner] = value;
        }
    }
    body
}

fn bounds(rule: Rule) -> (i128, i128) {
    match rule {
        Rule::Chars(c) => (c.min as i128, c.max as i128),
        Rule::Items(i) => (i.min as i128, i.max as i128),
        Rule::Range(r) => (i128::from(r.min), i128::from(r.max)),
    }
}

#[test]
fn every_body_field_is_accepted_at_its_limits_and_rejected_past_them() {
    let mut walked = 0;
    for entry in TABLE.iter().filter(|e| e.place == Place::Body) {
        let (min, max) = bounds(entry.rule);
        for size in [min, max] {
            let body = with(entry, size);
            if let Err(problem) = validate(entry.operation, &body) {
                panic!("{:?} {} of size {size} must be accepted: {problem}", entry.operation, entry.field);
            }
        }
        let past: Vec<i128> = match entry.rule {
            // Negative lengths do not exist.
            Rule::Chars(_) | Rule::Items(_) if min == 0 => vec![max + 1],
            _ => vec![min - 1, max + 1],
        };
        for size in past {
            let body = with(entry, size);
            match validate(entry.operation, &body) {
                Ok(()) => panic!("{:?} {} of size {size} must be rejected", entry.operation, entry.field),
                Err(problem) => assert!(
                    problem.contains(leaf(entry.field)),
                    "{:?} {} of size {size}: the rejection must name the field: {problem}",
                    entry.operation,
                    entry.field
                ),
            }
        }
        walked += 1;
    }
    assert!(walked >= 80, "the table lost entries: {walked}");
}

#[test]
fn text_limits_count_characters_not_bytes() {
    assert!(ALARM_TEXT.check(&"é".repeat(255)).is_ok());
    assert!(ALARM_TEXT.check(&"é".repeat(256)).is_err());
}

#[test]
fn the_limits_the_issue_names_are_the_references() {
    // Spec table 4-75: every alarm text is at most 255 characters.
    assert_eq!(ALARM_TEXT.max, 255);
    assert_eq!(ALARM_OPTIONAL_TEXT, Chars { min: 0, max: 255 });
    // Table 4-59: the incident's lists, scene, role and creator hold 255.
    assert_eq!(INCIDENT_LIST_ITEM.max, 255);
    assert_eq!(INCIDENT_TEXT.max, 255);
    assert_eq!(INCIDENT_USER.max, 255);
}

/// Optional fields sent as JSON `null`, as Terraform and hand-written clients do.
const NULLABLE: &[(Operation, &str)] = &[
    (CreateScript, "enterprise_project_id"),
    (CreateScript, "script_params"),
    (CreateScript, "properties.reviewers"),
    (CreateScript, "properties.protocol"),
    (UpdateScript, "properties"),
    (UpdateScript, "script_params"),
    (UpdateScript, "properties.reviewers"),
    (ReviewScript, "comments"),
    (ExecuteScript, "execute_param.resourceful"),
    (ExecuteScript, "execute_param.script_params"),
    (OperateScriptJob, "batch_index"),
    (OperateScriptJob, "instance_id"),
    (CreateIncident, "region"),
    (CreateIncident, "enterprise_project"),
    (CreateIncident, "assignee_scene"),
    (CreateIncident, "assignee_role"),
    (CreateIncident, "incident_ownership"),
    (CreateIncident, "start_time"),
    (HandleIncident, "parameter"),
    (ReportAlarm, "regionId"),
    (ReportAlarm, "resourceName"),
    (ReportAlarm, "resourceId"),
    (ReportAlarm, "URL"),
    (ReportAlarm, "alarmStatus"),
    (ReportAlarm, "additional"),
    (CreateIntegration, "alarm_level_threshold"),
    (CreateIntegration, "incident_level"),
    (CreateIntegration, "incident_type"),
    (CreateIntegration, "incident_assignee"),
    (CreateIntegration, "prometheus_severity_label"),
    (CreateIntegration, "prometheus_resource_label"),
    (RegisterAgent, "host_name"),
    (RegisterAgent, "fixed_ip"),
    (RegisterAgent, "floating_ip"),
    (RegisterAgent, "zone_id"),
    (RegisterAgent, "os_type"),
    (StartPatchJob, "baseline_id"),
    (StartPatchJob, "timeout"),
    (StartPatchJob, "success_rate"),
    (CreatePatchBaseline, "description"),
    (CreatePatchBaseline, "is_default"),
    (CreatePatchBaseline, "approval_rules"),
    (CreatePatchBaseline, "approval_rules[0].classifications"),
    (CreatePatchBaseline, "approval_rules[0].security_only"),
    (CreatePatchBaseline, "approved_patches"),
    (CreatePatchBaseline, "rejected_patches"),
    (CreatePatchBaseline, "approved_compliance_level"),
];

#[test]
fn null_for_an_optional_field_is_absent() {
    for (operation, field) in NULLABLE {
        let mut body = base(*operation, field);
        if *field == "assignee_scene" || *field == "assignee_role" {
            // They go together: null both.
            body["assignee_scene"] = Value::Null;
            body["assignee_role"] = Value::Null;
        }
        *slot(&mut body, &steps(field)) = Value::Null;
        if let Err(problem) = validate(*operation, &body) {
            panic!("{operation:?} with {field}: null must be accepted as absent: {problem}");
        }
    }
    // Incidents with every list null still need an assignee: the scene and role give one.
    let mut body = new_incident();
    body["incident_assignee"] = Value::Null;
    let new: NewIncident = decode(&body).unwrap();
    assert!(new.check().is_ok());
    assert!(new.incident_assignee.first().is_none());
}

#[test]
fn null_defaults_are_the_absent_defaults() {
    let absent: NewIntegration = decode(&json!({"name": "z"})).unwrap();
    let null: NewIntegration =
        decode(&json!({"name": "z", "alarm_level_threshold": null, "incident_level": null, "incident_type": null}))
            .unwrap();
    assert_eq!(absent.alarm_level_threshold, null.alarm_level_threshold);
    assert_eq!(absent.incident_level, null.incident_level);
    assert_eq!(absent.incident_type, null.incident_type);
    let script: NewScript = decode(&json!({
        "name": "n", "description": "d", "type": "SHELL", "content": "c",
        "properties": {"risk_level": "LOW", "version": "1", "reviewers": null, "protocol": null},
        "script_params": null, "enterprise_project_id": null,
    }))
    .unwrap();
    assert!(script.script_params.iter().next().is_none());
    assert!(script.properties.reviewers.is_empty());
}
