//! `POST /v1/event/prometheus/{integration_key}` over HTTP on every backend:
//! the key is the credential, a bad notification writes nothing, alerts are
//! alarms of the key's tenant only.

use serde_json::{json, Value};

use coc_shared::domain::incident::AlarmLevel;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::alarms;
use coc_tests::{backends, serve, Client};

fn alert(fingerprint: &str, instance: &Value) -> Value {
    json!({
        "status": "firing",
        "labels": {"alertname": "HighLoad", "instance": instance, "job": "node", "severity": "warning"},
        "annotations": {"summary": "load is high"},
        "startsAt": "2024-05-01T10:00:00.123Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prom:9090/graph", "fingerprint": fingerprint,
    })
}

fn notification(alerts: Vec<Value>) -> Value {
    json!({
        "version": "4", "status": "firing", "receiver": "coc", "groupKey": "{}:{alertname=\"HighLoad\"}",
        "groupLabels": {"alertname": "HighLoad"}, "commonLabels": {"alertname": "HighLoad"},
        "commonAnnotations": {}, "externalURL": "http://am:9093", "truncatedAlerts": 0, "alerts": alerts,
    })
}

async fn integration(client: &Client) -> (String, String) {
    client.sync_engineers(&[]).await;
    let reply = client.post("/v1/integrations", &json!({"name": "prometheus"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    (data["integration_id"].as_str().unwrap().to_owned(), data["integration_key"].as_str().unwrap().to_owned())
}

async fn alarms(client: &Client, integration_id: &str) -> Value {
    let reply = client.get(&format!("/v1/integrations/{integration_id}/alarms")).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_alert_is_an_alarm_and_repeats_count() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-prom-a").await;
        let (id, key) = integration(&client).await;
        let path = format!("/v1/event/prometheus/{key}");
        let body =
            notification(vec![alert("00000000000000a1", &json!("web-1")), alert("00000000000000a2", &json!("web-2"))]);
        for _ in 0..2 {
            let reply = client.unauthenticated().post(&path, &body).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            // The SDK's CreateReportPrometheusEventResponse.
            assert_eq!(reply.error_code(), "COC.00000000");
            assert!(reply.body["provider_code"].is_string(), "{name}: {}", reply.body);
        }
        let listed = alarms(&client, &id).await;
        assert_eq!(listed["count"], 2, "{name}: {listed}");
        for row in listed["data"].as_array().unwrap() {
            assert_eq!(row["occurrences"], 2, "{name}: {row}");
            assert_eq!(row["alarm_level"], "Minor", "{name}: warning is Minor");
            assert!(row["incident_num"].is_null(), "{name}: Minor is below the default threshold");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_notification_is_refused_whole_and_writes_nothing() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-prom-b").await;
        let (id, key) = integration(&client).await;
        let intake = client.unauthenticated();
        let path = format!("/v1/event/prometheus/{key}");
        // The first alert is fine, the second's instance is no string.
        let body = notification(vec![alert("00000000000000b1", &json!("web-1")), alert("00000000000000b2", &json!(7))]);
        let reply = intake.post(&path, &body).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        assert_eq!(reply.error_code(), "COC.00000001");
        assert!(reply.error_msg().contains("alerts[1].labels.instance must be a string"), "{name}: {}", reply.body);
        let too_many = notification((0..201).map(|i| alert(&format!("{i:016x}"), &json!("w"))).collect());
        let reply = intake.post(&path, &too_many).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        assert!(reply.error_msg().contains("alerts"), "{name}: {}", reply.body);
        let reply = intake.send("POST", &path, Some("{not json".into())).await;
        assert_eq!(reply.status, 400, "{name}: {}", reply.body);
        // Larger than the custom intake takes.
        let mut huge = notification(vec![alert("00000000000000b3", &json!("web-1"))]);
        huge["alerts"][0]["annotations"]["summary"] = json!("x".repeat(200 * 1024));
        assert_eq!(intake.post(&path, &huge).await.status, 413, "{name}");
        let listed = alarms(&client, &id).await;
        assert_eq!(listed["count"], 0, "{name}: nothing may be written: {listed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_is_the_credential_and_alarms_stay_in_its_tenant() {
    for backend in backends().await {
        let name = backend.name;
        let base = serve(backend.app()).await;
        let alice = Client::new(&base, backend.store.clone(), "p-prom-c").await;
        let (id, key) = integration(&alice).await;
        let body = notification(vec![alert("00000000000000c1", &json!("web-1"))]);
        let reply = alice.unauthenticated().post("/v1/event/prometheus/not-a-key", &body).await;
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
        assert_eq!(reply.error_code(), "common.01010001");
        let reply = alice.unauthenticated().post(&format!("/v1/event/prometheus/{key}"), &body).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        assert_eq!(alarms(&alice, &id).await["count"], 1, "{name}");
        // Another tenant neither sees the integration nor its alarms.
        let mallory = alice.in_project("p-prom-d").await;
        let reply = mallory.get(&format!("/v1/integrations/{id}/alarms")).await;
        assert_eq!(reply.status, 404, "{name}: {}", reply.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integration_may_name_its_own_severity_and_resource_labels() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-prom-e").await;
        client.sync_engineers(&[]).await;
        let bad = client.post("/v1/integrations", &json!({"name": "p", "prometheus_severity_label": "9lives"})).await;
        assert_eq!(bad.status, 400, "{name}: {}", bad.body);
        assert!(bad.body.to_string().contains("prometheus_severity_label"), "{name}: {}", bad.body);
        let made = client
            .post(
                "/v1/integrations",
                &json!({"name": "p", "prometheus_severity_label": "priority", "prometheus_resource_label": "host"}),
            )
            .await;
        assert_eq!(made.status, 200, "{name}: {}", made.body);
        let data = &made.body["data"];
        assert_eq!(data["prometheus_severity_label"], "priority");
        assert_eq!(data["prometheus_resource_label"], "host");
        let (id, key) = (data["integration_id"].as_str().unwrap(), data["integration_key"].as_str().unwrap());
        assert_eq!(data["prometheus_intake_path"], format!("/v1/event/prometheus/{key}"));
        let mut one = alert("00000000000000e1", &json!("ignored:9100"));
        one["labels"]["priority"] = json!("critical");
        one["labels"]["host"] = json!("db-7");
        let reply =
            client.unauthenticated().post(&format!("/v1/event/prometheus/{key}"), &notification(vec![one])).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let project = ProjectId::parse("p-prom-e").unwrap();
        let stored =
            alarms::get_alarm(backend.store.as_ref(), &project, id, "00000000000000e1").await.unwrap().unwrap();
        assert_eq!(stored.value.last.alarm_level, AlarmLevel::Critical, "{name}: by priority, not severity=warning");
        assert_eq!(stored.value.last.resource_name.as_deref(), Some("db-7"), "{name}");
        assert!(stored.value.incident_num.is_some(), "{name}: Critical opens an incident");
    }
}
