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
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&config), format!("coc-test-{suffix}"));
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
    let addr = coc_local::spawn("127.0.0.1:0", app).await.expect("start local server");
    format!("http://{addr}")
}
