//! Helpers for the cross-crate tests: the two store/queue adapter pairs, and a
//! local server to talk HTTP to.
//!
//! The DynamoDB and SQS adapters are tested against real local servers over
//! HTTP (DynamoDB Local and moto, started by `make test`), found through the
//! standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` variables.
//! When `COC_REQUIRE_AWS_LOCAL=1` (as `make test` sets) their absence fails the
//! tests instead of skipping them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;

use coc_runtime::adapters::dynamodb::DynamoStore;
use coc_runtime::adapters::sqs::SqsQueue;
use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use coc_shared::auth::signature::{sdk_date, sign_headers, AccessKey};
use coc_shared::auth::Credential;
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{IndexQuery, Item, Page, PageQuery, Queue, Store, StoreError, WriteOp};
use coc_shared::repositories::credentials;
use coc_shared::secrets::SecretBox;
use coc_shared::App;
use reqwest::header::{HeaderMap, HeaderValue};

pub mod blobs;
pub mod hooked;
pub mod notify_fixtures;
pub mod patch_fixtures;
pub mod receivers;
pub mod sns_signing;

pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend under test, with what keeps it alive.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// The notification queue, apart from the work queue as in production.
    pub notify_queue: Arc<dyn Queue>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    /// The ports of this backend; outbound HTTPS goes to the tests' SNS
    /// stand-in ([`sns_signing::certificates`]), not to the internet.
    pub fn app(&self) -> App {
        App::new(self.store.clone(), self.queue.clone())
            .with_notify_queue(self.notify_queue.clone())
            .with_https(sns_signing::certificates().clone())
    }
}

pub fn sqlite_backend() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = SqliteDb::open_dir(dir.path()).expect("open sqlite");
    Backend {
        name: "sqlite",
        store: Arc::new(SqliteStore::new(db.clone())),
        queue: Arc::new(SqliteQueue::new(db.clone(), "test", VISIBILITY_TIMEOUT)),
        notify_queue: Arc::new(SqliteQueue::new(db, "notify-test", VISIBILITY_TIMEOUT)),
        _dir: Some(dir),
    }
}

fn aws_local_configured() -> bool {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty());
    let configured = set("AWS_ENDPOINT_URL_DYNAMODB") && set("AWS_ENDPOINT_URL_SQS");
    if !configured && std::env::var("COC_REQUIRE_AWS_LOCAL").is_ok_and(|v| v == "1") {
        panic!("COC_REQUIRE_AWS_LOCAL=1 but AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS are not set");
    }
    if !configured {
        eprintln!("DynamoDB/SQS local endpoints not set: testing the SQLite adapters only (run `make test` for all)");
    }
    configured
}

/// A store on a fresh table of the local DynamoDB server, its client configured
/// by `configure` (e.g. with an interceptor that watches every request);
/// `None` when no local DynamoDB is configured.
pub async fn dynamo_store_with(
    configure: impl FnOnce(aws_sdk_dynamodb::config::Builder) -> aws_sdk_dynamodb::config::Builder,
) -> Option<DynamoStore> {
    if !aws_local_configured() {
        return None;
    }
    let config = configure(aws_sdk_dynamodb::config::Builder::from(&aws_config::load_from_env().await)).build();
    let table = format!("coc-test-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), table);
    store.create_table().await.expect("create DynamoDB table");
    Some(store)
}

/// One read a [`CountingStore`] passed on: which call, and how many items came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub call: &'static str,
    pub pk: String,
    pub items: usize,
}

/// The partitions only the server's background sweeps read, on their own
/// timers (the engine's of open tickets, `ACTIVE_ORDERS` in repositories/jobs.rs;
/// the scheduler's of due tasks, `SCHEDULE_DUE` in repositories/schedules.rs):
/// [`CountingStore`] leaves their reads out of a request's.
pub const BACKGROUND_PARTITIONS: [&str; 2] = ["ACTIVE_ORDERS", "SCHEDULE_DUE"];

/// Passes every call to the store it wraps and records each read with the
/// number of items it returned, so a test can assert that a request reads only
/// the page it answers. (That the adapters read no more than they return is
/// the store contract's part: SQLite's query plan, DynamoDB's ScannedCount.)
/// It also counts the writes and those that failed their condition. Reads of
/// [`BACKGROUND_PARTITIONS`] are not recorded.
pub struct CountingStore {
    inner: Arc<dyn Store>,
    reads: Mutex<Vec<Read>>,
    writes: AtomicUsize,
    failed_writes: AtomicUsize,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn Store>) -> Self {
        CountingStore { inner, reads: Mutex::new(Vec::new()), writes: 0.into(), failed_writes: 0.into() }
    }

    /// (writes, writes that failed their condition) since the last call; clears both.
    pub fn take_writes(&self) -> (usize, usize) {
        (self.writes.swap(0, Ordering::SeqCst), self.failed_writes.swap(0, Ordering::SeqCst))
    }

    /// The reads so far, oldest first; clears the record.
    pub fn take_reads(&self) -> Vec<Read> {
        std::mem::take(&mut self.reads.lock().unwrap())
    }

    /// Items returned by all reads so far (the record is kept).
    pub fn items_read(&self) -> usize {
        self.reads.lock().unwrap().iter().map(|read| read.items).sum()
    }

    fn record(&self, call: &'static str, pk: &str, items: usize) {
        if BACKGROUND_PARTITIONS.contains(&pk) {
            return;
        }
        self.reads.lock().unwrap().push(Read { call, pk: pk.to_owned(), items });
    }
}

