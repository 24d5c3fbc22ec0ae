//! Agents for the bench: `coc-agent` loops (the agent crate's own `run`, each
//! registering, long-polling and reporting over HTTP with its own signed
//! requests) on a runtime of their own, so that dropping the fleet stops every
//! one of their tasks; and tickets run over them, timed from the execute call
//! to FINISHED.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use coc_agent::client::ApiClient;
use serde_json::{json, Value};

use crate::server::{call, CocServer, PROJECT};

pub struct Fleet {
    runtime: Option<tokio::runtime::Runtime>,
    pub agent_sns: Vec<String>,
    _state: tempfile::TempDir,
}

impl Fleet {
    /// Starts `count` agents named `{prefix}-{n}` against `server` and waits
    /// until every one has registered (holds its own credential).
    pub async fn start(server: &CocServer, prefix: &str, count: usize) -> Fleet {
        let state = tempfile::tempdir().expect("a temporary directory");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-agents")
            .enable_all()
            .build()
            .expect("a runtime for the agents");
        let mut agent_sns = Vec::with_capacity(count);
        let mut credentials: Vec<PathBuf> = Vec::with_capacity(count);
        for n in 0..count {
            let agent_sn = format!("{prefix}-{n:03}");
            let mut config = server.agent_config(&agent_sn);
            config.state_dir = state.path().join(&agent_sn);
            config.spool_dir = config.state_dir.join("spool");
            credentials.push(coc_agent::identity::credential_path(&config.state_dir));
            runtime.spawn(coc_agent::run(config));
            agent_sns.push(agent_sn);
        }
        let deadline = Instant::now() + Duration::from_secs(120);
        while !credentials.iter().all(|path| path.exists()) {
            assert!(Instant::now() < deadline, "{count} agents did not all register within 2 minutes");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Fleet { runtime: Some(runtime), agent_sns, _state: state }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// The execute request of a ticket over `hosts` in `batches` equal batches.
pub fn execute_body(hosts: &[String], batches: usize) -> Value {
    let per_batch = hosts.len() / batches;
    let execute_batches: Vec<Value> = hosts
        .chunks(per_batch)
        .enumerate()
        .map(|(b, chunk)| {
            let targets: Vec<Value> = chunk
                .iter()
                .map(|sn| json!({"resource_id": sn, "agent_sn": sn, "project_id": PROJECT, "region_id": "local"}))
                .collect();
            json!({"batch_index": b + 1, "rotation_strategy": "CONTINUE", "target_instances": targets})
        })
        .collect();
    json!({"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
           "execute_batches": execute_batches})
}

/// How long a bench ticket took.
#[derive(Debug, Clone, Copy)]
pub struct TicketTime {
    /// From the execute call to the ticket read back FINISHED: what a client
    /// sees, including the read-back polling (every `READ_BACK_EVERY`).
    pub observed: Duration,
    /// From the ticket's creation to its end, as the ticket records them
    /// (`gmt_created`, `gmt_finished`): the orchestration alone, without the
    /// client's HTTP round trips and polling.
    pub recorded: Duration,
}

/// How often the bench reads a running ticket back.
pub const READ_BACK_EVERY: Duration = Duration::from_millis(5);

/// Runs `script_uuid` over `hosts` in `batches` and times it.
pub async fn run_ticket(api: &ApiClient, script_uuid: &str, hosts: &[String], batches: usize) -> TicketTime {
    let body = execute_body(hosts, batches);
    let started = Instant::now();
    let uuid = call(api, "POST", &format!("/v1/job/scripts/{script_uuid}"), None, Some(body)).await;
    let uuid = uuid.as_str().expect("an execute uuid").to_owned();
    wait_finished(api, &uuid, started).await
}

async fn wait_finished(api: &ApiClient, execute_uuid: &str, started: Instant) -> TicketTime {
    let path = format!("/v1/job/script/orders/{execute_uuid}");
    loop {
        let order = call(api, "GET", &path, None, None).await;
        match order["status"].as_str() {
            Some("FINISHED") => {
                let observed = started.elapsed();
                let at = |field: &str| order[field].as_i64().unwrap_or_else(|| panic!("no {field} in {order}"));
                let recorded = Duration::from_millis((at("gmt_finished") - at("gmt_created")).max(0) as u64);
                return TicketTime { observed, recorded };
            }
            Some("ABNORMAL" | "CANCELED") => panic!("bench ticket {execute_uuid} ended {}", order["status"]),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(300), "ticket {execute_uuid} not finished after 5 minutes");
        tokio::time::sleep(READ_BACK_EVERY).await;
    }
}
