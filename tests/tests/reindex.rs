//! `coc-admin reindex` on every store adapter: scripts and tickets stored as
//! versions before list indexes wrote them (no index keys, no counts) are not
//! listed; after a reindex they are, with exact totals, and running it again
//! (or concurrently) changes nothing.

use std::time::Duration;

use serde_json::json;

use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Condition, Item, Store, WriteOp};
use coc_shared::repositories::reindex::{reindex, Reindexed};
use coc_tests::{backends, serve, Client};

const PROJECT: &str = "p-old";
const SCRIPTS: &str = "/v1/job/scripts";
const ORDERS: &str = "/v1/job/script/orders";
const N_SCRIPTS: usize = 130;
const N_TICKETS: usize = 3;

/// The counts these records are in (README, "Access patterns").
const COUNTS: &[&str] = &[
    "COUNT#SCRIPT",
    "COUNT#SCRIPT#CREATOR#alice",
    "COUNT#SCRIPT#CREATOR#bob",
    "COUNT#SCRIPT#RISK#LOW",
    "COUNT#SCRIPT#RISK#HIGH",
    "COUNT#SCRIPT#TYPE#SHELL",
    "COUNT#ORDER",
    "COUNT#ORDER#STATUS#PROCESSING",
];

/// Makes the tenant's scripts and tickets look as an earlier version stored
/// them: the same documents, without index keys, and no counts.
async fn as_written_before_indexes(store: &dyn Store) {
    let pk = format!("PROJECT#{PROJECT}");
    for prefix in ["SCRIPT#", "ORDER#"] {
        for item in store.query_prefix(&pk, prefix).await.unwrap() {
            let bare = Item { list_key: None, filter_key: None, ..item };
            store.write(vec![WriteOp::Put { item: bare, condition: Condition::Always }]).await.unwrap();
        }
    }
    for sk in COUNTS {
        let value = store.counter(&pk, sk).await.unwrap();
        store.write(vec![WriteOp::Add { pk: pk.clone(), sk: (*sk).to_owned(), delta: -value }]).await.unwrap();
    }
}

