//! Incidents and alarm intake over HTTP on every backend.

use serde_json::{json, Value};

use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::alarms;
use coc_tests::{backends, serve, Backend, Client, Reply};

const CREATE: &str = "/v1/external/incident/create";
const HANDLE: &str = "/v1/external/incident/handle";

async fn clients() -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-inc").await;
        // Assignees are engineers: alice (who creates the integrations) and the on-call.
        client.sync_engineers(&[("u-oncall", "oncall")]).await;
        all.push((backend.name, client, backend));
    }
    all
}

fn incident_body() -> Value {
    json!({
        "region": ["cn-north-4"], "enterprise_project": ["0"], "current_cloud_service": ["app-1"],
        "incident_level": "level_20", "is_service_interrupt": "true", "incident_type": "inc_type_p_networking_issues",
        "incident_title": "VPN flapping", "incident_description": "tunnel drops every 5 minutes",
        "incident_source": "incident_source_manual", "incident_assignee": ["u-oncall"], "creator": "u-alice",
        "start_time": 1704067200000i64
    })
}

fn assert_envelope_error(reply: &Reply, status: u16, code: &str, mentions: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["provider_code"], "049");
    assert_eq!(reply.error_code(), code, "{}", reply.body);
    assert!(reply.error_msg().contains(mentions), "{} does not mention {mentions}", reply.error_msg());
    assert_eq!(reply.body["data"], Value::Null);
}

async fn handle(client: &Client, num: &str, key: &str, parameter: Value) -> Reply {
    client
        .post(HANDLE, &json!({"incident_num": num, "operator": "u-oncall", "operate_key": key, "parameter": parameter}))
        .await
}

