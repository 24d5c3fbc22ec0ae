//! CloudWatch alarms in, on every backend, with the event shapes AWS
//! documents: over HTTP (`POST /v1/event/cloudwatch/{key}`, as an SNS HTTPS
//! subscription and an EventBridge API destination post) and through the
//! `cloudwatch-alarm-events` function's handler (an EventBridge rule's event,
//! an SNS Lambda subscription's `SnsEvent`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

use coc_shared::domain::alarm::AlarmStatus;
use coc_shared::domain::incident::AlarmLevel;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::handlers::alarms_cloudwatch::take;
use coc_shared::ports::{StoreError, WriteOp};
use coc_shared::repositories::alarms;
use coc_shared::App;
use coc_tests::hooked::{HookedStore, WriteHook};
use coc_tests::{backends, serve, sns_signing, Client};

const ARN: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:cpu-alarms";

/// "CloudWatch Alarm State Change" of a single-metric alarm, as the
/// CloudWatch User Guide shows it ("Alarm events and EventBridge").
fn event(id: &str, state: &str) -> Value {
    json!({
        "version": "0", "id": id, "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
        "account": "123456789012", "time": "2019-10-02T17:04:40Z", "region": "us-east-1", "resources": [ARN],
        "detail": {
            "alarmName": "ServerCpuTooHigh",
            "configuration": {
                "description": "Goes into alarm when server CPU utilization is too high!",
                "metrics": [{
                    "id": "30b6c6b2-a864-43a2-4877-c09a1afc3b87",
                    "metricStat": {
                        "metric": {"dimensions": {"InstanceId": "i-12345678901234567"}, "name": "CPUUtilization", "namespace": "AWS/EC2"},
                        "period": 300, "stat": "Average"
                    },
                    "returnData": true
                }]
            },
            "previousState": {
                "reason": "Threshold Crossed: 1 out of the last 1 datapoints [0.0666851903306472 (01/10/19 13:46:00)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).",
                "reasonData": "{\"version\":\"1.0\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[0.0666851903306472],\"threshold\":50.0}",
                "timestamp": "2019-10-01T13:56:40.987+0000", "value": "OK"
            },
            "state": {
                "reason": format!("Threshold Crossed: state {state} (minimum 1 datapoint for the transition)."),
                "reasonData": "{\"version\":\"1.0\",\"statistic\":\"Average\",\"period\":300,\"recentDatapoints\":[99.50160229693434],\"threshold\":50.0}",
                "timestamp": "2019-10-02T17:04:40.989+0000", "value": state
            }
        }
    })
}

/// The alarm JSON CloudWatch publishes to SNS, in the Notification SNS posts.
fn sns_notification(message_id: &str, state: &str) -> Value {
    let message = json!({
        "AlarmName": "ServerCpuTooHigh", "AlarmDescription": null, "AWSAccountId": "123456789012",
        "NewStateValue": state, "NewStateReason": format!("Threshold Crossed: {state}."),
        "StateChangeTime": "2019-10-02T17:04:40.989+0000", "Region": "US East (N. Virginia)", "AlarmArn": ARN,
        "OldStateValue": "OK",
        "Trigger": {
            "MetricName": "CPUUtilization", "Namespace": "AWS/EC2", "StatisticType": "Statistic", "Statistic": "AVERAGE",
            "Unit": null, "Dimensions": [{"value": "i-12345678901234567", "name": "InstanceId"}], "Period": 300,
            "EvaluationPeriods": 1, "ComparisonOperator": "GreaterThanThreshold", "Threshold": 50.0,
            "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""
        }
    });
    json!({
        "Type": "Notification", "MessageId": message_id, "TopicArn": TOPIC,
        "Subject": "ALARM: \"ServerCpuTooHigh\" in US East (N. Virginia)", "Message": message.to_string(),
        "Timestamp": "2019-10-02T17:04:41.012Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:c9135db0")
    })
}

