//! Every list endpoint reads through an index in the order it returns: a page
//! reads the page (plus what a filter discards) and a constant number of
//! counts, never a whole partition, and never another tenant's keys. Checked on
//! every backend with a store that records each read.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use coc_shared::limits;
use coc_shared::App;
use coc_tests::{backends, serve, Backend, Client, CountingStore, Read};

const SCRIPTS: &str = "/v1/job/scripts";
const ORDERS: &str = "/v1/job/script/orders";

/// A tenant's client on a server whose store counts every read.
struct Counted {
    name: &'static str,
    store: Arc<CountingStore>,
    client: Client,
    _backend: Backend,
}

async fn counted(project: &str) -> Vec<Counted> {
    let mut all = Vec::new();
    for backend in backends().await {
        let store = Arc::new(CountingStore::new(backend.store.clone()));
        let base = serve(App::new(store.clone(), backend.queue.clone())).await;
        let client = Client::new(&base, store.clone(), project).await;
        // Integrations assign their incidents to alice, who must be an engineer.
        client.sync_engineers(&[]).await;
        all.push(Counted { name: backend.name, store, client, _backend: backend });
    }
    all
}

/// The reads of one request, asserting that none is a whole-prefix read and
/// that every index or count read stays in `project`'s keys.
async fn reads_of(setup: &Counted, project: &str, path: &str) -> (Value, Vec<Read>) {
    setup.store.take_reads();
    let reply = setup.client.get(path).await;
    assert_eq!(reply.status, 200, "{}: {path}: {}", setup.name, reply.body);
    let reads = setup.store.take_reads();
    let own = format!("PROJECT#{project}");
    for read in &reads {
        assert_ne!(read.call, "query_prefix", "{}: {path} read a whole prefix: {read:?}", setup.name);
        if read.call != "get" {
            assert!(read.pk == own || read.pk.starts_with(&format!("{own}#")), "{}: {path} read {read:?}", setup.name);
        }
    }
    (reply.body, reads)
}

fn items_of(reads: &[Read], call: &str) -> usize {
    reads.iter().filter(|r| r.call == call).map(|r| r.items).sum()
}

fn calls_of(reads: &[Read], call: &str) -> usize {
    reads.iter().filter(|r| r.call == call).count()
}

fn risk_of(i: usize) -> &'static str {
    ["LOW", "MEDIUM", "HIGH"][i % 3]
}