async fn detail(client: &Client, num: &str) -> Value {
    let reply = client.get(&format!("/v1/external/incident/{num}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["error_code"], "GOM.00000000");
    reply.body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incidents_go_from_report_to_verified_fix() {
    for (name, client, _keep) in clients().await {
        let created = client.post(CREATE, &incident_body()).await;
        assert_eq!(created.status, 200, "{name}: {}", created.body);
        assert_eq!(created.body["provider_code"], "049");
        assert_eq!(created.body["error_code"], "GOM.00000000");
        let num = created.body["data"]["incident_num"].as_str().unwrap().to_owned();
        assert!(num.starts_with("IM") && num.len() == 26, "{num}");

        let d = detail(&client, &num).await;
        assert_eq!(d["status"], "INCIDENT_STATUS_TRIGGERED", "{name}");
        assert_eq!(d["is_service_interrupt"], true, "{name}: the string \"true\" is read as a boolean");
        assert_eq!(d["incident_level"], "level_20");
        assert_eq!(d["start_time"], 1704067200000i64);
        assert!(d["warroom_id"].as_str().unwrap().starts_with("WR"), "{name}: a region opens a war room");
        let names = d["enum_data_list"].as_array().unwrap();
        assert!(
            names.contains(&json!({"filed_key": "level_id", "enum_key": "level_20", "name_zh": "P2", "name_en": "P2"}))
        );
        assert!(names.contains(&json!({"filed_key": "mtm_type", "enum_key": "inc_type_p_networking_issues", "name_zh": "网络问题", "name_en": "networking issues"})));

        let early = handle(&client, &num, "commitSolution1", json!({})).await;
        assert_envelope_error(&early, 400, "GOM.00007257", "TRIGGERED");
        assert_eq!(handle(&client, &num, "acceptedIncident1", json!({})).await.status, 200, "{name}");
        assert_eq!(detail(&client, &num).await["status"], "INCIDENT_STATUS_ACKNOWLEDGED");

        let incomplete = handle(
            &client,
            &num,
            "commitSolution1",
            json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false, "cause": "x"}),
        )
        .await;
        assert_envelope_error(&incomplete, 400, "GOM.00007256", "parameter.solution");
        let solution = json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false, "cause": "MTU mismatch", "solution": "set MTU 1400"});
        assert_eq!(handle(&client, &num, "commitSolution1", solution.clone()).await.status, 200);
        let resolved = detail(&client, &num).await;
        assert_eq!(resolved["status"], "INCIDENT_STATUS_RESOLVED");
        assert!(resolved["handle_time"].as_i64().is_some(), "{name}");
        assert_eq!(resolved["is_service_interrupt"], false);

        let failed = json!({"virtual_confirm_result": false, "virtual_confirm_comment": "still flapping"});
        assert_eq!(handle(&client, &num, "confirm", failed).await.status, 200);
        assert_eq!(
            detail(&client, &num).await["status"],
            "INCIDENT_STATUS_ACKNOWLEDGED",
            "{name}: not verified, back to work"
        );
        assert_eq!(handle(&client, &num, "commitSolution1", solution).await.status, 200);
        assert_eq!(
            handle(
                &client,
                &num,
                "confirm",
                json!({"virtual_confirm_result": true, "virtual_confirm_comment": "stable"})
            )
            .await
            .status,
            200
        );
        let done = detail(&client, &num).await;
        assert_eq!(done["status"], "INCIDENT_STATUS_COMPLETED", "{name}");
        let history: Vec<&str> =
            done["history"].as_array().unwrap().iter().map(|h| h["operate_key"].as_str().unwrap()).collect();
        assert_eq!(
            history,
            ["create", "acceptedIncident1", "commitSolution1", "confirm", "commitSolution1", "confirm"]
        );
        assert_envelope_error(
            &handle(&client, &num, "acceptedIncident1", json!({})).await,
            400,
            "GOM.00007257",
            "COMPLETED",
        );

        let other =
            client.post(CREATE, &incident_body()).await.body["data"]["incident_num"].as_str().unwrap().to_owned();
        assert_eq!(handle(&client, &other, "rejectedIncident1", json!({"reason": "duplicate"})).await.status, 200);
        assert_eq!(detail(&client, &other).await["status"], "INCIDENT_STATUS_REJECTED");
        assert_envelope_error(
            &handle(&client, "IM000", "acceptedIncident1", json!({})).await,
            404,
            "GOM.00007404",
            "IM000",
        );
        assert_envelope_error(
            &handle(&client, &other, "escalate", json!({})).await,
            400,
            "GOM.00007256",
            "operate_key",
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_incidents_are_refused_naming_the_field() {
    for (name, client, _keep) in clients().await {
        let cases: Vec<(&str, Value)> = vec![
            ("incident_level", json!("level_60")),
            ("incident_type", json!("inc_type_p_boredom")),
            ("incident_source", json!("telepathy")),
            ("incident_title", json!("t".repeat(201))),
            ("incident_description", json!("d".repeat(601))),
            ("region", json!(["a", "b"])),
            ("current_cloud_service", json!([])),
            ("is_service_interrupt", json!("perhaps")),
            ("incident_assignee", json!([])),
            ("creator", json!("")),
        ];
        for (field, value) in cases {
            let mut body = incident_body();
            body[field] = value;
            assert_envelope_error(&client.post(CREATE, &body).await, 400, "GOM.00007256", field);
        }
        let mut missing = incident_body();
        missing.as_object_mut().unwrap().remove("incident_title");
        assert_envelope_error(&client.post(CREATE, &missing).await, 400, "GOM.00007256", "incident_title");
        let mut scene = incident_body();
        scene["incident_assignee"] = json!([]);
        scene["assignee_scene"] = json!("oncall");
        scene["assignee_role"] = json!("sre");
        scene["region"] = json!([]);
        let created = client.post(CREATE, &scene).await;
        assert_eq!(created.status, 200, "{name}: a scene and role are an assignee: {}", created.body);
        let num = created.body["data"]["incident_num"].as_str().unwrap();
        assert_eq!(detail(&client, num).await["warroom_id"], Value::Null, "{name}: no region, no war room");

        let stranger = client.in_project("p-stranger").await;
        assert_eq!(stranger.get(&format!("/v1/external/incident/{num}")).await.status, 404, "{name}");
        assert_eq!(handle(&stranger, num, "acceptedIncident1", json!({})).await.status, 404);
        assert_eq!(detail(&client, num).await["status"], "INCIDENT_STATUS_TRIGGERED");
    }
}

fn alarm(id: &str, level: &str, status: &str) -> Value {
    json!({"alarmId": id, "alarmName": "CPU usage over 90%", "alarmLevel": level, "time": 1709118444540i64,
           "nameSpace": "shanghai", "regionId": "eu-west-0", "applicationId": "app-42", "resourceName": "machine-1",
           "resourceId": "vm-1", "alarmDesc": "cpu 97%", "URL": "https://example.com", "alarmStatus": status,
           "alarmSource": "prometheus", "additional": {"team": "db"}})
}

async fn integration(client: &Client, threshold: &str) -> (String, String) {
    let reply = client
        .post(
            "/v1/integrations",
            &json!({"name": "prom", "alarm_level_threshold": threshold, "incident_level": "level_10"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    (data["integration_id"].as_str().unwrap().to_owned(), data["integration_key"].as_str().unwrap().to_owned())
}

async fn report(client: &Client, key: &str, body: &Value) -> Reply {
    client.unauthenticated().post(&format!("/v1/event/huawei/custom/{key}"), body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_are_deduplicated_and_open_one_incident() {
    for (name, client, backend) in clients().await {
        let (integration_id, key) = integration(&client, "Major").await;
        let project = ProjectId::parse("p-inc").unwrap();
        let store = backend.store.as_ref();

        let ok = report(&client, &key, &alarm("cpu-1", "Critical", "alarm")).await;
        assert_eq!(ok.status, 200, "{name}: {}", ok.body);
        assert_eq!(
            ok.body,
            json!({"error_code": "COC.00000000", "error_msg": "success", "data": null, "provider_code": "049"})
        );
        for _ in 0..3 {
            assert_eq!(report(&client, &key, &alarm("cpu-1", "Critical", "alarm")).await.status, 200);
        }
        let first = alarms::get_alarm(store, &project, &integration_id, "cpu-1").await.unwrap().unwrap().value;
        assert_eq!(first.occurrences, 4, "{name}");
        let num = first.incident_num.clone().expect("a Critical alarm opens an incident");
        let opened = detail(&client, &num).await;
        assert_eq!(opened["incident_source"], "incident_source_alarm");
        assert_eq!(opened["incident_level"], "level_10", "{name}: the rule's level");
        assert_eq!(opened["incident_title"], "CPU usage over 90%");
        assert_eq!(opened["current_cloud_service"], json!(["app-42"]));
        assert_eq!(opened["alarm"]["alarm_id"], "cpu-1");

        assert_eq!(report(&client, &key, &alarm("cpu-1", "Critical", "ok")).await.status, 200);
        let cleared = alarms::get_alarm(store, &project, &integration_id, "cpu-1").await.unwrap().unwrap().value;
        assert_eq!(cleared.status, coc_shared::domain::alarm::AlarmStatus::Ok, "{name}: ok clears");
        assert_eq!(cleared.incident_num.as_deref(), Some(num.as_str()));

        // Firing again while its incident is open: still the same incident.
        report(&client, &key, &alarm("cpu-1", "Critical", "alarm")).await;
        let again = alarms::get_alarm(store, &project, &integration_id, "cpu-1").await.unwrap().unwrap().value;
        assert_eq!(again.incident_num.as_deref(), Some(num.as_str()));
        // Once that incident is over, firing again opens a new one.
        handle(&client, &num, "rejectedIncident1", json!({})).await;
        report(&client, &key, &alarm("cpu-1", "Critical", "alarm")).await;
        let reopened = alarms::get_alarm(store, &project, &integration_id, "cpu-1").await.unwrap().unwrap().value;
        assert_ne!(reopened.incident_num.as_deref(), Some(num.as_str()), "{name}");

        report(&client, &key, &alarm("disk-1", "Minor", "alarm")).await;
        let minor = alarms::get_alarm(store, &project, &integration_id, "disk-1").await.unwrap().unwrap().value;
        assert_eq!(minor.incident_num, None, "{name}: below the rule's level, no incident");

        let listed = client.get("/v1/integrations").await.body["data"].clone();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert_eq!(listed[0]["integration_key"], key.as_str());
        let stranger = client.in_project("p-stranger").await;
        assert_eq!(stranger.get("/v1/integrations").await.body["data"], json!([]), "{name}");
        assert_eq!(stranger.delete(&format!("/v1/integrations/{integration_id}")).await.status, 404);
        assert_eq!(stranger.get(&format!("/v1/integrations/{integration_id}/alarms")).await.status, 404);
        let alarms = client.get(&format!("/v1/integrations/{integration_id}/alarms")).await.body["data"].clone();
        // Last reported first (access_patterns checks the order); here: each alarm once.
        let mut seen: Vec<(String, u64)> = alarms
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["alarm_id"].as_str().unwrap().to_owned(), a["occurrences"].as_u64().unwrap()))
            .collect();
        seen.sort();
        assert_eq!(seen, [("cpu-1".to_owned(), 7), ("disk-1".to_owned(), 1)], "{name}");
        assert_eq!(client.delete(&format!("/v1/integrations/{integration_id}")).await.status, 200);
        let gone = report(&client, &key, &alarm("cpu-2", "Critical", "alarm")).await;
        assert_eq!(gone.status, 401, "{name}: a deleted integration's key stops working");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_reports_are_refused() {
    for (name, client, _keep) in clients().await {
        let (_, key) = integration(&client, "Critical").await;
        let unknown = report(&client, "0123456789abcdef", &alarm("a", "Critical", "alarm")).await;
        assert_eq!(unknown.status, 401, "{name}");
        assert_eq!(
            unknown.body,
            json!({"error_code": "common.01010001", "error_msg": "Token missing or invalid.", "data": null, "provider_code": "049"})
        );

        let empty = report(&client, &key, &json!({"time": 1})).await;
        assert_eq!(empty.status, 400, "{name}");
        assert_eq!(empty.body["error_code"], "COC.00000001");
        let message = empty.body["error_msg"].as_str().unwrap();
        for field in ["alarmId", "alarmName", "alarmLevel", "nameSpace", "applicationId", "alarmDesc", "alarmSource"] {
            assert!(message.contains(&format!("{field} must not be null")), "{name}: {message}");
        }
        assert!(message.contains(" | "), "every problem is listed: {message}");
        for (field, value) in [
            ("alarmLevel", json!("Apocalyptic")),
            ("alarmStatus", json!("maybe")),
            ("time", json!("yesterday")),
            ("additional", json!([1])),
        ] {
            let mut body = alarm("a", "Critical", "alarm");
            body[field] = value;
            let reply = report(&client, &key, &body).await;
            assert_eq!(reply.status, 400, "{name}: {field}");
            assert!(reply.error_msg().contains(field), "{name}: {}", reply.error_msg());
        }
        let garbage =
            client.unauthenticated().send("POST", &format!("/v1/event/huawei/custom/{key}"), Some("{".into())).await;
        assert_eq!(garbage.status, 400);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_duplicates_open_exactly_one_incident() {
    for (name, client, backend) in clients().await {
        let (integration_id, key) = integration(&client, "Major").await;
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (client, key) = (client.clone(), key.clone());
                tokio::spawn(async move { report(&client, &key, &alarm("storm", "Critical", "alarm")).await.status })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200, "{name}");
        }
        let project = ProjectId::parse("p-inc").unwrap();
        let stored =
            alarms::get_alarm(backend.store.as_ref(), &project, &integration_id, "storm").await.unwrap().unwrap().value;
        assert_eq!(stored.occurrences, 16, "{name}: every duplicate is counted");
        let opened = backend.store.query_prefix("PROJECT#p-inc", "INCIDENT#").await.unwrap();
        assert_eq!(opened.len(), 1, "{name}: one alarm, one incident");
    }
}
