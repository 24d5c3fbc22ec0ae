//! The reference's limits over HTTP, on every backend: each query and path
//! limit of the limits table, the 255-character alarm and incident texts, JSON
//! `null` for optional fields as Terraform sends it, and what ticket details show.

use serde_json::{json, Value};

use coc_shared::limits::{Place, Rule, TABLE};
use coc_shared::routes::Operation;
use coc_tests::{backends, serve, Backend, Client, Reply};

const SCRIPTS: &str = "/v1/job/scripts";
const ORDERS: &str = "/v1/job/script/orders";
const PATCH_REPORTS: &str = "/v1/patch/instance/compliant";

/// The compliance report the patch item limits are walked on.
fn limits_report_id() -> String {
    coc_shared::repositories::patch_reports::report_id("res-a1", "bl-limits")
}

async fn seed_report(backend: &Backend) {
    let report = coc_tests::patch_fixtures::report("res-a1", "bl-limits", 1, "SO1");
    let project = coc_shared::domain::tenant::ProjectId::parse("p-limits").unwrap();
    let items = coc_tests::patch_fixtures::items("pkg", 3);
    coc_shared::repositories::patch_reports::save(backend.store.as_ref(), &project, &report, &items).await.unwrap();
}

async fn clients() -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-limits").await;
        client.sync_engineers(&[("u-oncall", "oncall")]).await;
        all.push((backend.name, client, backend));
    }
    all
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.7", "floating_ip": "203.0.113.7",
                      "zone_id": "cn-north-4a", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// A script with a sensitive parameter, and a one-batch ticket of it on agent a1.
async fn ticket(client: &Client) -> (String, String) {
    let script = client.post(SCRIPTS, &coc_tests::script_body("limits")).await;
    assert_eq!(script.status, 200, "{}", script.body);
    let script_uuid = script.data_str();
    register(client, "a1").await;
    let body = json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": "res-a1", "agent_sn": "a1", "project_id": "p-limits", "region_id": "cn-north-4"}]}]
    });
    let executed = client.post(&format!("{SCRIPTS}/{script_uuid}"), &body).await;
    assert_eq!(executed.status, 200, "{}", executed.body);
    (script_uuid, executed.data_str())
}

/// Sends the request of a path entry: `field`, a path parameter, set to `value`.
async fn path_request(client: &Client, operation: Operation, field: &str, value: &str, execute_uuid: &str) -> Reply {
    match operation {
        Operation::GetScript => client.get(&format!("{SCRIPTS}/{value}")).await,
        Operation::GetScriptJob => client.get(&format!("{ORDERS}/{value}")).await,
        Operation::GetIncident => client.get(&format!("/v1/external/incident/{value}")).await,
        Operation::HandleIncidentV2 => client.get(&format!("/v2/incidents/{value}/tasks")).await,
        Operation::ListAlarms => client.get(&format!("/v1/integrations/{value}/alarms")).await,
        Operation::RevokeAgent => client.delete(&format!("/v1/agents/{value}")).await,
        Operation::GetPatchBaseline => client.get(&format!("/v1/patch/baselines/{value}")).await,
        Operation::GetNotification => client.get(&format!("/v1/notifications/{value}")).await,
        Operation::DownloadAttachment => client.get(&format!("/v1/incident/attachments/{value}")).await,
        Operation::ShowInstancePatchItems if field == "instance_compliant_id" => {
            client.get(&format!("{PATCH_REPORTS}/{value}")).await
        }
        Operation::ReportAlarm => {
            client.unauthenticated().post(&format!("/v1/event/huawei/custom/{value}"), &alarm("path")).await
        }
        _ => client.get(&path_with(operation, field, value, execute_uuid)).await,
    }
}

