//! The alarm intake function behind SQS, on every store adapter: SQS delivers
//! at least once, so the same message (same `message_id`) may come again, in
//! a later batch, in the same batch, or to two consumers at once. Each message
//! is counted once; a redelivery changes nothing and is acknowledged.

use std::sync::Arc;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use serde_json::{json, Value};

use coc_runtime::lambda::take_alarms;
use coc_shared::clock::now_ms;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::limits::{ALARM_DELIVERY_CLEANUP, ALARM_DELIVERY_RETENTION_MS};
use coc_shared::ports::{Item, Store};
use coc_shared::repositories::alarm_deliveries::{self, Delivery};
use coc_shared::repositories::alarms;
use coc_shared::App;
use coc_tests::{backends, serve, Backend, Client};

const PROJECT: &str = "p-queue";
const CONSUMERS: usize = 16;

struct Setup {
    backend: Backend,
    app: App,
    integration_id: String,
    key: String,
}

/// Each backend with an integration whose rule opens incidents for Critical alarms.
async fn setups() -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let app = backend.app();
        let client = Client::new(&serve(app.clone()).await, backend.store.clone(), PROJECT).await;
        // The integration's incidents go to alice, who must be an engineer.
        client.sync_engineers(&[]).await;
        let reply =
            client.post("/v1/integrations", &json!({"name": "queued", "alarm_level_threshold": "Critical"})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let data = &reply.body["data"];
        let integration_id = data["integration_id"].as_str().unwrap().to_owned();
        let key = data["integration_key"].as_str().unwrap().to_owned();
        all.push(Setup { backend, app, integration_id, key });
    }
    all
}

impl Setup {
    fn store(&self) -> &dyn Store {
        self.backend.store.as_ref()
    }

    fn body(&self, alarm_id: &str, n: i64) -> Value {
        let alarm = json!({"alarmId": alarm_id, "alarmName": "disk full", "alarmLevel": "Critical",
            "time": 1_709_118_444_540_i64 + n, "nameSpace": "ns", "applicationId": "app",
            "alarmDesc": format!("report {n}"), "alarmSource": "prometheus"});
        json!({"integration_key": self.key, "alarm": alarm})
    }

    async fn occurrences(&self, alarm_id: &str) -> u64 {
        let project = ProjectId::parse(PROJECT).unwrap();
        let stored = alarms::get_alarm(self.store(), &project, &self.integration_id, alarm_id).await.unwrap();
        stored.expect("the alarm is stored").value.occurrences
    }

    async fn incidents(&self) -> Vec<Item> {
        self.store().query_prefix(&format!("PROJECT#{PROJECT}"), "INCIDENT#").await.unwrap()
    }

    async fn marks(&self) -> Vec<Item> {
        self.store().query_prefix(&format!("PROJECT#{PROJECT}"), "ALARM_DELIVERY#").await.unwrap()
    }
}

