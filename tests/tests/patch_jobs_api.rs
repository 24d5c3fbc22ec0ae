//! Patch tickets over HTTP on every backend: `POST /v1/patch/jobs` makes a
//! ticket of the job engine whose jobs carry the scan or install and the
//! baselines; the agent (played here through the agent API) posts its scan to
//! the inventory endpoint, which makes the host's compliance report, and then
//! reports the run like any other.

use std::time::Duration;

use serde_json::{json, Value};

use coc_tests::{backends, serve, Backend, Client};

const PATCH_JOBS: &str = "/v1/patch/jobs";
const ORDERS: &str = "/v1/job/script/orders";
const REPORTS: &str = "/v1/patch/instance/compliant";

struct Setup {
    name: &'static str,
    client: Client,
    _backend: Backend,
}

async fn setups(agents: &[&str]) -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-patch").await;
        for agent_sn in agents {
            let body = json!({"agent_sn": agent_sn, "resource_id": format!("ecs-{agent_sn}"), "region_id": "cn-north-4",
                              "host_name": format!("host-{agent_sn}"), "fixed_ip": "10.0.0.7", "floating_ip": "1.2.3.4"});
            let reply = client.register_agent(&body).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
        }
        all.push(Setup { name: backend.name, client, _backend: backend });
    }
    all
}

fn target(agent_sn: &str) -> Value {
    json!({"resource_id": format!("ecs-{agent_sn}"), "agent_sn": agent_sn, "project_id": "p-patch", "region_id": "cn-north-4"})
}

fn patch_body(operation: &str, agents: &[&str]) -> Value {
    let targets: Vec<Value> = agents.iter().map(|a| target(a)).collect();
    json!({"operation": operation, "execute_batches": [
        {"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": targets}
    ]})
}

async fn start(client: &Client, body: &Value) -> String {
    let reply = client.post(PATCH_JOBS, body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.data_str()
}

async fn poll(client: &Client, agent_sn: &str) -> Vec<Value> {
    let reply = client.agent(agent_sn).get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds=5")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"].as_array().unwrap().clone()
}

