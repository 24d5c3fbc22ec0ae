//! The agent's side of the agent API, every request signed exactly as the
//! official SDK signs: with the agent's own credential, or (for the first
//! registration, or as a plain API client) with a user's AK/SK.

use coc_shared::auth::signature::{sign_headers, AccessKey};
use coc_shared::clock::now_ms;
use coc_shared::domain::patch::Inventory;
use coc_shared::repositories::jobs::Job;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::identity::{Activation, AgentCredential};
use crate::Config;

#[derive(Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    config: Config,
    host: String,
}

/// Why a call failed, with the HTTP status when the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    pub status: Option<u16>,
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for CallError {
    fn from(message: String) -> Self {
        CallError { status: None, message }
    }
}

impl From<&str> for CallError {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl From<CallError> for String {
    fn from(err: CallError) -> Self {
        err.message
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RunRef {
    pub execute_uuid: String,
    pub instance_id: u64,
    pub attempt: u32,
}

/// How long an idle connection is kept for the next call. Below the server's
/// keep-alive allowance (`coc-local` closes a connection idle for its 10 s
/// header timeout; API Gateway after longer): a heartbeat sent every 10 s on a
/// connection kept for 90 s (reqwest's default) raced the server closing it,
/// and about one in five failed with "error sending request". A heartbeat now
/// opens a new connection instead; the long poll keeps its own busy.
pub const POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(4);

impl ApiClient {
    /// A client acting with `config`'s key (the agent fields matter only to the agent calls).
    pub fn new(config: Config) -> Result<Self, String> {
        let url = reqwest::Url::parse(&config.endpoint).map_err(|e| format!("COC_ENDPOINT: {e}"))?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .pool_idle_timeout(POOL_IDLE)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(ApiClient { http, config, host })
    }

    /// A signed API call; returns the `data` of the answer, or why it failed.
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: Option<Value>,
    ) -> Result<T, CallError> {
        self.send(method, path, query, body, None).await
    }

    /// An API call signed with the configured key, or, with `activation`,
    /// carrying the activation's id and code instead of a signature.
    async fn send<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        query: Option<&str>,
        body: Option<Value>,
        activation: Option<&Activation>,
    ) -> Result<T, CallError> {
        let body = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
        let mut headers = http::HeaderMap::new();
        headers.insert("content-type", http::HeaderValue::from_static("application/json;charset=utf-8"));
        headers.insert("host", self.host.parse().map_err(|_| "bad host")?);
        match activation {
            Some(activation) => {
                headers.insert("x-activation-id", activation.id.parse().map_err(|_| "bad activation id")?);
                headers.insert("x-activation-code", activation.code.parse().map_err(|_| "bad activation code")?);
            }
            None => {
                headers.insert("x-project-id", self.config.project_id.parse().map_err(|_| "bad project id")?);
                let key = AccessKey { id: &self.config.access_key, secret: &self.config.secret_key };
                sign_headers(&mut headers, key, method, path, query, &body, now_ms());
            }
        }
        let url = match query {
            Some(q) => format!("{}{path}?{q}", self.config.endpoint.trim_end_matches('/')),
            None => format!("{}{path}", self.config.endpoint.trim_end_matches('/')),
        };
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let response =
            self.http.request(method, url).headers(headers).body(body).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            let message = format!("{method_path} answered {status}: {text}", method_path = path);
            return Err(CallError { status: Some(status.as_u16()), message });
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
        Ok(serde_json::from_value(value["data"].clone()).map_err(|e| format!("{path}: {e}"))?)
    }

    /// Registers the host, with the configured user's key or with `activation`,
    /// and returns the agent's own credential (the server shows it only now).
    pub async fn register(&self, activation: Option<&Activation>) -> Result<AgentCredential, String> {
        let c = &self.config;
        let body = json!({"agent_sn": c.agent_sn, "resource_id": c.resource_id, "region_id": c.region_id,
                          "host_name": c.host_name, "fixed_ip": c.fixed_ip, "floating_ip": c.floating_ip,
                          "os_type": std::env::consts::OS});
        self.send("POST", "/v1/agents", None, Some(body), activation).await.map_err(String::from)
    }

    /// Reports the runs in progress; returns the ones to stop.
    pub async fn heartbeat(&self, running: Vec<RunRef>) -> Result<Vec<RunRef>, String> {
        #[derive(serde::Deserialize)]
        struct Answer {
            cancel: Vec<RunRef>,
        }
        let path = format!("/v1/agents/{}/heartbeat", self.config.agent_sn);
        let answer: Answer = self.call("POST", &path, None, Some(json!({ "running": running }))).await?;
        Ok(answer.cancel)
    }

    pub async fn poll(&self, wait_seconds: u64) -> Result<Vec<Job>, String> {
        let path = format!("/v1/agents/{}/jobs", self.config.agent_sn);
        Ok(self.call("GET", &path, Some(&format!("wait_seconds={wait_seconds}")), None).await?)
    }

    /// Reports a finished run → whether the server recorded it (`false`: no longer wanted).
    pub async fn report(&self, run: &RunRef, exit_code: i32, log: &str) -> Result<bool, CallError> {
        let path = format!("/v1/agents/{}/jobs/{}/{}", self.config.agent_sn, run.execute_uuid, run.instance_id);
        self.call("POST", &path, None, Some(json!({"attempt": run.attempt, "exit_code": exit_code, "log": log}))).await
    }

    /// Posts a patch job's scan of the host → the id of the compliance report
    /// it made (`None`: the run was no longer the instance's current one).
    pub async fn post_inventory(&self, run: &RunRef, inventory: &Inventory) -> Result<Option<String>, CallError> {
        let path = format!(
            "/v1/agents/{}/jobs/{}/{}/patch-inventory",
            self.config.agent_sn, run.execute_uuid, run.instance_id
        );
        let body = json!({"attempt": run.attempt, "inventory": inventory});
        self.call("POST", &path, None, Some(body)).await
    }
}
