//! The host agent (UniAgent stand-in): registers its host with the COC API,
//! sends heartbeats, long-polls its jobs, runs them and reports exit code and
//! log. It acts with its own credential (see `identity`), got by registering once.

pub mod client;
pub mod identity;
pub mod runner;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::{ApiClient, RunRef};
use coc_shared::repositories::jobs::Job;
use identity::{Activation, AgentCredential};
use tokio::sync::oneshot;

/// How long one job poll waits on the server.
const POLL_WAIT_SECS: u64 = 20;
const REPORT_ATTEMPTS: u32 = 5;

#[derive(Clone)]
pub struct Config {
    pub endpoint: String,
    /// The key requests are signed with: a user's, to register the agent the
    /// first time (or for a plain API client), then the agent's own.
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    /// Where the agent keeps its credential.
    pub state_dir: PathBuf,
    /// Registers the agent without a user's key, the first time.
    pub activation: Option<Activation>,
    pub agent_sn: String,
    pub resource_id: String,
    pub region_id: String,
    pub host_name: String,
    pub fixed_ip: String,
    pub heartbeat: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("project_id", &self.project_id)
            .field("state_dir", &self.state_dir)
            .field("activation", &self.activation)
            .field("agent_sn", &self.agent_sn)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// An agent (or a plain API client) acting with this key: resource id = agent_sn,
    /// region `local`, a heartbeat every 10 seconds.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str, project_id: &str, agent_sn: &str) -> Config {
        Config {
            endpoint: endpoint.to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            project_id: project_id.to_owned(),
            state_dir: PathBuf::from(identity::DEFAULT_STATE_DIR),
            activation: None,
            agent_sn: agent_sn.to_owned(),
            resource_id: agent_sn.to_owned(),
            region_id: "local".into(),
            host_name: String::new(),
            fixed_ip: String::new(),
            heartbeat: Duration::from_secs(10),
        }
    }

    /// COC_ENDPOINT and COC_AGENT_SN are required. To register the first time
    /// (while COC_AGENT_STATE_DIR, default `.coc-agent`, holds no credential):
    /// COC_ACTIVATION_ID and COC_ACTIVATION_CODE, or a user's COC_AK, COC_SK and
    /// COC_PROJECT_ID. COC_RESOURCE_ID (default: the agent_sn), COC_REGION_ID
    /// (default `local`), COC_HOST_NAME, COC_FIXED_IP and COC_HEARTBEAT_SECS
    /// (default 10) are optional.
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let required = |name: &str| var(name).ok_or_else(|| format!("{name} is required"));
        let agent_sn = required("COC_AGENT_SN")?;
        let (access_key, secret_key) = (var("COC_AK").unwrap_or_default(), var("COC_SK").unwrap_or_default());
        let project_id = match access_key.is_empty() {
            true => var("COC_PROJECT_ID").unwrap_or_default(),
            false => required("COC_PROJECT_ID")?,
        };
        let mut config = Config::new(&required("COC_ENDPOINT")?, &access_key, &secret_key, &project_id, &agent_sn);
        config.activation = match (var("COC_ACTIVATION_ID"), var("COC_ACTIVATION_CODE")) {
            (Some(id), Some(code)) => Some(Activation { id, code }),
            (None, None) => None,
            _ => return Err("set both COC_ACTIVATION_ID and COC_ACTIVATION_CODE, or neither".into()),
        };
        if let Some(dir) = var("COC_AGENT_STATE_DIR") {
            config.state_dir = PathBuf::from(dir);
        }
        config.resource_id = var("COC_RESOURCE_ID").unwrap_or(agent_sn);
        config.region_id = var("COC_REGION_ID").unwrap_or(config.region_id);
        config.host_name = var("COC_HOST_NAME").or_else(|| var("HOSTNAME")).unwrap_or_default();
        config.fixed_ip = var("COC_FIXED_IP").unwrap_or_default();
        if let Some(secs) = var("COC_HEARTBEAT_SECS").and_then(|v| v.parse().ok()) {
            config.heartbeat = Duration::from_secs(secs);
        }
        Ok(config)
    }

    /// This configuration signing with the agent's own credential.
    pub fn acting_as(mut self, credential: &AgentCredential) -> Config {
        self.access_key = credential.access_key.clone();
        self.secret_key = credential.secret_key.clone();
        self.project_id = credential.project_id.clone();
        self.activation = None;
        self
    }
}

type Running = Arc<Mutex<HashMap<(String, u64, u32), oneshot::Sender<()>>>>;

/// Runs the agent until the task is dropped.
pub async fn run(config: Config) -> Result<(), String> {
    let credential = identity::establish(&config).await?;
    let config = config.acting_as(&credential);
    let client = ApiClient::new(config.clone())?;
    tracing::info!(agent_sn = config.agent_sn, "acting with its own credential");
    let running: Running = Arc::default();
    tokio::spawn(heartbeats(client.clone(), running.clone(), config.heartbeat));
    loop {
        match client.poll(POLL_WAIT_SECS).await {
            Ok(jobs) => {
                for job in jobs {
                    tokio::spawn(run_job(client.clone(), running.clone(), job));
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "polling for jobs failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

async fn heartbeats(client: ApiClient, running: Running, every: Duration) {
    loop {
        let runs: Vec<RunRef> = running
            .lock()
            .expect("running lock")
            .keys()
            .map(|(uuid, id, attempt)| RunRef { execute_uuid: uuid.clone(), instance_id: *id, attempt: *attempt })
            .collect();
        match client.heartbeat(runs).await {
            Ok(cancel) => {
                for run in cancel {
                    let key = (run.execute_uuid, run.instance_id, run.attempt);
                    if let Some(stop) = running.lock().expect("running lock").remove(&key) {
                        tracing::info!(execute_uuid = key.0, instance_id = key.1, "stopping a canceled run");
                        let _ = stop.send(());
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "heartbeat failed"),
        }
        tokio::time::sleep(every).await;
    }
}

async fn run_job(client: ApiClient, running: Running, job: Job) {
    let key = (job.execute_uuid.clone(), job.instance_id, job.attempt);
    let (stop, cancel) = oneshot::channel();
    running.lock().expect("running lock").insert(key.clone(), stop);
    // Never the parameters: they may be secret.
    tracing::info!(
        execute_uuid = job.execute_uuid,
        instance_id = job.instance_id,
        attempt = job.attempt,
        "running a job"
    );
    let outcome = runner::run(&job, cancel).await;
    running.lock().expect("running lock").remove(&key);
    for attempt in 1..=REPORT_ATTEMPTS {
        match client.report(&job, outcome.exit_code, &outcome.log).await {
            Ok(_) => return,
            Err(err) => {
                tracing::warn!(error = %err, attempt, "report failed");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
        }
    }
    tracing::error!(
        execute_uuid = job.execute_uuid,
        instance_id = job.instance_id,
        "giving up reporting; the ticket will time out"
    );
}
