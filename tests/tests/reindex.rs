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