/// `message` signed as SNS signs it (SignatureVersion 1), with the tests' certificate.
fn signed(mut message: Value) -> Value {
    let (signer, url) = sns_signing::signer();
    signer.sign(&mut message, "1", url);
    message
}

/// An SNS Lambda subscription's invocation: one record per notification.
fn sns_event(notifications: &[Value]) -> Value {
    let records: Vec<Value> = notifications
        .iter()
        .map(|sns| {
            let mut sns = sns.clone();
            sns["MessageAttributes"] = json!({});
            json!({"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": format!("{TOPIC}:c9135db0"), "Sns": sns})
        })
        .collect();
    json!({ "Records": records })
}

async fn integration(client: &Client, body: Value) -> (String, String) {
    client.sync_engineers(&[]).await;
    let reply = client.post("/v1/integrations", &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    (data["integration_id"].as_str().unwrap().to_owned(), data["integration_key"].as_str().unwrap().to_owned())
}

/// Posts as SNS does: the JSON as text/plain, with SNS's message-type header.
async fn post_as_sns(client: &Client, path: &str, body: &Value) -> coc_tests::Reply {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("text/plain; charset=UTF-8"));
    let kind = body["Type"].as_str().unwrap_or("Notification").to_owned();
    headers.insert("x-amz-sns-message-type", HeaderValue::from_str(&kind).unwrap());
    client.send_raw("POST", path, headers, body.to_string().into_bytes()).await
}

async fn stored(client: &Client, store: &dyn coc_shared::ports::Store, id: &str) -> coc_shared::domain::alarm::Alarm {
    let project = ProjectId::parse(&client.project).unwrap();
    alarms::get_alarm(store, &project, id, ARN).await.unwrap().expect("the alarm is stored").value
}