/// Every script of the list, paging by `marker` with `limit` rows a page.
async fn walk_scripts(client: &Client, query: &str, limit: usize) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    let mut marker = 0;
    loop {
        let reply = client.get(&format!("{SCRIPTS}?limit={limit}&marker={marker}{query}")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let rows = reply.body["data"]["data"].as_array().unwrap().clone();
        let Some(last) = rows.last() else { return all };
        marker = last["id"].as_u64().unwrap();
        all.extend(rows);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn script_lists_read_only_their_page_and_counts_stay_exact() {
    const N: usize = 1_000;
    for setup in counted("p-a").await {
        let name = setup.name;
        let bob = setup.client.as_user("u-bob", "bob").await;
        let mut uuids = Vec::new();
        for i in 0..N {
            let mut body = coc_tests::script_body(&format!("s{i:04}"));
            body["properties"]["risk_level"] = json!(risk_of(i));
            let client = if i % 5 == 0 { &bob } else { &setup.client };
            let reply = client.post(SCRIPTS, &body).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            uuids.push(reply.data_str());
        }
        // Another tenant's scripts are neither shown nor read.
        let other = setup.client.in_project("p-b").await;
        for i in 0..30 {
            assert_eq!(other.post(SCRIPTS, &coc_tests::script_body(&format!("b{i}"))).await.status, 200);
        }

        let (body, reads) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=10")).await;
        assert_eq!(body["data"]["total"], N, "{name}");
        assert_eq!(body["data"]["data"].as_array().unwrap().len(), 10, "{name}");
        assert!(items_of(&reads, "query_index") <= 10, "{name}: {reads:?}");
        assert!(calls_of(&reads, "counter") <= 1, "{name}: {reads:?}");

        // A filter the index does not serve reads the page and what it discards.
        let (body, reads) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=10&risk_level=HIGH")).await;
        let rows = body["data"]["data"].as_array().unwrap();
        assert!(rows.iter().all(|r| r["properties"]["risk_level"] == "HIGH"), "{rows:?}");
        let last_id = rows.last().unwrap()["id"].as_u64().unwrap() as usize;
        let discarded = last_id - rows.len();
        assert!(items_of(&reads, "query_index") <= 10 + discarded + limits::LIST_WALK_MIN_CHUNK, "{name}: {reads:?}");
        assert_eq!(body["data"]["total"], N / 3, "{name}: HIGH is every third script");

        // A creator's list reads the creator's own index partition only.
        let (body, reads) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=10&creator=bob")).await;
        assert_eq!(body["data"]["total"], N / 5, "{name}");
        assert!(body["data"]["data"].as_array().unwrap().iter().all(|r| r["creator"] == "bob"), "{name}");
        assert!(items_of(&reads, "query_index") <= 10, "{name}: {reads:?}");

        // Changes move the counts in the same transaction.
        let edit =
            json!({"description": "d", "content": "echo hi", "properties": {"risk_level": "HIGH", "version": "2"}});
        for (i, uuid) in uuids.iter().enumerate().take(30).filter(|(i, _)| i % 5 != 0 && risk_of(*i) != "HIGH") {
            let reply = setup.client.put(&format!("{SCRIPTS}/{uuid}"), &edit).await;
            assert_eq!(reply.status, 200, "{name}: script {i}: {}", reply.body);
        }
        for uuid in &uuids[30..50] {
            assert_eq!(setup.client.delete(&format!("{SCRIPTS}/{uuid}")).await.status, 200, "{name}");
        }

        // Paging walks every script exactly once; totals equal what the walk finds.
        let all = walk_scripts(&setup.client, "", 100).await;
        let ids: HashSet<u64> = all.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(ids.len(), all.len(), "{name}: a script shown twice");
        assert_eq!(all.len(), N - 20, "{name}");
        let (body, _) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=1")).await;
        assert_eq!(body["data"]["total"], all.len(), "{name}");
        for (query, wanted) in [("&risk_level=HIGH", "HIGH"), ("&risk_level=LOW", "LOW")] {
            let truth = walk_scripts(&setup.client, query, 100).await;
            let high = all.iter().filter(|r| r["properties"]["risk_level"] == wanted).count();
            assert_eq!(truth.len(), high, "{name}: {query}");
            let (body, _) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=5{query}")).await;
            assert_eq!(body["data"]["total"], high, "{name}: {query}");
        }
        // Two filters: a bounded count, exact while the candidates fit in it.
        let truth = walk_scripts(&setup.client, "&creator=bob&risk_level=LOW", 100).await;
        let (body, _) = reads_of(&setup, "p-a", &format!("{SCRIPTS}?limit=5&creator=bob&risk_level=LOW")).await;
        assert_eq!(body["data"]["total"], truth.len(), "{name}");
        assert!(truth.iter().all(|r| r["creator"] == "bob" && r["properties"]["risk_level"] == "LOW"), "{name}");
        assert!(!truth.is_empty(), "{name}");

        let theirs = other.get(&format!("{SCRIPTS}?limit=100")).await;
        assert_eq!(theirs.body["data"]["total"], 30, "{name}");
        assert!(theirs.body["data"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["name"].as_str().unwrap().starts_with('b')));
    }
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.1", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// The ticket's status, once it is `want`.
async fn wait_status(client: &Client, uuid: &str, want: &str) {
    for _ in 0..300 {
        if client.get(&format!("{ORDERS}/{uuid}")).await.body["data"]["status"] == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("ticket {uuid} never became {want}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ticket_lists_read_newest_first_through_the_status_index() {
    const N: usize = 40;
    for setup in counted("p-t").await {
        let (name, client) = (setup.name, &setup.client);
        register(client, "a1").await;
        let script = client.post(SCRIPTS, &coc_tests::script_body("t")).await;
        let script_uuid = script.data_str();
        let execution = json!({
            "execute_param": {"timeout": 600, "success_rate": 100, "execute_user": "root"},
            "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": "res-a1", "agent_sn": "a1", "project_id": "p-t", "region_id": "cn-north-4"}]}]
        });
        let mut tickets = Vec::new();
        for _ in 0..N {
            let reply = client.post(&format!("{SCRIPTS}/{script_uuid}"), &execution).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            tickets.push(reply.data_str());
        }
        for uuid in &tickets {
            wait_status(client, uuid, "PROCESSING").await;
        }
        let canceled: Vec<&String> = tickets.iter().step_by(4).collect();
        for uuid in &canceled {
            let reply =
                client.put(&format!("{ORDERS}/{uuid}/operation"), &json!({"operation_type": "CANCEL_ORDER"})).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            wait_status(client, uuid, "CANCELED").await;
        }

        let (body, reads) = reads_of(&setup, "p-t", &format!("{ORDERS}?limit=5&status=CANCELED")).await;
        let rows = body["data"]["data"].as_array().unwrap();
        let newest: Vec<&str> = canceled.iter().rev().take(5).map(|s| s.as_str()).collect();
        assert_eq!(rows.iter().map(|r| r["execute_uuid"].as_str().unwrap()).collect::<Vec<_>>(), newest, "{name}");
        assert_eq!(body["data"]["total"], canceled.len(), "{name}");
        assert_eq!(items_of(&reads, "query_index"), 5, "{name}: only matching tickets are read: {reads:?}");

        let (body, reads) = reads_of(&setup, "p-t", &format!("{ORDERS}?limit=10")).await;
        assert_eq!(body["data"]["total"], N, "{name}");
        assert_eq!(body["data"]["data"][0]["execute_uuid"], tickets[N - 1], "{name}: newest first");
        assert!(items_of(&reads, "query_index") <= 10, "{name}: {reads:?}");
        let (body, _) = reads_of(&setup, "p-t", &format!("{ORDERS}?limit=10&status=PROCESSING")).await;
        assert_eq!(body["data"]["total"], N - canceled.len(), "{name}: a status change moves the counts");

        // Paging by marker walks every ticket once.
        let mut seen = Vec::new();
        let mut marker: Option<u64> = None;
        loop {
            let path = match marker {
                Some(m) => format!("{ORDERS}?limit=7&marker={m}"),
                None => format!("{ORDERS}?limit=7"),
            };
            let rows = client.get(&path).await.body["data"]["data"].as_array().unwrap().clone();
            let Some(last) = rows.last() else { break };
            marker = Some(last["order_id"].as_u64().unwrap());
            seen.extend(rows.iter().map(|r| r["execute_uuid"].as_str().unwrap().to_owned()));
        }
        let mut expected = tickets.clone();
        expected.reverse();
        assert_eq!(seen, expected, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn integrations_alarms_and_resources_page_through_their_keys() {
    for setup in counted("p-i").await {
        let (name, client) = (setup.name, &setup.client);
        let mut integrations = Vec::new();
        for i in 0..12 {
            let reply = client.post("/v1/integrations", &json!({"name": format!("int{i}")})).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            integrations.push(reply.body["data"].clone());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let mut seen = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let path = match &marker {
                Some(m) => format!("/v1/integrations?limit=5&marker={}", m.replace('#', "%23")),
                None => "/v1/integrations?limit=5".to_owned(),
            };
            let (body, reads) = reads_of(&setup, "p-i", &path).await;
            assert_eq!(body["count"], 12, "{name}");
            assert!(items_of(&reads, "query_index") <= 5, "{name}: {reads:?}");
            seen.extend(body["data"].as_array().unwrap().iter().map(|r| r["integration_id"].clone()));
            match body["next_marker"].as_str() {
                Some(next) => marker = Some(next.to_owned()),
                None => break,
            }
        }
        let expected: Vec<Value> = integrations.iter().map(|i| i["integration_id"].clone()).collect();
        assert_eq!(seen, expected, "{name}: oldest first, each once");
        let bad = client.get("/v1/integrations?marker=nonsense").await;
        assert_eq!(bad.status, 400, "{name}");
        assert!(bad.error_msg().contains("marker"), "{name}");

        // Alarms: newest report first, a repeat report moves the alarm to the front.
        let key = integrations[0]["integration_key"].as_str().unwrap();
        let id = integrations[0]["integration_id"].as_str().unwrap();
        let intake = format!("/v1/event/huawei/custom/{key}");
        for alarm in ["x1", "x2", "x3", "x1"] {
            let body = json!({"alarmId": alarm, "alarmName": "cpu high", "alarmLevel": "Critical", "time": 1_709_118_444_540_i64,
                              "nameSpace": "ns", "regionId": "cn-north-4", "applicationId": "app-1", "alarmDesc": "95%",
                              "alarmSource": "zabbix"});
            let reply = client.unauthenticated().post(&intake, &body).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let (body, reads) = reads_of(&setup, "p-i", &format!("/v1/integrations/{id}/alarms?limit=2")).await;
        let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|a| a["alarm_id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["x1", "x3"], "{name}");
        assert_eq!(body["count"], 3, "{name}");
        assert!(items_of(&reads, "query_index") <= 2, "{name}: {reads:?}");
        let next = body["next_marker"].as_str().unwrap().replace('#', "%23");
        let (body, _) = reads_of(&setup, "p-i", &format!("/v1/integrations/{id}/alarms?limit=2&marker={next}")).await;
        assert_eq!(body["data"][0]["alarm_id"], "x2", "{name}");
        assert!(body["next_marker"].is_null(), "{name}");

        // Resources: a page of agents reads the page.
        for i in 0..15 {
            register(client, &format!("h{i:02}")).await;
        }
        let (body, reads) =
            reads_of(&setup, "p-i", "/v1/resources?provider=ecs&type=cloudservers&limit=4&marker=h05").await;
        let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["h06", "h07", "h08", "h09"], "{name}");
        assert!(items_of(&reads, "query_page") <= 4, "{name}: {reads:?}");
        let (body, _) = reads_of(
            &setup,
            "p-i",
            "/v1/resources?provider=ecs&type=cloudservers&limit=2&resource_id_list=res-h03&resource_id_list=res-h11",
        )
        .await;
        let ids: Vec<&str> = body["data"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["h03", "h11"], "{name}");
    }
}
