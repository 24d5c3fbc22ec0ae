//! The host agent (UniAgent stand-in): registers its host with the COC API,
//! sends heartbeats, long-polls its jobs, runs them and reports exit code and
//! log. It authenticates with an access key of its tenant.

pub mod client;
pub mod output;
pub mod runner;
pub mod spool;
pub mod tree;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use client::{ApiClient, RunRef};
use coc_shared::repositories::jobs::Job;
use spool::{Backoff, PendingReport, Spool};
use tokio::sync::oneshot;

/// How long one job poll waits on the server.
const POLL_WAIT_SECS: u64 = 20;
/// How long a report is retried through a server outage by default: six hours.
const REPORT_RETRY_SECS: u64 = 6 * 60 * 60;

#[derive(Debug, Clone)]
pub struct Config {
    pub endpoint: String,
    pub access_key: String,
    pub secret_key: String,
    pub project_id: String,
    pub agent_sn: String,
    pub resource_id: String,
    pub region_id: String,
    pub host_name: String,
    pub fixed_ip: String,
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

impl Config {
    /// An agent (or a plain API client) acting with this key: resource id = agent_sn,
    /// region `local`, a heartbeat every 10 seconds.
    pub fn new(endpoint: &str, access_key: &str, secret_key: &str, project_id: &str, agent_sn: &str) -> Config {
        Config {
            endpoint: endpoint.to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            project_id: project_id.to_owned(),
            agent_sn: agent_sn.to_owned(),
            resource_id: agent_sn.to_owned(),
            region_id: "local".into(),
            host_name: String::new(),
            fixed_ip: String::new(),
            heartbeat: Duration::from_secs(10),
            spool_dir: default_state_dir(agent_sn).join("spool"),
            report_retry: Duration::from_secs(REPORT_RETRY_SECS),
            cgroups: true,
        }
    }

    /// COC_ENDPOINT, COC_AK, COC_SK, COC_PROJECT_ID and COC_AGENT_SN are required;
    /// COC_RESOURCE_ID (default: the agent_sn), COC_REGION_ID (default `local`),
    /// COC_HOST_NAME, COC_FIXED_IP and COC_HEARTBEAT_SECS (default 10) are not;
    /// nor are COC_AGENT_SPOOL_DIR (default `<state dir>/spool`),
    /// COC_AGENT_REPORT_RETRY_SECS (default 21600) and COC_AGENT_CGROUPS (`0` turns
    /// per-run cgroups off).
    pub fn from_env() -> Result<Config, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let required = |name: &str| var(name).ok_or_else(|| format!("{name} is required"));
        let agent_sn = required("COC_AGENT_SN")?;
        let mut config = Config::new(
            &required("COC_ENDPOINT")?,
            &required("COC_AK")?,
            &required("COC_SK")?,
            &required("COC_PROJECT_ID")?,
            &agent_sn,
        );
        config.resource_id = var("COC_RESOURCE_ID").unwrap_or(agent_sn);
        config.region_id = var("COC_REGION_ID").unwrap_or(config.region_id);
        config.host_name = var("COC_HOST_NAME").or_else(|| var("HOSTNAME")).unwrap_or_default();
        config.fixed_ip = var("COC_FIXED_IP").unwrap_or_default();
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
}

type Running = Arc<Mutex<HashMap<(String, u64, u32), oneshot::Sender<()>>>>;

/// What a job needs besides the job: where its report goes and how it runs.
#[derive(Clone)]
struct Reporting {
    client: ApiClient,
    spool: Spool,
    backoff: Backoff,
    settings: runner::Settings,
}

/// Runs the agent until the task is dropped.
pub async fn run(config: Config) -> Result<(), String> {
    let client = ApiClient::new(config.clone())?;
    let mut backoff = Duration::from_millis(200);
    while let Err(err) = client.register().await {
        tracing::warn!(error = %err, "registration failed; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
    tracing::info!(agent_sn = config.agent_sn, "registered");
    let spool = Spool::open(&config.spool_dir).map_err(|e| format!("spool {}: {e}", config.spool_dir.display()))?;
    let settings = runner::Settings { cgroups: config.cgroups, ..runner::Settings::default() };
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
        "running a job"
    );
    let outcome = runner::run_with(&job, cancel, &reporting.settings).await;
    running.lock().expect("running lock").remove(&key);
    let run = RunRef { execute_uuid: job.execute_uuid, instance_id: job.instance_id, attempt: job.attempt };
    let report = PendingReport { run, exit_code: outcome.exit_code, log: outcome.log };
    if let Err(err) = reporting.spool.save(&report) {
        tracing::error!(error = %err, "cannot spool the report; sending it without a copy on disk");
    }
    spool::deliver(&reporting.client, &reporting.spool, &report, reporting.backoff).await;
}
