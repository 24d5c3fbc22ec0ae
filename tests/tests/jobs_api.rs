//! Script execution over HTTP on every backend: tickets move batch by batch as
//! agents (played here by the test through the agent API) report, and users
//! watch and steer them through the ticket endpoints.

use std::time::Duration;

use serde_json::{json, Value};

use coc_shared::clock::now_ms;
use coc_shared::domain::job::agent::{HEARTBEAT_RECORD_EVERY_MS, ONLINE_WINDOW_MS};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::jobs;
use coc_tests::{backends, serve, Backend, Client};

const SCRIPTS: &str = "/v1/job/scripts";
const ORDERS: &str = "/v1/job/script/orders";

struct Setup {
    name: &'static str,
    client: Client,
    script_uuid: String,
    backend: Backend,
}

/// A tenant with an approved script (a sensitive parameter included) and `agents` registered agents a1, a2, ….
async fn setups(agents: usize) -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-jobs").await;
        // A reviewer given by id is an engineer.
        client.sync_engineers(&[("u-rita", "rita")]).await;
        let body = json!({
            "name": "deploy", "type": "SHELL", "content": "echo ${version} ${token}", "description": "d",
            "properties": {"risk_level": "LOW", "version": "1"},
            "script_params": [
                {"param_name": "version", "param_value": "1.0", "param_description": "", "param_order": 1, "sensitive": false},
                {"param_name": "token", "param_value": "default-secret", "param_description": "", "param_order": 2, "sensitive": true}
            ]
        });
        let reply = client.post(SCRIPTS, &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let script_uuid = reply.data_str();
        for i in 1..=agents {
            register(&client, &format!("a{i}")).await;
        }
        all.push(Setup { name: backend.name, client, script_uuid, backend });
    }
    all
}

