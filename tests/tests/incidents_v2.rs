//! The v2 incident API over HTTP on every backend: the list with its filters,
//! paging and totals, actions on an incident's task, its timeline, and the
//! ticket-history list; tenants apart, bad input named, racing actions.

use serde_json::{json, Value};

use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Condition, Item, Store, WriteOp};
use coc_shared::repositories::reindex::reindex;
use coc_tests::{backends, serve, Backend, Client, Reply};

const CREATE: &str = "/v1/external/incident/create";
const LIST: &str = "/v2/incidents/list";
const PROJECT: &str = "p-inc2";

async fn clients() -> Vec<(&'static str, Client, Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), PROJECT).await;
        client.sync_engineers(&[("u-oncall", "oncall"), ("u-second", "second")]).await;
        all.push((backend.name, client, backend));
    }
    all
}

async fn create(client: &Client, title: &str, level: &str, assignee: &str) -> String {
    let body = json!({
        "current_cloud_service": ["app-1"], "incident_level": level, "is_service_interrupt": "false",
        "incident_type": "inc_type_p_config_issues", "incident_title": title, "incident_description": "d",
        "incident_source": "incident_source_manual", "incident_assignee": [assignee], "creator": "u-alice",
    });
    let reply = client.post(CREATE, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["incident_num"].as_str().unwrap().to_owned()
}

fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["error_code"], "GOM.00000000", "{}", reply.body);
    reply.body["data"].clone()
}

async fn list(client: &Client, body: Value) -> (u64, Vec<String>) {
    let data = ok(&client.post(LIST, &body).await);
    let ids = data["list"].as_array().unwrap().iter().map(|r| r["ticket_id"].as_str().unwrap().to_owned()).collect();
    (data["total"].as_u64().unwrap(), ids)
}

fn by(field: &str, operator: &str, values: Value) -> Value {
    json!({"string_filters": [{"field": field, "operator": operator, "values": values}]})
}

async fn task_id(client: &Client, num: &str) -> String {
    let tasks = ok(&client.get(&format!("/v2/incidents/{num}/tasks")).await);
    tasks[0]["operations"][0]["task_id"].as_str().unwrap().to_owned()
}

