//! SMS on AWS: the SNS sender publishes to a phone number, checked against
//! moto's SNS (the local AWS server the SQS tests use), which records every
//! SMS it was asked to send.

use std::sync::Arc;

use coc_runtime::adapters::sns::SnsSms;
use coc_shared::domain::notification::{Channel, DeliveryStatus, Destination};
use coc_shared::notify::consumer::run_consumer;
use coc_shared::notify::deliver::Deliverer;
use coc_shared::notify::senders::Senders;
use coc_shared::notify::{self, Recipient};
use coc_tests::notify_fixtures::*;
use coc_tests::sqlite_backend;

/// moto's endpoint: `AWS_ENDPOINT_URL_SNS`, else the SQS one (one moto server serves both).
fn moto_endpoint() -> Option<String> {
    let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    set("AWS_ENDPOINT_URL_SNS").or_else(|| set("AWS_ENDPOINT_URL_SQS"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_message_goes_out_through_sns_publish() {
    let Some(endpoint) = moto_endpoint() else {
        assert!(std::env::var("COC_REQUIRE_AWS_LOCAL").as_deref() != Ok("1"), "moto is required");
        eprintln!("skipped: no local AWS server configured");
        return;
    };
    let config = aws_config::load_from_env().await;
    let client =
        aws_sdk_sns::Client::from_conf(aws_sdk_sns::config::Builder::from(&config).endpoint_url(&endpoint).build());
    let backend = sqlite_backend();
    let app = backend.app();
    let senders = Senders { sms: Arc::new(SnsSms::new(client)), ..Senders::unconfigured() };
    let consumer = tokio::spawn(run_consumer(app.clone(), Deliverer { senders, config: quick() }));
    // A number of this run only, to find its message among the server's.
    let number = format!("+86138{:08}", uuid::Uuid::new_v4().as_u128() % 100_000_000);
    let to = Destination { channel: Channel::Sms, address: number.clone(), sealed_key: None };
    let id = notify::send(&app, &project(), Recipient::Address(to), message("IM1")).await.unwrap().unwrap();
    let delivery = final_notification(&app, &id).await.deliveries[0].clone();
    assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 1), "{delivery:?}");

    let data: serde_json::Value =
        reqwest::get(format!("{endpoint}/moto-api/data.json")).await.unwrap().json().await.unwrap();
    let sent: Vec<&serde_json::Value> =
        data["sns"]["SMS"].as_array().unwrap().iter().filter(|m| m["phone_number"] == number.as_str()).collect();
    assert_eq!(sent.len(), 1, "{number}: {}", data["sns"]);
    let text = sent[0]["message"].as_str().unwrap();
    assert!(text.starts_with("IM1\nIncident IM1 (P1) is assigned to you."), "{text}");
    assert!(text.ends_with("https://coc.example.com/v1/external/incident/IM1"), "{text}");
    consumer.abort();
}