async fn incident_status(client: &Client, incident_num: &str) -> Value {
    let reply = client.get(&format!("/v1/external/incident/{incident_num}")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["data"]["status"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eventbridge_events_open_repeat_clear_and_record_insufficient_data() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-a").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let path = format!("/v1/event/cloudwatch/{key}");
        let intake = client.unauthenticated();
        let store = backend.store.as_ref();

        // ALARM opens an alarm, and (Major, the default level, meets the default threshold) an incident.
        let alarm = event("c4c1c1c9-6542-e61b-6ef0-8c4d36933a92", "ALARM");
        let reply = intake.post(&path, &alarm).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(reply.error_code(), "COC.00000000");
        let first = stored(&client, store, &id).await;
        assert_eq!((first.status, first.occurrences), (AlarmStatus::Alarm, 1), "{name}");
        assert_eq!(first.last.alarm_name, "ServerCpuTooHigh");
        assert_eq!(first.last.resource_id.as_deref(), Some("i-12345678901234567"), "{name}");
        assert!(first.last.alarm_desc.starts_with("Threshold Crossed: state ALARM"), "{name}: {:?}", first.last);
        let incident = first.incident_num.clone().expect("an incident");
        assert_eq!(incident_status(&client, &incident).await, "INCIDENT_STATUS_TRIGGERED", "{name}");

        // EventBridge delivering the same event again is not a new occurrence.
        assert_eq!(intake.post(&path, &alarm).await.status, 200, "{name}");
        assert_eq!(stored(&client, store, &id).await.occurrences, 1, "{name}: a redelivery counts once");

        // OK (the same alarm ARN) clears it.
        assert_eq!(intake.post(&path, &event("e-ok", "OK")).await.status, 200, "{name}");
        let cleared = stored(&client, store, &id).await;
        assert_eq!((cleared.status, cleared.occurrences), (AlarmStatus::Ok, 2), "{name}");

        // INSUFFICIENT_DATA is recorded, stays cleared, opens nothing.
        assert_eq!(intake.post(&path, &event("e-none", "INSUFFICIENT_DATA")).await.status, 200, "{name}");
        let recorded = stored(&client, store, &id).await;
        assert_eq!((recorded.status, recorded.occurrences), (AlarmStatus::Ok, 3), "{name}");
        assert_eq!(recorded.incident_num, Some(incident), "{name}: no new incident");
        assert_eq!(recorded.last.additional.as_ref().unwrap()["state"], "INSUFFICIENT_DATA", "{name}");
        assert!(recorded.last.alarm_desc.starts_with("INSUFFICIENT_DATA: "), "{name}");
        let listed = client.get(&format!("/v1/integrations/{id}/alarms")).await;
        assert_eq!(listed.body["count"], 1, "{name}: one alarm: {}", listed.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_notifications_are_taken_as_sns_posts_them() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-b").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch", "alarm_level_threshold": "Critical"})).await;
        let store = backend.store.as_ref();
        let intake = client.unauthenticated();
        // Major (the default level) is below this integration's threshold…
        let path = format!("/v1/event/cloudwatch/{key}");
        let reply =
            post_as_sns(&intake, &path, &signed(sns_notification("95df01b4-ee98-5cb9-9903-4c221d41eb5e", "ALARM")))
                .await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.last.alarm_level), (AlarmStatus::Alarm, AlarmLevel::Major), "{name}");
        assert!(alarm.incident_num.is_none(), "{name}: below the threshold");
        assert_eq!(alarm.last.region_id.as_deref(), Some("us-east-1"), "{name}");
        // … the subscription URL may pick a level: Critical opens an incident.
        let critical = format!("{path}?alarm_level=Critical");
        let reply = post_as_sns(&intake, &critical, &signed(sns_notification("m-2", "ALARM"))).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let alarm = stored(&client, store, &id).await;
        assert_eq!(alarm.occurrences, 2, "{name}");
        assert!(alarm.incident_num.is_some(), "{name}: Critical opens an incident");
        // SNS retrying a message (same MessageId) counts once.
        assert_eq!(post_as_sns(&intake, &critical, &signed(sns_notification("m-2", "ALARM"))).await.status, 200);
        assert_eq!(stored(&client, store, &id).await.occurrences, 2, "{name}");
        let reply = post_as_sns(&intake, &path, &signed(sns_notification("m-3", "OK"))).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(stored(&client, store, &id).await.status, AlarmStatus::Ok, "{name}: OK clears");
        let bad_level =
            post_as_sns(&intake, &format!("{path}?alarm_level=Urgent"), &signed(sns_notification("m-4", "OK"))).await;
        assert_eq!(bad_level.status, 400, "{name}");
        assert!(bad_level.error_msg().contains("alarm_level must be one of"), "{name}: {}", bad_level.body);
        let unsubscribed = signed(json!({
            "Type": "UnsubscribeConfirmation", "MessageId": "m-5", "Token": "t", "TopicArn": TOPIC,
            "SubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"),
            "Message": "You have chosen to deactivate subscription.", "Timestamp": "2019-10-02T17:04:41.012Z"
        }));
        assert_eq!(post_as_sns(&intake, &path, &unsubscribed).await.status, 200, "{name}");
    }
}

