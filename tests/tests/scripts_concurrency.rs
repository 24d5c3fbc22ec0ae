//! Uniqueness under contention: many creates of one name at once, on every
//! store adapter, and on two SQLite connections to one file (as two processes
//! sharing a data directory would use it).

use std::collections::HashSet;

use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use coc_shared::App;
use coc_tests::{backends, script_body, serve, Client};

const RACERS: usize = 12;

/// Fires `RACERS` creates of one name, spread over `clients`; returns (wins, uuids).
async fn race(clients: &[Client], name: &str) -> (usize, HashSet<String>) {
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let body = script_body(name);
            tokio::spawn(async move { client.post("/v1/job/scripts", &body).await })
        })
        .collect();
    let (mut wins, mut uuids) = (0, HashSet::new());
    for task in tasks {
        let reply = task.await.unwrap();
        match reply.status {
            200 => {
                wins += 1;
                uuids.insert(reply.data_str());
            }
            400 => assert_eq!(reply.error_msg(), format!("Exist script with same name: {name}")),
            other => panic!("unexpected {other}: {}", reply.body),
        }
    }
    (wins, uuids)
}

async fn listed(client: &Client) -> Vec<serde_json::Value> {
    let reply = client.get("/v1/job/scripts?limit=100").await;
    reply.body["data"]["data"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creates_of_one_name_have_one_winner() {
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "race").await;
        for round in 0..3 {
            let name = format!("contested_{round}");
            let (wins, uuids) = race(std::slice::from_ref(&client), &name).await;
            assert_eq!(wins, 1, "{}: round {round}", backend.name);
            let rows: Vec<_> = listed(&client).await.into_iter().filter(|r| r["name"] == name.as_str()).collect();
            assert_eq!(rows.len(), 1, "{}: exactly one script holds the name", backend.name);
            assert!(uuids.contains(rows[0]["script_uuid"].as_str().unwrap()));
        }
        let ids: HashSet<u64> = listed(&client).await.iter().map(|r| r["id"].as_u64().unwrap()).collect();
        assert_eq!(ids.len(), 3, "{}: ids are distinct", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_connections_to_one_sqlite_file_agree_on_uniqueness() {
    let dir = tempfile::tempdir().unwrap();
    let mut clients = Vec::new();
    for _ in 0..2 {
        let db = SqliteDb::open_dir(dir.path()).unwrap();
        let app = App::new(
            std::sync::Arc::new(SqliteStore::new(db.clone())),
            std::sync::Arc::new(SqliteQueue::new(db, "jobs", coc_tests::VISIBILITY_TIMEOUT)),
        );
        let store = app.store.clone();
        clients.push(Client::new(&serve(app).await, store, "shared-file").await);
    }
    for round in 0..3 {
        let (wins, _) = race(&clients, &format!("shared_{round}")).await;
        assert_eq!(wins, 1, "round {round}");
    }
    assert_eq!(listed(&clients[0]).await, listed(&clients[1]).await, "both connections see the same table");
    assert_eq!(listed(&clients[0]).await.len(), 3);
}
