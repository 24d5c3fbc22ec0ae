//! What COC notifies, on every backend: each trigger (an incident created,
//! forwarded or moved along its workflow, an alarm that opened an incident, a
//! ticket that ended ABNORMAL) saves exactly one notification to the right
//! engineer, in the same transaction as the change; no one is told who is not
//! an engineer or has nowhere to be told; an assignee who is not an engineer is
//! refused with nothing written.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{json, Value};

use coc_shared::domain::notification::{EventKind, Notification};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Store, StoreError, WriteOp};
use coc_shared::repositories::{incidents, notifications};
use coc_tests::hooked::{HookedStore, WriteHook};
use coc_tests::notify_fixtures::{robot_tenants, RobotTenant as Setup};
use coc_tests::{serve, Client, Reply};

const PROJECT: &str = "p-notify";
const PUBLIC_URL: &str = "https://coc.example.com";
const CREATE: &str = "/v1/external/incident/create";
const HANDLE: &str = "/v1/external/incident/handle";

async fn setups() -> Vec<Setup> {
    robot_tenants(PROJECT, PUBLIC_URL).await
}

fn project() -> ProjectId {
    ProjectId::parse(PROJECT).unwrap()
}

/// Every notification of the tenant, oldest first.
async fn notified(store: &dyn Store) -> Vec<Notification> {
    let mut all = notifications::list(store, &project(), None, 100).await.unwrap().rows;
    all.reverse();
    all
}

/// The notifications saved since `before` of them were there, oldest first.
async fn new_since(store: &dyn Store, before: usize) -> Vec<Notification> {
    notified(store).await.split_off(before)
}

fn incident_body(assignee: &str) -> Value {
    json!({
        "region": ["cn-north-4"], "current_cloud_service": ["app-1"], "incident_level": "level_20",
        "is_service_interrupt": "true", "incident_type": "inc_type_p_networking_issues",
        "incident_title": "VPN flapping", "incident_description": "tunnel drops every 5 minutes",
        "incident_source": "incident_source_manual", "incident_assignee": [assignee], "creator": "u-alice"
    })
}

async fn create(client: &Client, assignee: &str) -> Reply {
    client.post(CREATE, &incident_body(assignee)).await
}

async fn created(client: &Client, assignee: &str) -> String {
    let reply = create(client, assignee).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["incident_num"].as_str().unwrap().to_owned()
}

async fn handle(client: &Client, num: &str, operator: &str, key: &str, parameter: Value) -> Reply {
    client
        .post(HANDLE, &json!({"incident_num": num, "operator": operator, "operate_key": key, "parameter": parameter}))
        .await
}