/// The request of `operation` with `field` (a query parameter or the batch
/// index in the path) set to `value`, other parameters valid.
fn path_with(operation: Operation, field: &str, value: &str, execute_uuid: &str) -> String {
    let query = |defaults: &[(&str, &str)]| -> String {
        let mut pairs: Vec<String> =
            defaults.iter().filter(|(name, _)| *name != field).map(|(name, v)| format!("{name}={v}")).collect();
        pairs.push(format!("{field}={value}"));
        pairs.join("&")
    };
    match operation {
        Operation::ListScripts => format!("{SCRIPTS}?{}", query(&[("limit", "10")])),
        Operation::ListPublicScripts => format!("/v1/job/public-scripts?{}", query(&[("limit", "10")])),
        Operation::ListScriptJobs => format!("{ORDERS}?{}", query(&[])),
        Operation::ListPatchBaselines => format!("/v1/patch/baselines?{}", query(&[("limit", "10")])),
        Operation::ListResources => {
            format!("/v1/resources?{}", query(&[("provider", "ecs"), ("type", "cloudservers"), ("limit", "10")]))
        }
        Operation::ListInstanceCompliant => format!("{PATCH_REPORTS}?{}", query(&[])),
        Operation::ListScheduledTask => format!("/v1/schedule/task?{}", query(&[])),
        Operation::ListScheduledTaskHistory => format!("/v1/schedule/task/history?{}", query(&[])),
        Operation::ShowInstancePatchItems => format!("{PATCH_REPORTS}/{}?{}", limits_report_id(), query(&[])),
        Operation::GetScriptJobBatch if field == "batch_index" => {
            format!("{ORDERS}/{execute_uuid}/batches/{value}?limit=10&marker=0")
        }
        Operation::GetScriptJobBatch => {
            format!("{ORDERS}/{execute_uuid}/batches/1?{}", query(&[("limit", "10"), ("marker", "0")]))
        }
        other => panic!("no query for {other:?}"),
    }
}

