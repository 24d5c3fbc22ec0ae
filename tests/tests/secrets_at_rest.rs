//! Secrets at rest: a copy of the data directory without the key file yields
//! no usable secret. Access keys' secrets, agents' secrets and sensitive
//! parameter values are sealed in the store; only the agent running a job gets
//! its sensitive values in clear.

use std::path::Path;

use serde_json::{json, Value};

use coc_shared::auth::Credential;
use coc_shared::clock::now_ms;
use coc_shared::domain::script::MASK;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Condition, Item, WriteOp};
use coc_shared::repositories::credentials;
use coc_shared::App;
use coc_tests::{serve, Client};

const SENSITIVE: &str = "given-s3cr3t-VALUE-7731";
/// The default value of a sensitive script parameter the execution does not set.
const SENSITIVE_DEFAULT: &str = "default-k3y-SECRET-4410";

/// Every file of the data directory but the key file, as one byte string.
fn copy_without_key(data_dir: &Path, into: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().unwrap() == "master.key" {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(into.join(path.file_name().unwrap()), &bytes).unwrap();
        all.extend(bytes);
    }
    all
}

fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_of_the_data_without_the_key_file_holds_no_secret() {
    let data = tempfile::tempdir().unwrap();
    let app = App::embedded(data.path()).unwrap();
    let credential = Credential::generate(ProjectId::parse("p-rest").unwrap(), "u".into(), "ops".into(), now_ms());
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let store = app.store.clone();
    let base = serve(app).await;
    let user = Client::new(&base, store, "p-rest").await.with_credential(credential.clone());

    let script = json!({
        "name": "deploy", "type": "SHELL", "content": "echo ${token}", "description": "d",
        "properties": {"risk_level": "LOW", "version": "1"},
        "script_params": [
            {"param_name": "token", "param_value": "x", "param_description": "", "param_order": 1, "sensitive": true},
            {"param_name": "api_key", "param_value": SENSITIVE_DEFAULT, "param_description": "", "param_order": 2,
             "sensitive": true}
        ]
    });
    let script_uuid = user.post("/v1/job/scripts", &script).await.data_str();
    let registered = user.register_agent(&json!({"agent_sn": "a1", "resource_id": "r1", "region_id": "local"})).await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    let agent_secret = registered.body["data"]["secret_key"].as_str().unwrap().to_owned();
    let execution = json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root",
                          "script_params": [{"param_name": "token", "param_value": SENSITIVE, "param_order": 1}]},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": "r1", "agent_sn": "a1", "project_id": "p-rest", "region_id": "local"}]}]
    });
    let executed = user.post(&format!("/v1/job/scripts/{script_uuid}"), &execution).await;
    assert_eq!(executed.status, 200, "{}", executed.body);

    // The agent running the job gets the value in clear; its report is masked.
    let agent = user.agent("a1");
    let jobs = jobs_of_a1(&agent).await;
    let param = |name: &str| {
        jobs[0]["params"].as_array().unwrap().iter().find(|p| p["name"] == name).cloned().unwrap_or_default()
    };
    assert_eq!(param("token")["value"], SENSITIVE);
    assert_eq!(param("api_key")["value"], SENSITIVE_DEFAULT, "the script's sealed default, opened for the agent");
    let report = json!({"attempt": jobs[0]["attempt"], "exit_code": 0, "log": format!("used {SENSITIVE}")});
    let path = format!("/v1/agents/a1/jobs/{}/{}", jobs[0]["execute_uuid"].as_str().unwrap(), jobs[0]["instance_id"]);
    assert_eq!(agent.post(&path, &report).await.status, 200);

    let copy = tempfile::tempdir().unwrap();
    let bytes = copy_without_key(data.path(), copy.path());
    assert!(holds(&bytes, "sealed:v1:"), "the copy holds the sealed records");
    assert!(holds(&bytes, &credential.access_key), "the copy holds the credential's record");
    for (what, secret) in [("a user's secret key", &credential.secret_key), ("an agent's secret", &agent_secret)] {
        assert!(!holds(&bytes, secret), "{what} is in the data in clear");
    }
    assert!(!holds(&bytes, SENSITIVE), "a sensitive value is in the data in clear");
    assert!(!holds(&bytes, SENSITIVE_DEFAULT), "a sensitive script default is in the data in clear");

    // A server on the copy makes a key of its own, which opens nothing: the keys are useless.
    let thief = App::embedded(copy.path()).unwrap();
    let thief_store = thief.store.clone();
    let thief_base = serve(thief).await;
    let stolen = Client::new(&thief_base, thief_store, "p-rest").await.with_credential(credential);
    assert_eq!(stolen.get("/v1/job/scripts?limit=10").await.status, 500, "the sealed secret key does not open");
}

