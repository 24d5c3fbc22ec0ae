//! Helpers for the cross-crate tests: the two store/queue adapter pairs, and a
//! local server to talk HTTP to.
//!
//! The DynamoDB and SQS adapters are tested against real local servers over
//! HTTP (DynamoDB Local and moto, started by `make test`), found through the
//! standard `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL_SQS` variables.
//! When `COC_REQUIRE_AWS_LOCAL=1` (as `make test` sets) their absence fails the
//! tests instead of skipping them.

use std::sync::Arc;
use std::time::Duration;

use coc_shared::adapters::dynamodb::DynamoStore;
use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use coc_shared::adapters::sqs::SqsQueue;
use coc_shared::ports::{Queue, Store};
use coc_shared::App;

pub const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);

/// A backend under test, with what keeps it alive.
pub struct Backend {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    _dir: Option<tempfile::TempDir>,
}

impl Backend {
    pub fn app(&self) -> App {
        App::new(self.store.clone(), self.queue.clone())
    }
}

pub fn sqlite_backend() -> Backend {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = SqliteDb::open_dir(dir.path()).expect("open sqlite");
    Backend {
        name: "sqlite",
        store: Arc::new(SqliteStore::new(db.clone())),
        queue: Arc::new(SqliteQueue::new(db, "test", VISIBILITY_TIMEOUT)),
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

/// A fresh table and queue on the local DynamoDB and SQS servers.
pub async fn aws_backend() -> Option<Backend> {
    if !aws_local_configured() {
        return None;
    }
    let config = aws_config::load_from_env().await;
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let store = DynamoStore::new(
        aws_sdk_dynamodb::Client::new(&config),
        format!("coc-test-{suffix}"),
    );
    store.create_table().await.expect("create DynamoDB table");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let url = sqs
        .create_queue()
        .queue_name(format!("coc-test-{suffix}"))
        .send()
        .await
        .expect("create SQS queue")
        .queue_url
        .expect("queue url");
    Some(Backend {
        name: "dynamodb+sqs",
        store: Arc::new(store),
        queue: Arc::new(SqsQueue::new(sqs, url, VISIBILITY_TIMEOUT)),
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
    let addr = coc_local::spawn("127.0.0.1:0", app)
        .await
        .expect("start local server");
    format!("http://{addr}")
}

/// A minimal API client acting as one user of one tenant.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub project: Option<String>,
    pub user: Option<(String, String)>,
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
        self.body["data"]
            .as_str()
            .unwrap_or_else(|| panic!("no string data in {}", self.body))
            .to_owned()
    }
}

impl Client {
    pub fn new(base: &str, project: &str) -> Self {
        Client {
            base: base.to_owned(),
            project: Some(project.to_owned()),
            user: None,
            http: reqwest::Client::new(),
        }
    }

    pub fn as_user(&self, id: &str, name: &str) -> Self {
        Client {
            user: Some((id.to_owned(), name.to_owned())),
            ..self.clone()
        }
    }

    pub fn in_project(&self, project: &str) -> Self {
        Client {
            project: Some(project.to_owned()),
            ..self.clone()
        }
    }

    pub fn without_project(&self) -> Self {
        Client {
            project: None,
            ..self.clone()
        }
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<String>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        request = request.header("Content-Type", "application/json;charset=utf-8");
        if let Some(project) = &self.project {
            request = request.header("X-Project-Id", project);
        }
        if let Some((id, name)) = &self.user {
            request = request
                .header("X-Coc-User-Id", id)
                .header("X-Coc-User-Name", name);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        Reply {
            status,
            body: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            headers,
        }
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
