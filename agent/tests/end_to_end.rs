//! The whole path with real processes: the local server, three `coc-agent`
//! processes on this machine, real scripts. Agents registering once (with an
//! activation or a user's key) and restarting on their stored credential,
//! batches with pause and continue, a cancel that kills running scripts, a
//! script killed at its timeout, an agent killed in the middle of a run, and
//! a revoked agent refused.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coc_agent::client::ApiClient;
use coc_agent::identity::credential_path;
use coc_agent::Config;
use coc_shared::auth::agents::{create_activation, ActivationRequest};
use coc_shared::auth::Credential;
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_shared::App;
use serde_json::{json, Value};

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Api {
    client: ApiClient,
}

impl Api {
    fn new(base: &str, credential: &Credential) -> Api {
        let config = agent_config(base, credential, "e2e-client");
        Api { client: ApiClient::new(config).unwrap() }
    }

    async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Value {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        self.client.call(method, path, query, body).await.unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"))
    }

    async fn order(&self, uuid: &str) -> Value {
        self.call("GET", &format!("/v1/job/script/orders/{uuid}"), None).await
    }

    async fn wait_until(&self, uuid: &str, what: &str, done: impl Fn(&Value) -> bool, limit: Duration) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let order = self.order(uuid).await;
            if done(&order) {
                return order;
            }
            assert!(Instant::now() < deadline, "ticket {uuid} never got {what}: {order}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn wait_status(&self, uuid: &str, status: &str, limit: Duration) -> Value {
        self.wait_until(uuid, status, |o| o["status"] == status, limit).await
    }

    async fn instances(&self, uuid: &str, batch: u32) -> Vec<Value> {
        let detail = self.call("GET", &format!("/v1/job/script/orders/{uuid}/batches/{batch}?limit=10"), None).await;
        detail["execute_instances"].as_array().unwrap().clone()
    }

