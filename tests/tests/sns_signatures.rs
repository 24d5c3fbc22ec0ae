//! SNS message signatures on `POST /v1/event/cloudwatch/{key}`, on every
//! backend: messages signed in the test (SignatureVersion 1 and 2, with a key
//! and self-signed certificate made by the `openssl` CLI) are taken; a
//! tampered message, another key, a certificate outside its validity, a
//! SigningCertURL that is not SNS's in the topic's region, an unknown
//! version: refused with 403, nothing written.

use serde_json::{json, Value};

use coc_shared::clock::{now_ms, Clock};
use coc_shared::App;
use coc_tests::sns_signing::{certificates, signer, Signer};
use coc_tests::{backends, serve, Client};

const ARN: &str = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:cpu-alarms";
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The Notification SNS posts for a CloudWatch alarm (unsigned), as the SNS
/// Developer Guide shows an HTTP/S notification's JSON, with a subject.
fn notification(message_id: &str) -> Value {
    let message = json!({
        "AlarmName": "ServerCpuTooHigh", "AlarmDescription": null, "AWSAccountId": "123456789012",
        "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed.",
        "StateChangeTime": "2019-10-02T17:04:40.989+0000", "Region": "US East (N. Virginia)", "AlarmArn": ARN,
        "OldStateValue": "OK",
        "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2",
                    "Dimensions": [{"value": "i-12345678901234567", "name": "InstanceId"}]}
    });
    json!({
        "Type": "Notification", "MessageId": message_id, "TopicArn": TOPIC,
        "Subject": "ALARM: \"ServerCpuTooHigh\" in US East (N. Virginia)", "Message": message.to_string(),
        "Timestamp": "2019-10-02T17:04:41.012Z",
        "UnsubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={TOPIC}:c9135db0")
    })
}

fn unsubscribed() -> Value {
    json!({
        "Type": "UnsubscribeConfirmation", "MessageId": "47138184-6831-46b8-8f7c-afc488602d7d", "Token": "t",
        "TopicArn": TOPIC, "Message": "You have chosen to deactivate subscription.",
        "SubscribeURL": format!("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn={TOPIC}&Token=t"),
        "Timestamp": "2012-04-26T20:06:41.581Z"
    })
}

fn signed(mut message: Value, version: &str) -> Value {
    let (signer, url) = signer();
    signer.sign(&mut message, version, url);
    message
}

