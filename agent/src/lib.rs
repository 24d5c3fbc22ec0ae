//! The host agent (UniAgent stand-in): registers its host with the COC API,
//! sends heartbeats, long-polls its jobs, runs them and reports exit code and
//! log. It acts with its own credential (see `identity`), got by registering once.

pub mod client;
pub mod dispatch;
pub mod identity;
pub mod output;
pub mod patch;
pub mod runner;
pub mod spool;
pub mod tree;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::{ApiClient, RunRef};
use coc_shared::repositories::jobs::Job;
use identity::{Activation, AgentCredential};
use spool::{Backoff, PendingReport, Spool};
use tokio::sync::oneshot;

/// How long one job poll waits on the server.
const POLL_WAIT_SECS: u64 = 20;
/// How long a report is retried through a server outage by default: six hours.
const REPORT_RETRY_SECS: u64 = 6 * 60 * 60;

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
    /// The host's elastic (public) IP, if it has one (a compliance report's `eip`).
    pub floating_ip: String,
    pub heartbeat: Duration,
    /// Where reports wait until the server has them.
    pub spool_dir: PathBuf,
    /// How long a report is retried before it waits for the agent's next start.
    pub report_retry: Duration,
    /// Whether each run gets a cgroup of its own (when the host allows it).
    pub cgroups: bool,
}

/// The agent's state directory: `COC_AGENT_STATE_DIR`, else systemd's
/// `STATE_DIRECTORY`, else `/var/lib/coc-agent/<agent_sn>` for root and
/// `~/.local/state/coc-agent/<agent_sn>` for anyone else.
fn default_state_dir(agent_sn: &str) -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("COC_AGENT_STATE_DIR").or_else(|| var("STATE_DIRECTORY")) {
        return dir;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let base = if unsafe { libc::geteuid() } == 0 {
        PathBuf::from("/var/lib/coc-agent")
    } else {
        var("HOME").unwrap_or_else(std::env::temp_dir).join(".local/state/coc-agent")
    };
    base.join(agent_sn)
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
            state_dir: default_state_dir(agent_sn),
            activation: None,
            agent_sn: agent_sn.to_owned(),
            resource_id: agent_sn.to_owned(),
            region_id: "local".into(),
            host_name: String::new(),
            fixed_ip: String::new(),
            floating_ip: String::new(),
            heartbeat: Duration::from_secs(10),
            spool_dir: default_state_dir(agent_sn).join("spool"),
            report_retry: Duration::from_secs(REPORT_RETRY_SECS),
            cgroups: true,
        }
    }

    /// COC_ENDPOINT and COC_AGENT_SN are required. To register the first time
    /// (while the state directory holds no credential): COC_ACTIVATION_ID and
    /// COC_ACTIVATION_CODE, or a user's COC_AK, COC_SK and COC_PROJECT_ID.
    /// Optional: COC_AGENT_STATE_DIR (see `default_state_dir`), COC_RESOURCE_ID
    /// (default: the agent_sn), COC_REGION_ID (default `local`), COC_HOST_NAME,
    /// COC_FIXED_IP, COC_FLOATING_IP, COC_HEARTBEAT_SECS (default 10), COC_AGENT_SPOOL_DIR (default
    /// `<state dir>/spool`), COC_AGENT_REPORT_RETRY_SECS (default 21600) and
    /// COC_AGENT_CGROUPS (`0` turns per-run cgroups off).
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
        config.spool_dir = config.state_dir.join("spool");
        config.resource_id = var("COC_RESOURCE_ID").unwrap_or(agent_sn);
        config.region_id = var("COC_REGION_ID").unwrap_or(config.region_id);
        config.host_name = var("COC_HOST_NAME").or_else(|| var("HOSTNAME")).unwrap_or_default();
        config.fixed_ip = var("COC_FIXED_IP").unwrap_or_default();
        config.floating_ip = var("COC_FLOATING_IP").unwrap_or_default();
        if let Some(secs) = var("COC_HEARTBEAT_SECS").and_then(|v| v.parse().ok()) {
            config.heartbeat = Duration::from_secs(secs);
        }
        if let Some(dir) = var("COC_AGENT_SPOOL_DIR") {
            config.spool_dir = PathBuf::from(dir);
        }
        if let Some(secs) = var("COC_AGENT_REPORT_RETRY_SECS") {
            let secs =
                secs.parse().map_err(|_| format!("COC_AGENT_REPORT_RETRY_SECS: not a number of seconds: {secs}"))?;
            config.report_retry = Duration::from_secs(secs);
        }
        config.cgroups = var("COC_AGENT_CGROUPS").is_none_or(|v| v != "0");
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