/// Scripts stored before sealing existed hold their sensitive defaults in clear:
/// they still read back masked and still run with their default.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_script_stored_before_sealing_still_runs_with_its_clear_default() {
    let data = tempfile::tempdir().unwrap();
    let app = App::embedded(data.path()).unwrap();
    let credential = Credential::generate(ProjectId::parse("p-old").unwrap(), "u".into(), "ops".into(), now_ms());
    credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
    let store = app.store.clone();
    let base = serve(app).await;
    let user = Client::new(&base, store.clone(), "p-old").await.with_credential(credential);
    let script = json!({
        "name": "legacy", "type": "SHELL", "content": "echo ${api_key}", "description": "d",
        "properties": {"risk_level": "LOW", "version": "1"},
        "script_params": [{"param_name": "api_key", "param_value": "x", "param_description": "", "param_order": 1,
                           "sensitive": true}]
    });
    let script_uuid = user.post("/v1/job/scripts", &script).await.data_str();

    // Rewrite the record as an older server wrote it: the default in clear.
    let (pk, sk) = ("PROJECT#p-old".to_owned(), format!("SCRIPT#{script_uuid}"));
    let item = store.get(&pk, &sk).await.unwrap().expect("the script's record");
    let mut record: serde_json::Value = serde_json::from_str(&item.data).unwrap();
    assert!(record["script_params"][0]["param_value"].as_str().unwrap().starts_with("sealed:v1:"));
    record["script_params"][0]["param_value"] = json!("old-clear-default");
    let old = Item::new(pk, sk, record.to_string(), item.version + 1);
    store.write(vec![WriteOp::Put { item: old, condition: Condition::VersionIs(item.version) }]).await.unwrap();

    let shown = user.get(&format!("/v1/job/scripts/{script_uuid}")).await;
    assert_eq!(shown.body["data"]["script_params"][0]["param_value"], MASK, "{}", shown.body);
    assert_eq!(
        user.register_agent(&json!({"agent_sn": "a1", "resource_id": "r1", "region_id": "local"})).await.status,
        200
    );
    let execution = json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root", "script_params": []},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [
            {"resource_id": "r1", "agent_sn": "a1", "project_id": "p-old", "region_id": "local"}]}]
    });
    let executed = user.post(&format!("/v1/job/scripts/{script_uuid}"), &execution).await;
    assert_eq!(executed.status, 200, "{}", executed.body);
    let agent = user.agent("a1");
    let jobs = jobs_of_a1(&agent).await;
    assert_eq!(jobs[0]["params"][0]["value"], "old-clear-default");
}

/// Agent a1's jobs, polled until one arrives (at most ten 2-second long-polls).
async fn jobs_of_a1(agent: &Client) -> Vec<Value> {
    let mut jobs = Vec::new();
    for _ in 0..10 {
        jobs = agent.get("/v1/agents/a1/jobs?wait_seconds=2").await.body["data"].as_array().unwrap().clone();
        if !jobs.is_empty() {
            break;
        }
    }
    jobs
}
