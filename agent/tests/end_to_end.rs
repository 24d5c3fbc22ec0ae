//! The whole path with real processes: the local server, three `coc-agent`
//! processes on this machine, real scripts. Agents registering once (with an
//! activation or a user's key) and restarting on their stored credential,
//! batches with pause and continue, a cancel that kills running scripts, a
//! script killed at its timeout, an agent killed in the middle of a run, and
//! a revoked agent refused. Scripts that leave processes behind. And a
//! `coc-local` process stopped mid-run and started again, with agents that
//! keep their reports through the outage and through their own restart.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
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

/// The environment an agent registers with a user's key, the first time.
fn user_key(credential: &Credential) -> [(&'static str, &str); 3] {
    [
        ("COC_AK", credential.access_key.as_str()),
        ("COC_SK", credential.secret_key.as_str()),
        ("COC_PROJECT_ID", credential.project_id.as_str()),
    ]
}

/// Starts `coc-agent` keeping its state (credential, spooled reports) in
/// `state_dir/agent_sn`, with `enrollment` (the environment it registers with,
/// the first time) added.
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
        // The server lists an agent as soon as it registered; the agent stores
        // the credential it was given a moment later.
        for _ in 0..100 {
            if file.exists() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

/// A shell script taking `nap` and `code`: prints, sleeps, prints, exits with `code`.
async fn create_script(api: &Api, name: &str, content: &str) -> String {
    let body = json!({
        "name": name, "type": "SHELL", "content": content, "description": "e2e",
        "properties": {"risk_level": "LOW", "version": "1"},
        "script_params": [
            {"param_name": "nap", "param_value": "0", "param_description": "seconds", "param_order": 1, "sensitive": false},
            {"param_name": "code", "param_value": "0", "param_description": "exit code", "param_order": 2, "sensitive": false}
        ]
    });
    api.call("POST", "/v1/job/scripts", Some(body)).await.as_str().unwrap().to_owned()
}

async fn execute_on(api: &Api, script: &str, agent: &str, nap: &str, code: i32, timeout: u32) -> String {
    let body = json!({
        "execute_param": {"timeout": timeout, "success_rate": 100, "execute_user": "root",
                          "script_params": [{"param_name": "nap", "param_value": nap, "param_order": 1},
                                            {"param_name": "code", "param_value": code.to_string(), "param_order": 2}]},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": agent, "agent_sn": agent, "project_id": "e2e", "region_id": "local"}]}]
    });
    api.call("POST", &format!("/v1/job/scripts/{script}"), Some(body)).await.as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scripts_that_leave_processes_behind() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::embedded(dir.path()).unwrap();
    let credential = Credential::generate(ProjectId::parse("e2e").unwrap(), "ops".into(), "ops".into(), 0);
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let base = format!("http://{}", coc_local::spawn("127.0.0.1:0", app).await.unwrap());
    let api = Api::new(&base, &credential);
    let states = tempfile::tempdir().unwrap();
    let _agent = start_agent(&base, states.path(), "b1", &user_key(&credential));
    wait_online(&api, 1).await;

    // A background child still holding the output does not keep the run going.
    let pids = dir.path().join("pids");
    let content = format!(
        "echo start\nsetsid sleep 600 & echo $! > {0}\nsleep 601 & echo $! >> {0}\necho \"bye ${{nap}}\"\nexit ${{code}}",
        pids.display()
    );
    let leaver = create_script(&api, "leaver", &content).await;
    let uuid = execute_on(&api, &leaver, "b1", "0", 0, 300).await;
    let ended = |o: &Value| o["status"] == "FINISHED" || o["status"] == "ABNORMAL";
    let order = api.wait_until(&uuid, "an end", ended, Duration::from_secs(30)).await;
    for pid in std::fs::read_to_string(&pids).unwrap().split_whitespace() {
        // SAFETY: processes this test's script started.
        unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
    }
    assert_eq!(order["status"], "FINISHED", "{order}");
    let instance = &api.instances(&uuid, 1).await[0];
    assert!(instance["message"].as_str().unwrap().starts_with("start\nbye 0\n"), "{instance}");

    // At the timeout, children that left the process group die with the script.
    let tag = 900_000 + std::process::id() % 99_999;
    let content = format!("setsid sleep {tag} &\n( (sleep {tag}) & )\nset -m\nsleep {tag} &\nset +m\nsleep ${{nap}}");
    let escaper = create_script(&api, "escaper", &content).await;
    let uuid = execute_on(&api, &escaper, "b1", "600", 0, 5).await;
    api.wait_running(&uuid, 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(script_running(&format!("sleep {tag}")), "the children run");
    api.wait_status(&uuid, "ABNORMAL", Duration::from_secs(30)).await;
    let instance = &api.instances(&uuid, 1).await[0];
    assert_eq!(instance["exit_code"], 124);
    let message = instance["message"].as_str().unwrap();
    assert!(message.contains("killed after the 5s timeout: ") && message.contains(" sleep"), "{message}");
    assert!(!script_running(&format!("sleep {tag}")), "no child outlived the timeout");
}

/// A `coc-local` process on a fixed port and data directory.
struct Server {
    child: Child,
}

impl Server {
    fn start(port: u16, data: &Path, credential: &Credential) -> Server {
        let binary = std::env::var_os("COC_LOCAL_BIN").map(PathBuf::from).unwrap_or_else(|| {
            Path::new(env!("CARGO_BIN_EXE_coc-agent"))
                .with_file_name(format!("coc-local{}", std::env::consts::EXE_SUFFIX))
        });
        assert!(binary.exists(), "{} is missing: build it first (cargo build -p coc-local)", binary.display());
        let child = Command::new(binary)
            .env("COC_LISTEN", format!("127.0.0.1:{port}"))
            .env("COC_DATA_DIR", data)
            .env("COC_BOOTSTRAP_PROJECT_ID", credential.project_id.as_str())
            .env("COC_BOOTSTRAP_AK", &credential.access_key)
            .env("COC_BOOTSTRAP_SK", &credential.secret_key)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("start coc-local");
        Server { child }
    }

    /// Gone at once, as in a crash: nothing is flushed or said goodbye to.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_serving(api: &Api) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while api.client.call::<Value>("GET", "/v1/job/scripts", Some("limit=1"), None).await.is_err() {
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the agent runs a script whose command line holds `tag`.
async fn wait_script(tag: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !script_running(tag) {
        assert!(Instant::now() < deadline, "no script runs {tag}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn spooled(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().filter(|e| e.path().extension().is_some_and(|x| x == "json")).count())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reports_survive_a_server_outage_and_an_agent_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let credential = Credential::generate(ProjectId::parse("e2e").unwrap(), "admin".into(), "admin".into(), 0);
    let server = Server::start(port, &data, &credential);
    let api = Api::new(&base, &credential);
    wait_serving(&api).await;
    let states = dir.path().join("states");
    let spool = states.join("o1").join("spool");
    let agent = start_agent(&base, &states, "o1", &user_key(&credential));
    wait_online(&api, 1).await;
    let script =
        create_script(&api, "outage", "echo \"begin ${nap}\"\nsleep ${nap}\necho \"end ${code}\"\nexit ${code}").await;

    // The server goes down while two runs go on, and stays down after they end (15 s).
    // Naps with an odd fraction make the scripts easy to find with pgrep.
    let nap = |seconds: u32| format!("{seconds}.{}", 100 + std::process::id() % 900);
    let good = execute_on(&api, &script, "o1", &nap(3), 0, 300).await;
    let bad = execute_on(&api, &script, "o1", &nap(4), 3, 300).await;
    wait_script(&format!("sleep {}", nap(3))).await;
    wait_script(&format!("sleep {}", nap(4))).await;
    server.kill();
    tokio::time::sleep(Duration::from_secs(15)).await;
    let server = Server::start(port, &data, &credential);
    wait_serving(&api).await;
    let ended = |o: &Value| o["status"] == "FINISHED" || o["status"] == "ABNORMAL";
    let order = api.wait_until(&good, "an end", ended, Duration::from_secs(60)).await;
    assert_eq!(order["status"], "FINISHED", "{order}");
    let instance = &api.instances(&good, 1).await[0];
    assert_eq!(
        (instance["exit_code"].clone(), instance["message"].clone()),
        (json!(0), json!(format!("begin {}\nend 0\n", nap(3))))
    );
    let order = api.wait_until(&bad, "an end", ended, Duration::from_secs(60)).await;
    assert_eq!(order["status"], "ABNORMAL", "{order}");
    let instance = &api.instances(&bad, 1).await[0];
    assert_eq!(
        (instance["exit_code"].clone(), instance["message"].clone()),
        (json!(3), json!(format!("begin {}\nend 3\n", nap(4))))
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while spooled(&spool) > 0 {
        assert!(Instant::now() < deadline, "acknowledged reports leave the spool");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The agent stops after a run ended but before its report landed: it sends it when it starts again.
    let late = execute_on(&api, &script, "o1", &nap(2), 0, 300).await;
    wait_script(&format!("sleep {}", nap(2))).await;
    server.kill();
    let deadline = Instant::now() + Duration::from_secs(20);
    while spooled(&spool) == 0 {
        assert!(Instant::now() < deadline, "the finished run's report is spooled");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(agent);
    let _server = Server::start(port, &data, &credential);
    wait_serving(&api).await;
    assert_eq!(api.order(&late).await["status"], "PROCESSING", "nothing reported the run yet");
    // On its stored credential: no key is needed the second time.
    let _agent = start_agent(&base, &states, "o1", &[]);
    api.wait_status(&late, "FINISHED", Duration::from_secs(30)).await;
    let instance = &api.instances(&late, 1).await[0];
    assert_eq!(instance["message"], format!("begin {}\nend 0\n", nap(2)), "{instance}");
}