fn text_of(rule: Rule, size: i128) -> String {
    match rule {
        Rule::Chars(_) => "a".repeat(size as usize),
        _ => size.to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_query_and_path_limit_is_accepted_at_its_ends_and_rejected_past_them() {
    for (backend, client, keep) in clients().await {
        let (_, execute_uuid) = ticket(&client).await;
        seed_report(&keep).await;
        let mut walked = 0;
        for entry in TABLE.iter().filter(|e| e.place != Place::Body) {
            let (min, max) = match entry.rule {
                Rule::Chars(c) => (c.min as i128, c.max as i128),
                Rule::Range(r) => (i128::from(r.min), i128::from(r.max)),
                Rule::Items(i) => (i.min as i128, i.max as i128),
            };
            let in_path = entry.place == Place::Path;
            for size in [min, max] {
                let value = text_of(entry.rule, size);
                let reply = path_request(&client, entry.operation, entry.field, &value, &execute_uuid).await;
                // A path id within its limit is a well-formed request, for something that may not exist
                // (an unknown alarm intake key is refused as a credential).
                assert!(
                    reply.status == 200 || (in_path && [401, 404].contains(&reply.status)),
                    "{backend}: {:?} {} = {value} must be accepted: {} {}",
                    entry.operation,
                    entry.field,
                    reply.status,
                    reply.body
                );
            }
            // An empty path segment is another route, not an empty id.
            let past = if matches!(entry.rule, Rule::Chars(_)) && (min == 0 || in_path) {
                vec![max + 1]
            } else {
                vec![min - 1, max + 1]
            };
            for size in past {
                let value = text_of(entry.rule, size);
                let reply = path_request(&client, entry.operation, entry.field, &value, &execute_uuid).await;
                let what = format!("{:?} {} of {size}", entry.operation, entry.field);
                assert_eq!(reply.status, 400, "{backend}: {what} must be rejected: {}", reply.body);
                assert!(reply.error_msg().contains(entry.field), "{backend}: {what}: {}", reply.error_msg());
            }
            walked += 1;
        }
        assert!(walked >= 14, "{backend}: the table lost its query entries: {walked}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_batches_page_up_to_100_as_terraform_asks() {
    for (backend, client, _keep) in clients().await {
        let (_, execute_uuid) = ticket(&client).await;
        let page = client.get(&format!("{ORDERS}/{execute_uuid}/batches/1?limit=100&marker=0")).await;
        assert_eq!(page.status, 200, "{backend}: {}", page.body);
        assert_eq!(page.body["data"]["total_instances"], 1);
        let over = client.get(&format!("{ORDERS}/{execute_uuid}/batches/1?limit=101&marker=0")).await;
        assert_eq!(over.status, 400, "{backend}");
        let past_batches = client.get(&format!("{ORDERS}/{execute_uuid}/batches/21?limit=10&marker=0")).await;
        assert_eq!(past_batches.status, 400, "{backend}: the reference caps batch_index at 20: {}", past_batches.body);
        assert!(past_batches.error_msg().contains("batch_index"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_list_range_may_not_start_after_it_ends() {
    for (backend, client, _keep) in clients().await {
        ticket(&client).await;
        let reversed = client.get(&format!("{ORDERS}?start_time=2000&end_time=1999")).await;
        assert_eq!(reversed.status, 400, "{backend}: {}", reversed.body);
        assert!(reversed.error_msg().contains("start_time"), "{backend}: {}", reversed.error_msg());
        let instant = client.get(&format!("{ORDERS}?start_time=2000&end_time=2000")).await;
        assert_eq!(instant.status, 200, "{backend}: a range of one instant: {}", instant.body);
        assert_eq!(instant.body["data"]["total"], 0, "{backend}");
        let all = client.get(&format!("{ORDERS}?start_time=1&end_time={}", i64::MAX)).await;
        assert_eq!(all.body["data"]["total"], 1, "{backend}: {}", all.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticket_details_name_the_script_version_and_the_hosts_properties() {
    for (backend, client, _keep) in clients().await {
        let (script_uuid, execute_uuid) = ticket(&client).await;
        let script = client.get(&format!("{SCRIPTS}/{script_uuid}")).await.body["data"].clone();
        let info = client.get(&format!("{ORDERS}/{execute_uuid}")).await;
        assert_eq!(info.status, 200, "{backend}: {}", info.body);
        let properties = &info.body["data"]["properties"];
        assert!(properties["script_version_uuid"].is_u64(), "{backend}: a number, as the SDK types it: {properties}");
        assert_eq!(properties["script_version_uuid"], script["revision"], "{backend}: the revision that ran");
        assert_eq!(properties["script_version_name"], "1.0.0");

        let batch = client.get(&format!("{ORDERS}/{execute_uuid}/batches/1?limit=10&marker=0")).await;
        assert_eq!(batch.status, 200, "{backend}: {}", batch.body);
        let target = &batch.body["data"]["execute_instances"][0]["target_instance"];
        let host = &target["properties"];
        assert_eq!(host["host_name"], "host-a1", "{backend}: {target}");
        assert_eq!(host["fixed_ip"], "10.0.0.7");
        assert_eq!(host["floating_ip"], "203.0.113.7");
        assert_eq!(host["zone_id"], "cn-north-4a");
        assert_eq!(host["region_id"], "cn-north-4");
        assert_eq!(host["project_id"], "p-limits");
        assert!(host.as_object().unwrap().contains_key("application") && host["application"].is_null());
        assert!(host.as_object().unwrap().contains_key("group"));
        assert_eq!(target["agent_status"], "ONLINE");
    }
}

/// An integration: its id and its intake path.
async fn intake(client: &Client) -> (String, String) {
    let created = client.post("/v1/integrations", &json!({"name": "zabbix"})).await;
    assert_eq!(created.status, 200, "{}", created.body);
    let data = &created.body["data"];
    (
        data["integration_id"].as_str().unwrap().to_owned(),
        format!("/v1/event/huawei/custom/{}", data["integration_key"].as_str().unwrap()),
    )
}

fn alarm(id: &str) -> Value {
    json!({"alarmId": id, "alarmName": "cpu high", "alarmLevel": "Critical", "time": 1_709_118_444_540_i64,
           "nameSpace": "ns", "regionId": "cn-north-4", "applicationId": "app-1", "alarmDesc": "95%",
           "alarmSource": "zabbix"})
}

/// Every text field of an alarm report (table 4-75), each at most 255 characters.
const ALARM_TEXT_FIELDS: [&str; 10] = [
    "alarmId",
    "alarmName",
    "nameSpace",
    "regionId",
    "applicationId",
    "resourceName",
    "resourceId",
    "alarmDesc",
    "URL",
    "alarmSource",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarm_texts_take_255_characters_and_no_more() {
    let long = "r".repeat(255);
    for (backend, client, _keep) in clients().await {
        let (integration_id, path) = intake(&client).await;
        let intake_client = client.unauthenticated();
        let mut body = alarm("a-255");
        for field in ALARM_TEXT_FIELDS {
            body[field] = json!(long);
        }
        let reply = intake_client.post(&path, &body).await;
        assert_eq!(reply.status, 200, "{backend}: every text at 255 characters: {}", reply.body);
        // The incident it opened keeps the region and application whole.
        let alarms = client.get(&format!("/v1/integrations/{integration_id}/alarms")).await;
        let num = alarms.body["data"][0]["incident_num"].as_str().expect("the alarm opened an incident").to_owned();
        let incident = client.get(&format!("/v1/external/incident/{num}")).await.body["data"].clone();
        assert_eq!(incident["region"][0], long.as_str(), "{backend}");
        assert_eq!(incident["current_cloud_service"][0], long.as_str(), "{backend}");

        for field in ALARM_TEXT_FIELDS {
            let mut body = alarm("a-256");
            body[field] = json!("x".repeat(256));
            let reply = intake_client.post(&path, &body).await;
            assert_eq!(reply.status, 400, "{backend}: {field} of 256 characters: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{backend}: {}", reply.error_msg());
        }
    }
}

fn incident() -> Value {
    json!({
        "region": ["cn-north-4"], "enterprise_project": ["0"], "current_cloud_service": ["app-1"],
        "incident_level": "level_20", "is_service_interrupt": "true", "incident_type": "inc_type_p_networking_issues",
        "incident_title": "VPN flapping", "incident_description": "tunnel drops",
        "incident_source": "incident_source_manual", "incident_assignee": ["u-oncall"], "creator": "u-alice",
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_fields_take_255_characters_and_no_more() {
    let long = "i".repeat(255);
    for (backend, client, _keep) in clients().await {
        // The 255-character assignee must be an engineer too.
        client.sync_engineers(&[(long.as_str(), "long")]).await;
        let mut body = incident();
        for list in ["region", "enterprise_project", "current_cloud_service", "incident_assignee"] {
            body[list] = json!([long]);
        }
        for text in ["assignee_scene", "assignee_role", "creator"] {
            body[text] = json!(long);
        }
        let created = client.post("/v1/external/incident/create", &body).await;
        assert_eq!(created.status, 200, "{backend}: {}", created.body);
        let num = created.body["data"]["incident_num"].as_str().unwrap().to_owned();
        let detail = client.get(&format!("/v1/external/incident/{num}")).await.body["data"].clone();
        for field in ["region", "enterprise_project", "current_cloud_service", "incident_assignee"] {
            assert_eq!(detail[field][0], long.as_str(), "{backend}: {field}");
        }
        for field in ["assignee_scene", "assignee_role", "creator"] {
            assert_eq!(detail[field], long.as_str(), "{backend}: {field}");
        }

        for field in ["region", "enterprise_project", "current_cloud_service", "incident_assignee"] {
            let mut body = incident();
            body[field] = json!(["x".repeat(256)]);
            let reply = client.post("/v1/external/incident/create", &body).await;
            assert_eq!(reply.status, 400, "{backend}: {field}: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{backend}: {}", reply.error_msg());
        }
        for field in ["assignee_scene", "assignee_role", "creator"] {
            let mut body = incident();
            body[field] = json!("x".repeat(256));
            let reply = client.post("/v1/external/incident/create", &body).await;
            assert_eq!(reply.status, 400, "{backend}: {field}: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{backend}: {}", reply.error_msg());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn null_optional_fields_are_absent_as_terraform_sends_them() {
    for (backend, client, _keep) in clients().await {
        let script = json!({
            "name": "nulls", "type": "SHELL", "content": "echo hi", "description": "d",
            "properties": {"risk_level": "LOW", "version": "1", "reviewers": null, "protocol": null},
            "script_params": null, "enterprise_project_id": null,
        });
        let created = client.post(SCRIPTS, &script).await;
        assert_eq!(created.status, 200, "{backend}: {}", created.body);
        let uuid = created.data_str();
        let detail = client.get(&format!("{SCRIPTS}/{uuid}")).await.body["data"].clone();
        assert_eq!(detail["script_params"], json!([]), "{backend}");
        assert_eq!(detail["status"], "APPROVED", "{backend}: null reviewers are no reviewers");
        assert_eq!(detail["enterprise_project_id"], "0");

        let edit = json!({"description": "d2", "content": "echo hi", "properties": null, "script_params": null});
        let edited = client.put(&format!("{SCRIPTS}/{uuid}"), &edit).await;
        assert_eq!(edited.status, 200, "{backend}: {}", edited.body);

        register(&client, "a1").await;
        let beat = client.agent("a1").post("/v1/agents/a1/heartbeat", &json!({"running": null})).await;
        assert_eq!(beat.status, 200, "{backend}: {}", beat.body);
        let execute = json!({
            "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root", "resourceful": null,
                              "script_params": null},
            "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": "res-a1", "agent_sn": "a1", "project_id": "p-limits", "region_id": "cn-north-4"}]}]
        });
        let executed = client.post(&format!("{SCRIPTS}/{uuid}"), &execute).await;
        assert_eq!(executed.status, 200, "{backend}: {}", executed.body);
        let operated = client
            .put(
                &format!("{ORDERS}/{}/operation", executed.data_str()),
                &json!({"operation_type": "CANCEL_ORDER", "batch_index": null, "instance_id": null}),
            )
            .await;
        assert_eq!(operated.status, 200, "{backend}: {}", operated.body);

        let mut body = incident();
        for field in
            ["region", "enterprise_project", "assignee_scene", "assignee_role", "incident_ownership", "start_time"]
        {
            body[field] = Value::Null;
        }
        let created = client.post("/v1/external/incident/create", &body).await;
        assert_eq!(created.status, 200, "{backend}: {}", created.body);
        let num = created.body["data"]["incident_num"].as_str().unwrap().to_owned();
        let detail = client.get(&format!("/v1/external/incident/{num}")).await.body["data"].clone();
        assert_eq!(detail["region"], json!([]), "{backend}");
        assert_eq!(detail["warroom_id"], Value::Null, "{backend}: no region, no war room");
        let handled = client
            .post(
                "/v1/external/incident/handle",
                &json!({"incident_num": num, "operator": "u-oncall", "operate_key": "acceptedIncident1", "parameter": null}),
            )
            .await;
        assert_eq!(handled.status, 200, "{backend}: {}", handled.body);

        let integration = client
            .post(
                "/v1/integrations",
                &json!({"name": "z", "alarm_level_threshold": null, "incident_level": null, "incident_type": null,
                        "incident_assignee": null}),
            )
            .await;
        assert_eq!(integration.status, 200, "{backend}: {}", integration.body);
        assert_eq!(integration.body["data"]["alarm_level_threshold"], "Major", "{backend}: null is the default");
        let key = integration.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let mut report = alarm("nulls");
        for field in ["regionId", "resourceName", "resourceId", "URL", "alarmStatus", "additional"] {
            report[field] = Value::Null;
        }
        let reported = client.unauthenticated().post(&format!("/v1/event/huawei/custom/{key}"), &report).await;
        assert_eq!(reported.status, 200, "{backend}: {}", reported.body);
    }
}