async fn total(client: &Client, path: &str) -> (u64, usize) {
    let reply = client.get(path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    (reply.body["data"]["total"].as_u64().unwrap(), reply.body["data"]["data"].as_array().unwrap().len())
}

async fn wait_status(client: &Client, uuid: &str, want: &str) {
    for _ in 0..300 {
        if client.get(&format!("{ORDERS}/{uuid}")).await.body["data"]["status"] == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ticket {uuid} never became {want}");
}

/// What the lists show: (scripts, bob's scripts, HIGH risk scripts, tickets, PROCESSING tickets).
async fn shown(client: &Client) -> [(u64, usize); 5] {
    [
        total(client, &format!("{SCRIPTS}?limit=100")).await,
        total(client, &format!("{SCRIPTS}?limit=100&creator=bob")).await,
        total(client, &format!("{SCRIPTS}?limit=100&risk_level=HIGH")).await,
        total(client, &format!("{ORDERS}?limit=10")).await,
        total(client, &format!("{ORDERS}?limit=10&status=PROCESSING")).await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reindex_lists_and_counts_records_of_earlier_versions_once() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.clone();
        let client = Client::new(&serve(backend.app()).await, store.clone(), PROJECT).await;
        let bob = client.as_user("u-bob", "bob").await;
        let mut first_script = String::new();
        for i in 0..N_SCRIPTS {
            let mut body = coc_tests::script_body(&format!("old{i:03}"));
            body["properties"]["risk_level"] = json!(if i % 2 == 0 { "LOW" } else { "HIGH" });
            let author = if i % 10 == 0 { &bob } else { &client };
            let reply = author.post(SCRIPTS, &body).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            if i == 0 {
                first_script = reply.data_str();
            }
        }
        let agent = json!({"agent_sn": "a1", "resource_id": "res-a1", "region_id": "cn-north-4",
                           "host_name": "host-a1", "fixed_ip": "10.0.0.1", "os_type": "linux"});
        assert_eq!(client.register_agent(&agent).await.status, 200, "{name}");
        let execution = json!({
            "execute_param": {"timeout": 600, "success_rate": 100, "execute_user": "root"},
            "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": "res-a1", "agent_sn": "a1", "project_id": PROJECT, "region_id": "cn-north-4"}]}]
        });
        for _ in 0..N_TICKETS {
            let reply = client.post(&format!("{SCRIPTS}/{first_script}"), &execution).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            wait_status(&client, &reply.data_str(), "PROCESSING").await;
        }
        let listed = shown(&client).await;
        let (scripts, bobs, high) = (N_SCRIPTS as u64, (N_SCRIPTS / 10) as u64, (N_SCRIPTS / 2) as u64);
        let tickets = N_TICKETS as u64;
        assert_eq!(listed, [(scripts, 100), (bobs, 13), (high, 65), (tickets, 3), (tickets, 3)], "{name}");

        as_written_before_indexes(store.as_ref()).await;
        assert_eq!(shown(&client).await, [(0, 0); 5], "{name}: lists skip records without keys");

        // Two runs at once: each record is indexed and counted by one of them.
        let project = ProjectId::parse(PROJECT).unwrap();
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (store, project) = (store.clone(), project.clone());
                tokio::spawn(async move { reindex(store.as_ref(), &project).await.unwrap() })
            })
            .collect();
        let mut done = Vec::new();
        for run in runs {
            done.push(run.await.unwrap());
        }
        let indexed: (usize, usize) =
            done.iter().fold((0, 0), |(s, t), r| (s + r.scripts_indexed, t + r.tickets_indexed));
        assert_eq!(indexed, (N_SCRIPTS, N_TICKETS), "{name}: every record once: {done:?}");
        assert_eq!(shown(&client).await, listed, "{name}: listed and counted again");

        let again = reindex(store.as_ref(), &project).await.unwrap();
        let expected = Reindexed {
            scripts_read: N_SCRIPTS,
            scripts_indexed: 0,
            tickets_read: N_TICKETS,
            tickets_indexed: 0,
            // The tickets' agent, counted when it registered.
            agents_read: 1,
            ..Reindexed::default()
        };
        assert_eq!(again, expected, "{name}: a second run changes nothing");
        assert_eq!(shown(&client).await, listed, "{name}");

        // Records read and written as usual afterwards.
        let reply = client.get(&format!("{SCRIPTS}/{first_script}")).await;
        assert_eq!(reply.body["data"]["name"], "old000", "{name}: {}", reply.body);
        let deleted = client.delete(&format!("{SCRIPTS}/{first_script}")).await;
        assert_eq!(deleted.status, 200, "{name}: {}", deleted.body);
        let (total_now, _) = total(&client, &format!("{SCRIPTS}?limit=1")).await;
        assert_eq!(total_now, scripts - 1, "{name}");
    }
}

const ALARM_PROJECT: &str = "p-old-alarms";

/// Makes the tenant's alarms look as a version before public ids stored them:
/// no place in the tenant-wide list, no `ALARM_ID#` pointer, no history, no
/// tenant counts.
async fn alarms_as_written_before_public_ids(store: &dyn Store) {
    let pk = format!("PROJECT#{ALARM_PROJECT}");
    for item in store.query_prefix(&pk, "ALARM#").await.unwrap() {
        let bare = Item { filter_key: None, ..item };
        store.write(vec![WriteOp::Put { item: bare, condition: Condition::Always }]).await.unwrap();
    }
    for prefix in ["ALARM_ID#", "ALARM_HISTORY#"] {
        for item in store.query_prefix(&pk, prefix).await.unwrap() {
            store
                .write(vec![WriteOp::Delete { pk: pk.clone(), sk: item.sk, condition: Condition::Always }])
                .await
                .unwrap();
        }
    }
    for sk in ["COUNT#ALARMS", "COUNT#ALARMS#STATE#alarm", "COUNT#ALARMS#STATE#ok"] {
        let value = store.counter(&pk, sk).await.unwrap();
        store.write(vec![WriteOp::Add { pk: pk.clone(), sk: sk.to_owned(), delta: -value }]).await.unwrap();
    }
}

