//! The COC server under test: a real `coc-local` child process on its own data
//! directory (so its CPU time and RSS are its own), with a known tenant key
//! set through the bootstrap variables, and a signed client for it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use coc_agent::client::ApiClient;
use coc_agent::Config;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::procs::{free_port, wait_listening, ChildGuard};

pub const PROJECT: &str = "bench";
pub const ACCESS_KEY: &str = "BENCHACCESSKEY000001";
pub const SECRET_KEY: &str = "BENCHSECRETKEY00000000000000000000000001";

pub struct CocServer {
    guard: ChildGuard,
    pub base: String,
}

/// `coc-local` next to this binary (both built by `make bench`), or `COC_LOCAL_BIN`.
pub fn coc_local_bin() -> PathBuf {
    sibling_bin("COC_LOCAL_BIN", "coc-local")
}

pub fn sibling_bin(variable: &str, name: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the bench knows its own path");
    let path = exe.with_file_name(name);
    assert!(path.exists(), "{} is missing: build it (make bench does) or set {variable}", path.display());
    path
}

impl CocServer {
    /// Starts `coc-local` on `data_dir` (created if new) and waits until it listens.
    pub async fn start(data_dir: &Path) -> CocServer {
        std::fs::create_dir_all(data_dir).expect("a data directory");
        let port = free_port();
        let mut command = Command::new(coc_local_bin());
        command
            .env("COC_LISTEN", format!("127.0.0.1:{port}"))
            .env("COC_DATA_DIR", data_dir)
            .env("COC_BOOTSTRAP_PROJECT_ID", PROJECT)
            .env("COC_BOOTSTRAP_AK", ACCESS_KEY)
            .env("COC_BOOTSTRAP_SK", SECRET_KEY)
            // The embedded store always, even when the caller's shell points at DynamoDB/SQS.
            .env_remove("COC_TABLE_NAME")
            .env_remove("COC_QUEUE_URL")
            .env_remove("COC_KEY_FILE");
        let mut guard = ChildGuard::spawn("coc-local", command, &data_dir.join("server.log"));
        wait_listening(port, &mut guard, Duration::from_secs(30)).await;
        CocServer { guard, base: format!("http://127.0.0.1:{port}") }
    }

    pub fn pid(&self) -> u32 {
        self.guard.pid()
    }

    pub fn assert_running(&mut self) {
        self.guard.assert_running();
    }

    /// A client signing with the tenant's key.
    pub fn api(&self) -> ApiClient {
        ApiClient::new(self.agent_config("bench-client")).expect("a valid endpoint")
    }

    /// The configuration of an agent `agent_sn` registering with the tenant's key,
    /// its state under `state_root`.
    pub fn agent_config(&self, agent_sn: &str) -> Config {
        Config::new(&self.base, ACCESS_KEY, SECRET_KEY, PROJECT, agent_sn)
    }

    /// Stops the server the way an operator does (SIGINT), killing it if it hangs.
    pub fn stop(self) {
        self.guard.stop(Duration::from_secs(10));
    }
}

/// A signed call that must succeed; returns the answer's `data`.
pub async fn call(api: &ApiClient, method: &str, path: &str, query: Option<&str>, body: Option<Value>) -> Value {
    api.call(method, path, query, body).await.unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

pub fn script_body(name: &str, content: &str) -> Value {
    json!({"name": name, "type": "SHELL", "content": content, "description": "bench",
           "properties": {"risk_level": "LOW", "version": "1"}})
}

/// Creates `count` scripts named `{prefix}{n}` through the API (32 at a time);
/// returns their uuids. Through the API, so that whatever the server keeps beside
/// a script (name claims, indexes, counters) is there as in real use.
pub async fn seed_scripts(api: &ApiClient, prefix: &str, count: usize) -> Vec<String> {
    let permits = Arc::new(Semaphore::new(32));
    let mut tasks = Vec::with_capacity(count);
    for n in 0..count {
        let (api, permits, name) = (api.clone(), permits.clone(), format!("{prefix}{n:05}"));
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire().await.expect("the semaphore stays open");
            let uuid = call(&api, "POST", "/v1/job/scripts", None, Some(script_body(&name, "echo hi"))).await;
            uuid.as_str().expect("a script uuid").to_owned()
        }));
    }
    let mut uuids = Vec::with_capacity(count);
    for task in tasks {
        uuids.push(task.await.expect("a seeding task panicked"));
    }
    uuids
}
