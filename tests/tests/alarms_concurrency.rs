//! Alarm intake under contention, on every store adapter: storms of one alarm
//! mixed with distinct alarms, over HTTP. Every report is accepted, every one
//! is counted, each alarm is one record, and a storm opens one incident.

use std::sync::Arc;

use serde_json::{json, Value};

use coc_shared::domain::tenant::ProjectId;
use coc_shared::ports::{Item, Store, WriteOp};
use coc_shared::repositories::alarms;
use coc_shared::App;
use coc_tests::{backends, serve, Backend, Client, CountingStore};

const PROJECT: &str = "p-storm";
const STORM: usize = 64;
const DISTINCT: usize = 24;

struct Setup {
    name: &'static str,
    client: Client,
    counter: Arc<CountingStore>,
    integration_id: String,
    key: String,
    backend: Backend,
}

/// A server on each backend whose store counts writes, with an integration
/// whose rule opens incidents for Critical alarms.
async fn setups() -> Vec<Setup> {
    let mut all = Vec::new();
    for backend in backends().await {
        let counter = Arc::new(CountingStore::new(backend.store.clone()));
        let app = App::new(counter.clone(), backend.queue.clone());
        let client = Client::new(&serve(app).await, backend.store.clone(), PROJECT).await;
        // The integration's incidents go to alice, who must be an engineer.
        client.sync_engineers(&[]).await;
        let reply =
            client.post("/v1/integrations", &json!({"name": "storm", "alarm_level_threshold": "Critical"})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let data = &reply.body["data"];
        let (integration_id, key) =
            (data["integration_id"].as_str().unwrap().to_owned(), data["integration_key"].as_str().unwrap().to_owned());
        all.push(Setup { name: backend.name, client, counter, integration_id, key, backend });
    }
    all
}

fn alarm(id: &str, level: &str, n: usize) -> Value {
    json!({"alarmId": id, "alarmName": "disk almost full", "alarmLevel": level, "time": 1_709_118_444_540_i64 + n as i64,
           "nameSpace": "ns", "applicationId": "app", "alarmDesc": format!("report {n}"), "alarmSource": "prometheus"})
}

/// Sends every body at once; returns each answer's status and body.
async fn report_all(setup: &Setup, bodies: Vec<Value>) -> Vec<(u16, Value)> {
    let path = format!("/v1/event/huawei/custom/{}", setup.key);
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (client, path) = (setup.client.unauthenticated(), path.clone());
            tokio::spawn(async move {
                let reply = client.post(&path, &body).await;
                (reply.status, reply.body)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn assert_all_accepted(setup: &Setup, answers: &[(u16, Value)]) {
    for (status, body) in answers {
        assert_eq!(*status, 200, "{}: a report was refused: {body}", setup.name);
        assert_eq!(body["error_code"], "COC.00000000", "{}", setup.name);
    }
}

async fn occurrences(setup: &Setup, alarm_id: &str) -> u64 {
    let project = ProjectId::parse(PROJECT).unwrap();
    let stored = alarms::get_alarm(setup.client_store(), &project, &setup.integration_id, alarm_id).await.unwrap();
    stored.expect("the alarm is stored").value.occurrences
}

impl Setup {
    /// The backend's store itself, so that a test's own reads are not counted.
    fn client_store(&self) -> &dyn Store {
        self.backend.store.as_ref()
    }

    async fn incidents(&self) -> Vec<Item> {
        self.client_store().query_prefix(&format!("PROJECT#{PROJECT}"), "INCIDENT#").await.unwrap()
    }

    async fn alarm_records(&self) -> Vec<Item> {
        let prefix = format!("ALARM#{}#", self.integration_id);
        self.client_store().query_prefix(&format!("PROJECT#{PROJECT}"), &prefix).await.unwrap()
    }

    /// The integration's alarm list, every page: (alarm_id, occurrences) and the count.
    async fn listed(&self) -> (Vec<(String, u64)>, u64) {
        let mut rows = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let mut path = format!("/v1/integrations/{}/alarms?limit=10", self.integration_id);
            if let Some(marker) = &marker {
                path.push_str(&format!("&marker={}", marker.replace('#', "%23")));
            }
            let reply = self.client.get(&path).await;
            assert_eq!(reply.status, 200, "{}", reply.body);
            for row in reply.body["data"].as_array().unwrap() {
                rows.push((row["alarm_id"].as_str().unwrap().to_owned(), row["occurrences"].as_u64().unwrap()));
            }
            match reply.body["next_marker"].as_str() {
                Some(next) => marker = Some(next.to_owned()),
                None => return (rows, reply.body["count"].as_u64().unwrap()),
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_of_duplicates_among_new_alarms_is_counted_exactly() {
    for setup in setups().await {
        let name = setup.name;
        // The storm's alarm is Critical (its first report opens an incident);
        // the distinct ones are below the rule.
        let mut bodies: Vec<Value> = (0..STORM).map(|n| alarm("storm", "Critical", n)).collect();
        for n in 0..DISTINCT {
            bodies.insert(n * STORM / DISTINCT, alarm(&format!("new-{n}"), "Minor", n));
        }
        assert_all_accepted(&setup, &report_all(&setup, bodies).await);

        assert_eq!(occurrences(&setup, "storm").await, STORM as u64, "{name}: every duplicate is counted");
        assert_eq!(setup.alarm_records().await.len(), DISTINCT + 1, "{name}: one record per alarm");
        assert_eq!(setup.incidents().await.len(), 1, "{name}: one storm, one incident");
        let (mut rows, count) = setup.listed().await;
        assert_eq!(count, DISTINCT as u64 + 1, "{name}: the list's count");
        rows.sort();
        let mut expected: Vec<(String, u64)> = (0..DISTINCT).map(|n| (format!("new-{n}"), 1)).collect();
        expected.push(("storm".to_owned(), STORM as u64));
        expected.sort();
        assert_eq!(rows, expected, "{name}: each alarm listed once, with its occurrences");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn duplicates_of_a_stored_alarm_are_one_write_each() {
    for setup in setups().await {
        let name = setup.name;
        assert_all_accepted(&setup, &report_all(&setup, vec![alarm("known", "Critical", 0)]).await);
        setup.counter.take_writes();

        assert_all_accepted(
            &setup,
            &report_all(&setup, (1..=STORM).map(|n| alarm("known", "Critical", n)).collect()).await,
        );
        let (writes, failed) = setup.counter.take_writes();
        assert_eq!((writes, failed), (STORM, 0), "{name}: one write per duplicate, none failed on another");
        assert_eq!(occurrences(&setup, "known").await, STORM as u64 + 1, "{name}");
        assert_eq!(setup.incidents().await.len(), 1, "{name}: the open incident is kept");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_storm_after_its_incident_closed_opens_exactly_one_more() {
    for setup in setups().await {
        let name = setup.name;
        assert_all_accepted(
            &setup,
            &report_all(&setup, (0..STORM).map(|n| alarm("flap", "Critical", n)).collect()).await,
        );
        let opened = setup.incidents().await;
        assert_eq!(opened.len(), 1, "{name}");
        let num = opened[0].sk.trim_start_matches("INCIDENT#").to_owned();
        let closed = setup
            .client
            .post(
                "/v1/external/incident/handle",
                &json!({"incident_num": num, "operator": "u-oncall", "operate_key": "rejectedIncident1", "parameter": {}}),
            )
            .await;
        assert_eq!(closed.status, 200, "{name}: {}", closed.body);

        let again = (STORM..2 * STORM).map(|n| alarm("flap", "Critical", n)).collect();
        assert_all_accepted(&setup, &report_all(&setup, again).await);
        assert_eq!(setup.incidents().await.len(), 2, "{name}: the closed incident is followed by exactly one");
        assert_eq!(occurrences(&setup, "flap").await, 2 * STORM as u64, "{name}");
        let project = ProjectId::parse(PROJECT).unwrap();
        let stored = alarms::get_alarm(setup.client_store(), &project, &setup.integration_id, "flap").await.unwrap();
        assert_ne!(stored.unwrap().value.incident_num.as_deref(), Some(num.as_str()), "{name}: linked to the new one");
    }
}

/// An alarm stored before occurrences were a tally (counted in its document
/// only) keeps its count and goes on from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_counted_in_its_document_keeps_its_count() {
    for setup in setups().await {
        let name = setup.name;
        assert_all_accepted(&setup, &report_all(&setup, vec![alarm("old", "Minor", 0)]).await);
        let mut item = setup.alarm_records().await.pop().unwrap();
        let mut document: Value = serde_json::from_str(&item.data).unwrap();
        document["occurrences"] = json!(41);
        (item.data, item.tally) = (document.to_string(), 0);
        let rewrite = WriteOp::Put { item, condition: coc_shared::ports::Condition::Exists };
        setup.client_store().write(vec![rewrite]).await.unwrap();
        assert_eq!(occurrences(&setup, "old").await, 41, "{name}");

        let more = (1..=8).map(|n| alarm("old", "Minor", n)).collect();
        assert_all_accepted(&setup, &report_all(&setup, more).await);
        assert_eq!(occurrences(&setup, "old").await, 49, "{name}");
        assert_eq!(setup.listed().await.0, [("old".to_owned(), 49)], "{name}");
    }
}