/// An SQS event of these (message id, body) records.
fn event(messages: &[(&str, &Value)]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (id, body) in messages {
        let mut message = SqsMessage::default();
        message.message_id = Some((*id).to_owned());
        message.body = Some(body.to_string());
        event.records.push(message);
    }
    event
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_is_counted_once() {
    for setup in setups().await {
        let name = setup.backend.name;
        let first = setup.body("disk", 0);
        let answer = take_alarms(&setup.app, event(&[("m-1", &first)])).await;
        assert!(answer.batch_item_failures.is_empty(), "{name}");
        assert_eq!(setup.occurrences("disk").await, 1, "{name}");
        let incidents = setup.incidents().await;
        assert_eq!(incidents.len(), 1, "{name}: the first report opens the incident");

        // Delivered again in a later batch, and twice within one batch.
        let answer = take_alarms(&setup.app, event(&[("m-1", &first)])).await;
        assert!(answer.batch_item_failures.is_empty(), "{name}: a redelivery is acknowledged, not retried");
        let answer =
            take_alarms(&setup.app, event(&[("m-2", &setup.body("disk", 1)), ("m-2", &setup.body("disk", 1))])).await;
        assert!(answer.batch_item_failures.is_empty(), "{name}");
        assert_eq!(setup.occurrences("disk").await, 2, "{name}: m-1 and m-2, each once");
        assert_eq!(setup.incidents().await, incidents, "{name}: a redelivery changes nothing");
        assert_eq!(setup.marks().await.len(), 2, "{name}: one mark per message");

        // The same report posted over HTTP is not a queue message: it counts.
        let project = ProjectId::parse(PROJECT).unwrap();
        let ingested = coc_shared::handlers::alarms::ingest(&setup.app, &setup.key, &first["alarm"]).await.unwrap();
        assert!(!ingested.redelivered, "{name}");
        assert_eq!(setup.occurrences("disk").await, 3, "{name}");
        let mark = alarm_deliveries::taken(setup.store(), &project, "m-1").await.unwrap().expect("m-1 is marked");
        assert_eq!((mark.integration_id.as_str(), mark.alarm_id.as_str()), (setup.integration_id.as_str(), "disk"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deliveries_of_one_message_are_counted_once() {
    for setup in setups().await {
        let name = setup.backend.name;
        let setup = Arc::new(setup);
        // A new alarm (its first report races to create it and open an
        // incident), then a stored one (repeats race on its tally).
        for (alarm_id, message_id) in [("fresh", "m-fresh"), ("fresh", "m-again")] {
            let tasks: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let setup = setup.clone();
                    tokio::spawn(async move {
                        let body = setup.body(alarm_id, 0);
                        take_alarms(&setup.app, event(&[(message_id, &body)])).await
                    })
                })
                .collect();
            for task in tasks {
                let answer = task.await.unwrap();
                assert!(answer.batch_item_failures.is_empty(), "{name}: every delivery is acknowledged");
            }
        }
        assert_eq!(setup.occurrences("fresh").await, 2, "{name}: {CONSUMERS} deliveries of each of two messages");
        assert_eq!(setup.incidents().await.len(), 1, "{name}: one incident");
        assert_eq!(setup.marks().await.len(), 2, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marks_older_than_the_queue_keeps_messages_are_deleted_by_later_takes() {
    for setup in setups().await {
        let name = setup.backend.name;
        let project = ProjectId::parse(PROJECT).unwrap();
        let now = now_ms();
        let old = |n: usize| Delivery {
            message_id: format!("old-{n}"),
            integration_id: setup.integration_id.clone(),
            alarm_id: "disk".into(),
            taken_at: now - ALARM_DELIVERY_RETENTION_MS - 1_000 + n as i64,
        };
        let expired = 2 * ALARM_DELIVERY_CLEANUP + 1;
        for n in 0..expired {
            setup.store().write(vec![alarm_deliveries::mark_op(&project, &old(n)).unwrap()]).await.unwrap();
        }
        // Each take writes one mark and deletes up to ALARM_DELIVERY_CLEANUP expired ones.
        for n in 0..3 {
            let body = setup.body("disk", n);
            let answer = take_alarms(&setup.app, event(&[(&format!("new-{n}"), &body)])).await;
            assert!(answer.batch_item_failures.is_empty(), "{name}");
        }
        let mut left: Vec<String> = setup
            .marks()
            .await
            .into_iter()
            .map(|item| item.sk.trim_start_matches("ALARM_DELIVERY#").to_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["new-0", "new-1", "new-2"], "{name}: the expired marks are gone, the fresh ones kept");
        assert_eq!(setup.occurrences("disk").await, 3, "{name}");
    }
}

/// A mark must outlive every redelivery: SQS redelivers only what the queue
/// still keeps.
#[test]
fn marks_are_kept_as_long_as_the_alarm_queue_keeps_messages() {
    let template: serde_yaml::Value = serde_yaml::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).unwrap(),
    )
    .unwrap();
    let retention = &template["Resources"]["AlarmQueue"]["Properties"]["MessageRetentionPeriod"];
    let seconds = retention.as_i64().expect("AlarmQueue sets MessageRetentionPeriod");
    assert!(seconds * 1000 <= ALARM_DELIVERY_RETENTION_MS, "the queue keeps messages longer than their marks");
}

/// What the queue consumer does on DynamoDB its policy allows: tallies
/// (UpdateItem), and finding and deleting expired marks (Query on an index, DeleteItem).
#[test]
fn the_queue_function_may_keep_and_expire_its_marks() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    let template: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let policies = &template["Resources"]["AlarmIntakeQueueFunction"]["Properties"]["Policies"];
    let text = serde_yaml::to_string(policies).unwrap();
    for action in ["dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "/index/*"] {
        assert!(text.contains(action), "{action} missing from {text}");
    }
}
