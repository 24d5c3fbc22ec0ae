//! A coc server in the test process on a fresh embedded store, its tenant's
//! user, and real `coc-agent` processes working for it: what the patch
//! end-to-end tests (`patch_end_to_end.rs`, `patch_rpm_end_to_end.rs`) share.
//! Use it with `#[path = "support/patch_server.rs"] mod patch_server;`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coc_agent::client::ApiClient;
use coc_agent::Config;
use coc_shared::auth::signature::{sign_headers, AccessKey};
use coc_shared::auth::Credential;
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_shared::App;
use serde_json::{json, Value};

pub struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server in this process on a fresh embedded store, and its tenant's user.
pub struct Server {
    pub base: String,
    pub credential: Credential,
    pub api: ApiClient,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    pub async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let app = App::embedded(dir.path()).unwrap();
        let credential = Credential::generate(ProjectId::parse("patch-e2e").unwrap(), "ops".into(), "ops".into(), 0);
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        let base = format!("http://{}", coc_local::spawn("127.0.0.1:0", app).await.unwrap());
        let config = Config::new(
            &base,
            &credential.access_key,
            &credential.secret_key,
            credential.project_id.as_str(),
            "e2e-client",
        );
        let api = ApiClient::new(config).unwrap();
        Server { base, credential, api, http: reqwest::Client::new(), _dir: dir }
    }

    pub async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Value {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        self.api.call(method, path, query, body).await.unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"))
    }

    /// A GET whose answer is not in the `data` envelope (the spec 4.5 endpoints).
    pub async fn get_unwrapped(&self, path: &str, query: &str) -> Value {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", self.base.trim_start_matches("http://").parse().unwrap());
        headers.insert("x-project-id", self.credential.project_id.as_str().parse().unwrap());
        let key = AccessKey { id: &self.credential.access_key, secret: &self.credential.secret_key };
        sign_headers(&mut headers, key, "GET", path, Some(query), b"", now_ms());
        let response = self.http.get(format!("{}{path}?{query}", self.base)).headers(headers).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}?{query}");
        response.json().await.unwrap()
    }

    pub fn start_agent(&self, state_dir: &Path, agent_sn: &str, extra: &[(&str, &str)]) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_coc-agent"))
            .env("COC_ENDPOINT", &self.base)
            .env("COC_AGENT_SN", agent_sn)
            .env("COC_AGENT_STATE_DIR", state_dir.join(agent_sn))
            .env("COC_RESOURCE_ID", format!("ecs-{agent_sn}"))
            .env("COC_HOST_NAME", format!("host-{agent_sn}"))
            .env("COC_FIXED_IP", "10.1.0.1")
            .env("COC_HEARTBEAT_SECS", "1")
            .env("COC_AK", &self.credential.access_key)
            .env("COC_SK", &self.credential.secret_key)
            .env("COC_PROJECT_ID", self.credential.project_id.as_str())
            .env_remove("COC_AGENT_PATCH_ROOT")
            .env_remove("COC_AGENT_APT_OPTIONS")
            .env_remove("COC_AGENT_DNF_OPTIONS")
            .env("RUST_LOG", "warn")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("start coc-agent");
        Agent(child)
    }

    pub async fn wait_online(&self, agent_sn: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let hosts = self.call("GET", "/v1/resources?provider=ecs&type=cloudservers&limit=100", None).await;
            let online =
                hosts.as_array().unwrap().iter().any(|h| h["agent_id"] == agent_sn && h["agent_state"] == "ONLINE");
            if online {
                return;
            }
            assert!(Instant::now() < deadline, "{agent_sn} never registered: {hosts}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn start_patch_job(&self, operation: &str, agent_sn: &str, baseline_id: Option<&str>) -> String {
        let target = json!({"resource_id": format!("ecs-{agent_sn}"), "agent_sn": agent_sn,
                            "project_id": self.credential.project_id.as_str(), "region_id": "local"});
        let mut body = json!({"operation": operation, "timeout": 600, "execute_batches": [
            {"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [target]}]});
        if let Some(id) = baseline_id {
            body["baseline_id"] = json!(id);
        }
        self.call("POST", "/v1/patch/jobs", Some(body)).await.as_str().unwrap().to_owned()
    }

    pub async fn wait_ended(&self, uuid: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let order = self.call("GET", &format!("/v1/job/script/orders/{uuid}"), None).await;
            if order["status"] == "FINISHED" || order["status"] == "ABNORMAL" {
                return order;
            }
            assert!(Instant::now() < deadline, "ticket {uuid} never ended: {order}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    pub async fn instance(&self, uuid: &str) -> Value {
        let batch = self.call("GET", &format!("/v1/job/script/orders/{uuid}/batches/1?limit=10"), None).await;
        batch["execute_instances"][0].clone()
    }

    /// The host's one report of the ticket.
    pub async fn report_of(&self, agent_sn: &str) -> Value {
        let page =
            self.get_unwrapped("/v1/patch/instance/compliant", &format!("instance_id=ecs-{agent_sn}&limit=10")).await;
        assert_eq!(page["count"], 1, "one report per host and baseline: {page}");
        page["instance_compliant"][0].clone()
    }

    /// Every item of a report, page by page.
    pub async fn items_of(&self, report_id: &str) -> Vec<Value> {
        let path = format!("/v1/patch/instance/compliant/{report_id}");
        let mut items = Vec::new();
        for page in 1.. {
            let answer = self.get_unwrapped(&path, &format!("limit=100&offset={}", next_offset(page, 100))).await;
            let got = answer["compliance_items"].as_array().unwrap();
            items.extend(got.iter().cloned());
            if got.len() < 100 {
                assert_eq!(answer["count"].as_u64().unwrap() as usize, items.len(), "count is every item");
                return items;
            }
        }
        unreachable!()
    }
}

/// The `offset` of the `page`-th page (1-based) of `limit` items (README, "Patch compliance").
fn next_offset(page: usize, limit: usize) -> usize {
    let _ = limit;
    page
}

pub fn status_count(items: &[Value], status: &str) -> usize {
    items.iter().filter(|i| i["patch_detail"]["patch_status"] == status).count()
}

/// The statuses of a report's items, by package.
pub fn statuses(items: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (i["title"].as_str().unwrap().to_owned(), i["patch_detail"]["patch_status"].as_str().unwrap().to_owned())
        })
        .collect();
    all.sort();
    all
}

pub fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}