async fn act(client: &Client, num: &str, body: Value) -> Reply {
    client.post(&format!("/v2/incidents/{num}/actions"), &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_answers_what_is_open_newest_first_with_filters_and_totals() {
    for (name, client, _keep) in clients().await {
        let a = create(&client, "Disk full on db-1", "level_10", "u-oncall").await;
        let b = create(&client, "VPN flapping", "level_20", "u-oncall").await;
        let c = create(&client, "disk latency", "level_10", "u-second").await;

        assert_eq!(list(&client, json!({})).await, (3, vec![c.clone(), b.clone(), a.clone()]), "{name}: newest first");
        let asc = json!({"sort_filter": {"field": "create_time", "operator": "asc"}, "per_page": 2});
        assert_eq!(list(&client, asc).await, (3, vec![a.clone(), b.clone()]), "{name}");
        assert_eq!(list(&client, json!({"page": 2, "per_page": 2})).await, (3, vec![a.clone()]), "{name}: page 2");
        assert_eq!(list(&client, json!({"page": 3, "per_page": 2})).await.1, Vec::<String>::new(), "{name}");

        let triggered = by("work_flow_status", "in", json!(["INCIDENT_STATUS_TRIGGERED"]));
        assert_eq!(list(&client, triggered.clone()).await.0, 3, "{name}");
        let mine = by("assignee", "=", json!(["u-oncall"]));
        assert_eq!(list(&client, mine.clone()).await, (2, vec![b.clone(), a.clone()]), "{name}");
        assert_eq!(
            list(&client, by("title", "like", json!(["DISK"]))).await,
            (2, vec![c.clone(), a.clone()]),
            "{name}"
        );
        assert_eq!(list(&client, by("level_id", "in", json!(["level_20"]))).await, (1, vec![b.clone()]), "{name}");

        // Accepting moves the incident to another status; forwarding to another assignee.
        ok(&act(&client, &a, json!({"task_id": task_id(&client, &a).await, "action": "acceptedIncident1"})).await);
        let forward = json!({"action": "unAcceptedForward", "params": {"virtual_send_assignee": "u-second"}});
        ok(&act(&client, &b, forward).await);
        assert_eq!(list(&client, triggered).await, (2, vec![c.clone(), b.clone()]), "{name}: a left TRIGGERED");
        let acknowledged = by("work_flow_status", "=", json!(["INCIDENT_STATUS_ACKNOWLEDGED"]));
        assert_eq!(list(&client, acknowledged).await, (1, vec![a.clone()]), "{name}");
        assert_eq!(list(&client, mine).await, (1, vec![a.clone()]), "{name}: b went to u-second");
        let second = by("assignee", "=", json!(["u-second"]));
        assert_eq!(list(&client, second).await, (2, vec![c.clone(), b.clone()]), "{name}");
        let both = json!({"string_filters": [
            {"field": "assignee", "operator": "=", "values": ["u-second"]},
            {"field": "level_id", "operator": "=", "values": ["level_10"]},
        ]});
        assert_eq!(list(&client, both).await, (1, vec![c.clone()]), "{name}: two filters");

        let row = &ok(&client.post(LIST, &by("ticket_id", "=", json!([a]))).await)["list"][0];
        assert_eq!(row["work_flow_status"], "INCIDENT_STATUS_ACKNOWLEDGED", "{name}: {row}");
        assert_eq!(row["assignee"], "u-oncall");
        assert_eq!(row["operator"], "u-alice", "{name}: the caller acted");
        assert_eq!(row["level_id"], "level_10");
        assert_eq!(row["is_service_interrupt"], "false");

        // Time range: only incidents created at or after c's creation time.
        let c_time: i64 = ok(&client.post(LIST, &by("ticket_id", "=", json!([c]))).await)["list"][0]["create_time"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let since = json!({"int_filters": [{"field": "create_time", "operator": ">=", "values": [c_time]}]});
        let (total, rows) = list(&client, since).await;
        assert!(rows.contains(&c) && total as usize == rows.len(), "{name}: {rows:?}");

        // Another tenant sees none of it.
        let other = client.in_project("p-inc2-other").await;
        assert_eq!(list(&other, json!({})).await, (0, vec![]), "{name}");
        let reply = other.get(&format!("/v2/incidents/{a}/tasks")).await;
        assert_eq!((reply.status, reply.error_code()), (404, "GOM.00007404"), "{name}: {}", reply.body);
        assert_eq!(act(&other, &c, json!({"action": "acceptedIncident1"})).await.status, 404, "{name}");
        assert_eq!(other.post(&format!("/v2/incidents/{a}/histories"), &json!({})).await.status, 404, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_searches_and_actions_are_refused_naming_the_field() {
    for (name, client, _keep) in clients().await {
        let num = create(&client, "t", "level_30", "u-oncall").await;
        for (body, field) in [
            (json!({"per_page": 0}), "per_page"),
            (json!({"page": 52, "per_page": 200}), "page"),
            (json!({"condition": "a|b"}), "condition"),
            (by("colour", "=", json!(["red"])), "string_filters[0].field"),
            (by("work_flow_status", "in", json!(["OPEN"])), "string_filters[0].values[0]"),
            (
                json!({"int_filters": [{"field": "create_time", "operator": "~", "values": [1]}]}),
                "int_filters[0].operator",
            ),
            (json!({"sort_filter": {"field": "title"}}), "sort_filter.field"),
        ] {
            let reply = client.post(LIST, &body).await;
            assert_eq!((reply.status, reply.error_code()), (400, "GOM.00007256"), "{name}: {body}: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{name}: {} does not name {field}", reply.error_msg());
        }
        let reply = act(&client, &num, json!({"action": "fly"})).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        assert!(reply.error_msg().contains("operate_key"), "{}", reply.error_msg());
        let reply = act(&client, &num, json!({"action": "commitSolution1"})).await;
        assert_eq!((reply.status, reply.error_code()), (400, "GOM.00007257"), "{name}: not yet accepted");
        let reply = act(&client, &num, json!({})).await;
        assert!(reply.status == 400 && reply.error_msg().contains("action"), "{name}: {}", reply.body);

        let reply = client.post("/v1/external/issues_mgmt/list-histories", &by("ticket_id", "=", json!([num]))).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        assert!(reply.error_msg().contains("ticket_type"), "{}", reply.error_msg());
        let reply = client.post("/v1/external/incident/list-histories", &json!({})).await;
        assert!(reply.status == 400 && reply.error_msg().contains("string_filters"), "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_holds_every_action_and_a_stale_task_is_refused() {
    for (name, client, _keep) in clients().await {
        let num = create(&client, "t", "level_30", "u-oncall").await;
        let first = task_id(&client, &num).await;
        let tasks = ok(&client.get(&format!("/v2/incidents/{num}/tasks")).await);
        let keys: Vec<&str> =
            tasks[0]["operations"].as_array().unwrap().iter().map(|o| o["key"].as_str().unwrap()).collect();
        assert_eq!(keys, ["acceptedIncident1", "rejectedIncident1", "unAcceptedForward"], "{name}");
        ok(&act(&client, &num, json!({"task_id": first, "action": "acceptedIncident1"})).await);
        let stale = act(
            &client,
            &num,
            json!({"task_id": first, "action": "acceptedForward", "params": {"virtual_send_assignee": "u-second"}}),
        )
        .await;
        assert_eq!(stale.status, 400, "{name}: {}", stale.body);
        assert!(stale.error_msg().contains("task_id"), "{}", stale.error_msg());
        let solution = json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false, "cause": "c", "solution": "s"});
        ok(&act(&client, &num, json!({"action": "commitSolution1", "params": solution})).await);
        let verify = json!({"virtual_confirm_result": true, "virtual_confirm_comment": "fine"});
        ok(&act(
            &client,
            &num,
            json!({"task_id": task_id(&client, &num).await, "action": "confirm", "params": verify}),
        )
        .await);
        assert_eq!(ok(&client.get(&format!("/v2/incidents/{num}/tasks")).await), json!([]), "{name}: over");

        let data = ok(&client.post(&format!("/v2/incidents/{num}/histories"), &json!({})).await);
        assert_eq!(data["total"], 4, "{name}: {data}");
        let actions: Vec<(&str, &str, &str)> = data["info"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| (h["action"].as_str().unwrap(), h["status"].as_str().unwrap(), h["operator"].as_str().unwrap()))
            .collect();
        assert_eq!(
            actions,
            [
                ("create", "INCIDENT_STATUS_TRIGGERED", "u-alice"),
                ("acceptedIncident1", "INCIDENT_STATUS_ACKNOWLEDGED", "u-alice"),
                ("commitSolution1", "INCIDENT_STATUS_RESOLVED", "u-alice"),
                ("confirm", "INCIDENT_STATUS_COMPLETED", "u-alice"),
            ],
            "{name}"
        );
        assert_eq!(data["info"][3]["comment"], "fine");
        let newest = json!({"sort_filter": {"field": "start_time", "operator": "desc"}, "string_filters": [{"field": "action", "operator": "in", "values": ["create", "confirm"]}]});
        let data = ok(&client.post(&format!("/v2/incidents/{num}/histories"), &newest).await);
        assert_eq!(data["total"], 2, "{name}: {data}");
        assert_eq!(data["info"][0]["action"], "confirm");

        let data = ok(&client.post("/v1/external/incident/list-histories", &by("ticket_id", "=", json!([num]))).await);
        assert_eq!(data["total"], 4, "{name}: {data}");
        assert_eq!(data["list"][1]["action_name_en"], "Accept");
        // v1's detail shows the same history.
        let detail = ok(&client.get(&format!("/v1/external/incident/{num}")).await);
        assert_eq!(detail["history"].as_array().unwrap().len(), 4, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_racing_actions_on_one_incident_exactly_one_lands() {
    for (name, client, _keep) in clients().await {
        for _ in 0..3 {
            let num = create(&client, "race", "level_30", "u-oncall").await;
            let task = task_id(&client, &num).await;
            let body = json!({"task_id": task, "action": "acceptedIncident1"});
            let (x, y) = tokio::join!(act(&client, &num, body.clone()), act(&client, &num, body));
            let statuses = [x.status, y.status];
            assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{name}: {} / {}", x.body, y.body);
            let data = ok(&client.post(&format!("/v2/incidents/{num}/histories"), &json!({})).await);
            assert_eq!(data["total"], 2, "{name}: one accept in the timeline: {data}");
        }
        let acknowledged = by("work_flow_status", "=", json!(["INCIDENT_STATUS_ACKNOWLEDGED"]));
        assert_eq!(list(&client, acknowledged).await.0, 3, "{name}: counted once each");
    }
}

/// An incident as versions before this layout stored it: history inside, no
/// status key, no assignee copy, no counts.
async fn as_stored_before(store: &dyn Store, num: &str) {
    let pk = format!("PROJECT#{PROJECT}-old");
    let item = store.get(&pk, &format!("INCIDENT#{num}")).await.unwrap().unwrap();
    let mut doc: Value = serde_json::from_str(&item.data).unwrap();
    let entries: Vec<Value> = store
        .query_prefix(&pk, &format!("INCIDENT_HISTORY#{num}#"))
        .await
        .unwrap()
        .iter()
        .map(|i| serde_json::from_str(&i.data).unwrap())
        .collect();
    doc["history"] = Value::Array(entries);
    doc["history_seq"] = json!(0);
    let mut ops = vec![WriteOp::Put {
        item: Item { data: doc.to_string(), filter_key: None, ..item },
        condition: Condition::Always,
    }];
    ops.push(WriteOp::Delete { pk: pk.clone(), sk: format!("INCIDENT_ASSIGNEE#{num}"), condition: Condition::Always });
    for item in store.query_prefix(&pk, &format!("INCIDENT_HISTORY#{num}#")).await.unwrap() {
        ops.push(WriteOp::Delete { pk: pk.clone(), sk: item.sk, condition: Condition::Always });
    }
    store.write(ops).await.unwrap();
    for sk in ["COUNT#INCIDENT", "COUNT#INCIDENT#STATUS#INCIDENT_STATUS_TRIGGERED", "COUNT#INCIDENT#ASSIGNEE#u-oncall"]
    {
        let value = store.counter(&pk, sk).await.unwrap();
        store.write(vec![WriteOp::Add { pk: pk.clone(), sk: sk.to_owned(), delta: -value }]).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_brings_incidents_of_earlier_versions_into_the_lists() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), &format!("{PROJECT}-old")).await;
        client.sync_engineers(&[("u-oncall", "oncall")]).await;
        let old = create(&client, "old", "level_30", "u-oncall").await;
        as_stored_before(backend.store.as_ref(), &old).await;
        let mine = by("assignee", "=", json!(["u-oncall"]));
        assert_eq!(list(&client, mine.clone()).await, (0, vec![]), "{name}: not in the assignee's list yet");
        let data = ok(&client.post(&format!("/v2/incidents/{old}/histories"), &json!({})).await);
        assert_eq!(data["total"], 1, "{name}: the history inside is still shown: {data}");

        let project = ProjectId::parse(format!("{PROJECT}-old")).unwrap();
        let done = reindex(backend.store.as_ref(), &project).await.unwrap();
        assert_eq!((done.incidents_read, done.incidents_indexed), (1, 1), "{name}");
        assert_eq!(list(&client, mine).await, (1, vec![old.clone()]), "{name}");
        let triggered = by("work_flow_status", "=", json!(["INCIDENT_STATUS_TRIGGERED"]));
        assert_eq!(list(&client, triggered).await, (1, vec![old.clone()]), "{name}");
        assert_eq!(list(&client, json!({})).await.0, 1, "{name}: counted");
        let data = ok(&client.post(&format!("/v2/incidents/{old}/histories"), &json!({})).await);
        assert_eq!((data["total"].clone(), data["info"][0]["action"].clone()), (json!(1), json!("create")), "{name}");
        let again = reindex(backend.store.as_ref(), &project).await.unwrap();
        assert_eq!(again.incidents_indexed, 0, "{name}: a second run changes nothing");
    }
}
