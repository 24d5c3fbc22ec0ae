//! Scheduled tasks over HTTP and through the sweep, on every backend, with a
//! manual clock (no sleeping through minutes): what a user of
//! `/v1/schedule/task*` relies on.

use serde_json::{json, Value};

use coc_shared::app::App;
use coc_shared::clock::Clock;
use coc_shared::scheduler;
use coc_tests::{backends, script_body, serve, Backend, Client};

const TASKS: &str = "/v1/schedule/task";
const HOUR: i64 = 3_600_000;

struct Setup {
    name: &'static str,
    client: Client,
    app: App,
    clock: Clock,
    script_uuid: String,
    _backend: Backend,
}

/// A server per backend on a manual clock standing 10 minutes before a whole
/// hour, a tenant with an approved script and two registered agents.
async fn setups() -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let start = (coc_shared::clock::now_ms() / HOUR + 1) * HOUR - 10 * 60_000;
        let clock = Clock::manual(start);
        let app = backend.app().with_clock(clock.clone());
        let base = serve(app.clone()).await;
        let client = Client::new(&base, backend.store.clone(), "p-sched").await;
        let reply = client.post("/v1/job/scripts", &script_body("nightly")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let script_uuid = reply.data_str();
        for agent in ["a1", "a2"] {
            let body = json!({"agent_sn": agent, "resource_id": format!("res-{agent}"), "region_id": "local",
                              "host_name": agent, "fixed_ip": "10.0.0.1", "os_type": "linux"});
            assert_eq!(client.register_agent(&body).await.status, 200);
        }
        all.push(Setup { name: backend.name, client, app, clock, script_uuid, _backend: backend });
    }
    all
}

fn hosts(agents: &[&str]) -> String {
    let list: Vec<Value> = agents
        .iter()
        .map(|a| json!({"resource_id": format!("res-{a}"), "agent_sn": a, "project_id": "p-sched", "region_id": "local"}))
        .collect();
    Value::Array(list).to_string()
}

fn task_body(script_uuid: &str, trigger: Value) -> Value {
    json!({
        "name": "hourly_report", "version_no": "1.0.0", "trigger_time": trigger,
        "task_type": "SCRIPT", "associated_task_id": script_uuid, "associated_task_type": "CUSTOMIZATION",
        "associated_task_name": "nightly", "risk_level": "LOW",
        "input_param": {"timeout": "60", "success_rate": "100", "execute_user": "root",
            "script_params": json!([{"param_name": "greeting", "param_value": "hi", "param_order": 1},
                                    {"param_name": "token", "param_value": "t0ps3cret", "param_order": 2}]).to_string()},
        "target_instances": [
            {"target_selection": "MANUAL", "order_no": 1, "target_instances": hosts(&["a1"])},
            {"target_selection": "MANUAL", "order_no": 2, "target_instances": hosts(&["a2"])}
        ],
        "enable_approve": false, "enable_message_notification": false
    })
}

fn hourly() -> Value {
    json!({"time_zone": "Asia/Shanghai", "policy": "CRON", "cron": "0 0 * * * ?"})
}

async fn create(s: &Setup, body: &Value) -> String {
    let reply = s.client.post(TASKS, body).await;
    assert_eq!(reply.status, 200, "{}: {}", s.name, reply.body);
    reply.data_str()
}

