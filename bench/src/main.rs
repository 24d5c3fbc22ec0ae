//! `make bench`: how much time the ticket machinery adds around scripts
//! (`coc-bench jobs`), and how fast alarms are taken in (`coc-bench alarms`).
//!
//! Everything runs on this machine: the local server (embedded store and
//! queue), 200 `coc-agent` loops talking HTTP on loopback, and a trivial script
//! (`true`). Reported as medians over several runs, with two baselines measured
//! in the same run: the script run directly by the agent's runner, and a
//! one-host, one-batch ticket.

use std::time::{Duration, Instant};

use coc_agent::client::ApiClient;
use coc_agent::Config;
use coc_shared::auth::Credential;
use coc_shared::domain::job::order::OrderStatus;
use coc_shared::domain::script::ScriptType;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_shared::repositories::jobs::{self, Job};
use coc_shared::App;
use serde_json::{json, Value};

const HOSTS: usize = 200;
const BATCHES: usize = 20;
const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A signed API client acting with the bench tenant's key.
struct Api(ApiClient);

impl Api {
    fn new(base: &str, credential: &Credential) -> Api {
        Api(ApiClient::new(agent_config(base, credential, "bench-client")).expect("a valid endpoint"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.0.call("POST", path, None, Some(body)).await.unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}

fn agent_config(base: &str, credential: &Credential, agent_sn: &str) -> Config {
    Config::new(base, &credential.access_key, &credential.secret_key, credential.project_id.as_str(), agent_sn)
}

/// A local server on a fresh embedded store, with the bench tenant's key.
struct Setup {
    app: App,
    project: ProjectId,
    credential: Credential,
    base: String,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let app = App::embedded(dir.path()).unwrap();
    let project = ProjectId::parse("bench").unwrap();
    let credential = Credential::generate(project.clone(), "bench".into(), "bench".into(), 0);
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let base = format!("http://{}", coc_local::spawn("127.0.0.1:0", app.clone()).await.unwrap());
    Setup { app, project, credential, base, _dir: dir }
}

/// Runs a ticket over `hosts` in `batches` and returns the time from the
/// execute call to the ticket being FINISHED.
async fn ticket(api: &Api, app: &App, project: &ProjectId, script: &str, hosts: usize, batches: usize) -> Duration {
    let per_batch = hosts / batches;
    let execute_batches: Vec<Value> = (0..batches)
        .map(|b| {
            let targets: Vec<Value> = (0..per_batch)
                .map(|h| {
                    let sn = format!("bench-{:03}", b * per_batch + h);
                    json!({"resource_id": sn, "agent_sn": sn, "project_id": "bench", "region_id": "local"})
                })
                .collect();
            json!({"batch_index": b + 1, "rotation_strategy": "CONTINUE", "target_instances": targets})
        })
        .collect();
    let body = json!({"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"}, "execute_batches": execute_batches});
    let started = Instant::now();
    let uuid = api.post(&format!("/v1/job/scripts/{script}"), body).await;
    let uuid = uuid.as_str().unwrap();
    loop {
        let order = jobs::get_order(app.store.as_ref(), project, uuid).await.unwrap().unwrap().value;
        match order.status {
            OrderStatus::Finished => return started.elapsed(),
            status if status.is_terminal() => panic!("bench ticket ended {status:?}"),
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    // Alarms first: the jobs bench leaves its 200 agent loops running in this process.
    if which == "all" || which == "alarms" {
        alarms().await;
    }
    if which == "all" || which == "jobs" {
        jobs().await;
    }
}

/// Sends `total` requests from `workers` concurrent clients; returns the
/// throughput (requests per second) and every latency.
async fn load(
    url: String,
    total: usize,
    workers: usize,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> (f64, Vec<Duration>) {
    let http = reqwest::Client::new();
    let body = std::sync::Arc::new(body);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (http, url, body, next) = (http.clone(), url.clone(), body.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if n >= total {
                        return latencies;
                    }
                    let sent = Instant::now();
                    let response = http.post(&url).json(&body(n)).send().await.expect("the server answers");
                    let status = response.status();
                    let _ = response.bytes().await;
                    assert!(status.as_u16() == 200 || status.as_u16() == 404, "unexpected {status}");
                    latencies.push(sent.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    (total as f64 / started.elapsed().as_secs_f64(), latencies)
}

/// A request body for (round, request number).
type BodyOf = Box<dyn Fn(usize, usize) -> Value + Send + Sync>;

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

/// Alarm intake on the local server: throughput and tail latency under a
/// bounded load from 32 concurrent clients on loopback.
async fn alarms() {
    const TOTAL: usize = 4000;
    const WORKERS: usize = 32;
    const ROUNDS: usize = 3;
    let setup = setup().await;
    let Setup { ref credential, ref base, .. } = setup;
    let api = Api::new(base, credential);
    let integration = api.post("/v1/integrations", json!({"name": "bench", "alarm_level_threshold": "Critical"})).await;
    let key = integration["integration_key"].as_str().unwrap().to_owned();
    let intake = format!("{base}/v1/event/huawei/custom/{key}");
    let alarm = |id: String, level: &'static str| {
        json!({"alarmId": id, "alarmName": "bench", "alarmLevel": level, "time": 1, "nameSpace": "ns",
               "applicationId": "app", "alarmDesc": "d", "alarmSource": "bench"})
    };

    println!("\nalarm intake: {TOTAL} requests from {WORKERS} concurrent clients, median of {ROUNDS} rounds");
    let cases: Vec<(&str, String, BodyOf)> = vec![
        ("baseline: unknown route (404, no store)", format!("{base}/v1/nothing"), Box::new(|_, _| json!({}))),
        (
            "new alarms below the rule (no incident)",
            intake.clone(),
            Box::new(move |r, n| alarm(format!("minor-{r}-{n}"), "Minor")),
        ),
        (
            "new alarms opening an incident each",
            intake.clone(),
            Box::new(move |r, n| alarm(format!("crit-{r}-{n}"), "Critical")),
        ),
        (
            "duplicates of 10 alarms (contended)",
            intake.clone(),
            Box::new(move |r, n| alarm(format!("dup-{r}-{}", n % 10), "Critical")),
        ),
    ];
    let mut baseline = 0.0;
    for (name, url, body) in cases {
        let body = std::sync::Arc::new(body);
        let (mut rates, mut p50s, mut p99s) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..ROUNDS {
            let body = body.clone();
            let (rate, latencies) = load(url.clone(), TOTAL, WORKERS, move |n| body(round, n)).await;
            rates.push(rate);
            p50s.push(percentile(latencies.clone(), 0.50));
            p99s.push(percentile(latencies, 0.99));
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let rate = rates[rates.len() / 2];
        if baseline == 0.0 {
            baseline = rate;
        }
        println!(
            "  {name:<42} {rate:8.0} req/s ({:4.2} of baseline)  p50 {:6.2} ms  p99 {:6.2} ms",
            rate / baseline,
            ms(median(p50s)),
            ms(median(p99s))
        );
    }
}

async fn jobs() {
    let setup = setup().await;
    let Setup { ref app, ref project, ref credential, ref base, ref _dir } = setup;
    let api = Api::new(base, credential);

    // Each agent registers once with the tenant's key and keeps its own credential.
    for i in 0..HOSTS {
        let agent_sn = format!("bench-{i:03}");
        let mut config = agent_config(base, credential, &agent_sn);
        config.state_dir = _dir.path().join("agents").join(&agent_sn);
        tokio::spawn(coc_agent::run(config));
    }
    while jobs::list_agents(app.store.as_ref(), project).await.unwrap().len() < HOSTS {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let script = api
        .post(
            "/v1/job/scripts",
            json!({"name": "noop", "type": "SHELL", "content": "true", "description": "does nothing",
                                        "properties": {"risk_level": "LOW", "version": "1"}}),
        )
        .await;
    let script = script.as_str().unwrap().to_owned();

    // Baseline 1: the script itself, run by the agent's runner directly.
    let job = Job {
        execute_uuid: "bench".into(),
        instance_id: 1,
        attempt: 1,
        script_type: ScriptType::Shell,
        content: "true".into(),
        params: Vec::new(),
        execute_user: "root".into(),
        timeout_secs: 60,
        claimed_at: None,
    };
    let mut direct = Vec::new();
    for _ in 0..20 {
        let (_keep, cancel) = tokio::sync::oneshot::channel();
        let started = Instant::now();
        coc_agent::runner::run(&job, cancel).await;
        direct.push(started.elapsed());
    }
    // Baseline 2: a ticket of one host in one batch.
    let mut single = Vec::new();
    for _ in 0..RUNS {
        single.push(ticket(&api, app, project, &script, 1, 1).await);
    }
    // The measured case: 200 hosts in 20 batches of 10.
    let mut full = Vec::new();
    for _ in 0..RUNS {
        full.push(ticket(&api, app, project, &script, HOSTS, BATCHES).await);
    }
    let (direct, single, full) = (median(direct), median(single), median(full));
    let per_batch = full / BATCHES as u32;
    println!("script run directly (median of 20):          {:8.1} ms", ms(direct));
    println!("1 host, 1 batch ticket (median of {RUNS}):       {:8.1} ms", ms(single));
    println!("{HOSTS} hosts, {BATCHES} batches ticket (median of {RUNS}):  {:8.1} ms total", ms(full));
    println!("  per batch:                                 {:8.1} ms", ms(per_batch));
    println!(
        "  orchestration overhead per batch:          {:8.1} ms (per batch minus the direct script run)",
        ms(per_batch.saturating_sub(direct))
    );
    println!("  ratio per batch / 1-host ticket:           {:8.2}", per_batch.as_secs_f64() / single.as_secs_f64());
}