async fn register(client: &Client, agent_sn: &str) {
    let body = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                      "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.1", "os_type": "linux"});
    let reply = client.register_agent(&body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

fn target(agent_sn: &str) -> Value {
    json!({"resource_id": format!("res-{agent_sn}"), "agent_sn": agent_sn, "project_id": "p-jobs", "region_id": "cn-north-4"})
}

/// An execute body: one batch per entry, each (agents, rotation).
fn execution(batches: &[(&[&str], &str)], success_rate: Value, timeout: u32) -> Value {
    let batches: Vec<Value> = batches
        .iter()
        .enumerate()
        .map(|(i, (agents, rotation))| {
            json!({"batch_index": i + 1, "rotation_strategy": rotation,
                   "target_instances": agents.iter().map(|a| target(a)).collect::<Vec<_>>()})
        })
        .collect();
    json!({
        "execute_param": {"timeout": timeout, "success_rate": success_rate, "execute_user": "root", "resourceful": true,
                          "script_params": [{"param_name": "token", "param_value": "s3cr3t-value", "param_order": 1}]},
        "execute_batches": batches
    })
}

async fn execute(setup: &Setup, body: &Value) -> String {
    let reply = setup.client.post(&format!("{SCRIPTS}/{}", setup.script_uuid), body).await;
    assert_eq!(reply.status, 200, "{}: {}", setup.name, reply.body);
    let uuid = reply.data_str();
    assert!(uuid.starts_with("SCT") && uuid.len() == 26, "{uuid}");
    uuid
}

async fn info(client: &Client, uuid: &str) -> Value {
    let reply = client.get(&format!("{ORDERS}/{uuid}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// Waits (bounded) until the ticket's status is `status`.
async fn wait_status(client: &Client, uuid: &str, status: &str) -> Value {
    for _ in 0..300 {
        let current = info(client, uuid).await;
        if current["status"] == status {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("ticket {uuid} never became {status}: {}", info(client, uuid).await);
}

/// The jobs waiting for an agent, waiting up to 5 s for them.
async fn poll(client: &Client, agent_sn: &str) -> Vec<Value> {
    let reply = client.agent(agent_sn).get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds=5")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

/// Whether an agent has no job waiting, after a short wait.
async fn idle(client: &Client, agent_sn: &str) -> bool {
    let reply = client.agent(agent_sn).get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds=1")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().is_empty()
}

async fn report(client: &Client, agent_sn: &str, job: &Value, exit_code: i32, log: &str) -> Value {
    let path = format!("/v1/agents/{agent_sn}/jobs/{}/{}", job["execute_uuid"].as_str().unwrap(), job["instance_id"]);
    let body = json!({"attempt": job["attempt"], "exit_code": exit_code, "log": log});
    let reply = client.agent(agent_sn).post(&path, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].clone()
}

/// Plays an agent for one job: takes it and reports `exit_code`.
async fn run_one(client: &Client, agent_sn: &str, exit_code: i32) -> Value {
    let jobs = poll(client, agent_sn).await;
    assert_eq!(jobs.len(), 1, "{agent_sn} expected one job, got {jobs:?}");
    let log = format!("ran on {agent_sn} with {}", jobs[0]["params"][1]["value"].as_str().unwrap_or_default());
    assert_eq!(report(client, agent_sn, &jobs[0], exit_code, &log).await, true);
    jobs[0].clone()
}

async fn operate(client: &Client, uuid: &str, body: Value) -> coc_tests::Reply {
    client.put(&format!("{ORDERS}/{uuid}/operation"), &body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_ticket_runs_batch_by_batch_with_pause_and_continue() {
    for setup in setups(3).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid =
            execute(&setup, &execution(&[(&["a1", "a2"], "PAUSE"), (&["a3"], "CONTINUE")], json!(100), 60)).await;

        let job = run_one(client, "a1", 0).await;
        assert_eq!(job["content"], "echo ${version} ${token}");
        assert_eq!(job["params"][0]["value"], "1.0", "{name}: defaults fill parameters the request leaves out");
        assert_eq!(job["params"][1]["value"], "s3cr3t-value", "{name}: the agent gets the real secret");
        assert!(idle(client, "a3").await, "{name}: batch 2 waits for batch 1");
        run_one(client, "a2", 0).await;

        let paused = wait_status(client, &uuid, "PAUSED").await;
        assert_eq!(paused["properties"]["current_execute_batch_index"], 2);
        assert!(idle(client, "a3").await, "{name}: a PAUSE batch holds the next one");
        assert_eq!(operate(client, &uuid, json!({"operation_type": "CONTINUE_ORDER"})).await.status, 200);
        run_one(client, "a3", 0).await;
        let done = wait_status(client, &uuid, "FINISHED").await;

        assert_eq!(done["properties"]["script_uuid"], setup.script_uuid.as_str());
        assert_eq!(done["properties"]["script_name"], "deploy");
        assert_eq!(done["properties"]["script_version_uuid"], 1, "{name}: the ticket names the revision that ran");
        assert_eq!(done["properties"]["execute_param"]["timeout"], 60);
        assert_eq!(
            done["properties"]["execute_param"]["script_params"][0]["param_value"], "*****************",
            "{name}"
        );
        assert!(done["gmt_finished"].as_i64().unwrap() >= done["gmt_created"].as_i64().unwrap());
        assert_eq!(done["creator"], "alice");

        let batches = client.get(&format!("{ORDERS}/{uuid}/batches")).await.body["data"].clone();
        assert_eq!(
            batches,
            json!([
                {"batch_index": 1, "total_instances": 2, "rotation_strategy": "PAUSE", "properties": ""},
                {"batch_index": 2, "total_instances": 1, "rotation_strategy": "CONTINUE", "properties": ""}
            ])
        );
        let stats = client.get(&format!("{ORDERS}/{uuid}/statistics")).await.body["data"].clone();
        assert_eq!(stats["total_instance"], 3);
        let finished = stats["execute_statistics"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["instance_status"] == "FINISHED")
            .unwrap()
            .clone();
        assert_eq!(finished, json!({"instance_status": "FINISHED", "instance_count": 3, "batch_indexes": [1, 2]}));

        let detail = client.get(&format!("{ORDERS}/{uuid}/batches/1?limit=10")).await;
        assert_eq!(detail.status, 200, "{}", detail.body);
        let instances = detail.body["data"]["execute_instances"].as_array().unwrap().clone();
        assert_eq!(detail.body["data"]["total_instances"], 2);
        assert_eq!(instances[0]["target_instance"]["agent_sn"], "a1");
        assert_eq!(instances[0]["target_instance"]["agent_status"], "ONLINE");
        assert_eq!(instances[0]["status"], "FINISHED");
        assert_eq!(instances[0]["message"], "ran on a1 with *****************", "{name}: secrets are masked in logs");
        assert!(!detail.body.to_string().contains("s3cr3t-value"));
        let page = client.get(&format!("{ORDERS}/{uuid}/batches/1?limit=1&marker={}", instances[0]["id"])).await;
        assert_eq!(page.body["data"]["execute_instances"][0]["target_instance"]["agent_sn"], "a2");
        let none = client.get(&format!("{ORDERS}/{uuid}/batches/1?limit=10&status=ABNORMAL")).await;
        assert_eq!(none.body["data"]["execute_instances"], json!([]));

        let list = client.get(&format!("{ORDERS}?limit=10")).await.body["data"].clone();
        assert_eq!(list["total"], 1);
        assert_eq!(list["data"][0]["execute_uuid"], uuid.as_str());
        assert_eq!(list["data"][0]["properties"]["region_ids"], "cn-north-4");
        assert_eq!(client.get(&format!("{ORDERS}?limit=10&status=PROCESSING")).await.body["data"]["total"], 0);
        assert_eq!(
            client.get(&format!("{ORDERS}?limit=10&creator=alice&status=FINISHED")).await.body["data"]["total"],
            1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn missing_the_success_rate_stops_and_timeouts_are_abnormal() {
    for setup in setups(3).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid =
            execute(&setup, &execution(&[(&["a1"], "CONTINUE"), (&["a2"], "CONTINUE")], json!("100.0"), 60)).await;
        let job = run_one(client, "a1", 3).await;
        assert_eq!(
            report(client, "a1", &job, 3, "sent again").await,
            true,
            "{name}: a resent report (the agent never heard the answer) is acknowledged again"
        );
        assert_eq!(report(client, "a1", &job, 0, "another result").await, false, "{name}: not a different result");
        wait_status(client, &uuid, "ABNORMAL").await;
        assert!(idle(client, "a2").await, "{name}: the next batch never starts");
        let batch2 = client.get(&format!("{ORDERS}/{uuid}/batches/2?limit=10")).await.body["data"].clone();
        assert_eq!(batch2["execute_instances"][0]["status"], "CANCELED");

        // An agent that never answers: abnormal once the timeout (5 s) and the grace period are over.
        let uuid = execute(&setup, &execution(&[(&["a3"], "CONTINUE")], json!(50), 5)).await;
        let silent = poll(client, "a3").await;
        assert_eq!(silent.len(), 1);
        wait_status(client, &uuid, "ABNORMAL").await;
        let detail = client.get(&format!("{ORDERS}/{uuid}/batches/1?limit=10")).await.body["data"].clone();
        assert!(detail["execute_instances"][0]["message"].as_str().unwrap().contains("timed out"), "{name}: {detail}");
        assert_eq!(
            report(client, "a3", &silent[0], 0, "too late").await,
            false,
            "{name}: a late report changes nothing"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn users_cancel_skip_retry_and_pause() {
    for setup in setups(4).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = execute(
            &setup,
            &execution(&[(&["a1", "a2"], "CONTINUE"), (&["a3"], "CONTINUE"), (&["a4"], "CONTINUE")], json!(1), 60),
        )
        .await;
        let a1_jobs = poll(client, "a1").await;
        let cancel = operate(
            client,
            &uuid,
            json!({"operation_type": "CANCEL_INSTANCE", "instance_id": a1_jobs[0]["instance_id"]}),
        )
        .await;
        assert_eq!(cancel.status, 200, "{name}: {}", cancel.body);
        assert_eq!(cancel.data_str(), uuid);
        let beat = client
            .agent("a1")
            .post(
                "/v1/agents/a1/heartbeat",
                &json!({"running": [
            {"execute_uuid": uuid, "instance_id": a1_jobs[0]["instance_id"], "attempt": a1_jobs[0]["attempt"]}]}),
            )
            .await;
        assert_eq!(beat.body["data"]["cancel"].as_array().unwrap().len(), 1, "{name}: the agent is told to stop");
        assert_eq!(report(client, "a1", &a1_jobs[0], 0, "finished anyway").await, false);

        assert_eq!(
            operate(client, &uuid, json!({"operation_type": "SKIP_BATCH", "batch_index": "2"})).await.status,
            200
        );
        run_one(client, "a2", 0).await;
        assert!(idle(client, "a3").await, "{name}: a skipped batch does not run");
        let a4 = poll(client, "a4").await;
        assert_eq!(a4.len(), 1, "{name}: the batch after the skipped one runs");
        report(client, "a4", &a4[0], 0, "ok").await;
        wait_status(client, &uuid, "FINISHED").await;

        let retried = operate(
            client,
            &uuid,
            json!({"operation_type": "RETRY_INSTANCE", "instance_id": a1_jobs[0]["instance_id"]}),
        )
        .await;
        assert_eq!(retried.status, 200, "{}", retried.body);
        let again = run_one(client, "a1", 0).await;
        assert_eq!(again["attempt"], 2);
        wait_status(client, &uuid, "FINISHED").await;

        for (body, status) in [
            (json!({"operation_type": "CANCEL_ORDER"}), 409),
            (json!({"operation_type": "CONTINUE_ORDER"}), 409),
            (json!({"operation_type": "CANCEL_INSTANCE"}), 400),
            (json!({"operation_type": "SKIP_BATCH", "batch_index": 21}), 400),
            (json!({"operation_type": "RETRY_INSTANCE", "instance_id": 99}), 404),
            (json!({"operation_type": "SHRUG"}), 400),
        ] {
            let reply = operate(client, &uuid, body.clone()).await;
            assert_eq!(reply.status, status, "{name}: {body} → {}", reply.body);
        }

        let uuid = execute(&setup, &execution(&[(&["a1"], "CONTINUE"), (&["a2"], "CONTINUE")], json!(100), 60)).await;
        assert_eq!(operate(client, &uuid, json!({"operation_type": "PAUSE_ORDER"})).await.status, 200);
        wait_status(client, &uuid, "PAUSED").await;
        assert_eq!(operate(client, &uuid, json!({"operation_type": "CANCEL_ORDER"})).await.status, 200);
        let canceled = wait_status(client, &uuid, "CANCELED").await;
        assert!(canceled["gmt_finished"].as_i64().is_some());
        assert!(idle(client, "a2").await, "{name}");
        let missing = operate(client, "SCTnothere", json!({"operation_type": "CANCEL_ORDER"})).await;
        assert_eq!(missing.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn executions_are_checked_before_anything_is_written() {
    for setup in setups(2).await {
        let (name, client) = (setup.name, &setup.client);
        let path = format!("{SCRIPTS}/{}", setup.script_uuid);
        let many: Vec<String> = (1..=11).map(|i| format!("h{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        let mut cases = vec![
            ("timeout", execution(&[(&["a1"], "CONTINUE")], json!(100), 4)),
            ("timeout", execution(&[(&["a1"], "CONTINUE")], json!(100), 1801)),
            ("success_rate", execution(&[(&["a1"], "CONTINUE")], json!(0), 60)),
            ("success_rate", execution(&[(&["a1"], "CONTINUE")], json!(100.5), 60)),
            ("success_rate", execution(&[(&["a1"], "CONTINUE")], json!(99.55), 60)),
            ("target_instances", execution(&[(&many, "CONTINUE")], json!(100), 60)),
            ("target_instances", execution(&[(&[], "CONTINUE")], json!(100), 60)),
            ("agent_sn", execution(&[(&["a1", "a1"], "CONTINUE")], json!(100), 60)),
            ("agent_sn", execution(&[(&["ghost"], "CONTINUE")], json!(100), 60)),
            ("rotation_strategy", execution(&[(&["a1"], "SOMETIMES")], json!(100), 60)),
        ];
        let mut gap = execution(&[(&["a1"], "CONTINUE"), (&["a2"], "CONTINUE")], json!(100), 60);
        gap["execute_batches"][1]["batch_index"] = json!(3);
        cases.push(("batch_index", gap));
        let twenty_one: Vec<(Vec<&str>, &str)> = (0..21).map(|_| (vec!["a1"], "CONTINUE")).collect();
        let refs: Vec<(&[&str], &str)> = twenty_one.iter().map(|(a, r)| (a.as_slice(), *r)).collect();
        cases.push(("execute_batches", execution(&refs, json!(100), 60)));
        let mut user = execution(&[(&["a1"], "CONTINUE")], json!(100), 60);
        user["execute_param"]["execute_user"] = json!("u".repeat(33));
        cases.push(("execute_user", user));
        let mut param = execution(&[(&["a1"], "CONTINUE")], json!(100), 60);
        param["execute_param"]["script_params"][0]["param_name"] = json!("nope");
        cases.push(("script_params", param));
        let mut value = execution(&[(&["a1"], "CONTINUE")], json!(100), 60);
        value["execute_param"]["script_params"][0]["param_value"] = json!("../../etc");
        cases.push(("param_value", value));
        let mut resource = execution(&[(&["a1"], "CONTINUE")], json!(100), 60);
        resource["execute_batches"][0]["target_instances"][0]["resource_id"] = json!("r".repeat(65));
        cases.push(("resource_id", resource));
        let mut missing = execution(&[(&["a1"], "CONTINUE")], json!(100), 60);
        missing["execute_param"].as_object_mut().unwrap().remove("execute_user");
        cases.push(("execute_user", missing));

        for (field, body) in cases {
            let reply = client.post(&path, &body).await;
            assert_eq!(reply.status, 400, "{name}: {field} accepted: {}", reply.body);
            assert!(reply.error_msg().contains(field), "{name}: {field} not named: {}", reply.error_msg());
        }
        assert_eq!(
            client.get(&format!("{ORDERS}?limit=10")).await.body["data"]["total"],
            0,
            "{name}: nothing was written"
        );

        let review = json!({"name": "needs_review", "type": "SHELL", "content": "id", "description": "d",
            "properties": {"risk_level": "HIGH", "version": "1", "reviewers": [{"reviewer_name": "rita", "reviewer_id": "u-rita"}]}});
        let pending = client.post(SCRIPTS, &review).await.data_str();
        let refused =
            client.post(&format!("{SCRIPTS}/{pending}"), &execution(&[(&["a1"], "CONTINUE")], json!(100), 60)).await;
        assert_eq!(refused.status, 409, "{name}: an unapproved script does not run");
        let nowhere =
            client.post(&format!("{SCRIPTS}/SCnothere"), &execution(&[(&["a1"], "CONTINUE")], json!(100), 60)).await;
        assert_eq!(nowhere.status, 404);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_and_agents_belong_to_their_tenant() {
    for setup in setups(1).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = execute(&setup, &execution(&[(&["a1"], "CONTINUE")], json!(100), 60)).await;
        let other = client.in_project("p-other").await;
        assert_eq!(other.get(&format!("{ORDERS}/{uuid}")).await.status, 404, "{name}");
        assert_eq!(other.get(&format!("{ORDERS}/{uuid}/statistics")).await.status, 404);
        assert_eq!(operate(&other, &uuid, json!({"operation_type": "CANCEL_ORDER"})).await.status, 404);
        assert_eq!(other.get(&format!("{ORDERS}?limit=10")).await.body["data"]["total"], 0);
        assert_eq!(other.get("/v1/agents/a1/jobs").await.status, 403, "{name}: a user's key is no agent's");
        let resources = other.get("/v1/resources?provider=ecs&type=cloudservers&limit=10").await;
        assert_eq!(resources.body["data"], json!([]));
        // An agent of the same name in another tenant is another agent.
        register(&other, "a1").await;
        assert!(idle(&other, "a1").await, "{name}: jobs go to the tenant's own agent only");
        run_one(client, "a1", 0).await;
        wait_status(client, &uuid, "FINISHED").await;
    }
}

/// Heartbeats keep an agent ONLINE without a durable write each: a beat is
/// recorded only when the stored one is `HEARTBEAT_RECORD_EVERY_MS` old.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn heartbeats_are_recorded_only_when_the_stored_one_is_getting_old() {
    for setup in setups(1).await {
        let (name, client) = (setup.name, &setup.client);
        let store = setup.backend.store.as_ref();
        let project = ProjectId::parse("p-jobs").unwrap();
        let stored = || async { jobs::get_agent_versioned(store, &project, "a1").await.unwrap().unwrap() };
        let beat = || async {
            let reply = client.agent("a1").post("/v1/agents/a1/heartbeat", &json!({"running": []})).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        };
        let listed_state = || async {
            client.get("/v1/resources?provider=ecs&type=cloudservers&limit=10").await.body["data"][0]["agent_state"]
                .clone()
        };
        let registered = stored().await;
        beat().await;
        beat().await;
        assert_eq!(stored().await.version, registered.version, "{name}: fresh beats are not written");

        // The stored beat is older than the recording interval: the next beat is written.
        let mut aged = registered.value.clone();
        aged.last_heartbeat = now_ms() - HEARTBEAT_RECORD_EVERY_MS - 1;
        store.write(vec![jobs::agent_put_op(&aged, Some(registered.version)).unwrap()]).await.unwrap();
        let before = now_ms();
        beat().await;
        let recorded = stored().await;
        assert_eq!(recorded.version, registered.version + 2, "{name}");
        assert!(recorded.value.last_heartbeat >= before, "{name}: the beat's time is stored");
        beat().await;
        assert_eq!(stored().await.version, recorded.version, "{name}: and the next one is not");

        // An agent whose stored beat is just inside the online window is still listed ONLINE.
        let mut late = recorded.value.clone();
        late.last_heartbeat = now_ms() - ONLINE_WINDOW_MS + 5_000;
        store.write(vec![jobs::agent_put_op(&late, Some(recorded.version)).unwrap()]).await.unwrap();
        assert_eq!(listed_state().await, "ONLINE", "{name}");
        late.last_heartbeat = now_ms() - ONLINE_WINDOW_MS - 1_000;
        store.write(vec![jobs::agent_put_op(&late, Some(recorded.version + 1)).unwrap()]).await.unwrap();
        assert_eq!(listed_state().await, "OFFLINE", "{name}: silent for longer than the window");
        beat().await;
        assert_eq!(listed_state().await, "ONLINE", "{name}: an OFFLINE agent's beat is recorded at once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn resources_list_the_registered_hosts() {
    for setup in setups(3).await {
        let (name, client) = (setup.name, &setup.client);
        let all = client.get("/v1/resources?provider=ecs&type=cloudservers&limit=100").await;
        assert_eq!(all.status, 200, "{}", all.body);
        let rows = all.body["data"].as_array().unwrap().clone();
        assert_eq!(rows.len(), 3, "{name}");
        assert_eq!(rows[0]["resource_id"], "res-a1");
        assert_eq!(rows[0]["agent_id"], "a1");
        assert_eq!(rows[0]["agent_state"], "ONLINE");
        assert_eq!(rows[0]["name"], "host-a1");
        assert!(rows[0]["create_time"].as_str().unwrap().contains('T'));
        let page =
            client.get("/v1/resources?provider=ecs&type=cloudservers&limit=2&marker=a1").await.body["data"].clone();
        assert_eq!(
            page.as_array().unwrap().iter().map(|r| r["agent_id"].clone()).collect::<Vec<_>>(),
            [json!("a2"), json!("a3")]
        );
        let picked = client
            .get(
                "/v1/resources?provider=ecs&type=cloudservers&limit=10&resource_id_list=res-a3&resource_id_list=res-a1",
            )
            .await;
        assert_eq!(picked.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(client.get("/v1/resources?provider=rds&type=instances&limit=10").await.body["data"], json!([]));
        for query in [
            "type=cloudservers&limit=1",
            "provider=ecs&limit=1",
            "provider=ecs&type=cloudservers",
            "provider=ecs&type=cloudservers&limit=101",
        ] {
            assert_eq!(client.get(&format!("/v1/resources?{query}")).await.status, 400, "{name}: {query}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repeated_engine_messages_do_no_harm() {
    for setup in setups(2).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = execute(&setup, &execution(&[(&["a1"], "CONTINUE"), (&["a2"], "CONTINUE")], json!(100), 60)).await;
        let project = coc_shared::domain::tenant::ProjectId::parse("p-jobs").unwrap();
        for _ in 0..5 {
            coc_shared::engine::kick(setup.backend.queue.as_ref(), &project, &uuid).await.unwrap();
        }
        let first = poll(client, "a1").await;
        assert_eq!(first.len(), 1, "{name}: one job however many times the engine looks");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(idle(client, "a1").await);
        report(client, "a1", &first[0], 0, "ok").await;
        for _ in 0..5 {
            coc_shared::engine::kick(setup.backend.queue.as_ref(), &project, &uuid).await.unwrap();
        }
        assert_eq!(poll(client, "a2").await.len(), 1, "{name}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(idle(client, "a2").await, "{name}: batch 2 was handed out once");
    }
}
