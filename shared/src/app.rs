//! The ports a handler works with, and how they are chosen from the environment.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::adapters::blobs_fs::FsBlobs;
use crate::adapters::local_keyring::{LocalKeyring, KEY_FILE};
use crate::adapters::sns_certificates::SnsCertificates;
use crate::adapters::sqlite::{SqliteDb, SqliteQueue, SqliteStore};
use crate::adapters::unavailable::{NoBlobs, NoQueue};
use crate::auth::PublicHosts;
use crate::clock::Clock;
use crate::domain::engineer::webhook::AllowedHosts;
use crate::ports::{Blobs, HttpsGet, NoHttps, Queue, Store};
use crate::secrets::SecretBox;
use crate::wakeups::Wakeups;

/// Where the embedded store keeps its file when `COC_DATA_DIR` is not set.
pub const DEFAULT_DATA_DIR: &str = ".coc-data";
/// Name of the work queue inside the embedded database.
pub const EMBEDDED_QUEUE: &str = "jobs";
/// The base URL of links in notifications.
pub const PUBLIC_URL_VAR: &str = "COC_PUBLIC_URL";
/// The SQS queue of notifications (`notify`), beside `COC_QUEUE_URL`'s work queue.
pub const NOTIFY_QUEUE_VAR: &str = "COC_NOTIFY_QUEUE_URL";
/// Name of the notification queue inside the embedded database.
pub const EMBEDDED_NOTIFY_QUEUE: &str = "notifications";
/// Where the embedded blob store keeps attachments, under the data directory.
pub const EMBEDDED_BLOBS_DIR: &str = "attachments";
/// The S3 bucket of attachments; without it (and with coc-runtime's
/// `embedded` feature) they go to the data directory.
pub const ATTACHMENTS_BUCKET_VAR: &str = "COC_ATTACHMENTS_BUCKET";
/// How long a received message stays hidden before it is delivered again.
pub const QUEUE_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);
/// How often a waiting job poll looks at its agent's jobs on the embedded store.
/// There the engine normally runs in the same process and wakes the poll at
/// once, and another process sharing the file (a `cargo lambda watch`
/// function, a second `coc-local`) is noticed by the wake-up registry's
/// watcher within a second (`wakeups::FOREIGN_PROBE_EVERY`): the look on a
/// timer is only a safety net, so it is rare and idle polls cost nothing.
pub const EMBEDDED_POLL_RECHECK: Duration = Duration::from_secs(30);
/// The same on DynamoDB/SQS, where the engine usually runs in another process
/// (the engine function) and never wakes this one's polls: the look is then the
/// only way a poll learns of its jobs, so it is frequent. It reads one agent's
/// own key range, so it costs one small query per waiting agent per second.
pub const SHARED_STORE_POLL_RECHECK: Duration = Duration::from_secs(1);
/// Overrides both, in milliseconds.
pub const POLL_RECHECK_VAR: &str = "COC_POLL_RECHECK_MS";

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    pub queue: Arc<dyn Queue>,
    /// Rung by the engine for the agents it hands jobs to, so that their polls
    /// waiting in this process answer at once. Only a shortcut: polls in other
    /// processes (other Lambda instances) find the jobs at their next look.
    pub wakeups: Arc<Wakeups>,
    /// How often a waiting job poll looks at its agent's jobs for ones handed
    /// out by another process.
    pub poll_recheck: Duration,
    /// The hosts signatures must be made for (`COC_PUBLIC_HOSTS`); any by default.
    pub public_hosts: PublicHosts,
    /// Seals what the store must not hold in clear: secret keys and sensitive values.
    pub secrets: SecretBox,
    /// Where notifications wait for delivery (`notify`): a queue of their own,
    /// so that a slow mail server never holds up the job engine.
    pub notify_queue: Arc<dyn Queue>,
    /// The time handlers go by; a manual clock in tests.
    pub clock: Clock,
    /// The base URL people reach this API at (`COC_PUBLIC_URL`, e.g.
    /// `https://coc.example.com`), for links in notifications; `None` when not configured.
    pub public_url: Option<String>,
    /// Where engineers' chat robots may point besides the vendors' hosts
    /// (`COC_WEBHOOK_ALLOWED_HOSTS`): checked when a webhook is saved and when it is called.
    pub webhook_hosts: AllowedHosts,
    /// Where the bytes of attachments live (S3, or the data directory).
    pub blobs: Arc<dyn Blobs>,
    /// GETs to AWS itself (SNS subscription confirmations and signing certificates).
    pub https: Arc<dyn HttpsGet>,
    /// The SNS signing certificates fetched so far (through `https`).
    pub sns_certificates: Arc<SnsCertificates>,
}

