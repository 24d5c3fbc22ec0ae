//! Alarm management (`/v1/alarm-mgmt/*`) over HTTP on every backend: show,
//! history, batch clear, transfer to an incident, auto-process on an agent, the
//! tenant-wide list, and the integrations' auto-recovery rule.

use std::time::Duration;

use serde_json::{json, Value};

use coc_tests::{backends, script_body, serve, Backend, Client, Reply};

const PROJECT: &str = "p-alm";
const CLEAR: &str = "/v1/alarm-mgmt/alarms/cancel";
const TRANSFER: &str = "/v1/alarm-mgmt/alarms-linked-incident";
const LIST: &str = "/v1/alarm-mgmt/alarms";

struct Setup {
    name: &'static str,
    client: Client,
    _backend: Backend,
}

async fn setups() -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), PROJECT).await;
        client.sync_engineers(&[("u-oncall", "oncall")]).await;
        all.push(Setup { name: backend.name, client, _backend: backend });
    }
    all
}

/// A new integration → its (id, key).
async fn integration(client: &Client, body: Value) -> (String, String) {
    let reply = client.post("/v1/integrations", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    (data["integration_id"].as_str().unwrap().to_owned(), data["integration_key"].as_str().unwrap().to_owned())
}

fn report_body(alarm_id: &str, level: &str, status: &str, resource: &str) -> Value {
    json!({"alarmId": alarm_id, "alarmName": format!("{alarm_id} is failing"), "alarmLevel": level,
           "time": 1_709_118_444_540_i64, "nameSpace": "ns", "applicationId": "app-1", "alarmDesc": "it broke",
           "alarmSource": "prometheus", "alarmStatus": status, "resourceId": resource, "regionId": "cn-north-4"})
}

async fn report(client: &Client, key: &str, body: &Value) {
    let reply = client.unauthenticated().post(&format!("/v1/event/huawei/custom/{key}"), body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The public id of an integration's alarm, from the tenant-wide list.
async fn public_id(client: &Client, integration_id: &str, source_alarm_id: &str) -> String {
    let reply = client.get(&format!("{LIST}?integration_id={integration_id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rows = reply.body["data"].as_array().unwrap();
    let row = rows.iter().find(|r| r["source_alarm_id"] == source_alarm_id).expect("the alarm is listed");
    row["id"].as_str().unwrap().to_owned()
}

async fn show(client: &Client, id: &str) -> Value {
    let reply = client.get(&format!("/v1/alarm-mgmt/alarm/{id}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

async fn histories(client: &Client, id: &str, query: &str) -> Value {
    let reply = client.get(&format!("/v1/alarm-mgmt/alarm/{id}/handle-histories{query}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body.clone()
}

/// The `task_type`s of an alarm's history, oldest first.
async fn kinds(client: &Client, id: &str) -> Vec<String> {
    let body = histories(client, id, "?offset=0&limit=100").await;
    let mut kinds: Vec<String> = body["alarm_handle_histories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

async fn clear(client: &Client, ids: &str, remarks: &str) -> Reply {
    client.post(CLEAR, &json!({"alarm_ids": ids, "remarks": remarks, "is_service_interrupt": false})).await
}

async fn incident(client: &Client, num: &str) -> Value {
    let reply = client.get(&format!("/v1/external/incident/{num}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

fn transfer_body(ids: &str) -> Value {
    json!({"alarm_ids": ids, "title": "checkout is down", "description": "alarms from checkout",
           "level_id": "level_20", "mtm_type": "inc_type_p_reliability_issues", "current_cloud_service_id": "app-1",
           "is_service_interrupt": true, "assignee": "u-oncall", "is_change_event": false})
}

fn assert_invalid(name: &str, reply: &Reply, field: &str) {
    assert_eq!(reply.status, 400, "{name}: {field}: {}", reply.body);
    assert!(reply.error_msg().contains(field), "{name}: {:?} does not name {field}", reply.error_msg());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_is_shown_with_its_history_and_cleared_once() {
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "checkout"})).await;
        let body = report_body("disk", "Minor", "alarm", "host-1");
        report(&client, &key, &body).await;
        report(&client, &key, &body).await;
        let id = public_id(&client, &integration_id, "disk").await;
        assert!(id.starts_with("AL") && id.len() == 32, "{name}: {id}");

        let shown = show(&client, &id).await;
        assert_eq!(shown["id"], id.as_str());
        assert_eq!(shown["name"], "disk is failing");
        assert_eq!(shown["importance"], "minor");
        assert_eq!(shown["status"], "alarming");
        assert_eq!(shown["converge_count"], 2, "{name}: both reports counted");
        assert_eq!(shown["transfer_rule"], integration_id.as_str());
        assert_eq!(shown["transfer_rule_name"], "checkout");
        assert_eq!(shown["region"], "cn-north-4");
        assert_eq!(shown["resource_id"], "host-1");
        assert_eq!(shown["associate_event_id"], Value::Null, "{name}: Minor is below the rule's Major");

        let cleared = clear(&client, &format!("{id}, ALnope"), "fixed the disk").await;
        assert_eq!(cleared.status, 200, "{name}: {}", cleared.body);
        assert_eq!(cleared.body["data"], json!([format!("{id}:cleared"), "ALnope:not_found"]), "{name}");
        let again = clear(&client, &id, "again").await;
        assert_eq!(again.body["data"], json!([format!("{id}:already_cleared")]), "{name}: cleared once");
        assert_eq!(show(&client, &id).await["status"], "resolved");

        assert_eq!(kinds(&client, &id).await, ["REPORTED", "REPEATED", "CLEARED"], "{name}");
        let history = histories(&client, &id, "?offset=0&limit=10").await;
        assert_eq!(history["count"], 3, "{name}");
        let latest = &history["alarm_handle_histories"][0];
        assert_eq!(latest["create_name"], "u-alice", "{name}: who cleared it");
        assert_eq!(latest["remarks"], "fixed the disk");
        assert_eq!(latest["status"], "resolved");
        assert_eq!(history["resolved_record"]["create_name"], "u-alice");
        assert_eq!(history["resolved_record"]["remarks"], "fixed the disk");
        // Paging: the second page of one holds the second latest.
        let second = histories(&client, &id, "?offset=1&limit=1").await;
        assert_eq!(second["alarm_handle_histories"].as_array().unwrap().len(), 1);
        assert_eq!(second["alarm_handle_histories"][0]["kind"], "REPEATED", "{name}");
        assert_eq!(second["count"], 3);

        // It fires again: reopened, and a report of `ok` clears it again.
        report(&client, &key, &body).await;
        assert_eq!(show(&client, &id).await["status"], "alarming", "{name}");
        report(&client, &key, &report_body("disk", "Minor", "ok", "host-1")).await;
        assert_eq!(show(&client, &id).await["status"], "resolved", "{name}");
        assert_eq!(kinds(&client, &id).await, ["REPORTED", "REPEATED", "CLEARED", "REOPENED", "CLEARED"], "{name}");
        let missing = client.get("/v1/alarm-mgmt/alarm/ALdoesnotexist").await;
        assert_eq!(missing.status, 404, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_list_filters_pages_and_counts() {
    for Setup { name, client, .. } in setups().await {
        let (first, key_a) = integration(&client, json!({"name": "a"})).await;
        let (second, key_b) = integration(&client, json!({"name": "b"})).await;
        report(&client, &key_a, &report_body("cpu", "Critical", "alarm", "host-1")).await;
        report(&client, &key_a, &report_body("mem", "Minor", "alarm", "host-2")).await;
        report(&client, &key_b, &report_body("net", "Minor", "alarm", "host-1")).await;
        report(&client, &key_b, &report_body("net", "Minor", "ok", "host-1")).await;

        let all = client.get(LIST).await;
        assert_eq!(all.status, 200, "{name}: {}", all.body);
        let names: Vec<&str> =
            all.body["data"].as_array().unwrap().iter().map(|r| r["source_alarm_id"].as_str().unwrap()).collect();
        assert_eq!(names, ["net", "mem", "cpu"], "{name}: the most recently reported first");
        assert_eq!(all.body["count"], 3);

        let ids = |reply: &Reply| -> Vec<String> {
            reply.body["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["source_alarm_id"].as_str().unwrap().to_owned())
                .collect()
        };
        let alarming = client.get(&format!("{LIST}?status=alarming")).await;
        assert_eq!(ids(&alarming), ["mem", "cpu"], "{name}");
        assert_eq!(alarming.body["count"], 2, "{name}: the state's counter");
        let resolved = client.get(&format!("{LIST}?status=resolved")).await;
        assert_eq!(ids(&resolved), ["net"], "{name}");
        assert_eq!(resolved.body["count"], 1);
        let urgent = client.get(&format!("{LIST}?importance=urgent")).await;
        assert_eq!(ids(&urgent), ["cpu"], "{name}");
        assert_eq!(urgent.body["count"], 1);
        let on_host = client.get(&format!("{LIST}?resource_id=host-1")).await;
        assert_eq!(ids(&on_host), ["net", "cpu"], "{name}");
        let of_b = client.get(&format!("{LIST}?integration_id={second}")).await;
        assert_eq!(ids(&of_b), ["net"], "{name}");
        assert_eq!(of_b.body["count"], 1);
        let of_a_alarming = client.get(&format!("{LIST}?integration_id={first}&status=alarming")).await;
        assert_eq!(ids(&of_a_alarming), ["mem", "cpu"], "{name}");
        assert_eq!(of_a_alarming.body["count"], 2);

        // Paging: a page of two, then the rest after its marker.
        let page = client.get(&format!("{LIST}?limit=2")).await;
        assert_eq!(ids(&page), ["net", "mem"], "{name}");
        let marker = page.body["next_marker"].as_str().expect("a next page").to_owned();
        let rest = client.get(&format!("{LIST}?limit=2&marker={}", marker.replace('#', "%23"))).await;
        assert_eq!(ids(&rest), ["cpu"], "{name}");
        assert_eq!(rest.body["next_marker"], Value::Null);

        // Time range: when last reported. Everything so far is before `later`.
        let update = |r: &Value| r["update_time"].as_i64().unwrap();
        let times: Vec<i64> = all.body["data"].as_array().unwrap().iter().map(update).collect();
        let (newest, oldest) = (times[0], times[2]);
        let window = client.get(&format!("{LIST}?start_time={oldest}&end_time={newest}")).await;
        assert_eq!(ids(&window), ["net", "mem", "cpu"], "{name}");
        let before = client.get(&format!("{LIST}?end_time={}", oldest - 1)).await;
        assert!(ids(&before).is_empty(), "{name}");
        let after = client.get(&format!("{LIST}?start_time={}", newest + 1)).await;
        assert!(ids(&after).is_empty(), "{name}");
        assert_eq!(after.body["count"], 0);

        for (query, field) in [
            ("status=bogus", "status"),
            ("importance=loud", "importance"),
            ("start_time=5&end_time=4", "start_time"),
            ("limit=0", "limit"),
            ("marker=nonsense", "marker"),
            ("start_time=-1", "start_time"),
        ] {
            assert_invalid(name, &client.get(&format!("{LIST}?{query}")).await, field);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_resolves_the_linked_incident_when_the_rule_says_so() {
    for Setup { name, client, .. } in setups().await {
        let (recovering, key) = integration(&client, json!({"name": "auto", "auto_recover_incident": true})).await;
        let (manual, manual_key) = integration(&client, json!({"name": "manual"})).await;
        report(&client, &key, &report_body("api", "Critical", "alarm", "h")).await;
        report(&client, &manual_key, &report_body("api", "Critical", "alarm", "h")).await;
        let (auto_id, manual_id) =
            (public_id(&client, &recovering, "api").await, public_id(&client, &manual, "api").await);
        let auto_num = show(&client, &auto_id).await["associate_event_id"].as_str().unwrap().to_owned();
        let manual_num = show(&client, &manual_id).await["associate_event_id"].as_str().unwrap().to_owned();
        assert_eq!(incident(&client, &auto_num).await["status"], "INCIDENT_STATUS_TRIGGERED");

        // The monitoring says it is over: the rule resolves the incident in the same write.
        report(&client, &key, &report_body("api", "Critical", "ok", "h")).await;
        let resolved = incident(&client, &auto_num).await;
        assert_eq!(resolved["status"], "INCIDENT_STATUS_RESOLVED", "{name}: {resolved}");
        let steps: Vec<(&str, &str)> = resolved["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["operate_key"].as_str().unwrap(), h["operator"].as_str().unwrap()))
            .collect();
        assert_eq!(
            steps[1..],
            [("acceptedIncident1", "auto-recovery"), ("commitSolution1", "auto-recovery")],
            "{name}: through the workflow"
        );
        assert_eq!(kinds(&client, &auto_id).await, ["REPORTED", "LINKED_INCIDENT", "CLEARED", "INCIDENT_RECOVERED"]);

        // Without the rule, a clear leaves the incident to people.
        let cleared = clear(&client, &manual_id, "done").await;
        assert_eq!(cleared.body["data"], json!([format!("{manual_id}:cleared")]), "{name}");
        assert_eq!(incident(&client, &manual_num).await["status"], "INCIDENT_STATUS_TRIGGERED", "{name}");

        // With it, a person's clear resolves an incident already accepted.
        report(&client, &key, &report_body("db", "Critical", "alarm", "h")).await;
        let db = public_id(&client, &recovering, "db").await;
        let db_num = show(&client, &db).await["associate_event_id"].as_str().unwrap().to_owned();
        let accept = json!({"incident_num": db_num, "operator": "u-oncall", "operate_key": "acceptedIncident1"});
        assert_eq!(client.post("/v1/external/incident/handle", &accept).await.status, 200);
        assert_eq!(clear(&client, &db, "restarted").await.body["data"], json!([format!("{db}:cleared")]));
        let db_incident = incident(&client, &db_num).await;
        assert_eq!(db_incident["status"], "INCIDENT_STATUS_RESOLVED", "{name}");
        assert_eq!(db_incident["history"].as_array().unwrap().len(), 3, "{name}: create, accept, the rule's solution");
    }
}

/// An incident's actions as (action, operator), oldest first, from its v2 timeline.
async fn timeline(client: &Client, num: &str) -> Vec<(String, String)> {
    let reply = client.post(&format!("/v2/incidents/{num}/histories"), &json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let info = reply.body["data"]["info"].as_array().unwrap().clone();
    info.iter()
        .map(|h| (h["action"].as_str().unwrap().to_owned(), h["operator"].as_str().unwrap().to_owned()))
        .collect()
}

fn status(incident: &Value) -> &str {
    incident["status"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_recovery_waits_for_the_last_firing_alarm_of_the_incident() {
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "auto", "auto_recover_incident": true})).await;
        // An incident of two alarms (a transfer): the first clear leaves it open.
        for alarm in ["x", "y"] {
            report(&client, &key, &report_body(alarm, "Minor", "alarm", "h")).await;
        }
        let (x, y) = (public_id(&client, &integration_id, "x").await, public_id(&client, &integration_id, "y").await);
        let created = client.post(TRANSFER, &transfer_body(&format!("{x},{y}"))).await;
        assert_eq!(created.status, 200, "{name}: {}", created.body);
        let num = created.body["data"][0].as_str().unwrap().to_owned();
        assert_eq!(clear(&client, &x, "x is fine").await.body["data"], json!([format!("{x}:cleared")]));
        assert_eq!(status(&incident(&client, &num).await), "INCIDENT_STATUS_TRIGGERED", "{name}: y still fires");
        // x fires again, y clears: x still fires, so still open.
        report(&client, &key, &report_body("x", "Minor", "alarm", "h")).await;
        report(&client, &key, &report_body("y", "Minor", "ok", "h")).await;
        assert_eq!(status(&incident(&client, &num).await), "INCIDENT_STATUS_TRIGGERED", "{name}: x fires again");
        assert_eq!(kinds(&client, &y).await, ["REPORTED", "LINKED_INCIDENT", "CLEARED"], "{name}");
        // The last one clears: resolved, by that alarm's clear.
        report(&client, &key, &report_body("x", "Minor", "ok", "h")).await;
        assert_eq!(status(&incident(&client, &num).await), "INCIDENT_STATUS_RESOLVED", "{name}");
        assert_eq!(
            kinds(&client, &x).await,
            ["REPORTED", "LINKED_INCIDENT", "CLEARED", "REOPENED", "CLEARED", "INCIDENT_RECOVERED"],
            "{name}"
        );

        // An incident a report opened, with another alarm linked to it later.
        report(&client, &key, &report_body("api", "Critical", "alarm", "h")).await;
        report(&client, &key, &report_body("db", "Minor", "alarm", "h")).await;
        let (api, db) =
            (public_id(&client, &integration_id, "api").await, public_id(&client, &integration_id, "db").await);
        let opened = show(&client, &api).await["associate_event_id"].as_str().unwrap().to_owned();
        let linked = client.post(TRANSFER, &json!({"alarm_ids": db, "incident_num": opened})).await;
        assert_eq!(linked.status, 200, "{name}: {}", linked.body);
        report(&client, &key, &report_body("api", "Critical", "ok", "h")).await;
        assert_eq!(status(&incident(&client, &opened).await), "INCIDENT_STATUS_TRIGGERED", "{name}: db fires");
        assert_eq!(clear(&client, &db, "db is fine").await.body["data"], json!([format!("{db}:cleared")]));
        assert_eq!(status(&incident(&client, &opened).await), "INCIDENT_STATUS_RESOLVED", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_clearing_at_once_resolve_their_incident_exactly_once() {
    const ALARMS: usize = 4;
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "race", "auto_recover_incident": true})).await;
        for round in 0..3 {
            let mut ids = Vec::new();
            for n in 0..ALARMS {
                let alarm = format!("r{round}-{n}");
                report(&client, &key, &report_body(&alarm, "Minor", "alarm", "h")).await;
                ids.push(public_id(&client, &integration_id, &alarm).await);
            }
            let created = client.post(TRANSFER, &transfer_body(&ids.join(","))).await;
            assert_eq!(created.status, 200, "{name}: {}", created.body);
            let num = created.body["data"][0].as_str().unwrap().to_owned();
            // Half cleared by people, half by the monitoring, all at once.
            let tasks: Vec<_> = ids
                .iter()
                .enumerate()
                .map(|(n, id)| {
                    let (client, id, key, alarm) = (client.clone(), id.clone(), key.clone(), format!("r{round}-{n}"));
                    tokio::spawn(async move {
                        if n % 2 == 0 {
                            let reply = clear(&client, &id, "fixed").await;
                            assert_eq!(reply.body["data"], json!([format!("{id}:cleared")]), "{}", reply.body);
                        } else {
                            report(&client, &key, &report_body(&alarm, "Minor", "ok", "h")).await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
            assert_eq!(status(&incident(&client, &num).await), "INCIDENT_STATUS_RESOLVED", "{name}: round {round}");
            let actions = timeline(&client, &num).await;
            let solutions = actions.iter().filter(|(a, _)| a == "commitSolution1").count();
            assert_eq!(solutions, 1, "{name}: resolved once: {actions:?}");
            let mut recovered = 0;
            for id in &ids {
                recovered += kinds(&client, id).await.iter().filter(|k| *k == "INCIDENT_RECOVERED").count();
            }
            assert_eq!(recovered, 1, "{name}: by exactly one alarm's clear, the last");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_transfer_to_a_new_or_an_open_incident() {
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "t"})).await;
        for alarm in ["a", "b", "c"] {
            report(&client, &key, &report_body(alarm, "Minor", "alarm", "h")).await;
        }
        let (a, b, c) = (
            public_id(&client, &integration_id, "a").await,
            public_id(&client, &integration_id, "b").await,
            public_id(&client, &integration_id, "c").await,
        );
        let created = client.post(TRANSFER, &transfer_body(&format!("{a},{b}"))).await;
        assert_eq!(created.status, 200, "{name}: {}", created.body);
        let num = created.body["data"][0].as_str().unwrap().to_owned();
        let opened = incident(&client, &num).await;
        assert_eq!(opened["incident_title"], "checkout is down", "{name}");
        assert_eq!(opened["incident_source"], "incident_source_alarm");
        assert_eq!(opened["incident_assignee"], json!(["u-oncall"]));
        assert_eq!(opened["creator"], "u-alice");
        for id in [&a, &b] {
            assert_eq!(show(&client, id).await["associate_event_id"], num.as_str(), "{name}");
            assert_eq!(kinds(&client, id).await, ["REPORTED", "LINKED_INCIDENT"], "{name}");
        }

        // Linked to an open incident: not again.
        let twice = client.post(TRANSFER, &transfer_body(&format!("{c},{a}"))).await;
        assert_eq!(twice.status, 409, "{name}: {}", twice.body);
        assert!(twice.error_msg().contains(&a), "{name}: names the alarm");
        assert_eq!(show(&client, &c).await["associate_event_id"], Value::Null, "{name}: all or nothing");

        // To the open incident by its number.
        let linked = client.post(TRANSFER, &json!({"alarm_ids": c, "incident_num": num})).await;
        assert_eq!(linked.status, 200, "{name}: {}", linked.body);
        assert_eq!(linked.body["data"], json!([num]));
        assert_eq!(show(&client, &c).await["associate_event_id"], num.as_str(), "{name}");
        // The link is in the incident's timeline, who and which alarms, its status unchanged.
        let timeline = client.post(&format!("/v2/incidents/{num}/histories"), &json!({})).await;
        assert_eq!(timeline.status, 200, "{name}: {}", timeline.body);
        let data = &timeline.body["data"];
        assert_eq!(data["total"], 2, "{name}: create, then the link: {data}");
        let link = &data["info"][1];
        assert_eq!(link["action"], "linkAlarms", "{name}: {link}");
        assert_eq!(link["operator"], "u-alice", "{name}");
        assert_eq!(link["status"], "INCIDENT_STATUS_TRIGGERED", "{name}");
        assert!(link["comment"].as_str().unwrap().contains(&c), "{name}: names the alarm: {link}");
        assert!(!link["comment"].as_str().unwrap().contains(&a), "{name}: only the alarms linked then");
        assert_eq!(incident(&client, &num).await["status"], "INCIDENT_STATUS_TRIGGERED", "{name}");
        let unknown = client.post(TRANSFER, &json!({"alarm_ids": c, "incident_num": "IM404"})).await;
        assert_eq!(unknown.status, 409, "{name}: c is linked to an open incident: {}", unknown.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_name_the_field_and_change_nothing() {
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "bad"})).await;
        report(&client, &key, &report_body("x", "Minor", "alarm", "h")).await;
        let id = public_id(&client, &integration_id, "x").await;
        let fifty_one = (0..51).map(|n| format!("AL{n}")).collect::<Vec<_>>().join(",");
        let eleven = (0..11).map(|n| format!("AL{n}")).collect::<Vec<_>>().join(",");
        let cases: Vec<(&str, Value, &str)> = vec![
            (CLEAR, json!({}), "alarm_ids"),
            (CLEAR, json!({"alarm_ids": ""}), "alarm_ids"),
            (CLEAR, json!({"alarm_ids": format!("{id},,")}), "alarm_ids"),
            (CLEAR, json!({"alarm_ids": fifty_one}), "alarm_ids"),
            (CLEAR, json!({"alarm_ids": id, "remarks": "r".repeat(1001)}), "remarks"),
            (CLEAR, json!({"alarm_ids": id, "is_service_interrupt": "maybe"}), "is_service_interrupt"),
            (CLEAR, json!({"alarm_ids": id, "start_time": -5}), "start_time"),
            (TRANSFER, json!({"alarm_ids": eleven}), "alarm_ids"),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b.as_object_mut().unwrap().remove("title");
                    b
                },
                "title",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b["title"] = json!("t".repeat(201));
                    b
                },
                "title",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b["level_id"] = json!("level_99");
                    b
                },
                "level_id",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b["mtm_type"] = json!("bugs");
                    b
                },
                "mtm_type",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b["assignee"] = json!("u-stranger");
                    b
                },
                "assignee",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b.as_object_mut().unwrap().remove("assignee");
                    b
                },
                "assignee",
            ),
            (
                TRANSFER,
                {
                    let mut b = transfer_body(&id);
                    b.as_object_mut().unwrap().remove("current_cloud_service_id");
                    b
                },
                "current_cloud_service_id",
            ),
        ];
        for (path, body, field) in cases {
            assert_invalid(name, &client.post(path, &body).await, field);
        }
        let auto = format!("/v1/alarm-mgmt/alarm/{id}/auto-process");
        let runbook = json!({"task_type": "RUNBOOK", "associated_task_id": "RB1", "associated_task_type": "CUSTOMIZATION",
                             "associated_task_name": "j", "input_param": {}});
        assert_invalid(name, &client.post(&auto, &runbook).await, "task_type");
        let no_script = json!({"task_type": "SCRIPT", "associated_task_id": "SC404", "associated_task_type": "CUSTOMIZATION",
                               "associated_task_name": "s", "input_param": {}});
        assert_invalid(name, &client.post(&auto, &no_script).await, "associated_task_id");
        let long_id = format!("/v1/alarm-mgmt/alarm/{}", "A".repeat(65));
        assert_invalid(name, &client.get(&long_id).await, "alarm_id");
        for query in ["?limit=0", "?limit=101", "?offset=-1", "?offset=1001"] {
            let reply = client.get(&format!("/v1/alarm-mgmt/alarm/{id}/handle-histories{query}")).await;
            assert_invalid(name, &reply, if query.contains("limit") { "limit" } else { "offset" });
        }
        // Nothing of the above was written.
        let shown = show(&client, &id).await;
        assert_eq!((shown["status"].clone(), shown["associate_event_id"].clone()), (json!("alarming"), Value::Null));
        assert_eq!(kinds(&client, &id).await, ["REPORTED"], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenant_cannot_see_or_touch_an_alarm() {
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "mine"})).await;
        report(&client, &key, &report_body("secret", "Minor", "alarm", "h")).await;
        let id = public_id(&client, &integration_id, "secret").await;
        let other = client.in_project("p-alm-other").await;
        other.sync_engineers(&[("u-oncall", "oncall")]).await;
        assert_eq!(other.get(&format!("/v1/alarm-mgmt/alarm/{id}")).await.status, 404, "{name}");
        assert_eq!(other.get(&format!("/v1/alarm-mgmt/alarm/{id}/handle-histories")).await.status, 404, "{name}");
        assert_eq!(clear(&other, &id, "mine now").await.body["data"], json!([format!("{id}:not_found")]), "{name}");
        assert_eq!(other.post(TRANSFER, &transfer_body(&id)).await.status, 404, "{name}");
        let listed = other.get(LIST).await;
        assert_eq!((listed.body["data"].clone(), listed.body["count"].clone()), (json!([]), json!(0)), "{name}");
        let of_mine = other.get(&format!("{LIST}?integration_id={integration_id}")).await;
        assert_eq!(of_mine.body["data"], json!([]), "{name}");
        // Untouched in its own tenant.
        let shown = show(&client, &id).await;
        assert_eq!((shown["status"].clone(), shown["associate_event_id"].clone()), (json!("alarming"), Value::Null));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_clears_clear_once_and_racing_transfers_link_once() {
    const RACERS: usize = 8;
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "race"})).await;
        report(&client, &key, &report_body("cleared", "Minor", "alarm", "h")).await;
        report(&client, &key, &report_body("moved", "Minor", "alarm", "h")).await;
        let (cleared, moved) =
            (public_id(&client, &integration_id, "cleared").await, public_id(&client, &integration_id, "moved").await);

        let clears: Vec<_> = (0..RACERS)
            .map(|n| {
                let (client, id) = (client.clone(), cleared.clone());
                tokio::spawn(async move { clear(&client, &id, &format!("racer {n}")).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in clears {
            let reply = task.await.unwrap();
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            outcomes.push(reply.body["data"][0].as_str().unwrap().to_owned());
        }
        let won = outcomes.iter().filter(|o| o.ends_with(":cleared")).count();
        assert_eq!(won, 1, "{name}: exactly one clear: {outcomes:?}");
        assert_eq!(outcomes.iter().filter(|o| o.ends_with(":already_cleared")).count(), RACERS - 1);
        assert_eq!(kinds(&client, &cleared).await, ["REPORTED", "CLEARED"], "{name}");
        let resolved = client.get(&format!("{LIST}?status=resolved")).await;
        assert_eq!(resolved.body["count"], 1, "{name}: the state count moved once");
        let alarming = client.get(&format!("{LIST}?status=alarming")).await;
        assert_eq!(alarming.body["count"], 1, "{name}");

        let transfers: Vec<_> = (0..RACERS)
            .map(|_| {
                let (client, id) = (client.clone(), moved.clone());
                tokio::spawn(async move { client.post(TRANSFER, &transfer_body(&id)).await })
            })
            .collect();
        let mut statuses = Vec::new();
        let mut winners = Vec::new();
        for task in transfers {
            let reply = task.await.unwrap();
            statuses.push(reply.status);
            if reply.status == 200 {
                winners.push(reply.body["data"][0].as_str().unwrap().to_owned());
            } else {
                assert_eq!(reply.status, 409, "{name}: {}", reply.body);
            }
        }
        assert_eq!(winners.len(), 1, "{name}: exactly one transfer: {statuses:?}");
        assert_eq!(show(&client, &moved).await["associate_event_id"], winners[0].as_str(), "{name}");
        assert_eq!(kinds(&client, &moved).await, ["REPORTED", "LINKED_INCIDENT"], "{name}");
    }
}

/// Plays the agent: waits for its job, reports success.
async fn run_job(client: &Client, agent_sn: &str) -> Value {
    let agent = client.agent(agent_sn);
    let reply = agent.get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds=5")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let jobs = reply.body["data"].as_array().unwrap().clone();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let job = &jobs[0];
    let path = format!("/v1/agents/{agent_sn}/jobs/{}/{}", job["execute_uuid"].as_str().unwrap(), job["instance_id"]);
    let done = agent.post(&path, &json!({"attempt": job["attempt"], "exit_code": 0, "log": "restarted"})).await;
    assert_eq!(done.status, 200, "{}", done.body);
    job.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_process_runs_a_script_on_the_alarms_host() {
    for Setup { name, client, .. } in setups().await {
        let registration = json!({"agent_sn": "web-1", "resource_id": "res-web-1", "region_id": "cn-north-4",
                                  "host_name": "web-1", "fixed_ip": "10.0.0.1", "os_type": "linux"});
        let registered = client.register_agent(&registration).await;
        assert_eq!(registered.status, 200, "{name}: {}", registered.body);
        let script = client.post("/v1/job/scripts", &script_body("restart_web")).await;
        assert_eq!(script.status, 200, "{name}: {}", script.body);
        let script_uuid = script.data_str();
        let (integration_id, key) = integration(&client, json!({"name": "web"})).await;
        report(&client, &key, &report_body("web-down", "Minor", "alarm", "web-1")).await;
        let id = public_id(&client, &integration_id, "web-down").await;

        let body = json!({"task_type": "SCRIPT", "associated_task_id": script_uuid,
                          "associated_task_type": "CUSTOMIZATION", "associated_task_name": "restart_web",
                          "input_param": {"greeting": "bonjour"}});
        let started = client.post(&format!("/v1/alarm-mgmt/alarm/{id}/auto-process"), &body).await;
        assert_eq!(started.status, 200, "{name}: {}", started.body);
        let ticket = started.data_str();
        assert!(ticket.starts_with("SCT"), "{name}: {ticket}");

        let job = run_job(&client, "web-1").await;
        assert_eq!(job["execute_uuid"], ticket.as_str(), "{name}: the alarm's host got the ticket's job");
        let greeting = job["params"].as_array().unwrap().iter().find(|p| p["name"] == "greeting").unwrap();
        assert_eq!(greeting["value"], "bonjour", "{name}: the input parameters reach the script");
        let mut status = Value::Null;
        for _ in 0..100 {
            let info = client.get(&format!("/v1/job/script/orders/{ticket}")).await;
            status = info.body["data"]["status"].clone();
            if status == "FINISHED" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(status, "FINISHED", "{name}");

        let shown = show(&client, &id).await;
        assert_eq!(shown["task_type"], "SCRIPT", "{name}");
        assert_eq!(shown["associated_task_id"], script_uuid.as_str());
        let history = histories(&client, &id, "").await;
        let latest = &history["alarm_handle_histories"][0];
        assert_eq!(latest["kind"], "AUTO_PROCESSED", "{name}");
        assert_eq!(latest["work_order_id"], ticket.as_str(), "{name}: the history names the ticket");
        assert_eq!(latest["task_type"], "SCRIPT");
        assert_eq!(latest["associated_task_name"], "restart_web");
        assert_eq!(latest["create_name"], "u-alice");

        // A host that is no registered agent is refused before anything runs.
        report(&client, &key, &report_body("elsewhere", "Minor", "alarm", "no-such-host")).await;
        let elsewhere = public_id(&client, &integration_id, "elsewhere").await;
        let refused = client.post(&format!("/v1/alarm-mgmt/alarm/{elsewhere}/auto-process"), &body).await;
        assert_invalid(name, &refused, "target_instances");
        assert_eq!(kinds(&client, &elsewhere).await, ["REPORTED"], "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_racing_a_clear_lose_no_report_and_no_history() {
    const REPEATS: usize = 16;
    for Setup { name, client, .. } in setups().await {
        let (integration_id, key) = integration(&client, json!({"name": "storm"})).await;
        let body = report_body("storm", "Minor", "alarm", "h");
        report(&client, &key, &body).await;
        let id = public_id(&client, &integration_id, "storm").await;
        let mut tasks = Vec::new();
        for n in 0..REPEATS {
            let (reporter, key, body) = (client.clone(), key.clone(), body.clone());
            tasks.push(tokio::spawn(async move { report(&reporter, &key, &body).await }));
            if n == REPEATS / 2 {
                let (client, id) = (client.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    let reply = clear(&client, &id, "mid-storm").await;
                    assert_eq!(reply.body["data"], json!([format!("{id}:cleared")]), "{}", reply.body);
                }));
            }
        }
        for task in tasks {
            task.await.unwrap();
        }
        let shown = show(&client, &id).await;
        assert_eq!(shown["converge_count"], REPEATS + 1, "{name}: every report counted");
        let history = histories(&client, &id, "?offset=0&limit=100").await;
        let entries = history["alarm_handle_histories"].as_array().unwrap();
        assert_eq!(history["count"], entries.len(), "{name}: the count is the entries written");
        // The first report, every repeat (one of them maybe reopening it), and the person's clear.
        assert_eq!(entries.len(), REPEATS + 2, "{name}: {entries:?}");
        let by_person = entries.iter().filter(|e| e["create_name"] == "u-alice").count();
        assert_eq!(by_person, 1, "{name}: one clear");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_list_and_the_history_read_only_their_page() {
    use std::sync::Arc;

    use coc_shared::App;
    use coc_tests::CountingStore;

    for backend in backends().await {
        let store = Arc::new(CountingStore::new(backend.store.clone()));
        let client =
            Client::new(&serve(App::new(store.clone(), backend.queue.clone())).await, store.clone(), PROJECT).await;
        client.sync_engineers(&[]).await;
        let name = backend.name;
        let (first, key_a) = integration(&client, json!({"name": "a"})).await;
        let (_, key_b) = integration(&client, json!({"name": "b"})).await;
        for n in 0..12 {
            let key = if n % 2 == 0 { &key_a } else { &key_b };
            report(&client, key, &report_body(&format!("a{n:02}"), "Minor", "alarm", "h")).await;
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let id = public_id(&client, &first, "a00").await;
        for _ in 0..5 {
            report(&client, &key_a, &report_body("a00", "Minor", "alarm", "h")).await;
        }
        let read = |path: String| {
            let (client, store) = (client.clone(), store.clone());
            async move {
                store.take_reads();
                let reply = client.get(&path).await;
                assert_eq!(reply.status, 200, "{path}: {}", reply.body);
                let reads = store.take_reads();
                for r in &reads {
                    assert_ne!(r.call, "query_prefix", "{path} read a whole prefix");
                    if r.call != "get" && r.call != "counter" {
                        assert!(r.pk.starts_with(&format!("PROJECT#{PROJECT}")), "{path} read {r:?}");
                    }
                }
                let items = |call: &str| reads.iter().filter(|r| r.call == call).map(|r| r.items).sum::<usize>();
                (reply.body, items("query_index"), items("query_page"))
            }
        };
        let (body, indexed, _) = read(format!("{LIST}?limit=5")).await;
        assert_eq!(body["data"].as_array().unwrap().len(), 5, "{name}");
        assert_eq!(body["count"], 12, "{name}: from the counter");
        assert!(indexed <= 5, "{name}: read {indexed} for a page of 5");
        let (body, indexed, _) = read(format!("{LIST}?limit=3&integration_id={first}")).await;
        assert_eq!(body["data"].as_array().unwrap().len(), 3, "{name}");
        assert_eq!(body["count"], 6, "{name}");
        assert!(indexed <= 3, "{name}: the integration is a key: read {indexed}");
        let (body, _, paged) = read(format!("/v1/alarm-mgmt/alarm/{id}/handle-histories?offset=0&limit=2")).await;
        assert_eq!(body["count"], 6, "{name}: one report and five repeats");
        assert_eq!(body["alarm_handle_histories"].as_array().unwrap().len(), 2, "{name}");
        assert!(paged <= 2, "{name}: read {paged} history entries for 2");
        let (_, _, paged) = read(format!("/v1/alarm-mgmt/alarm/{id}/handle-histories?offset=3&limit=2")).await;
        assert!(paged <= 5, "{name}: an offset reads the entries it skips, no more: {paged}");
    }
}
