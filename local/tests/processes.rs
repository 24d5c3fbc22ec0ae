//! The local server as users run it: a real process on the embedded store.
//! Several processes may share one data directory, and a crash loses nothing
//! that was acknowledged.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coc_shared::auth::signature::AccessKey;
use serde_json::{json, Value};

use common::{free_port, signed, signed_as, start, AK, SK};

fn body(name: &str) -> Value {
    json!({"name": name, "type": "SHELL", "content": "uptime", "description": "d",
           "properties": {"risk_level": "LOW", "version": "1"}})
}

async fn create(http: &reqwest::Client, base: &str, name: &str) -> reqwest::StatusCode {
    let body = body(name).to_string().into_bytes();
    http.post(format!("{base}/v1/job/scripts"))
        .headers(signed("POST", base, "/v1/job/scripts", None, &body))
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

async fn names(http: &reqwest::Client, base: &str) -> Vec<String> {
    let reply: Value = http
        .get(format!("{base}/v1/job/scripts?limit=100"))
        .headers(signed("GET", base, "/v1/job/scripts", Some("limit=100"), b""))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    reply["data"]["data"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_share_a_data_dir_and_one_name_has_one_owner() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (start(dir.path()).await, start(dir.path()).await);
    let http = reqwest::Client::new();
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let (http, base) = (http.clone(), if i % 2 == 0 { a.base.clone() } else { b.base.clone() });
            tokio::spawn(async move { create(&http, &base, "shared_name").await })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        let status = task.await.unwrap();
        assert!(status == 200 || status == 400, "{status}");
        created += usize::from(status == 200);
    }
    assert_eq!(created, 1, "exactly one process won the name");
    // Both processes make progress when writing at the same time.
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (http, base) = (http.clone(), if i % 2 == 0 { a.base.clone() } else { b.base.clone() });
            tokio::spawn(async move { create(&http, &base, &format!("name_{i:02}")).await })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let seen = names(&http, &a.base).await;
    assert_eq!(seen.len(), 41, "{seen:?}");
    assert_eq!(seen, names(&http, &b.base).await);
}

/// Creates a script: its uuid once the server acknowledged it, `None` when
/// the server is gone (connection refused or reset mid-request).
async fn create_acknowledged(http: &reqwest::Client, base: &str, name: &str) -> Option<String> {
    let body = body(name).to_string().into_bytes();
    let response = http
        .post(format!("{base}/v1/job/scripts"))
        .headers(signed("POST", base, "/v1/job/scripts", None, &body))
        .body(body)
        .send()
        .await
        .ok()?;
    let status = response.status();
    let reply: Value = response.json().await.ok()?;
    assert_eq!(status, 200, "{name}: {reply}");
    Some(reply["data"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_writes_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut server = start(dir.path()).await;
    // 32 clients write at once, so the writer commits them in groups; the
    // server is killed while their requests are in flight.
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let clients: Vec<_> = (0..32)
        .map(|client| {
            let (http, base, acknowledged) = (http.clone(), server.base.clone(), acknowledged.clone());
            tokio::spawn(async move {
                for n in 0.. {
                    let name = format!("kept_{client}_{n}");
                    let Some(uuid) = create_acknowledged(&http, &base, &name).await else { return };
                    acknowledged.lock().unwrap().push((name, uuid));
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < 200 {
        assert!(Instant::now() < deadline, "the writes were not acknowledged");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // SIGKILL: no shutdown code runs.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let restarted = start(dir.path()).await;
    let acknowledged = acknowledged.lock().unwrap().clone();
    for (name, uuid) in &acknowledged {
        let (status, script) = call(&http, &restarted.base, "GET", &format!("/v1/job/scripts/{uuid}"), None).await;
        assert_eq!((status, script["data"]["name"].as_str()), (200, Some(name.as_str())), "{name} was acknowledged");
    }
    let (first, _) = &acknowledged[0];
    assert_eq!(create(&http, &restarted.base, first).await, 400, "uniqueness survives the restart too");
}

/// Runs coc-local without bootstrap variables until it listens, then stops it; returns its stdout.
async fn first_start_output(data_dir: &Path) -> String {
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coc-local"))
        .env("COC_LISTEN", format!("127.0.0.1:{port}"))
        .env("COC_DATA_DIR", data_dir)
        .env_remove("COC_BOOTSTRAP_AK")
        .env_remove("COC_BOOTSTRAP_SK")
        .env_remove("COC_BOOTSTRAP_PROJECT_ID")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("start coc-local");
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/")).await.is_err() {
        assert!(Instant::now() < deadline, "coc-local did not start listening");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn first_start_prints_a_random_credential_once() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_start_output(dir.path()).await;
    let secret = first
        .lines()
        .find_map(|l| l.trim().strip_prefix("secret key (SK): "))
        .unwrap_or_else(|| panic!("no secret key printed: {first}"));
    assert_eq!(secret.len(), 40);
    let second = first_start_output(dir.path()).await;
    assert!(!second.contains(secret) && !second.contains("secret key"), "printed again: {second}");
}

async fn call(
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call_as(AccessKey { id: AK, secret: SK }, http, base, method, path_and_query, body).await
}

/// What an agent calls: signed with its own credential, `(access key, secret key)`.
async fn call_agent(
    key: &(String, String),
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call_as(AccessKey { id: &key.0, secret: &key.1 }, http, base, method, path_and_query, body).await
}

async fn call_as(
    key: AccessKey<'_>,
    http: &reqwest::Client,
    base: &str,
    method: &str,
    path_and_query: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let response = http
        .request(method.parse().unwrap(), format!("{base}{path_and_query}"))
        .headers(signed_as(key, method, base, path, query, &bytes))
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_status(http: &reqwest::Client, base: &str, uuid: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let (_, order) = call(http, base, "GET", &format!("/v1/job/script/orders/{uuid}"), None).await;
        if order["data"]["status"] == status {
            return;
        }
        assert!(Instant::now() < deadline, "ticket {uuid} never became {status}: {order}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_tickets_resume_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut server = start(dir.path()).await;
    let base = server.base.clone();
    let mut keys = std::collections::HashMap::new();
    for agent in ["a1", "a2", "a3"] {
        let body = json!({"agent_sn": agent, "resource_id": agent, "region_id": "local"});
        let (status, registered) = call(&http, &base, "POST", "/v1/agents", Some(body)).await;
        assert_eq!(status, 200);
        let key = |name: &str| registered["data"][name].as_str().unwrap().to_owned();
        keys.insert(agent, (key("access_key"), key("secret_key")));
    }
    let (_, script) = call(&http, &base, "POST", "/v1/job/scripts", Some(body("resumable"))).await;
    let script = script["data"].as_str().unwrap().to_owned();
    let batches = |agents: &[&str]| {
        let batches: Vec<Value> = agents
            .iter()
            .enumerate()
            .map(|(i, a)| {
                json!({"batch_index": i + 1, "rotation_strategy": "CONTINUE",
                "target_instances": [{"resource_id": a, "agent_sn": a, "project_id": "p1", "region_id": "local"}]})
            })
            .collect();
        json!({"execute_param": {"timeout": 5, "success_rate": 1, "execute_user": "root"}, "execute_batches": batches})
    };
    let (_, two) = call(&http, &base, "POST", &format!("/v1/job/scripts/{script}"), Some(batches(&["a1", "a2"]))).await;
    let two = two["data"].as_str().unwrap().to_owned();
    let (_, jobs) = call_agent(&keys["a1"], &http, &base, "GET", "/v1/agents/a1/jobs?wait_seconds=10", None).await;
    let job = jobs["data"][0].clone();
    // A ticket whose only host never answers: its timeout must still fire after the crash.
    let (_, silent) = call(&http, &base, "POST", &format!("/v1/job/scripts/{script}"), Some(batches(&["a3"]))).await;
    let silent = silent["data"].as_str().unwrap().to_owned();
    let (_, taken) = call_agent(&keys["a3"], &http, &base, "GET", "/v1/agents/a3/jobs?wait_seconds=10", None).await;
    assert_eq!(taken["data"].as_array().unwrap().len(), 1);

    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let restarted = start(dir.path()).await;
    let base = restarted.base.clone();

    let report = json!({"attempt": job["attempt"], "exit_code": 0, "log": "ok"});
    let (status, _) = call_agent(
        &keys["a1"],
        &http,
        &base,
        "POST",
        &format!("/v1/agents/a1/jobs/{two}/{}", job["instance_id"]),
        Some(report),
    )
    .await;
    assert_eq!(status, 200);
    let (_, next) = call_agent(&keys["a2"], &http, &base, "GET", "/v1/agents/a2/jobs?wait_seconds=10", None).await;
    let next = next["data"][0].clone();
    assert_eq!(next["execute_uuid"], two.as_str(), "batch 2 starts after the restart");
    let report = json!({"attempt": next["attempt"], "exit_code": 0, "log": "ok"});
    call_agent(
        &keys["a2"],
        &http,
        &base,
        "POST",
        &format!("/v1/agents/a2/jobs/{two}/{}", next["instance_id"]),
        Some(report),
    )
    .await;
    wait_status(&http, &base, &two, "FINISHED").await;
    wait_status(&http, &base, &silent, "ABNORMAL").await;
}