async fn wait_status(client: &Client, uuid: &str, status: &str) -> Value {
    for _ in 0..300 {
        let info = client.get(&format!("{ORDERS}/{uuid}")).await.body["data"].clone();
        if info["status"] == status {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("ticket {uuid} never became {status}");
}

/// A Debian host: three packages installed, a security update for one of them.
fn inventory() -> Value {
    json!({
        "operating_system": "Debian", "os_version": "12", "package_manager": "dpkg",
        "installed": [
            {"name": "bash", "version": "5.2.15-2", "architecture": "amd64", "installed_time": 1_700_000_000_000_i64,
             "classification": "shells", "severity": "required"},
            {"name": "openssl", "version": "3.0.11-1", "architecture": "amd64", "installed_time": 1_700_000_000_000_i64,
             "classification": "utils", "severity": "optional"},
            {"name": "zlib1g", "version": "1.2.13", "architecture": "amd64", "installed_time": 1_700_000_000_000_i64,
             "classification": "libs", "severity": "required"}
        ],
        "available": [
            {"name": "openssl", "version": "3.0.15-1", "architecture": "amd64", "classification": "utils",
             "severity": "optional", "security": true}
        ],
        "scanned_at": 1_700_000_000_000_i64
    })
}

fn inventory_path(agent_sn: &str, job: &Value) -> String {
    format!(
        "/v1/agents/{agent_sn}/jobs/{}/{}/patch-inventory",
        job["execute_uuid"].as_str().unwrap(),
        job["instance_id"]
    )
}

async fn post_inventory(client: &Client, agent_sn: &str, job: &Value, inventory: &Value) -> coc_tests::Reply {
    let body = json!({"attempt": job["attempt"], "inventory": inventory});
    client.agent(agent_sn).post(&inventory_path(agent_sn, job), &body).await
}

async fn report(client: &Client, agent_sn: &str, job: &Value, exit_code: i32) {
    let path = format!("/v1/agents/{agent_sn}/jobs/{}/{}", job["execute_uuid"].as_str().unwrap(), job["instance_id"]);
    let body = json!({"attempt": job["attempt"], "exit_code": exit_code, "log": "scanned"});
    let reply = client.agent(agent_sn).post(&path, &body).await;
    assert_eq!((reply.status, &reply.body["data"]), (200, &json!(true)), "{}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scan_is_a_ticket_whose_inventory_becomes_the_hosts_report() {
    for setup in setups(&["a1", "a2"]).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = start(client, &patch_body("SCAN", &["a1", "a2"])).await;
        assert!(uuid.starts_with("SCT") && uuid.len() == 26, "{uuid}");

        let jobs = poll(client, "a1").await;
        assert_eq!(jobs.len(), 1, "{name}");
        let job = &jobs[0];
        assert_eq!(job["patch"]["operation"], "SCAN", "{name}: {job}");
        let families: Vec<&str> = job["patch"]["baselines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["operating_system"].as_str().unwrap())
            .collect();
        for family in ["Debian", "Ubuntu", "HuaweiCloudEulerOS", "EulerOS", "CentOS"] {
            assert!(families.contains(&family), "{name}: the tenant's defaults of every family: {families:?}");
        }

        let saved = post_inventory(client, "a1", job, &inventory()).await;
        assert_eq!(saved.status, 200, "{name}: {}", saved.body);
        let report_id = saved.data_str();
        assert_eq!(report_id.len(), 32, "{name}: {report_id}");
        let again = post_inventory(client, "a1", job, &inventory()).await;
        assert_eq!(again.data_str(), report_id, "{name}: a resent scan replaces the same report");
        report(client, "a1", job, 0).await;

        let listed = client.get(&format!("{REPORTS}?instance_id=ecs-a1")).await;
        assert_eq!(listed.status, 200, "{name}: {}", listed.body);
        assert_eq!(listed.body["count"], 1, "{name}: one report however often it was sent: {}", listed.body);
        let shown = &listed.body["instance_compliant"][0];
        assert_eq!(shown["id"], report_id.as_str());
        assert_eq!(shown["name"], "host-a1");
        assert_eq!(shown["ip"], "10.0.0.7");
        assert_eq!(shown["eip"], "1.2.3.4");
        assert_eq!(shown["region"], "cn-north-4");
        assert_eq!(shown["operating_system"], "Debian");
        assert_eq!(shown["execution_summary"]["order_id"], uuid.as_str(), "{name}: the report points at its ticket");
        assert_eq!(shown["execution_summary"]["job_id"], format!("{uuid}-{}", job["instance_id"]));
        let baseline = job["patch"]["baselines"].as_array().unwrap().iter().find(|b| b["operating_system"] == "Debian");
        assert_eq!(shown["baseline_id"], baseline.unwrap()["id"]);
        let compliant = shown["compliant_summary"]["compliant_count"].as_u64().unwrap();
        let non_compliant = shown["non_compliant_summary"]["non_compliant_count"].as_u64().unwrap();
        assert_eq!(compliant + non_compliant, 3, "{name}: one item per package: {shown}");
        assert_eq!(shown["status"], "non_compliant", "{name}: the security update is missing: {shown}");

        let items = client.get(&format!("{REPORTS}/{report_id}?limit=100")).await;
        assert_eq!(items.status, 200, "{name}: {}", items.body);
        let missing: Vec<&Value> = items.body["compliance_items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["patch_detail"]["patch_status"] == "MISSING")
            .collect();
        assert_eq!(missing.len(), 1, "{name}: {}", items.body);
        assert_eq!(missing[0]["title"], "openssl");

        // The ticket is an ordinary ticket: a2 ends it.
        let other = poll(client, "a2").await;
        report(client, "a2", &other[0], 0).await;
        let done = wait_status(client, &uuid, "FINISHED").await;
        assert_eq!(done["properties"]["script_name"], "COC-PatchScan", "{name}");
        let list = client.get(&format!("{ORDERS}?limit=10")).await.body["data"].clone();
        assert_eq!(list["data"][0]["order_name"], "COC-PatchScan", "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_the_runs_own_agent_reports_a_scan_of_a_patch_ticket() {
    for setup in setups(&["a1", "a2"]).await {
        let (name, client) = (setup.name, &setup.client);
        let uuid = start(client, &patch_body("INSTALL", &["a1"])).await;
        let job = poll(client, "a1").await.remove(0);
        assert_eq!(job["patch"]["operation"], "INSTALL");
        assert_eq!(job["timeout_secs"], 1800, "{name}: an install's default timeout");

        let stranger = post_inventory(client, "a2", &job, &inventory()).await;
        assert_eq!(stranger.status, 403, "{name}: another agent's run: {}", stranger.body);
        let user = client.post(&inventory_path("a1", &job), &json!({"attempt": 1, "inventory": inventory()})).await;
        assert_eq!(user.status, 403, "{name}: a user's key is no agent's");
        let mut stale = job.clone();
        stale["attempt"] = json!(7);
        let late = post_inventory(client, "a1", &stale, &inventory()).await;
        assert_eq!(
            (late.status, &late.body["data"]),
            (200, &Value::Null),
            "{name}: not the current run: {}",
            late.body
        );
        let mut other_os = inventory();
        other_os["operating_system"] = json!("Windows");
        let refused = post_inventory(client, "a1", &job, &other_os).await;
        assert_eq!(refused.status, 400, "{name}");
        assert!(refused.error_msg().contains("inventory.operating_system"), "{name}: {}", refused.error_msg());
        let mut nameless = inventory();
        nameless["installed"][1]["name"] = json!("");
        let refused = post_inventory(client, "a1", &job, &nameless).await;
        assert_eq!(refused.status, 400, "{name}");
        assert!(refused.error_msg().contains("inventory.installed[1].name"), "{name}: {}", refused.error_msg());
        let listed = client.get(&format!("{REPORTS}?instance_id=ecs-a1")).await;
        assert_eq!(listed.body["count"], 0, "{name}: nothing refused was written: {}", listed.body);

        // A script ticket's run has no scan.
        let script = client.post("/v1/job/scripts", &coc_tests::script_body("plain")).await;
        let script_uuid = script.data_str();
        let execution = json!({"execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
                               "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [target("a2")]}]});
        let reply = client.post(&format!("/v1/job/scripts/{script_uuid}"), &execution).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let script_job = poll(client, "a2").await.remove(0);
        assert!(script_job.get("patch").is_none(), "{name}: a script job carries no patch work: {script_job}");
        let refused = post_inventory(client, "a2", &script_job, &inventory()).await;
        assert_eq!(refused.status, 400, "{name}: {}", refused.body);
        assert!(refused.error_msg().contains("not a patch ticket"), "{name}");

        // A failed install is an ABNORMAL run, and the ticket misses its success rate.
        report(client, "a1", &job, 1).await;
        wait_status(client, &uuid, "ABNORMAL").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_patch_tickets_are_refused_and_nothing_is_written() {
    for setup in setups(&["a1"]).await {
        let (name, client) = (setup.name, &setup.client);
        let refusals: Vec<(Value, &str)> = vec![
            (
                json!({"operation": "REBOOT", "execute_batches": patch_body("SCAN", &["a1"])["execute_batches"]}),
                "operation",
            ),
            (patch_body("SCAN", &["ghost"]), "execute_batches[0].target_instances[0].agent_sn"),
            (
                {
                    let mut b = patch_body("SCAN", &["a1"]);
                    b["baseline_id"] = json!("PB-nothing");
                    b
                },
                "baseline_id",
            ),
            (
                {
                    let mut b = patch_body("SCAN", &["a1"]);
                    b["baseline_id"] = json!("x".repeat(65));
                    b
                },
                "baseline_id",
            ),
            (
                {
                    let mut b = patch_body("SCAN", &["a1"]);
                    b["timeout"] = json!(4);
                    b
                },
                "timeout",
            ),
            (
                {
                    let mut b = patch_body("SCAN", &["a1"]);
                    b["success_rate"] = json!(0);
                    b
                },
                "success_rate",
            ),
            (json!({"operation": "SCAN", "execute_batches": []}), "execute_batches"),
            (json!({"operation": "SCAN"}), "execute_batches"),
        ];
        for (body, field) in refusals {
            let reply = client.post(PATCH_JOBS, &body).await;
            assert_eq!(reply.status, 400, "{name}: {body}: {}", reply.body);
            assert_eq!(reply.error_code(), "COC.00040601");
            assert!(reply.error_msg().contains(field), "{name}: {field} in {}", reply.error_msg());
        }
        let list = client.get(&format!("{ORDERS}?limit=10")).await.body["data"].clone();
        assert_eq!(list["total"], 0, "{name}: no ticket was made");
        assert_eq!(client.get(PATCH_JOBS).await.status, 405, "{name}");
        // Another tenant's agents are not this tenant's targets.
        let other = client.in_project("p-other").await;
        let reply = other.post(PATCH_JOBS, &patch_body("SCAN", &["a1"])).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_inventory_of_ten_thousand_packages_fits_and_a_larger_body_does_not() {
    for setup in setups(&["a1"]).await {
        let (name, client) = (setup.name, &setup.client);
        start(client, &patch_body("SCAN", &["a1"])).await;
        let job = poll(client, "a1").await.remove(0);
        let mut big = inventory();
        big["installed"] = (0..10_000)
            .map(|n| {
                json!({"name": format!("package-number-{n:05}"), "version": "1.2.3-4+deb12u1", "architecture": "amd64",
                            "installed_time": 1_700_000_000_000_i64, "classification": "libs", "severity": "optional"})
            })
            .collect();
        let saved = post_inventory(client, "a1", &job, &big).await;
        assert_eq!(saved.status, 200, "{name}: {}", saved.body);
        let items = client.get(&format!("{REPORTS}/{}?limit=1", saved.data_str())).await;
        assert!(items.body["count"].as_u64().unwrap() >= 10_000, "{name}: {}", items.body["count"]);
        big["installed"][0]["name"] = json!("x".repeat(4 * 1024 * 1024));
        let too_big = post_inventory(client, "a1", &job, &big).await;
        assert_eq!(too_big.status, 413, "{name}");
    }
}