async fn history(s: &Setup, task_id: &str) -> Vec<Value> {
    let reply = s.client.get(&format!("{TASKS}/history?task_id={task_id}&limit=100")).await;
    assert_eq!(reply.status, 200, "{}: {}", s.name, reply.body);
    reply.body["scheduled_task_history_list"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_created_shown_listed_changed_and_deleted() {
    for s in setups().await {
        let id = create(&s, &task_body(&s.script_uuid, hourly())).await;
        assert!(id.starts_with("ST"), "{}: {id}", s.name);
        let shown = s.client.get(&format!("{TASKS}/{id}")).await;
        assert_eq!(shown.status, 200, "{}: {}", s.name, shown.body);
        let b = &shown.body;
        assert_eq!(b["id"], id.as_str());
        assert_eq!(b["name"], "hourly_report");
        assert_eq!(b["trigger_time"]["cron"], "0 0 * * * ?");
        assert_eq!(b["enabled"], true);
        assert_eq!(b["next_execution_time"], s.clock.now_ms() + 10 * 60_000, "{}: the coming whole hour", s.name);
        let input: Value = serde_json::from_str(b["input_param"].as_str().unwrap()).unwrap();
        let params: Value = serde_json::from_str(input["script_params"].as_str().unwrap()).unwrap();
        assert_eq!(params[0]["param_value"], "hi");
        assert_eq!(params[1]["param_value"], "*****************", "{}: sensitive values are masked", s.name);
        assert!(!b.to_string().contains("t0ps3cret"));
        let targets: Value = serde_json::from_str(b["target_instances"].as_str().unwrap()).unwrap();
        assert_eq!(targets.as_array().unwrap().len(), 2);

        s.clock.advance(1000);
        let second = create(
            &s,
            &task_body(
                &s.script_uuid,
                json!({"time_zone": "UTC", "policy": "PERIODIC",
            "periodic_scheduled_time": "03:00:00", "period": "2,3,4,5,6"}),
            ),
        )
        .await;
        let list = s.client.get(&format!("{TASKS}?limit=1")).await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert_eq!(list.body["count"], 2);
        let rows = list.body["scheduled_tasks"].as_array().unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["id"], second.as_str(), "{}: newest first", s.name);
        assert_eq!(rows[0]["scheduled_type"], "PERIODIC");
        let marker = list.body["next_maker"].as_str().unwrap().to_owned();
        let rest = s.client.get(&format!("{TASKS}?limit=10&marker={}", urlencoding(&marker))).await;
        assert_eq!(rest.body["scheduled_tasks"][0]["id"], id.as_str(), "{}: {}", s.name, rest.body);
        let filtered = s.client.get(&format!("{TASKS}?scheduled_type=CRON")).await;
        assert_eq!(filtered.body["count"], 1);
        assert_eq!(filtered.body["scheduled_tasks"][0]["id"], id.as_str());

        // An update takes a new trigger and moves the next due time.
        let mut changed =
            task_body(&s.script_uuid, json!({"time_zone": "UTC", "policy": "CRON", "cron": "0 30 * * * ?"}));
        changed["name"] = json!("half_past");
        let updated = s.client.put(&format!("{TASKS}/{id}"), &changed).await;
        assert_eq!(updated.status, 200, "{}: {}", s.name, updated.body);
        assert_eq!(updated.body["name"], "half_past");
        assert_eq!(updated.body["next_execution_time"], s.clock.now_ms() - 1000 + 40 * 60_000);

        assert_eq!(s.client.post(&format!("{TASKS}/{id}/disable"), &json!({})).await.data_str(), id);
        let off = s.client.get(&format!("{TASKS}/{id}")).await;
        assert_eq!((off.body["enabled"].clone(), off.body["next_execution_time"].clone()), (json!(false), Value::Null));
        assert_eq!(s.client.post(&format!("{TASKS}/{id}/enable"), &json!({"ticket_infos": []})).await.data_str(), id);
        assert_eq!(s.client.get(&format!("{TASKS}/{id}")).await.body["enabled"], true);

        // Another tenant sees none of it.
        let other = s.client.in_project("p-other").await;
        assert_eq!(other.get(&format!("{TASKS}/{id}")).await.status, 404, "{}", s.name);
        assert_eq!(other.delete(&format!("{TASKS}/{id}")).await.status, 404);
        assert_eq!(other.post(&format!("{TASKS}/{id}/disable"), &json!({})).await.status, 404);
        assert_eq!(other.get(TASKS).await.body["count"], 0);

        assert_eq!(s.client.delete(&format!("{TASKS}/{id}")).await.data_str(), id);
        assert_eq!(s.client.get(&format!("{TASKS}/{id}")).await.status, 404);
        assert_eq!(s.client.get(TASKS).await.body["count"], 1);
    }
}

fn urlencoding(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A change that spoils a good body.
type BodyChange = Box<dyn Fn(&mut Value)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_refused_naming_the_field_and_write_nothing() {
    for s in setups().await {
        let cases: Vec<(BodyChange, &str)> = vec![
            (Box::new(|b| b["trigger_time"]["cron"] = json!("*/5 * * * * ?")), "trigger_time.cron"),
            (Box::new(|b| b["trigger_time"]["time_zone"] = json!("Nowhere/City")), "trigger_time.time_zone"),
            (Box::new(|b| b["name"] = json!("x")), "name"),
            (Box::new(|b| b["associated_task_id"] = json!("SC-missing")), "associated_task_id"),
            (Box::new(|b| b["input_param"]["execute_user"] = json!("root; rm")), "input_param.execute_user"),
            (
                Box::new(|b| b["target_instances"][0]["target_instances"] = json!(hosts(&["ghost"]))),
                "target_instances[0]",
            ),
            (
                Box::new(|b| {
                    b["trigger_time"] = json!({"time_zone": "UTC", "policy": "ONCE", "single_scheduled_time": 1000})
                }),
                "trigger_time",
            ),
            (Box::new(|b| b["risk_level"] = json!("EXTREME")), "risk_level"),
        ];
        for (change, field) in cases {
            let mut body = task_body(&s.script_uuid, hourly());
            change(&mut body);
            let reply = s.client.post(TASKS, &body).await;
            assert_eq!(reply.status, 400, "{}: {field}: {}", s.name, reply.body);
            assert!(reply.error_msg().contains(field), "{}: {field} not named in {}", s.name, reply.error_msg());
        }
        assert_eq!(s.client.get(TASKS).await.body["count"], 0, "{}: nothing was written", s.name);
        assert_eq!(s.client.get(&format!("{TASKS}/ST-none")).await.status, 404);
        assert_eq!(s.client.get(&format!("{TASKS}?limit=0")).await.status, 400);
        assert_eq!(s.client.get(&format!("{TASKS}?marker=garbage")).await.status, 400);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_task_starts_one_ticket_per_due_time_and_catches_up_once() {
    for s in setups().await {
        let id = create(&s, &task_body(&s.script_uuid, hourly())).await;
        scheduler::sweep(&s.app).await.unwrap();
        assert!(history(&s, &id).await.is_empty(), "{}: not due yet", s.name);

        s.clock.advance(10 * 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        scheduler::sweep(&s.app).await.unwrap();
        let runs = history(&s, &id).await;
        assert_eq!(runs.len(), 1, "{}: {runs:?}", s.name);
        assert_eq!(runs[0]["execution_msg"], "ticket started");
        let ticket = runs[0]["execution_id"].as_str().unwrap().to_owned();
        let order = s.client.get(&format!("/v1/job/script/orders/{ticket}")).await;
        assert_eq!(order.status, 200, "{}: the run is a normal ticket: {}", s.name, order.body);
        let status = runs[0]["status"].as_str().unwrap();
        assert!(["READY", "PROCESSING"].contains(&status), "{}: the ticket's own status: {status}", s.name);
        let batches = s.client.get(&format!("/v1/job/script/orders/{ticket}/batches")).await;
        assert_eq!(batches.body["data"].as_array().map(Vec::len), Some(2), "{}: {}", s.name, batches.body);
        let shown = s.client.get(&format!("{TASKS}/{id}")).await.body;
        assert_eq!(shown["next_execution_time"], s.clock.now_ms() + HOUR);
        let row = &s.client.get(TASKS).await.body["scheduled_tasks"][0];
        assert_eq!(
            (row["execution_count"].clone(), row["last_execution_status"].clone()),
            (json!(1), json!("STARTED"))
        );

        // Five hours of downtime: one run on catch-up, four due times skipped, never a burst.
        s.clock.advance(5 * HOUR + 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        scheduler::sweep(&s.app).await.unwrap();
        let runs = history(&s, &id).await;
        assert_eq!(runs.len(), 2, "{}: {runs:?}", s.name);
        let late = runs[0]["execution_msg"].as_str().unwrap();
        assert!(late.contains("4 missed due time(s)"), "{}: {late}", s.name);
        let next = s.client.get(&format!("{TASKS}/{id}")).await.body["next_execution_time"].as_i64().unwrap();
        assert!(next > s.clock.now_ms() && next - s.clock.now_ms() <= HOUR, "{}: next due from now", s.name);
        let all = s.client.get(&format!("{TASKS}/history?limit=10")).await;
        assert_eq!(all.body["count"], 2, "{}: {}", s.name, all.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_tasks_do_not_run_and_a_deleted_script_records_a_failed_run() {
    for s in setups().await {
        let disabled = create(&s, &task_body(&s.script_uuid, hourly())).await;
        s.client.post(&format!("{TASKS}/{disabled}/disable"), &json!({})).await;
        let orphan = create(&s, &task_body(&s.script_uuid, hourly())).await;
        assert_eq!(s.client.delete(&format!("/v1/job/scripts/{}", s.script_uuid)).await.status, 200);

        s.clock.advance(10 * 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        assert!(history(&s, &disabled).await.is_empty(), "{}: a disabled task never runs", s.name);
        let runs = history(&s, &orphan).await;
        assert_eq!(runs.len(), 1, "{}", s.name);
        assert_eq!(runs[0]["status"], "FAILED");
        assert_eq!(runs[0]["execution_id"], Value::Null);
        assert!(runs[0]["execution_msg"].as_str().unwrap().contains("was deleted"), "{}: {}", s.name, runs[0]);
        // Enabling again does not run the due times it missed.
        s.clock.advance(HOUR);
        s.client.post(&format!("{TASKS}/{disabled}/enable"), &json!({})).await;
        scheduler::sweep(&s.app).await.unwrap();
        assert!(history(&s, &disabled).await.is_empty(), "{}", s.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sweeps_start_each_due_time_once() {
    for s in setups().await {
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(create(&s, &task_body(&s.script_uuid, hourly())).await);
        }
        for round in 0..2 {
            s.clock.advance(if round == 0 { 10 * 60_000 } else { HOUR });
            let sweeps: Vec<_> = (0..8)
                .map(|_| {
                    let app = s.app.clone();
                    tokio::spawn(async move { scheduler::sweep(&app).await.unwrap() })
                })
                .collect();
            let mut fired = 0;
            for sweep in sweeps {
                fired += sweep.await.unwrap().fired;
            }
            assert!(fired <= 3, "{}: round {round}: {fired} claims of 3 due times", s.name);
            scheduler::sweep(&s.app).await.unwrap();
            for id in &ids {
                let runs = history(&s, id).await;
                assert_eq!(runs.len(), round + 1, "{}: round {round}: {runs:?}", s.name);
            }
        }
        let tickets = s.client.get("/v1/job/script/orders?limit=100").await;
        assert_eq!(tickets.body["data"]["total"], 6, "{}: one ticket per due time: {}", s.name, tickets.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_can_run_a_public_script() {
    use coc_shared::domain::public_script;
    for s in setups().await {
        let disk_usage = public_script::script_uuid(1);
        let mut body = task_body(&disk_usage, hourly());
        body["associated_task_type"] = json!("COMMUNAL");
        body["input_param"]["script_params"] =
            json!(json!([{"param_name": "target_dir", "param_value": "/tmp", "param_order": 1}]).to_string());
        let id = create(&s, &body).await;
        s.clock.advance(10 * 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        let runs = history(&s, &id).await;
        assert_eq!(runs.len(), 1, "{}: {runs:?}", s.name);
        let ticket = runs[0]["execution_id"].as_str().unwrap();
        let order = s.client.get(&format!("/v1/job/script/orders/{ticket}")).await;
        assert_eq!(order.body["data"]["properties"]["script_uuid"], disk_usage.as_str(), "{}: {}", s.name, order.body);

        // A required parameter of the public script must be given, and names of its own only.
        let mut restart = task_body(&public_script::script_uuid(3), hourly());
        restart["associated_task_type"] = json!("COMMUNAL");
        restart["input_param"]["script_params"] = json!("[]");
        let refused = s.client.post(TASKS, &restart).await;
        assert_eq!(refused.status, 400, "{}: {}", s.name, refused.body);
        assert!(refused.error_msg().contains("input_param.script_params"), "{}", refused.error_msg());
        let mut unknown = body.clone();
        unknown["associated_task_id"] = json!("PSC-none");
        assert!(s.client.post(TASKS, &unknown).await.error_msg().contains("associated_task_id"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_high_risk_script_on_several_batches_needs_the_confirmation_at_creation_and_at_each_run() {
    for s in setups().await {
        let mut wipe = script_body("wipe");
        wipe["content"] = json!("rm -rf / # ${greeting} ${token}");
        let wipe = s.client.post("/v1/job/scripts", &wipe).await.data_str();
        let refused = s.client.post(TASKS, &task_body(&wipe, hourly())).await;
        assert_eq!(refused.status, 400, "{}: {}", s.name, refused.body);
        assert!(refused.error_msg().contains("input_param.confirm_high_risk"), "{}", refused.error_msg());
        let mut confirmed = task_body(&wipe, hourly());
        confirmed["input_param"]["confirm_high_risk"] = json!("true");
        create(&s, &confirmed).await;

        // A task saved for a harmless script whose content turns HIGH: its next run does not start.
        let turned = create(&s, &task_body(&s.script_uuid, hourly())).await;
        let mut edit = script_body("nightly");
        edit.as_object_mut().unwrap().remove("name");
        edit.as_object_mut().unwrap().remove("type");
        edit["content"] = json!("mkfs.ext4 /dev/sda # ${greeting} ${token}");
        let edited = s.client.put(&format!("/v1/job/scripts/{}", s.script_uuid), &edit).await;
        assert_eq!(edited.status, 200, "{}: {}", s.name, edited.body);
        s.clock.advance(10 * 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        let runs = history(&s, &turned).await;
        assert_eq!(runs[0]["status"], "FAILED", "{}: {runs:?}", s.name);
        assert!(runs[0]["execution_msg"].as_str().unwrap().contains("confirm_high_risk"), "{}", runs[0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_pages_and_filters_without_short_pages() {
    for s in setups().await {
        let id = create(&s, &task_body(&s.script_uuid, hourly())).await;
        let failing = create(&s, &task_body(&s.script_uuid, hourly())).await;
        s.client.post(&format!("{TASKS}/{id}/disable"), &json!({})).await;
        s.clock.advance(10 * 60_000);
        scheduler::sweep(&s.app).await.unwrap();
        // The second task's runs fail from now on: its hosts' agent is revoked.
        assert_eq!(s.client.delete("/v1/agents/a1").await.status, 200);
        s.client.post(&format!("{TASKS}/{id}/enable"), &json!({})).await;
        for _ in 0..3 {
            s.clock.advance(HOUR);
            scheduler::sweep(&s.app).await.unwrap();
        }
        // Newest first, in pages of 2 then 1, by the marker.
        let page = s.client.get(&format!("{TASKS}/history?task_id={id}&limit=2")).await.body;
        assert_eq!(page["count"], 3, "{}: {page}", s.name);
        let first: Vec<i64> = page["scheduled_task_history_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["scheduled_time"].as_i64().unwrap())
            .collect();
        assert!(first[0] > first[1], "{}: {first:?}", s.name);
        let marker = urlencoding(page["next_maker"].as_str().unwrap());
        let rest = s.client.get(&format!("{TASKS}/history?task_id={id}&limit=2&marker={marker}")).await.body;
        assert_eq!(rest["scheduled_task_history_list"].as_array().unwrap().len(), 1, "{}: {rest}", s.name);
        assert_eq!(rest["next_maker"], Value::Null);
        // Every task's: six failed runs (a1 revoked) among the others, a full page of them.
        let failed = s.client.get(&format!("{TASKS}/history?status=FAILED&limit=3")).await.body;
        let rows = failed["scheduled_task_history_list"].as_array().unwrap();
        assert_eq!(rows.len(), 3, "{}: a full page though other runs are between: {failed}", s.name);
        assert!(rows.iter().all(|r| r["status"] == "FAILED"));
        let oldest = s.client.get(&format!("{TASKS}/history?task_id={failing}&sort_dir=asc&limit=10")).await.body;
        let statuses: Vec<&str> = oldest["scheduled_task_history_list"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| if r["status"] == "FAILED" { "FAILED" } else { "STARTED" })
            .collect();
        assert_eq!(statuses, ["STARTED", "FAILED", "FAILED", "FAILED"], "{}: {oldest}", s.name);
        // The one started run is the oldest of all: a filter on its status walks past the six newer ones.
        let started = oldest["scheduled_task_history_list"][0]["status"].as_str().unwrap().to_owned();
        let found = s.client.get(&format!("{TASKS}/history?status={started}&limit=1")).await.body;
        assert_eq!(found["scheduled_task_history_list"].as_array().unwrap().len(), 1, "{}: {found}", s.name);
        assert_eq!(
            s.client.get(&format!("{TASKS}/history?task_id={id}&marker=SCHEDRUN%23other%230")).await.status,
            400
        );
        assert_eq!(s.client.get(&format!("{TASKS}/history?sort_dir=sideways")).await.status, 400);
    }
}
