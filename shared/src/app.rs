//! The ports a handler works with, and how they are chosen from the environment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use crate::auth::PublicHosts;
use crate::ports::{Queue, Store};

/// Where the embedded store keeps its file when `COC_DATA_DIR` is not set.
pub const DEFAULT_DATA_DIR: &str = ".coc-data";
/// Name of the work queue inside the embedded database.
pub const EMBEDDED_QUEUE: &str = "jobs";
/// How long a received message stays hidden before it is delivered again.
pub const QUEUE_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Rung when the engine hands out jobs, so that agents' polls waiting in this
    /// process answer at once instead of at their next look at the store.
    /// Only a shortcut: polls in other processes (other Lambda instances) still
    /// find the jobs by looking.
    pub jobs_handed_out: Arc<tokio::sync::Notify>,
    /// The hosts signatures must be made for (`COC_PUBLIC_HOSTS`); any by default.
    pub public_hosts: PublicHosts,
}

impl App {
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>) -> Self {
        App { store, queue, jobs_handed_out: Arc::default(), public_hosts: PublicHosts::any() }
    }

    pub fn with_public_hosts(self, public_hosts: PublicHosts) -> Self {
        App { public_hosts, ..self }
    }

    /// The embedded, durable default: one SQLite file in `data_dir`.
    pub fn embedded(data_dir: &std::path::Path) -> Result<Self, String> {
        let db = SqliteDb::open_dir(data_dir)?;
        Ok(App::new(
            Arc::new(SqliteStore::new(db.clone())),
            Arc::new(SqliteQueue::new(db, EMBEDDED_QUEUE, QUEUE_VISIBILITY_TIMEOUT)),
        ))
    }

    pub fn data_dir_from_env() -> PathBuf {
        std::env::var_os("COC_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// DynamoDB when `COC_TABLE_NAME` is set and SQS when `COC_QUEUE_URL` is set;
    /// otherwise the embedded store and queue in `COC_DATA_DIR`. The public
    /// hosts come from `COC_PUBLIC_HOSTS`.
    #[cfg(feature = "aws")]
    pub async fn from_env() -> Result<Self, String> {
        use crate::adapters::dynamodb::DynamoStore;
        use crate::adapters::sqs::SqsQueue;

        let table = std::env::var("COC_TABLE_NAME").ok().filter(|v| !v.is_empty());
        let queue_url = std::env::var("COC_QUEUE_URL").ok().filter(|v| !v.is_empty());
        let embedded = match (&table, &queue_url) {
            (Some(_), Some(_)) => None,
            _ => Some(Self::embedded(&Self::data_dir_from_env())?),
        };
        let store: Arc<dyn Store> = match table {
            Some(table) => Arc::new(DynamoStore::from_env(table).await),
            None => embedded.as_ref().expect("embedded is opened without a table").store.clone(),
        };
        let queue: Arc<dyn Queue> = match queue_url {
            Some(url) => Arc::new(SqsQueue::from_env(url, QUEUE_VISIBILITY_TIMEOUT).await),
            None => embedded.as_ref().expect("embedded is opened without a queue").queue.clone(),
        };
        Ok(App::new(store, queue).with_public_hosts(PublicHosts::from_env()?))
    }
}