/// A TCP listener counting the connections made to it.
async fn counting_listener() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (address.to_string(), count)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_confirmation_fetches_sns_own_url_and_nothing_else() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-c").await;
        let (_, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let (address, connections) = counting_listener().await;
        let path = format!("/v1/event/cloudwatch/{key}");
        let topic = TOPIC.replace(':', "%3A");
        for url in [
            format!("http://{address}/?Action=ConfirmSubscription&TopicArn={topic}&Token=t"),
            format!("https://{address}/?Action=ConfirmSubscription&TopicArn={topic}&Token=t"),
            format!("https://sns.us-east-1.amazonaws.com@{address}/?Action=ConfirmSubscription&TopicArn={topic}"),
            format!("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token=t"),
        ] {
            let confirmation = signed(json!({
                "Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                "Token": "t", "TopicArn": TOPIC, "SubscribeURL": url,
                "Message": "You have chosen to subscribe to the topic.", "Timestamp": "2012-04-26T20:45:04.751Z"
            }));
            let reply = post_as_sns(&client.unauthenticated(), &path, &confirmation).await;
            assert_eq!(reply.status, 400, "{name}: {url}: {}", reply.body);
            assert!(reply.error_msg().contains("SubscribeURL"), "{name}: {}", reply.body);
        }
        // SNS's own URL for the topic is fetched: confirmed when SNS answers,
        // 503 (so that SNS sends the confirmation again) when it cannot be reached.
        for (answered, token, status) in [(true, "t-ok", 200), (false, "t-unreachable", 503)] {
            let url = format!(
                "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token={token}"
            );
            if answered {
                sns_signing::certificates().serve_at(&url, b"<ConfirmSubscriptionResponse/>");
            }
            let confirmation = signed(json!({
                "Type": "SubscriptionConfirmation", "MessageId": format!("c-{token}"),
                "Token": token, "TopicArn": TOPIC, "SubscribeURL": url,
                "Message": "You have chosen to subscribe to the topic.", "Timestamp": "2012-04-26T20:45:04.751Z"
            }));
            let reply = post_as_sns(&client.unauthenticated(), &path, &confirmation).await;
            assert_eq!(reply.status, status, "{name}: {token}: {}", reply.body);
            assert!(sns_signing::certificates().was_requested(&url), "{name}: {token}: SNS's URL was fetched");
        }
        // An unknown key confirms nothing either.
        let confirmation = json!({"Type": "SubscriptionConfirmation", "TopicArn": TOPIC});
        assert_eq!(
            post_as_sns(&client.unauthenticated(), "/v1/event/cloudwatch/nokey", &confirmation).await.status,
            401
        );
        assert_eq!(connections.load(Ordering::SeqCst), 0, "{name}: nothing was fetched");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_naming_the_field_and_write_nothing() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-d").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let intake = client.unauthenticated();
        let path = format!("/v1/event/cloudwatch/{key}");
        let mut state = event("e1", "ALARM");
        state["detail"]["state"]["value"] = json!("ON_FIRE");
        let mut no_name = event("e2", "ALARM");
        no_name["detail"].as_object_mut().unwrap().remove("alarmName");
        let mut ec2 = event("e3", "ALARM");
        ec2["source"] = json!("aws.ec2");
        let mut message = sns_notification("m1", "ALARM");
        message["Message"] = json!("{\"AlarmName\": \"x\"}");
        let message = signed(message);
        for (body, field) in [
            (state, "detail.state.value"),
            (no_name, "alarmName"),
            (ec2, "source must be aws.cloudwatch"),
            (message, "NewStateValue"),
            (json!({"hello": "world"}), "SNS message"),
        ] {
            let reply = intake.post(&path, &body).await;
            assert_eq!(reply.status, 400, "{name}: {field}: {}", reply.body);
            assert_eq!(reply.error_code(), "COC.00000001");
            assert!(reply.error_msg().contains(field), "{name}: {field}: {}", reply.body);
        }
        assert_eq!(intake.send("POST", &path, Some("{not json".into())).await.status, 400, "{name}");
        let listed = client.get(&format!("/v1/integrations/{id}/alarms")).await;
        assert_eq!(listed.body["count"], 0, "{name}: nothing written: {}", listed.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_the_credential_and_alarms_stay_in_its_tenant() {
    for backend in backends().await {
        let name = backend.name;
        let base = serve(backend.app()).await;
        let alice = Client::new(&base, backend.store.clone(), "p-cw-e").await;
        let (id, key) = integration(&alice, json!({"name": "cloudwatch"})).await;
        let reply = alice.unauthenticated().post("/v1/event/cloudwatch/not-a-key", &event("e1", "ALARM")).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(reply.error_code(), "common.01010001");
        let reply = alice.unauthenticated().post(&format!("/v1/event/cloudwatch/{key}"), &event("e1", "ALARM")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        // Another tenant's integration receiving the very same event has its own alarm.
        let bob = alice.in_project("p-cw-f").await;
        let (bob_id, bob_key) = integration(&bob, json!({"name": "cloudwatch"})).await;
        let reply = bob.unauthenticated().post(&format!("/v1/event/cloudwatch/{bob_key}"), &event("e1", "ALARM")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(stored(&bob, backend.store.as_ref(), &bob_id).await.occurrences, 1, "{name}");
        assert_eq!(stored(&alice, backend.store.as_ref(), &id).await.occurrences, 1, "{name}");
        let reply = bob.get(&format!("/v1/integrations/{id}/alarms")).await;
        assert_eq!(reply.status, 404, "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_event_count_once() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-g").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let path = format!("/v1/event/cloudwatch/{key}");
        let posts: Vec<_> = (0..6)
            .map(|_| {
                let (intake, path) = (client.unauthenticated(), path.clone());
                tokio::spawn(async move { intake.post(&path, &event("same-event", "ALARM")).await.status })
            })
            .collect();
        let mut statuses = Vec::new();
        for post in posts {
            statuses.push(post.await.unwrap());
        }
        assert!(statuses.iter().all(|s| *s == 200 || *s == 409), "{name}: {statuses:?}");
        let alarm = stored(&client, backend.store.as_ref(), &id).await;
        assert_eq!(alarm.occurrences, 1, "{name}: one event, one occurrence");
        assert!(alarm.incident_num.is_some(), "{name}");
    }
}

/// Records one CloudWatch event through the inner store just before the first
/// write it is armed for: a change landing between a report's read and its write.
type Armed = Arc<std::sync::Mutex<Option<(App, String, Value)>>>;

struct LandsFirst {
    armed: Armed,
}

#[async_trait::async_trait]
impl WriteHook for LandsFirst {
    async fn before_write(&self, _ops: &[WriteOp]) -> Result<(), StoreError> {
        let armed = self.armed.lock().unwrap().take();
        if let Some((app, key, event)) = armed {
            let taken = take(&app, &key, AlarmLevel::Major, &event).await.map_err(StoreError::Backend)?;
            assert_eq!(taken.recorded, 1, "the change in between is recorded: {taken:?}");
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insufficient_data_never_overwrites_a_concurrent_change_of_state() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-j").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let store = backend.store.as_ref();
        let armed = Armed::default();
        let hook = LandsFirst { armed: armed.clone() };
        let hooked = App { store: Arc::new(HookedStore::new(backend.store.clone(), hook)), ..backend.app() };
        take(&hooked, &key, AlarmLevel::Major, &event("j-1", "ALARM")).await.unwrap();
        assert_eq!(stored(&client, store, &id).await.status, AlarmStatus::Alarm, "{name}");

        // OK lands after INSUFFICIENT_DATA read the firing alarm and before it writes.
        *armed.lock().unwrap() = Some((backend.app(), key.clone(), event("j-2", "OK")));
        let taken = take(&hooked, &key, AlarmLevel::Major, &event("j-3", "INSUFFICIENT_DATA")).await.unwrap();
        assert_eq!(taken.recorded, 1, "{name}");
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Ok, 3), "{name}: the OK stands");
        assert!(alarm.last.alarm_desc.starts_with("INSUFFICIENT_DATA: "), "{name}: {:?}", alarm.last);

        // The other way round: ALARM lands in between, and INSUFFICIENT_DATA keeps it firing.
        *armed.lock().unwrap() = Some((backend.app(), key.clone(), event("j-4", "ALARM")));
        take(&hooked, &key, AlarmLevel::Major, &event("j-5", "INSUFFICIENT_DATA")).await.unwrap();
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Alarm, 5), "{name}: the ALARM stands");

        // Many at once: INSUFFICIENT_DATA storms around one OK end cleared, every occurrence counted.
        let app = backend.app();
        let tasks: Vec<_> = (0..9)
            .map(|i| {
                let (app, key) = (app.clone(), key.clone());
                let state = if i == 4 { "OK" } else { "INSUFFICIENT_DATA" };
                tokio::spawn(
                    async move { take(&app, &key, AlarmLevel::Major, &event(&format!("j-s{i}"), state)).await },
                )
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap().recorded, 1, "{name}");
        }
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Ok, 14), "{name}: only OK changed the state");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_takes_eventbridge_rule_events_and_sns_lambda_records() {
    for backend in backends().await {
        let name = backend.name;
        let app = backend.app();
        let client = Client::new(&serve(app.clone()).await, backend.store.clone(), "p-cw-h").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let store = backend.store.as_ref();

        let taken = take(&app, &key, AlarmLevel::Major, &event("rule-1", "ALARM")).await.unwrap();
        assert_eq!((taken.recorded, taken.redelivered), (1, 0), "{name}");
        let again = take(&app, &key, AlarmLevel::Major, &event("rule-1", "ALARM")).await.unwrap();
        assert_eq!((again.recorded, again.redelivered), (0, 1), "{name}: EventBridge retried the invocation");
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Alarm, 1), "{name}");
        assert!(alarm.incident_num.is_some(), "{name}");

        let records = sns_event(&[sns_notification("sns-1", "INSUFFICIENT_DATA"), sns_notification("sns-2", "OK")]);
        let taken = take(&app, &key, AlarmLevel::Major, &records).await.unwrap();
        assert_eq!(taken.recorded, 2, "{name}: {taken:?}");
        let alarm = stored(&client, store, &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Ok, 3), "{name}");

        // A bad event is dropped (retrying cannot help); an unknown key is an error.
        let mut bad = event("rule-2", "ALARM");
        bad["detail"]["state"]["value"] = json!("ON_FIRE");
        let dropped = take(&app, &key, AlarmLevel::Major, &bad).await.unwrap();
        assert_eq!(dropped.recorded, 0, "{name}");
        assert!(dropped.dropped[0].contains("detail.state.value"), "{name}: {dropped:?}");
        assert!(take(&app, "not-a-key", AlarmLevel::Major, &event("rule-3", "ALARM")).await.is_err(), "{name}");
        assert_eq!(stored(&client, store, &id).await.occurrences, 3, "{name}");
    }
}