fn alarm_report(alarm_id: &str, status: &str) -> serde_json::Value {
    json!({"alarmId": alarm_id, "alarmName": format!("{alarm_id} is failing"), "alarmLevel": "Minor",
           "time": 1_709_118_444_540_i64, "nameSpace": "ns", "applicationId": "app-1", "alarmDesc": "it broke",
           "alarmSource": "prometheus", "alarmStatus": status, "resourceId": "h"})
}

/// The tenant-wide list: (count, alarming count, public ids by source alarm id).
async fn alarm_list(client: &Client) -> (u64, u64, Vec<(String, String)>) {
    let all = client.get("/v1/alarm-mgmt/alarms").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let alarming = client.get("/v1/alarm-mgmt/alarms?status=alarming").await;
    let mut ids: Vec<(String, String)> = all.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["source_alarm_id"].as_str().unwrap().to_owned(), r["id"].as_str().unwrap().to_owned()))
        .collect();
    ids.sort();
    (all.body["count"].as_u64().unwrap(), alarming.body["count"].as_u64().unwrap(), ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_gives_alarms_of_earlier_versions_their_public_ids_once() {
    for backend in backends().await {
        let name = backend.name;
        let store = backend.store.clone();
        let client = Client::new(&serve(backend.app()).await, store.clone(), ALARM_PROJECT).await;
        client.sync_engineers(&[]).await;
        let reply = client.post("/v1/integrations", &json!({"name": "old"})).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let key = reply.body["data"]["integration_key"].as_str().unwrap().to_owned();
        for (alarm, status) in [("cpu", "alarm"), ("disk", "alarm"), ("net", "alarm"), ("net", "ok")] {
            let reply = client
                .unauthenticated()
                .post(&format!("/v1/event/huawei/custom/{key}"), &alarm_report(alarm, status))
                .await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        }
        let listed = alarm_list(&client).await;
        assert_eq!((listed.0, listed.1, listed.2.len()), (3, 2, 3), "{name}: {listed:?}");

        alarms_as_written_before_public_ids(store.as_ref()).await;
        assert_eq!(alarm_list(&client).await, (0, 0, vec![]), "{name}: not in the tenant's list");
        let (_, cpu) = &listed.2[0];
        assert_eq!(client.get(&format!("/v1/alarm-mgmt/alarm/{cpu}")).await.status, 404, "{name}: no public id");

        // Two runs at once: each alarm is given its id, list place and counts by one of them.
        let project = ProjectId::parse(ALARM_PROJECT).unwrap();
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (store, project) = (store.clone(), project.clone());
                tokio::spawn(async move { reindex(store.as_ref(), &project).await.unwrap() })
            })
            .collect();
        let mut indexed = 0;
        for run in runs {
            let done = run.await.unwrap();
            assert_eq!(done.alarms_read, 3, "{name}: {done:?}");
            indexed += done.alarms_indexed;
        }
        assert_eq!(indexed, 3, "{name}: every alarm once");
        assert_eq!(alarm_list(&client).await, listed, "{name}: listed and counted again, under the same ids");
        let shown = client.get(&format!("/v1/alarm-mgmt/alarm/{cpu}")).await;
        assert_eq!(shown.status, 200, "{name}: {}", shown.body);
        assert_eq!(shown.body["data"]["source_alarm_id"], "cpu", "{name}");
        let history = client.get(&format!("/v1/alarm-mgmt/alarm/{cpu}/handle-histories")).await;
        assert_eq!(history.body["count"], 0, "{name}: its reports before kept no history: {}", history.body);

        // Reported and cleared as any alarm afterwards.
        let reply =
            client.unauthenticated().post(&format!("/v1/event/huawei/custom/{key}"), &alarm_report("cpu", "ok")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let history = client.get(&format!("/v1/alarm-mgmt/alarm/{cpu}/handle-histories")).await;
        assert_eq!(history.body["count"], 1, "{name}: {}", history.body);
        assert_eq!(history.body["alarm_handle_histories"][0]["kind"], "CLEARED", "{name}");
        assert_eq!(alarm_list(&client).await.1, 1, "{name}: the state counts moved");

        let again = reindex(store.as_ref(), &project).await.unwrap();
        assert_eq!((again.alarms_read, again.alarms_indexed), (3, 0), "{name}: a second run changes nothing");
    }
}