/// A server on `app` with an integration in `project`: the client, the intake's path, the integration id.
async fn setup(
    app: App,
    store: std::sync::Arc<dyn coc_shared::ports::Store>,
    project: &str,
) -> (Client, String, String) {
    certificates();
    let client = Client::new(&serve(app).await, store, project).await;
    client.sync_engineers(&[]).await;
    let reply = client.post("/v1/integrations", &json!({"name": "cloudwatch"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = &reply.body["data"];
    let path = format!("/v1/event/cloudwatch/{}", data["integration_key"].as_str().unwrap());
    (client, path, data["integration_id"].as_str().unwrap().to_owned())
}

async fn post(client: &Client, path: &str, body: &Value) -> coc_tests::Reply {
    client.unauthenticated().send("POST", path, Some(body.to_string())).await
}

async fn alarms(client: &Client, integration: &str) -> Value {
    let listed = client.get(&format!("/v1/integrations/{integration}/alarms")).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    listed.body["count"].clone()
}

fn refused(reply: &coc_tests::Reply, why: &str, context: &str) {
    assert_eq!(reply.status, 403, "{context}: {}", reply.body);
    assert_eq!(reply.error_code(), "common.01010001", "{context}");
    assert!(reply.error_msg().contains(why), "{context}: {why:?} in {}", reply.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_signed_with_version_1_or_2_are_taken() {
    for backend in backends().await {
        let name = backend.name;
        let (client, path, id) = setup(backend.app(), backend.store.clone(), "p-sig-a").await;
        let reply = post(&client, &path, &signed(notification("1c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a11"), "1")).await;
        assert_eq!(reply.status, 200, "{name}: SHA1withRSA: {}", reply.body);
        let reply = post(&client, &path, &signed(notification("2c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a12"), "2")).await;
        assert_eq!(reply.status, 200, "{name}: SHA256withRSA: {}", reply.body);
        let mut untitled = notification("3c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a13");
        untitled.as_object_mut().unwrap().remove("Subject");
        let reply = post(&client, &path, &signed(untitled, "2")).await;
        assert_eq!(reply.status, 200, "{name}: without a Subject: {}", reply.body);
        assert_eq!(post(&client, &path, &signed(unsubscribed(), "1")).await.status, 200, "{name}");
        let listed = client.get(&format!("/v1/integrations/{id}/alarms")).await;
        assert_eq!(listed.body["data"][0]["occurrences"], 3, "{name}: {}", listed.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_messages_other_keys_and_unknown_versions_are_refused_and_write_nothing() {
    let other = Signer::new(365);
    for backend in backends().await {
        let name = backend.name;
        let (client, path, id) = setup(backend.app(), backend.store.clone(), "p-sig-b").await;
        let mismatch = "the signature does not match";
        // The message changed after signing: another state, another subject, another id.
        for (field, value) in [
            ("Message", json!(notification("x")["Message"].as_str().unwrap().replace("ALARM", "OK"))),
            ("Subject", json!("OK: all is well")),
            ("MessageId", json!("9c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a19")),
            ("Timestamp", json!("2019-10-02T17:04:42.012Z")),
        ] {
            for version in ["1", "2"] {
                let mut message = signed(notification("4c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a14"), version);
                message[field] = value.clone();
                refused(&post(&client, &path, &message).await, mismatch, &format!("{name}: {field} v{version}"));
            }
        }
        let mut dropped = signed(notification("4c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a14"), "1");
        dropped.as_object_mut().unwrap().remove("Subject");
        refused(&post(&client, &path, &dropped).await, mismatch, &format!("{name}: Subject removed"));
        // Signed with another key than the certificate's.
        let mut message = notification("5c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a15");
        other.sign(&mut message, "1", &signer().1);
        refused(&post(&client, &path, &message).await, mismatch, &format!("{name}: another key"));
        // Versions: unknown, missing, not a string; no signature.
        let good = signed(notification("6c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a16"), "1");
        for (version, why) in
            [(json!("3"), "SignatureVersion \"3\""), (json!(1), "SignatureVersion"), (Value::Null, "SignatureVersion")]
        {
            let mut message = good.clone();
            message["SignatureVersion"] = version.clone();
            refused(&post(&client, &path, &message).await, why, &format!("{name}: version {version}"));
        }
        let mut unsigned = good.clone();
        unsigned.as_object_mut().unwrap().remove("Signature");
        refused(&post(&client, &path, &unsigned).await, "Signature must be", &format!("{name}: no signature"));
        let mut garbled = good.clone();
        garbled["Signature"] = json!("not base64!");
        refused(&post(&client, &path, &garbled).await, "base64", &format!("{name}: garbled"));
        // Confirmations are signed too: a tampered SubscribeURL or Token is refused before anything is fetched.
        let mut unsubscribe = signed(unsubscribed(), "2");
        unsubscribe["Token"] = json!("another");
        refused(&post(&client, &path, &unsubscribe).await, mismatch, &format!("{name}: unsubscribe"));
        assert_eq!(alarms(&client, &id).await, 0, "{name}: nothing written");
        // The untouched message is still taken: the refusals were about the changes.
        assert_eq!(post(&client, &path, &good).await.status, 200, "{name}");
        assert_eq!(alarms(&client, &id).await, 1, "{name}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_outside_its_validity_is_refused() {
    for backend in backends().await {
        let name = backend.name;
        // The tests' certificate is valid for 365 days from now.
        for (offset, why) in [(400 * DAY_MS, "expired"), (-2 * DAY_MS, "not valid before")] {
            let app = App { clock: Clock::manual(now_ms() + offset), ..backend.app() };
            let (client, path, id) = setup(app, backend.store.clone(), &format!("p-sig-c{}", offset > 0)).await;
            let message = signed(notification("7c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a17"), "1");
            refused(&post(&client, &path, &message).await, why, &format!("{name}: {why}"));
            assert_eq!(alarms(&client, &id).await, 0, "{name}: nothing written");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_sns_certificate_urls_in_the_topic_region_are_used() {
    let (signer, _) = signer();
    for backend in backends().await {
        let name = backend.name;
        let (client, path, id) = setup(backend.app(), backend.store.clone(), "p-sig-d").await;
        for (url, why) in [
            ("http://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", "must be an https URL"),
            ("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-a.pem", "topic's region"),
            ("https://sns.us-east-1.amazonaws.com.example.com/SimpleNotificationService-a.pem", "host"),
            ("https://example.com/sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", "host"),
            ("https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-a.pem", "host"),
            ("https://x@sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem", "host"),
            ("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.txt", ".pem"),
            ("https://sns.us-east-1.amazonaws.com/a.pem?redirect=https://example.com/b.pem", "plain path"),
            ("https://sns.us-east-1.amazonaws.com/../a.pem", "plain path"),
        ] {
            // The certificate is there, so the URL alone is what is refused.
            certificates().serve_at(url, &signer.certificate_pem);
            let mut message = notification("8c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a18");
            signer.sign(&mut message, "1", url);
            refused(&post(&client, &path, &message).await, why, &format!("{name}: {url}"));
        }
        // An SNS URL that serves no certificate: SNS is asked to send the message again.
        let mut message = notification("8c5d8c4b-0b4f-5d9f-a0f4-6f1d7d9b2a18");
        signer.sign(&mut message, "1", "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-none.pem");
        let reply = post(&client, &path, &message).await;
        assert_eq!(reply.status, 503, "{name}: {}", reply.body);
        assert_eq!(alarms(&client, &id).await, 0, "{name}: nothing written");
    }
}