/// moto's endpoint: `AWS_ENDPOINT_URL_SNS`, else the SQS one (one moto server serves both).
fn moto_endpoint() -> Option<String> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    set("AWS_ENDPOINT_URL_SNS").or_else(|| set("AWS_ENDPOINT_URL_SQS"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_with_an_http_subscription_delivers_to_the_intake() {
    let Some(endpoint) = moto_endpoint() else {
        assert!(std::env::var("COC_REQUIRE_AWS_LOCAL").as_deref() != Ok("1"), "moto is required");
        eprintln!("skipped: no local AWS server configured");
        return;
    };
    // moto signs its HTTP deliveries (SignatureVersion 2, a key of its own) and serves the
    // certificate at the SigningCertURL's path; the tests' certificate source asks moto for it.
    sns_signing::certificates();
    let config = aws_config::load_from_env().await;
    let sns =
        aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(&config).endpoint_url(&endpoint).build());
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-cw-i").await;
        let (id, key) = integration(&client, json!({"name": "cloudwatch"})).await;
        let topic = sns.create_topic().name(format!("cw-{}", uuid::Uuid::new_v4())).send().await.unwrap();
        let topic = topic.topic_arn.unwrap();
        let url = format!("{}/v1/event/cloudwatch/{key}", client.base);
        sns.subscribe().topic_arn(&topic).protocol("http").endpoint(&url).send().await.unwrap();
        // What CloudWatch publishes to an alarm's topic; moto posts it as SNS does.
        let message = serde_json::from_str::<Value>(sns_notification("unused", "ALARM")["Message"].as_str().unwrap())
            .unwrap()
            .to_string();
        // Without a subject: moto leaves the Subject out of the string it signs, where SNS puts it in.
        sns.publish().topic_arn(&topic).message(message).send().await.unwrap();
        let alarm = stored(&client, backend.store.as_ref(), &id).await;
        assert_eq!((alarm.status, alarm.occurrences), (AlarmStatus::Alarm, 1), "{name}");
        assert_eq!(alarm.last.additional.as_ref().unwrap()["topicArn"], topic.as_str(), "{name}");
    }
}