#[async_trait]
impl Store for CountingStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let item = self.inner.get(pk, sk).await?;
        self.record("get", pk, usize::from(item.is_some()));
        Ok(item)
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let items = self.inner.query_prefix(pk, sk_prefix).await?;
        self.record("query_prefix", pk, items.len());
        Ok(items)
    }

    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError> {
        let page = self.inner.query_page(query).await?;
        self.record("query_page", query.pk, page.items.len());
        Ok(page)
    }

    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError> {
        let page = self.inner.query_index(query).await?;
        self.record("query_index", query.pk, page.items.len());
        Ok(page)
    }

    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError> {
        let value = self.inner.counter(pk, sk).await?;
        self.record("counter", pk, 1);
        Ok(value)
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let result = self.inner.write(ops).await;
        if result == Err(StoreError::ConditionFailed) {
            self.failed_writes.fetch_add(1, Ordering::SeqCst);
        }
        result
    }

    async fn write_each(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        self.inner.write_each(ops).await
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        self.inner.increment(pk, sk).await
    }
}

/// A fresh table and queue on the local DynamoDB and SQS servers.
pub async fn aws_backend() -> Option<Backend> {
    if !aws_local_configured() {
        return None;
    }
    let config = aws_config::load_from_env().await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), format!("coc-test-{suffix}"));
    store.create_table().await.expect("create DynamoDB table");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let create = |name: String| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue().queue_name(name).send().await.expect("create SQS queue").queue_url.expect("queue url")
        }
    };
    let url = create(format!("coc-test-{suffix}")).await;
    let notify_url = create(format!("coc-test-notify-{suffix}")).await;
    Some(Backend {
        name: "dynamodb+sqs",
        store: Arc::new(store),
        queue: Arc::new(SqsQueue::new(sqs.clone(), url, VISIBILITY_TIMEOUT)),
        notify_queue: Arc::new(SqsQueue::new(sqs, notify_url, VISIBILITY_TIMEOUT)),
        _dir: None,
    })
}

/// Every backend available in this run: SQLite always, DynamoDB+SQS when configured.
pub async fn backends() -> Vec<Backend> {
    let mut all = vec![sqlite_backend()];
    all.extend(aws_backend().await);
    all
}

/// A local server on a free loopback port, serving `app`.
pub async fn serve(app: App) -> String {
    let addr = coc_local::spawn("127.0.0.1:0", app).await.expect("start local server");
    format!("http://{addr}")
}

/// A minimal API client acting as one user of one tenant: it signs every
/// request with that user's AK/SK exactly as the official SDK does.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub project: String,
    /// None: requests go out unauthenticated.
    pub credential: Option<Credential>,
    /// The credentials of the agents this tenant's users registered, by agent_sn.
    agents: Arc<Mutex<HashMap<String, Credential>>>,
    store: Arc<dyn Store>,
    http: reqwest::Client,
}

/// Status, JSON body (Null when the body is not JSON) and headers of a response.
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub fn error_code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or_default()
    }

    pub fn error_msg(&self) -> &str {
        self.body["error_msg"].as_str().unwrap_or_default()
    }

    /// The `data` member of a success envelope, as a string.
    pub fn data_str(&self) -> String {
        self.body["data"].as_str().unwrap_or_else(|| panic!("no string data in {}", self.body)).to_owned()
    }
}

/// Stores a new access key for a user of a project.
pub async fn create_credential(store: &dyn Store, project: &str, user_id: &str, user_name: &str) -> Credential {
    let project = ProjectId::parse(project).expect("valid project id");
    let credential = Credential::generate(project, user_id.to_owned(), user_name.to_owned(), now_ms());
    // Every App of a test process seals with the same process-wide key (App::new).
    credentials::insert(store, &SecretBox::ephemeral(), &credential).await.expect("store credential");
    credential
}

impl Client {
    /// A client for user `alice` of `project`, with a fresh access key.
    pub async fn new(base: &str, store: Arc<dyn Store>, project: &str) -> Self {
        let credential = create_credential(store.as_ref(), project, "u-alice", "alice").await;
        Client {
            base: base.to_owned(),
            project: project.to_owned(),
            credential: Some(credential),
            agents: Arc::default(),
            store,
            http: reqwest::Client::new(),
        }
    }

    /// The same client signing with `credential`.
    pub fn with_credential(&self, credential: Credential) -> Self {
        Client { credential: Some(credential), ..self.clone() }
    }

