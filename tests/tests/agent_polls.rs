//! Agents' long-polls and reports at scale, over HTTP on every backend: a job
//! wakes only the agent it is for, and the reports of a whole batch land at
//! once without fighting over the ticket.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use coc_shared::app::QUEUE_VISIBILITY_TIMEOUT;
use coc_shared::ports::{IndexQuery, Item, Page, PageQuery, Store, StoreError, WriteOp};
use coc_shared::secrets::SecretBox;
use coc_shared::wakeups::{Wakeups, FOREIGN_PROBE_EVERY};
use coc_shared::App;
use coc_tests::{backends, serve, Client};

const ORDERS: &str = "/v1/job/script/orders";

/// Passes every call on, recording which key ranges were read and which
/// writes lost on a condition.
struct Watched {
    inner: Arc<dyn Store>,
    ranges_read: Mutex<Vec<String>>,
    failed_writes: Mutex<Vec<String>>,
}

impl Watched {
    fn new(inner: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(Watched { inner, ranges_read: Mutex::default(), failed_writes: Mutex::default() })
    }

    /// How many reads of ranges starting with `prefix` were made since the last call; clears the record.
    fn take_reads_of(&self, prefix: &str) -> usize {
        std::mem::take(&mut *self.ranges_read.lock().unwrap()).iter().filter(|p| p.starts_with(prefix)).count()
    }

    fn failed_writes_to(&self, sk: &str) -> usize {
        self.failed_writes.lock().unwrap().iter().filter(|s| *s == sk).count()
    }
}

#[async_trait]
impl Store for Watched {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        self.inner.get(pk, sk).await
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.ranges_read.lock().unwrap().push(sk_prefix.to_owned());
        self.inner.query_prefix(pk, sk_prefix).await
    }

    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError> {
        self.ranges_read.lock().unwrap().push(query.prefix.to_owned());
        self.inner.query_page(query).await
    }

    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError> {
        self.ranges_read.lock().unwrap().push(query.pk.to_owned());
        self.inner.query_index(query).await
    }

    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError> {
        self.inner.counter(pk, sk).await
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let keys: Vec<String> = ops
            .iter()
            .map(|op| match op {
                WriteOp::Put { item, .. } | WriteOp::Tally { item, .. } => item.sk.clone(),
                WriteOp::Delete { sk, .. } | WriteOp::Add { sk, .. } => sk.clone(),
            })
            .collect();
        let result = self.inner.write(ops).await;
        if result == Err(StoreError::ConditionFailed) {
            self.failed_writes.lock().unwrap().extend(keys);
        }
        result
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        self.inner.increment(pk, sk).await
    }
}

struct Setup {
    name: &'static str,
    app: App,
    store: Arc<Watched>,
    client: Client,
    script_uuid: String,
    _backend: coc_tests::Backend,
}

/// A tenant with an approved script and the agents `agents`, on a server whose
/// waiting polls never look at the store on their own (recheck in a minute).
async fn setups(agents: &[String]) -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let store = Watched::new(backend.store.clone());
        let app = App::new(store.clone(), backend.queue.clone()).with_poll_recheck(Duration::from_secs(60));
        let client = Client::new(&serve(app.clone()).await, store.clone(), "p-polls").await;
        let body = json!({"name": "hello", "type": "SHELL", "content": "echo hello", "description": "d",
                          "properties": {"risk_level": "LOW", "version": "1"}});
        let reply = client.post("/v1/job/scripts", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let script_uuid = reply.data_str();
        for agent_sn in agents {
            let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "r",
                              "host_name": agent_sn, "fixed_ip": "10.0.0.1", "os_type": "linux"});
            let reply = client.register_agent(&body).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        all.push(Setup { name: backend.name, app, store, client, script_uuid, _backend: backend });
    }
    all
}

/// Executes the script on one batch of `agents`.
async fn execute(setup: &Setup, agents: &[String]) -> String {
    let targets: Vec<Value> = agents
        .iter()
        .map(
            |sn| json!({"resource_id": format!("res-{sn}"), "agent_sn": sn, "project_id": "p-polls", "region_id": "r"}),
        )
        .collect();
    let body = json!({"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
                      "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": targets}]});
    let reply = setup.client.post(&format!("/v1/job/scripts/{}", setup.script_uuid), &body).await;
    assert_eq!(reply.status, 200, "{}: {}", setup.name, reply.body);
    reply.data_str()
}