/// What a job needs besides the job: where its report goes and how it runs.
#[derive(Clone)]
struct Reporting {
    client: ApiClient,
    spool: Spool,
    backoff: Backoff,
    settings: dispatch::Settings,
}

/// Runs the agent until the task is dropped.
pub async fn run(config: Config) -> Result<(), String> {
    let credential = identity::establish(&config).await?;
    let config = config.acting_as(&credential);
    let client = ApiClient::new(config.clone())?;
    tracing::info!(agent_sn = config.agent_sn, "acting with its own credential");
    let spool = Spool::open(&config.spool_dir).map_err(|e| format!("spool {}: {e}", config.spool_dir.display()))?;
    let scripts = runner::Settings { cgroups: config.cgroups, ..runner::Settings::default() };
    let settings = dispatch::Settings { scripts, patch: patch::PatchSettings::from_env() };
    let reporting =
        Reporting { client: client.clone(), spool, backoff: Backoff::for_total(config.report_retry), settings };
    // Reports an earlier run of this agent could not send.
    for report in reporting.spool.pending() {
        let reporting = reporting.clone();
        tokio::spawn(
            async move { spool::deliver(&reporting.client, &reporting.spool, &report, reporting.backoff).await },
        );
    }
    let running: Running = Arc::default();
    tokio::spawn(heartbeats(client.clone(), running.clone(), config.heartbeat));
    loop {
        match client.poll(POLL_WAIT_SECS).await {
            Ok(jobs) => {
                for job in jobs {
                    tokio::spawn(run_job(reporting.clone(), running.clone(), job));
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

async fn run_job(reporting: Reporting, running: Running, job: Job) {
    let key = (job.execute_uuid.clone(), job.instance_id, job.attempt);
    let (stop, cancel) = oneshot::channel();
    running.lock().expect("running lock").insert(key.clone(), stop);
    // Never the parameters: they may be secret.
    tracing::info!(
        execute_uuid = job.execute_uuid,
        instance_id = job.instance_id,
        attempt = job.attempt,
        patch = job.patch.as_ref().map(|p| format!("{:?}", p.operation)),
        "running a job"
    );
    let finished = dispatch::run(&job, cancel, &reporting.settings).await;
    running.lock().expect("running lock").remove(&key);
    let run = RunRef { execute_uuid: job.execute_uuid, instance_id: job.instance_id, attempt: job.attempt };
    let report = PendingReport { run, exit_code: finished.exit_code, log: finished.log, inventory: finished.inventory };
    // The copy on disk waits for two fsyncs: off the runtime's threads, so that
    // the reports of runs ending together are written side by side and the
    // agent's polls and heartbeats are not held up meanwhile.
    let (spool, copy) = (reporting.spool.clone(), report.clone());
    let saved = tokio::task::spawn_blocking(move || spool.save(&copy)).await;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(error = %err, "cannot spool the report; sending it without a copy on disk"),
        Err(err) => tracing::error!(error = %err, "spooling the report failed; sending it without a copy on disk"),
    }
    spool::deliver(&reporting.client, &reporting.spool, &report, reporting.backoff).await;
}