    /// A client signing with the credential a registration returned (its `data`).
    pub fn with_agent_credential(&self, data: &serde_json::Value) -> Self {
        let text = |name: &str| data[name].as_str().unwrap_or_else(|| panic!("no {name} in {data}")).to_owned();
        let credential = Credential {
            access_key: text("access_key"),
            secret_key: text("secret_key"),
            project_id: ProjectId::parse(text("project_id")).expect("valid project id"),
            user_id: String::new(),
            user_name: String::new(),
            created_at: 0,
            agent_sn: Some(text("agent_sn")),
        };
        Client { credential: Some(credential), ..self.clone() }
    }

    /// Registers an agent with this client's key; `agent(agent_sn)` then acts as it.
    pub async fn register_agent(&self, body: &serde_json::Value) -> Reply {
        let reply = self.post("/v1/agents", body).await;
        if reply.status == 200 {
            let agent = self.with_agent_credential(&reply.body["data"]);
            let credential = agent.credential.expect("a credential was just set");
            let agent_sn = credential.agent_sn.clone().expect("an agent credential");
            self.agents.lock().expect("agents lock").insert(agent_sn, credential);
        }
        reply
    }

    /// A client signing with the credential of agent `agent_sn`, registered by `register_agent`.
    pub fn agent(&self, agent_sn: &str) -> Self {
        let credential = self.agents.lock().expect("agents lock").get(agent_sn).cloned();
        let credential = credential.unwrap_or_else(|| panic!("agent {agent_sn} was not registered by this client"));
        Client { credential: Some(credential), ..self.clone() }
    }

    /// Another user of the same project, with an access key of their own.
    pub async fn as_user(&self, id: &str, name: &str) -> Self {
        let credential = create_credential(self.store.as_ref(), &self.project, id, name).await;
        Client { credential: Some(credential), ..self.clone() }
    }

    /// The same user name in another project (a different tenant, a different key).
    pub async fn in_project(&self, project: &str) -> Self {
        let (id, name) = self.credential.as_ref().map(|c| (c.user_id.clone(), c.user_name.clone())).unwrap_or_default();
        let credential = create_credential(self.store.as_ref(), project, &id, &name).await;
        Client { project: project.to_owned(), credential: Some(credential), agents: Arc::default(), ..self.clone() }
    }

    /// The same key, sending another project's id in X-Project-Id.
    pub fn claiming_project(&self, project: &str) -> Self {
        Client { project: project.to_owned(), ..self.clone() }
    }

    /// The same user and keys, talking to the server at `base` (another App on the same store).
    pub fn at(&self, base: &str) -> Self {
        Client { base: base.to_owned(), ..self.clone() }
    }

    /// Makes O&M engineers of this client's user and of `users` (id, name) of
    /// its tenant: each gets an access key, then the engineers are synchronized
    /// (every user holding a key becomes one), as an operator would.
    pub async fn sync_engineers(&self, users: &[(&str, &str)]) {
        for (id, name) in users {
            create_credential(self.store.as_ref(), &self.project, id, name).await;
        }
        let reply = self.post("/v1/engineers/sync", &serde_json::json!({})).await;
        assert_eq!(reply.status, 200, "synchronizing engineers: {}", reply.body);
    }

    pub fn unauthenticated(&self) -> Self {
        Client { credential: None, ..self.clone() }
    }

    /// The headers the SDK would send for this request, signed.
    pub fn signed_headers(&self, method: &str, path_and_query: &str, body: &[u8], at_ms: i64) -> HeaderMap {
        let host = self.base.trim_start_matches("http://").to_owned();
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json;charset=utf-8"));
        headers.insert("host", HeaderValue::from_str(&host).unwrap());
        headers.insert("x-project-id", HeaderValue::from_str(&self.project).unwrap());
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        match &self.credential {
            Some(c) => {
                let key = AccessKey { id: &c.access_key, secret: &c.secret_key };
                sign_headers(&mut headers, key, method, path, query, body, at_ms);
            }
            None => {
                headers.insert("x-sdk-date", HeaderValue::from_str(&sdk_date(at_ms)).unwrap());
            }
        }
        headers
    }

    /// Sends exactly these headers and body.
    pub async fn send_raw(&self, method: &str, path: &str, headers: HeaderMap, body: Vec<u8>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let response = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply { status, body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null), headers }
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<String>) -> Reply {
        let body = body.unwrap_or_default().into_bytes();
        let headers = self.signed_headers(method, path, &body, now_ms());
        self.send_raw(method, path, headers, body).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.send("POST", path, Some(body.to_string())).await
    }

    pub async fn put(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.send("PUT", path, Some(body.to_string())).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }
}

/// A valid create-script body to vary in tests.
pub fn script_body(name: &str) -> serde_json::Value {
    serde_json::json!({
        "name": name,
        "type": "SHELL",
        "content": "echo ${greeting} ${token}",
        "description": "says hello",
        "properties": { "risk_level": "LOW", "version": "1.0.0" },
        "script_params": [
            { "param_name": "greeting", "param_value": "hello", "param_description": "what to say", "param_order": 1, "sensitive": false },
            { "param_name": "token", "param_value": "s3cret", "param_description": "api token", "param_order": 2, "sensitive": true }
        ]
    })
}