async fn poll(client: &Client, agent_sn: &str, wait_seconds: u64) -> Vec<Value> {
    let reply = client.agent(agent_sn).get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds={wait_seconds}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..500 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_wakes_only_the_agent_it_is_for() {
    let agents = ["a".to_owned(), "b".to_owned()];
    for setup in setups(&agents).await {
        let (name, client) = (setup.name, &setup.client);
        let a_polls = tokio::spawn({
            let client = client.clone();
            async move { poll(&client, "a", 20).await }
        });
        let b_polls = tokio::spawn({
            let client = client.clone();
            async move { poll(&client, "b", 3).await }
        });
        let wakeups = setup.app.wakeups.clone();
        wait_until("both polls waiting", || wakeups.waiting_agents() == 2).await;
        // Both polls have looked once; from here on, count the looks at b's jobs.
        setup.store.take_reads_of("");
        execute(&setup, &agents[..1]).await;
        let a_jobs = a_polls.await.unwrap();
        // The job came long before a's deadline, and polls look at the store on their
        // own only once a minute: a's poll was woken for it.
        assert_eq!(a_jobs.len(), 1, "{name}: a's poll answers with its job");
        assert_eq!(b_polls.await.unwrap(), Vec::<Value>::new(), "{name}: b's poll ends empty at its deadline");
        assert_eq!(setup.store.take_reads_of("AGENTJOB#b#"), 0, "{name}: b's waiting poll was never woken to look");
        wait_until("the polls' entries are gone", || setup.app.wakeups.waiting_agents() == 0).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_reports_of_a_whole_batch_land_at_once() {
    let agents: Vec<String> = (1..=10).map(|i| format!("h{i:02}")).collect();
    for setup in setups(&agents).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = execute(&setup, &agents).await;
        let mut jobs = Vec::new();
        for agent_sn in &agents {
            let taken = poll(client, agent_sn, 5).await;
            assert_eq!(taken.len(), 1, "{name}: {agent_sn}");
            jobs.push((agent_sn.clone(), taken[0].clone()));
        }
        // All ten report at the same moment.
        let start = Arc::new(tokio::sync::Barrier::new(jobs.len()));
        let reports: Vec<_> = jobs
            .into_iter()
            .map(|(agent_sn, job)| {
                let (client, start) = (client.agent(&agent_sn), start.clone());
                tokio::spawn(async move {
                    let path = format!(
                        "/v1/agents/{agent_sn}/jobs/{}/{}",
                        job["execute_uuid"].as_str().unwrap(),
                        job["instance_id"]
                    );
                    let body =
                        json!({"attempt": job["attempt"], "exit_code": 0, "log": format!("hello from {agent_sn}")});
                    start.wait().await;
                    let reply = client.post(&path, &body).await;
                    (reply.status, reply.body["data"].clone())
                })
            })
            .collect();
        for report in reports {
            assert_eq!(report.await.unwrap(), (200, json!(true)), "{name}: every report is recorded at once");
        }
        let mut info = Value::Null;
        for _ in 0..300 {
            info = client.get(&format!("{ORDERS}/{uuid}")).await.body["data"].clone();
            if info["status"] == "FINISHED" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(info["status"], "FINISHED", "{name}: {info}");
        let batch = client.get(&format!("{ORDERS}/{uuid}/batches/1?limit=10")).await.body["data"].clone();
        let instances = batch["execute_instances"].as_array().unwrap();
        assert_eq!(instances.len(), 10);
        for instance in instances {
            assert_eq!(instance["status"], "FINISHED", "{name}: {instance}");
            let host = instance["target_instance"]["agent_sn"].as_str().unwrap_or_default();
            assert_eq!(instance["message"], format!("hello from {host}"), "{name}: each log is kept");
        }
        assert_eq!(
            setup.store.failed_writes_to(&format!("ORDER#{uuid}")),
            0,
            "{name}: no write of the ticket lost a race (nobody had to retry)"
        );
    }
}

/// Two processes on one data directory (a second `coc-local`, `cargo lambda
/// watch` functions): a job that the other one hands out reaches a poll
/// waiting here within about the watcher's probe interval, though this
/// process's polls never look on a timer (recheck in a minute) and its engine
/// never sees the ticket (it reads another queue).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_job_handed_out_by_another_process_on_the_data_directory_reaches_a_waiting_poll() {
    let dir = tempfile::tempdir().unwrap();
    let db = SqliteDb::open_dir(dir.path()).unwrap();
    let here = App::new(
        Arc::new(SqliteStore::new(db.clone())),
        Arc::new(SqliteQueue::new(db.clone(), "not-the-engine-queue", QUEUE_VISIBILITY_TIMEOUT)),
    )
    .with_wakeups(Arc::new(Wakeups::watching(Arc::new(db), FOREIGN_PROBE_EVERY)))
    .with_poll_recheck(Duration::from_secs(60));
    // The test's credentials are sealed with the process-wide test key.
    let there = App::embedded(dir.path()).unwrap().with_secrets(SecretBox::ephemeral());
    let client = Client::new(&serve(here.clone()).await, here.store.clone(), "p-two").await;
    let elsewhere = client.at(&serve(there).await);
    let body = json!({"agent_sn": "a1", "resource_id": "res-a1", "region_id": "r", "host_name": "a1",
                      "fixed_ip": "10.0.0.1", "os_type": "linux"});
    assert_eq!(client.register_agent(&body).await.status, 200);
    let script = json!({"name": "hello", "type": "SHELL", "content": "echo hello", "description": "d",
                        "properties": {"risk_level": "LOW", "version": "1"}});
    let script_uuid = elsewhere.post("/v1/job/scripts", &script).await.data_str();

    let waiting = {
        let client = client.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            (poll(&client, "a1", 20).await, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let execute = json!({"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
                         "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
                             {"resource_id": "res-a1", "agent_sn": "a1", "project_id": "p-two", "region_id": "r"}]}]});
    let reply = elsewhere.post(&format!("/v1/job/scripts/{script_uuid}"), &execute).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let (jobs, waited) = waiting.await.unwrap();
    assert_eq!(jobs.len(), 1, "the poll got the job the other process handed out");
    assert_eq!(jobs[0]["execute_uuid"], reply.data_str());
    assert!(waited < Duration::from_secs(10), "it came at the next probe, not at the poll's deadline: {waited:?}");
}