impl App {
    /// Ports with a master key that lives only in this process (see
    /// [`SecretBox::ephemeral`]); `embedded` and `from_env` use a durable one.
    pub fn new(store: Arc<dyn Store>, queue: Arc<dyn Queue>) -> Self {
        App {
            store,
            queue,
            wakeups: Arc::default(),
            poll_recheck: EMBEDDED_POLL_RECHECK,
            public_hosts: PublicHosts::any(),
            secrets: SecretBox::ephemeral(),
            notify_queue: Arc::new(NoQueue { reason: "no notification queue is configured" }),
            clock: Clock::system(),
            public_url: None,
            webhook_hosts: AllowedHosts::none(),
            blobs: Arc::new(NoBlobs { reason: "no blob store is configured" }),
            https: Arc::new(NoHttps { reason: "no HTTPS client is configured" }),
            sns_certificates: Arc::default(),
        }
    }

    /// The wake-up registry of the polls; an embedded store's watches the
    /// other processes' writes, so an App made from its store keeps it.
    pub fn with_wakeups(self, wakeups: Arc<Wakeups>) -> Self {
        App { wakeups, ..self }
    }

    pub fn with_https(self, https: Arc<dyn HttpsGet>) -> Self {
        App { https, ..self }
    }

    pub fn with_blobs(self, blobs: Arc<dyn Blobs>) -> Self {
        App { blobs, ..self }
    }

    pub fn with_webhook_hosts(self, webhook_hosts: AllowedHosts) -> Self {
        App { webhook_hosts, ..self }
    }

    /// `COC_PUBLIC_URL` (an http or https URL, without a trailing `/`), if set.
    pub fn public_url_from_env() -> Result<Option<String>, String> {
        let Some(url) = std::env::var(PUBLIC_URL_VAR).ok().filter(|v| !v.is_empty()) else { return Ok(None) };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("{PUBLIC_URL_VAR}: not an http or https URL: {url}"));
        }
        Ok(Some(url.trim_end_matches('/').to_owned()))
    }

    /// The public URL and webhook allow-list from the environment.
    pub fn with_link_settings_from_env(self) -> Result<Self, String> {
        Ok(self.with_public_url(Self::public_url_from_env()?).with_webhook_hosts(AllowedHosts::from_env()?))
    }

    pub fn with_notify_queue(self, notify_queue: Arc<dyn Queue>) -> Self {
        App { notify_queue, ..self }
    }

    pub fn with_clock(self, clock: Clock) -> Self {
        App { clock, ..self }
    }

    pub fn with_public_url(self, public_url: Option<String>) -> Self {
        App { public_url, ..self }
    }

    pub fn with_public_hosts(self, public_hosts: PublicHosts) -> Self {
        App { public_hosts, ..self }
    }

    pub fn with_secrets(self, secrets: SecretBox) -> Self {
        App { secrets, ..self }
    }

    pub fn with_poll_recheck(self, poll_recheck: Duration) -> Self {
        App { poll_recheck, ..self }
    }

    /// `COC_POLL_RECHECK_MS` when set (a whole number of milliseconds, at least 1), else `default`.
    pub fn poll_recheck_from_env(default: Duration) -> Result<Duration, String> {
        match std::env::var(POLL_RECHECK_VAR).ok().filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(value) => match value.parse::<u64>() {
                Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
                _ => Err(format!("{POLL_RECHECK_VAR}: not a whole number of milliseconds above 0: {value}")),
            },
        }
    }

    /// The embedded, durable default: one SQLite file in `data_dir`, and the
    /// master key in COC_KEY_FILE (default `data_dir/master.key`).
    pub fn embedded(data_dir: &std::path::Path) -> Result<Self, String> {
        let db = SqliteDb::open_dir(data_dir)?;
        let wakeups = Wakeups::watching(Arc::new(db.clone()), crate::wakeups::FOREIGN_PROBE_EVERY);
        let app = App::new(
            Arc::new(SqliteStore::new(db.clone())),
            Arc::new(SqliteQueue::new(db.clone(), EMBEDDED_QUEUE, QUEUE_VISIBILITY_TIMEOUT)),
        )
        .with_wakeups(Arc::new(wakeups))
        .with_notify_queue(Arc::new(SqliteQueue::new(db, EMBEDDED_NOTIFY_QUEUE, QUEUE_VISIBILITY_TIMEOUT)))
        .with_blobs(Arc::new(FsBlobs::new(data_dir.join(EMBEDDED_BLOBS_DIR))));
        let poll_recheck = Self::poll_recheck_from_env(EMBEDDED_POLL_RECHECK)?;
        app.with_secrets(Self::local_secrets(data_dir)?).with_poll_recheck(poll_recheck).with_link_settings_from_env()
    }

    pub fn local_secrets(data_dir: &std::path::Path) -> Result<SecretBox, String> {
        let path = std::env::var_os("COC_KEY_FILE").map(PathBuf::from).unwrap_or_else(|| data_dir.join(KEY_FILE));
        Ok(SecretBox::new(Arc::new(LocalKeyring::open_or_create(&path)?)))
    }

    pub fn data_dir_from_env() -> PathBuf {
        std::env::var_os("COC_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }
}
