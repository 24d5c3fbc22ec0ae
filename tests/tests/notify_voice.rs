//! Voice calls on AWS: the Pinpoint SMS and Voice v2 sender, a real AWS SDK
//! client, against `tests/receivers/sms_voice_receiver.py` on loopback (moto
//! has no `pinpoint-sms-voice-v2`). The receiver takes only a well-formed
//! `SendVoiceMessage` whose SigV4 signature it recomputes with the secret key.

use std::sync::Arc;

use aws_sdk_pinpointsmsvoicev2::config::{BehaviorVersion, Credentials, Region};
use coc_runtime::adapters::pinpoint_voice::PinpointVoice;
use coc_shared::domain::notification::{Channel, DeliveryStatus, Destination};
use coc_shared::notify::senders::Senders;
use coc_shared::notify::Recipient;
use coc_tests::backends;
use coc_tests::notify_fixtures::*;
use coc_tests::receivers::Receiver;

const ACCESS_KEY: &str = "AKIAVOICETEST0000001";
const SECRET_KEY: &str = "voice-test-secret-key";
const REGION: &str = "eu-west-1";
const ORIGIN: &str = "+12065550100";

fn voice_sender(receiver: &Receiver, secret_key: &str) -> PinpointVoice {
    let config = aws_sdk_pinpointsmsvoicev2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(ACCESS_KEY, secret_key, None, None, "test"))
        .endpoint_url(receiver.url(""))
        .build();
    PinpointVoice::new(aws_sdk_pinpointsmsvoicev2::Client::from_conf(config), ORIGIN.into())
}

fn voice_to(number: &str) -> Recipient<'static> {
    Recipient::Address(Destination { channel: Channel::Voice, address: number.into(), sealed_key: None })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_delivery_is_a_signed_send_voice_message_call() {
    for backend in backends().await {
        let receiver = Receiver::sms_voice(ACCESS_KEY, SECRET_KEY, REGION);
        let senders = Senders { voice: Arc::new(voice_sender(&receiver, SECRET_KEY)), ..Senders::unconfigured() };
        let run = Delivering::with_senders(&backend, senders);
        let notification = run.send(voice_to("+8613800001234"), "IM1").await;
        let delivery = &notification.deliveries[0];
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 1), "{}: {delivery:?}", backend.name);

        let calls = receiver.received();
        assert_eq!(calls.len(), 1, "{}: one call per delivery: {calls:?}", backend.name);
        assert_eq!(calls[0]["accepted"], true, "{}: {calls:?}", backend.name);
        let body = &calls[0]["body"];
        assert_eq!(body["DestinationPhoneNumber"], "+8613800001234");
        assert_eq!(body["OriginationIdentity"], ORIGIN);
        assert_eq!(body["MessageBodyTextType"], "TEXT");
        // Read out: the subject and the text, without the link.
        assert_eq!(body["MessageBody"], "IM1. Incident IM1 (P1) is assigned to you.");
        assert_eq!(body["Context"]["coc_notification_id"], notification.notification_id.as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_the_service_refuses_is_a_failed_delivery_not_retried() {
    for backend in backends().await {
        let receiver = Receiver::sms_voice(ACCESS_KEY, SECRET_KEY, REGION);
        let senders =
            Senders { voice: Arc::new(voice_sender(&receiver, "not-the-secret-key")), ..Senders::unconfigured() };
        let run = Delivering::with_senders(&backend, senders);
        let delivery = run.send(voice_to("+8613800004321"), "IM1").await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}: {delivery:?}", backend.name);
        let error = delivery.last_error.unwrap_or_default();
        assert!(error.contains("InvalidSignatureException"), "{}: {error}", backend.name);
        let calls = receiver.received();
        assert!(!calls.is_empty() && calls.iter().all(|c| c["accepted"] == false), "{}: {calls:?}", backend.name);
    }
}