/// The one notification a step saved, checked for its recipient, kind and link.
fn only(new: Vec<Notification>, to: &str, kind: EventKind, link: &str) -> Notification {
    assert_eq!(new.len(), 1, "exactly one notification: {new:?}");
    let notification = new.into_iter().next().unwrap();
    assert_eq!(notification.user_id.as_deref(), Some(to));
    assert_eq!(notification.message.kind, kind);
    assert_eq!(notification.message.link.as_deref(), Some(link));
    assert!(notification.message.text.contains(link), "the text carries the link: {}", notification.message.text);
    assert_eq!(notification.deliveries.len(), 1, "one per destination (the robot)");
    let robot = &notification.deliveries[0].destination.address;
    assert!(robot.contains(&format!("/wecom/{to}?")), "to {to}'s robot: {robot}");
    notification
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_tells_its_assignee_at_every_step() {
    for Setup { name, client, store, robots, .. } in setups().await {
        let store = store.as_ref();
        let num = created(&client, "u-oncall").await;
        let link = format!("{PUBLIC_URL}/v1/external/incident/{num}");
        let made = only(notified(store).await, "u-oncall", EventKind::IncidentCreated, &link);
        assert!(made.message.subject.contains(&num) && made.message.subject.contains("VPN flapping"), "{name}");
        // And it is delivered: the on-call's robot receives the text with the link.
        let delivered = |lines: &[Value]| {
            lines
                .iter()
                .any(|l| l["path"] == "/wecom/u-oncall" && l["text"].as_str().is_some_and(|t| t.contains(&link)))
        };
        let received = robots.wait_for(Duration::from_secs(20), delivered).await;
        assert!(delivered(&received), "{name}: {received:?}");

        let before = notified(store).await.len();
        assert_eq!(handle(&client, &num, "u-oncall", "acceptedIncident1", json!({})).await.status, 200);
        let accepted = only(new_since(store, before).await, "u-oncall", EventKind::IncidentTransition, &link);
        for said in ["acceptedIncident1", "ACKNOWLEDGED", "u-oncall"] {
            assert!(accepted.message.text.contains(said), "{name}: names {said}: {}", accepted.message.text);
        }

        // A forward tells the new assignee, and only them.
        let before = notified(store).await.len();
        let forward = json!({"virtual_send_assignee": "u-second", "virtual_send_comment": "yours now"});
        let reply = handle(&client, &num, "u-oncall", "acceptedForward", forward).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let forwarded = only(new_since(store, before).await, "u-second", EventKind::IncidentAssigned, &link);
        assert!(forwarded.message.text.contains("u-oncall") && forwarded.message.text.contains("yours now"));
        let detail = client.get(&format!("/v1/external/incident/{num}")).await.body["data"].clone();
        assert_eq!(detail["incident_assignee"], json!(["u-second"]), "{name}");
        assert_eq!(detail["status"], "INCIDENT_STATUS_ACKNOWLEDGED", "{name}: a forward keeps the status");

        // Later steps go to whoever holds it now.
        let before = notified(store).await.len();
        let solution = json!({"mtm_type": "inc_type_p_config_issues", "is_service_interrupt": false,
                              "cause": "mtu", "solution": "mtu 1400"});
        assert_eq!(handle(&client, &num, "u-second", "commitSolution1", solution).await.status, 200);
        let solved = only(new_since(store, before).await, "u-second", EventKind::IncidentTransition, &link);
        assert!(solved.message.text.contains("RESOLVED"), "{name}: {}", solved.message.text);

        // A refused step tells no one.
        let before = notified(store).await.len();
        assert_eq!(handle(&client, &num, "u-second", "acceptedIncident1", json!({})).await.status, 400);
        assert_eq!(notified(store).await.len(), before, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_one_is_told_who_has_nowhere_to_be_told() {
    for Setup { name, client, store, .. } in setups().await {
        let num = created(&client, "u-quiet").await;
        assert_eq!(handle(&client, &num, "u-quiet", "acceptedIncident1", json!({})).await.status, 200);
        // Assigned by scene and role only: no one in particular.
        let mut scene = incident_body("u-oncall");
        scene["incident_assignee"] = json!([]);
        scene["assignee_scene"] = json!("oncall");
        scene["assignee_role"] = json!("sre");
        assert_eq!(client.post(CREATE, &scene).await.status, 200, "{name}");
        assert!(notified(store.as_ref()).await.is_empty(), "{name}");
    }
}

fn assert_not_an_engineer(reply: &Reply, field: &str, user: &str) {
    assert_eq!(reply.status, 400, "{}", reply.body);
    let message = reply.body["error_msg"].as_str().unwrap_or_default();
    for said in [field, user, "not an O&M engineer"] {
        assert!(message.contains(said), "{message} does not say {said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assignee_who_is_not_an_engineer_is_refused_with_nothing_written() {
    for Setup { name, client, store, .. } in setups().await {
        let store = store.as_ref();
        let refused = create(&client, "u-stranger").await;
        assert_not_an_engineer(&refused, "incident_assignee", "u-stranger");
        assert_eq!(refused.body["error_code"], "GOM.00007256", "{name}: the incident envelope's invalid parameter");
        assert!(store.query_prefix(&format!("PROJECT#{PROJECT}"), "INCIDENT#").await.unwrap().is_empty(), "{name}");

        let num = created(&client, "u-oncall").await;
        let before = notified(store).await.len();
        let forward = json!({"virtual_send_assignee": "u-stranger"});
        let refused = handle(&client, &num, "u-oncall", "unAcceptedForward", forward).await;
        assert_not_an_engineer(&refused, "parameter.virtual_send_assignee", "u-stranger");
        let incident = incidents::get_incident(store, &project(), &num).await.unwrap().unwrap().value;
        assert_eq!(incident.incident_assignee, ["u-oncall"], "{name}: unchanged");
        assert_eq!(incident.actions_taken(), 1, "{name}");
        assert_eq!(notified(store).await.len(), before, "{name}");

        // An engineer of another tenant is not one of this tenant's.
        let other = client.in_project("p-other").await;
        other.sync_engineers(&[("u-elsewhere", "elsewhere")]).await;
        assert_not_an_engineer(&create(&client, "u-elsewhere").await, "incident_assignee", "u-elsewhere");

        let integration = json!({"name": "prom", "incident_assignee": "u-stranger"});
        assert_not_an_engineer(&client.post("/v1/integrations", &integration).await, "incident_assignee", "u-stranger");
        let listed = client.get("/v1/integrations").await;
        assert_eq!(listed.body["count"], 0, "{name}: no integration written");

        // Script reviewers given by id are engineers; one given by name alone has no id to check.
        let script = |reviewers: Value| {
            json!({"name": "deploy", "type": "SHELL", "content": "true", "description": "d",
                   "properties": {"risk_level": "LOW", "version": "1", "reviewers": reviewers}})
        };
        let reviewers = json!([{"reviewer_name": "oncall", "reviewer_id": "u-oncall"},
                               {"reviewer_name": "stranger", "reviewer_id": "u-stranger"}]);
        let refused = client.post("/v1/job/scripts", &script(reviewers)).await;
        assert_not_an_engineer(&refused, "properties.reviewers[1].reviewer_id", "u-stranger");
        assert_eq!(client.get("/v1/job/scripts?limit=10").await.body["data"]["total"], 0, "{name}: no script written");
        let by_name = json!([{"reviewer_name": "oncall", "reviewer_id": "u-oncall"}, {"reviewer_name": "sam", "reviewer_id": ""}]);
        assert_eq!(client.post("/v1/job/scripts", &script(by_name)).await.status, 200, "{name}");
    }
}

fn alarm(id: &str) -> Value {
    json!({"alarmId": id, "alarmName": "CPU usage over 90%", "alarmLevel": "Critical", "time": 1709118444540i64,
           "nameSpace": "shanghai", "regionId": "eu-west-0", "applicationId": "app-42", "resourceName": "machine-1",
           "resourceId": "vm-1", "alarmDesc": "cpu 97%", "URL": "https://example.com", "alarmStatus": "alarm",
           "alarmSource": "prometheus"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_that_opens_an_incident_tells_its_assignee_once() {
    for Setup { name, client, store, .. } in setups().await {
        let store = store.as_ref();
        let made = client
            .post(
                "/v1/integrations",
                &json!({"name": "prom", "alarm_level_threshold": "Major", "incident_assignee": "u-oncall"}),
            )
            .await;
        assert_eq!(made.status, 200, "{name}: {}", made.body);
        let key = made.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let intake = format!("/v1/event/huawei/custom/{key}");
        for _ in 0..3 {
            assert_eq!(client.unauthenticated().post(&intake, &alarm("cpu-1")).await.status, 200, "{name}");
        }
        let all = notified(store).await;
        let num = all.first().map(|n| n.message.subject_id.clone()).unwrap_or_default();
        let link = format!("{PUBLIC_URL}/v1/external/incident/{num}");
        let told = only(all, "u-oncall", EventKind::AlarmOpenedIncident, &link);
        assert!(
            told.message.subject.contains("CPU usage over 90%"),
            "{name}: names the alarm: {}",
            told.message.subject
        );
        assert!(told.message.text.contains("cpu-1"), "{name}: {}", told.message.text);
        let incident = incidents::get_incident(store, &project(), &num).await.unwrap();
        assert!(incident.is_some_and(|i| i.value.alarm.is_some()), "{name}: the incident the alarm opened");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_alarms_that_open_one_incident_tell_once() {
    for Setup { name, client, store, .. } in setups().await {
        let made = client.post("/v1/integrations", &json!({"name": "prom", "incident_assignee": "u-oncall"})).await;
        let key = made.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (client, path) = (client.unauthenticated(), format!("/v1/event/huawei/custom/{key}"));
                tokio::spawn(async move { client.post(&path, &alarm("storm")).await.status })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 200, "{name}");
        }
        let all = notified(store.as_ref()).await;
        assert_eq!(all.len(), 1, "{name}: one incident, one notification: {all:?}");
        assert_eq!(all[0].message.kind, EventKind::AlarmOpenedIncident);
    }
}

/// Waits (bounded) until the ticket's status is `status`.
async fn wait_status(client: &Client, uuid: &str, status: &str) {
    for _ in 0..300 {
        let reply = client.get(&format!("/v1/job/script/orders/{uuid}")).await;
        if reply.body["data"]["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("ticket {uuid} never became {status}");
}

/// Runs a one-host ticket of `client`'s whose host exits with `exit_code`; its execute_uuid.
async fn run_ticket(client: &Client, agent_sn: &str, exit_code: i32) -> String {
    let script = json!({"name": format!("deploy_{}", agent_sn.replace('-', "_")), "type": "SHELL", "content": "exit 1", "description": "d",
                        "properties": {"risk_level": "LOW", "version": "1"}});
    let reply = client.post("/v1/job/scripts", &script).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let script_uuid = reply.data_str();
    let agent = json!({"agent_sn": agent_sn, "resource_id": format!("res-{agent_sn}"), "region_id": "cn-north-4",
                       "host_name": "web-1", "fixed_ip": "10.0.0.1", "os_type": "linux"});
    assert_eq!(client.register_agent(&agent).await.status, 200);
    let target = json!({"resource_id": format!("res-{agent_sn}"), "agent_sn": agent_sn, "project_id": PROJECT, "region_id": "cn-north-4"});
    let execution = json!({
        "execute_param": {"timeout": 60, "success_rate": 100, "execute_user": "root"},
        "execute_batches": [{"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [target]}]
    });
    let reply = client.post(&format!("/v1/job/scripts/{script_uuid}"), &execution).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let uuid = reply.data_str();
    // The engine hands the job out on its own time: poll (bounded) until it is there.
    let mut job = Value::Null;
    for _ in 0..6 {
        let jobs = client.agent(agent_sn).get(&format!("/v1/agents/{agent_sn}/jobs?wait_seconds=5")).await;
        job = jobs.body["data"][0].clone();
        if !job.is_null() {
            break;
        }
    }
    assert!(!job.is_null(), "ticket {uuid}: no job reached agent {agent_sn}");
    let path = format!("/v1/agents/{agent_sn}/jobs/{uuid}/{}", job["instance_id"]);
    let report = json!({"attempt": job["attempt"], "exit_code": exit_code, "log": "boom"});
    let reported = client.agent(agent_sn).post(&path, &report).await;
    assert_eq!(reported.status, 200, "{}", reported.body);
    uuid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_that_ends_abnormal_tells_its_creator() {
    for Setup { name, client, store, .. } in setups().await {
        let uuid = run_ticket(&client, "a-bad", 1).await;
        wait_status(&client, &uuid, "ABNORMAL").await;
        let link = format!("{PUBLIC_URL}/v1/job/script/orders/{uuid}");
        let told = only(notified(store.as_ref()).await, "u-alice", EventKind::TicketAbnormal, &link);
        assert!(told.message.text.contains("1 of 1 hosts"), "{name}: {}", told.message.text);

        let fine = run_ticket(&client, "a-good", 0).await;
        wait_status(&client, &fine, "FINISHED").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(notified(store.as_ref()).await.len(), 1, "{name}: a ticket that finished tells no one");
    }
}

/// Fails any write that saves a notification: the change a notification was
/// prepared for must fail with it.
struct NoNotifications;

#[async_trait]
impl WriteHook for NoNotifications {
    async fn before_write(&self, ops: &[WriteOp]) -> Result<(), StoreError> {
        let saves_notification = ops.iter().any(|op| match op {
            WriteOp::Put { item, .. } => item.sk.starts_with("NOTIFICATION#"),
            _ => false,
        });
        if saves_notification {
            return Err(StoreError::Backend("refused: a notification".into()));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_lands_in_the_same_transaction_as_its_change() {
    for Setup { name, client, store, backend, .. } in setups().await {
        // The same tenant and engineers, through a store that refuses notifications.
        let failing: Arc<dyn Store> = Arc::new(HookedStore::new(store.clone(), NoNotifications));
        let app = coc_shared::App::new(failing, backend.queue.clone()).with_notify_queue(backend.notify_queue.clone());
        let broken = client.at(&serve(app).await);

        let reply = create(&broken, "u-oncall").await;
        assert_eq!(reply.status, 500, "{name}: {}", reply.body);
        let incidents = store.query_prefix(&format!("PROJECT#{PROJECT}"), "INCIDENT#").await.unwrap();
        assert!(incidents.is_empty(), "{name}: no incident without its notification");

        // A step of an incident: neither the step nor its notification.
        let num = created(&client, "u-oncall").await;
        let before = notified(store.as_ref()).await.len();
        assert_eq!(handle(&broken, &num, "u-oncall", "acceptedIncident1", json!({})).await.status, 500, "{name}");
        let incident = incidents::get_incident(store.as_ref(), &project(), &num).await.unwrap().unwrap().value;
        assert_eq!(incident.actions_taken(), 1, "{name}: the step did not land");
        assert_eq!(notified(store.as_ref()).await.len(), before, "{name}");

        // An alarm: neither the alarm's incident nor its notification.
        let made = client.post("/v1/integrations", &json!({"name": "prom", "incident_assignee": "u-oncall"})).await;
        let key = made.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let intake = format!("/v1/event/huawei/custom/{key}");
        assert_eq!(broken.unauthenticated().post(&intake, &alarm("cpu-9")).await.status, 500, "{name}");
        let opened = store.query_prefix(&format!("PROJECT#{PROJECT}"), "INCIDENT#").await.unwrap();
        assert_eq!(opened.len(), 1, "{name}: only the incident made above");
        assert_eq!(notified(store.as_ref()).await.len(), before, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_steps_of_one_incident_tell_once_per_step_that_landed() {
    for Setup { name, client, store, .. } in setups().await {
        let num = created(&client, "u-oncall").await;
        let before = notified(store.as_ref()).await.len();
        // Eight accepts at once: the losers retry on a fresh read and find the incident accepted.
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (client, num) = (client.clone(), num.clone());
                tokio::spawn(
                    async move { handle(&client, &num, "u-oncall", "acceptedIncident1", json!({})).await.status },
                )
            })
            .collect();
        let mut statuses = Vec::new();
        for task in tasks {
            statuses.push(task.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{name}: {statuses:?}");
        let new = new_since(store.as_ref(), before).await;
        assert_eq!(new.len(), 1, "{name}: one step landed, one notification: {new:?}");
        assert_eq!(new[0].message.kind, EventKind::IncidentTransition);
    }
}
