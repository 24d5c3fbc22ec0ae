//! Script risk analysis over HTTP, on every backend: `POST /v1/job/analyze-job`,
//! the analysis a created, updated or read script reports, and the confirmation
//! a HIGH-risk script needs to run on more than one batch.

use serde_json::{json, Value};

use coc_tests::{backends, serve, Client};

const SCRIPTS: &str = "/v1/job/scripts";
const ANALYZE: &str = "/v1/job/analyze-job";

async fn clients() -> Vec<(&'static str, Client, coc_tests::Backend)> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-risk").await;
        all.push((backend.name, client, backend));
    }
    all
}

fn script(name: &str, content: &str) -> Value {
    json!({"name": name, "type": "SHELL", "content": content, "description": "d",
           "properties": {"risk_level": "LOW", "version": "1.0"}})
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.7", "floating_ip": "203.0.113.7", "zone_id": "cn-north-4a", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn execution(batches: &[&str], confirm: Option<Value>) -> Value {
    let batches: Vec<Value> = batches
        .iter()
        .enumerate()
        .map(|(i, agent_sn)| {
            json!({"batch_index": i + 1, "rotation_strategy": "CONTINUE", "target_instances": [
                {"resource_id": format!("res-{agent_sn}"), "agent_sn": agent_sn, "project_id": "p-risk",
                 "region_id": "cn-north-4"}]})
        })
        .collect();
    let mut param = json!({"timeout": 60, "success_rate": 100, "execute_user": "root"});
    if let Some(confirm) = confirm {
        param["confirm_high_risk"] = confirm;
    }
    json!({"execute_param": param, "execute_batches": batches})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_job_reports_findings_with_lines_and_the_highest_level() {
    for (backend, client, _keep) in clients().await {
        let reply = client.post(ANALYZE, &json!({"content": "echo start\nD=/\nrm -rf \"$D\"\ncrontab -r"})).await;
        assert_eq!(reply.status, 200, "{backend}: {}", reply.body);
        let data = &reply.body["data"];
        assert_eq!(data["risk_level"], "HIGH", "{backend}");
        let found = data["blacklist_commands"].as_array().unwrap();
        assert_eq!(found.len(), 2, "{backend}: {data}");
        assert_eq!(found[0]["command_name"], "rm");
        assert_eq!(found[0]["rule_id"], "rm-recursive-root");
        assert_eq!(found[0]["line"], 3);
        assert_eq!(found[0]["level"], "HIGH");
        for field in ["command_rule", "example", "description_en", "description_zh"] {
            assert!(found[0][field].as_str().is_some_and(|s| !s.is_empty()), "{backend}: {field}");
        }
        assert_eq!(found[1]["rule_id"], "crontab-remove");
        assert_eq!(found[1]["level"], "MEDIUM");

        let harmless = client.post(ANALYZE, &json!({"content": "# rm -rf /\necho \"rm -rf /\"\nrm -rf ./build"})).await;
        assert_eq!(harmless.body["data"], json!({"risk_level": "LOW", "blacklist_commands": []}), "{backend}");

        // The type: given, or a python shebang.
        let python = "import shutil\nshutil.rmtree('/')";
        let given = client.post(ANALYZE, &json!({"content": python, "type": "PYTHON"})).await;
        assert_eq!(given.body["data"]["risk_level"], "HIGH", "{backend}: {}", given.body);
        let shebang = client.post(ANALYZE, &json!({"content": format!("#!/usr/bin/python3\n{python}")})).await;
        assert_eq!(shebang.body["data"]["blacklist_commands"][0]["line"], 3, "{backend}: {}", shebang.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analyze_job_refuses_bad_bodies_naming_the_field() {
    for (backend, client, _keep) in clients().await {
        let cases = [
            (json!({}), "content"),
            (json!({"content": ""}), "content"),
            (json!({"content": "x".repeat(4097)}), "content"),
            (json!({"content": 7}), "content"),
            (json!({"content": "echo", "type": "PERL"}), "type"),
        ];
        for (body, field) in cases {
            let reply = client.post(ANALYZE, &body).await;
            assert_eq!(reply.status, 400, "{backend}: {body}");
            assert_eq!(reply.error_code(), "COC.00040601", "{backend}: {body}");
            assert!(reply.error_msg().contains(field), "{backend}: {body}: {}", reply.error_msg());
        }
        let at_limit = client.post(ANALYZE, &json!({"content": "x".repeat(4096)})).await;
        assert_eq!(at_limit.status, 200, "{backend}");
        let nobody = client.unauthenticated().post(ANALYZE, &json!({"content": "echo"})).await;
        assert_eq!(nobody.status, 401, "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_reports_its_analysis_on_create_update_and_read() {
    for (backend, client, _keep) in clients().await {
        let created = client.post(SCRIPTS, &script("cleanup", "echo ok")).await;
        assert_eq!(created.status, 200, "{backend}: {}", created.body);
        let uuid = created.data_str();
        assert_eq!(created.body["risk_analysis"]["risk_level"], "LOW", "{backend}: {}", created.body);

        let edit = json!({"description": "d", "content": "echo ok\nsudo reboot"});
        let updated = client.put(&format!("{SCRIPTS}/{uuid}"), &edit).await;
        assert_eq!(updated.status, 200, "{backend}: {}", updated.body);
        assert_eq!(updated.data_str(), uuid);
        let analysis = &updated.body["risk_analysis"];
        assert_eq!(analysis["risk_level"], "HIGH", "{backend}: {analysis}");
        assert_eq!(analysis["blacklist_commands"][0]["rule_id"], "shutdown-reboot");
        assert_eq!(analysis["blacklist_commands"][0]["line"], 2);

        let detail = client.get(&format!("{SCRIPTS}/{uuid}")).await;
        assert_eq!(detail.body["data"]["risk_analysis"], *analysis, "{backend}");
        // The level the user gave stays theirs.
        assert_eq!(detail.body["data"]["properties"]["risk_level"], "LOW", "{backend}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_risk_script_needs_the_confirmation_on_more_than_one_batch() {
    for (backend, client, _keep) in clients().await {
        for agent in ["a1", "a2"] {
            register(&client, agent).await;
        }
        // No agent runs in this test; the script would stop at `exit` anyway.
        let created = client.post(SCRIPTS, &script("wipe", "exit 0\nrm -rf /var")).await;
        let uuid = created.data_str();
        let path = format!("{SCRIPTS}/{uuid}");

        let refused = client.post(&path, &execution(&["a1", "a2"], None)).await;
        assert_eq!(refused.status, 400, "{backend}: {}", refused.body);
        assert_eq!(refused.error_code(), "COC.00040601");
        let message = refused.error_msg();
        assert!(message.starts_with("execute_param.confirm_high_risk"), "{backend}: {message}");
        assert!(message.contains("rm-recursive-system at line 2"), "{backend}: {message}");
        let declined = client.post(&path, &execution(&["a1", "a2"], Some(json!(false)))).await;
        assert_eq!(declined.status, 400, "{backend}");
        let null = client.post(&path, &execution(&["a1", "a2"], Some(Value::Null))).await;
        assert_eq!(null.status, 400, "{backend}: null is no confirmation");
        let wrong = client.post(&path, &execution(&["a1", "a2"], Some(json!("yes")))).await;
        assert_eq!(wrong.status, 400, "{backend}");
        assert!(wrong.error_msg().contains("confirm_high_risk"), "{backend}: {}", wrong.error_msg());

        let confirmed = client.post(&path, &execution(&["a1", "a2"], Some(json!(true)))).await;
        assert_eq!(confirmed.status, 200, "{backend}: {}", confirmed.body);
        let one_batch = client.post(&path, &execution(&["a1"], None)).await;
        assert_eq!(one_batch.status, 200, "{backend}: one batch runs without it: {}", one_batch.body);

        // A script with no HIGH finding needs nothing on any number of batches.
        let medium = client.post(SCRIPTS, &script("cron", "crontab -r")).await.data_str();
        let plain = client.post(&format!("{SCRIPTS}/{medium}"), &execution(&["a1", "a2"], None)).await;
        assert_eq!(plain.status, 200, "{backend}: {}", plain.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_sees_only_its_own_scripts_analysis() {
    for (backend, client, backend_handle) in clients().await {
        let uuid = client.post(SCRIPTS, &script("secret_wipe", "mkfs.ext4 /dev/sdb")).await.data_str();
        let base = client.base.clone();
        let other = Client::new(&base, backend_handle.store.clone(), "p-other").await;
        let read = other.get(&format!("{SCRIPTS}/{uuid}")).await;
        assert_eq!(read.status, 404, "{backend}: {}", read.body);
        let run = other.post(&format!("{SCRIPTS}/{uuid}"), &execution(&["a1", "a2"], Some(json!(true)))).await;
        assert_eq!(run.status, 404, "{backend}: {}", run.body);
        // The analysis itself reads nothing of a tenant: the same content gives the same answer.
        let mine = client.post(ANALYZE, &json!({"content": "mkfs.ext4 /dev/sdb"})).await;
        let theirs = other.post(ANALYZE, &json!({"content": "mkfs.ext4 /dev/sdb"})).await;
        assert_eq!(mine.body["data"], theirs.body["data"], "{backend}");
    }
}