    async fn wait_running(&self, uuid: &str, batch: u32) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.instances(uuid, batch).await.iter().all(|i| i["status"] == "PROCESSING") {
            assert!(Instant::now() < deadline, "batch {batch} of {uuid} never ran");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn execute(&self, script: &str, batches: &[(&[&str], &str)], nap: u32, timeout: u32) -> String {
        let batches: Vec<Value> = batches
            .iter()
            .enumerate()
            .map(|(i, (agents, rotation))| {
                let targets: Vec<Value> = agents
                    .iter()
                    .map(|a| json!({"resource_id": a, "agent_sn": a, "project_id": "e2e", "region_id": "local"}))
                    .collect();
                json!({"batch_index": i + 1, "rotation_strategy": rotation, "target_instances": targets})
            })
            .collect();
        let body = json!({
            "execute_param": {"timeout": timeout, "success_rate": 100, "execute_user": "root",
                              "script_params": [{"param_name": "nap", "param_value": nap.to_string(), "param_order": 1}]},
            "execute_batches": batches
        });
        self.call("POST", &format!("/v1/job/scripts/{script}"), Some(body)).await.as_str().unwrap().to_owned()
    }
}

fn agent_config(base: &str, credential: &Credential, agent_sn: &str) -> Config {
    let mut config =
        Config::new(base, &credential.access_key, &credential.secret_key, credential.project_id.as_str(), agent_sn);
    config.heartbeat = Duration::from_secs(1);
    config
}

/// Starts `coc-agent` keeping its state in `state_dir/agent_sn`, with `enrollment`
/// (the environment it registers with, the first time) added.
fn start_agent(base: &str, state_dir: &Path, agent_sn: &str, enrollment: &[(&str, &str)]) -> Agent {
    let child = Command::new(env!("CARGO_BIN_EXE_coc-agent"))
        .env("COC_ENDPOINT", base)
        .env("COC_AGENT_SN", agent_sn)
        .env("COC_AGENT_STATE_DIR", state_dir.join(agent_sn))
        .env("COC_HOST_NAME", format!("host-{agent_sn}"))
        .env("COC_HEARTBEAT_SECS", "1")
        .env("RUST_LOG", "warn")
        .envs(enrollment.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .expect("start coc-agent");
    Agent(child)
}

async fn wait_online(api: &Api, count: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let hosts = api.call("GET", "/v1/resources?provider=ecs&type=cloudservers&limit=10", None).await;
        if hosts.as_array().unwrap().iter().filter(|h| h["agent_state"] == "ONLINE").count() == count {
            return hosts;
        }
        assert!(Instant::now() < deadline, "the agents never registered: {hosts}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn script_running(tag: &str) -> bool {
    Command::new("pgrep").args(["-f", tag]).status().map(|s| s.success()).unwrap_or(false)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn real_agents_run_real_scripts() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::embedded(dir.path()).unwrap();
    let credential = Credential::generate(ProjectId::parse("e2e").unwrap(), "ops".into(), "ops".into(), 0);
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let wanted = ActivationRequest { max_registrations: Some(2), expires_in_seconds: Some(600) };
    let activation = create_activation(app.store.as_ref(), &credential.caller(), &wanted, now_ms()).await.unwrap();
    let base = format!("http://{}", coc_local::spawn("127.0.0.1:0", app).await.unwrap());
    let api = Api::new(&base, &credential);
    let states = tempfile::tempdir().unwrap();
    // a1 and a2 register with the operator's activation, a3 with a user's key.
    let with_activation = [
        ("COC_ACTIVATION_ID", activation.activation.activation_id.as_str()),
        ("COC_ACTIVATION_CODE", &activation.code),
    ];
    let with_user_key = [
        ("COC_AK", credential.access_key.as_str()),
        ("COC_SK", &credential.secret_key),
        ("COC_PROJECT_ID", credential.project_id.as_str()),
    ];
    let mut agents = vec![
        start_agent(&base, states.path(), "a1", &with_activation),
        start_agent(&base, states.path(), "a2", &with_activation),
        start_agent(&base, states.path(), "a3", &with_user_key),
    ];
    let hosts = wait_online(&api, 3).await;
    assert_eq!(hosts[1]["name"], "host-a2");
    for sn in ["a1", "a2", "a3"] {
        let file = credential_path(&states.path().join(sn));
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{sn}'s credential file is its owner's alone");
        let stored = std::fs::read_to_string(&file).unwrap();
        assert!(!stored.contains(&credential.secret_key), "{sn} keeps its own credential, not the user's");
    }
    // Restarted without any enrollment, a1 acts with its stored credential (it runs batch 1 below).
    drop(std::mem::replace(&mut agents[0], start_agent(&base, states.path(), "a1", &[])));

    // A nap of 31.7 s makes the script easy to find with pgrep.
    let tag = format!("coc-e2e-{}", std::process::id());
    let content = format!("echo \"start $(whoami) ${{nap}} {tag}\"\nsleep ${{nap}}.7\necho done");
    let script = api
        .call("POST", "/v1/job/scripts", Some(json!({
            "name": "napper", "type": "SHELL", "content": content, "description": "sleeps a while",
            "properties": {"risk_level": "LOW", "version": "1"},
            "script_params": [{"param_name": "nap", "param_value": "0", "param_description": "seconds", "param_order": 1, "sensitive": false}]
        })))
        .await;
    let script = script.as_str().unwrap();

    // Three batches; the first pauses the ticket until it is continued.
    let uuid = api.execute(script, &[(&["a1"], "PAUSE"), (&["a2"], "CONTINUE"), (&["a3"], "CONTINUE")], 0, 60).await;
    api.wait_status(&uuid, "PAUSED", Duration::from_secs(30)).await;
    assert_eq!(api.instances(&uuid, 2).await[0]["status"], "READY");
    api.call(
        "PUT",
        &format!("/v1/job/script/orders/{uuid}/operation"),
        Some(json!({"operation_type": "CONTINUE_ORDER"})),
    )
    .await;
    api.wait_status(&uuid, "FINISHED", Duration::from_secs(30)).await;
    for batch in 1..=3 {
        let instance = &api.instances(&uuid, batch).await[0];
        assert_eq!(instance["status"], "FINISHED");
        let log = instance["message"].as_str().unwrap();
        assert!(log.starts_with(&format!("start root 0 {tag}")) && log.contains("done"), "batch {batch}: {log}");
    }

    // Cancel: the running scripts are killed on both hosts.
    let uuid = api.execute(script, &[(&["a1", "a2"], "CONTINUE")], 31, 120).await;
    api.wait_running(&uuid, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(script_running("sleep 31.7"), "the scripts run");
    api.call(
        "PUT",
        &format!("/v1/job/script/orders/{uuid}/operation"),
        Some(json!({"operation_type": "CANCEL_ORDER"})),
    )
    .await;
    api.wait_status(&uuid, "CANCELED", Duration::from_secs(10)).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while script_running("sleep 31.7") {
        assert!(Instant::now() < deadline, "canceled scripts still run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The agent kills a script at its timeout and reports it.
    let uuid = api.execute(script, &[(&["a3"], "CONTINUE")], 31, 5).await;
    api.wait_status(&uuid, "ABNORMAL", Duration::from_secs(30)).await;
    let instance = &api.instances(&uuid, 1).await[0];
    assert_eq!(instance["exit_code"], 124);
    assert!(instance["message"].as_str().unwrap().contains("killed after the 5s timeout"), "{instance}");

    // An agent killed mid-run never reports: the instance is abnormal once the timeout passes.
    let uuid = api.execute(script, &[(&["a2"], "CONTINUE")], 8, 6).await;
    api.wait_running(&uuid, 1).await;
    drop(agents.remove(1));
    api.wait_status(&uuid, "ABNORMAL", Duration::from_secs(40)).await;
    let instance = &api.instances(&uuid, 1).await[0];
    assert!(instance["message"].as_str().unwrap().contains("did not report"), "{instance}");

    // Revoked, a3 is refused at its very next request.
    api.call("DELETE", "/v1/agents/a3", None).await;
    let stored: Value =
        serde_json::from_slice(&std::fs::read(credential_path(&states.path().join("a3"))).unwrap()).unwrap();
    let a3 = ApiClient::new(Config::new(
        &base,
        stored["access_key"].as_str().unwrap(),
        stored["secret_key"].as_str().unwrap(),
        "e2e",
        "a3",
    ))
    .unwrap();
    let refused = a3.poll(0).await.unwrap_err();
    assert!(refused.contains("401"), "{refused}");
}
