//! Notification delivery end to end on both adapters: real receivers on
//! loopback (an SMTP server, chat robot endpoints that check signatures as the
//! vendors do) and the real queue consumer; what is sent, retried, given up.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coc_runtime::adapters::robots::{Resolver, RobotSender, ROBOT_TIMEOUT};
use coc_runtime::adapters::smtp::SmtpTls;
use coc_shared::adapters::outbox::Outbox;
use coc_shared::domain::engineer::webhook::AllowedHosts;
use coc_shared::domain::notification::{Channel, DeliveryStatus, Destination};
use coc_shared::notify::config::DeliveryConfig;
use coc_shared::notify::senders::Senders;
use coc_shared::notify::sweep::sweep;
use coc_shared::notify::Recipient;
use coc_tests::backends;
use coc_tests::notify_fixtures::*;
use coc_tests::receivers::Receiver;

fn address(channel: Channel, address: &str) -> Recipient<'static> {
    Recipient::Address(Destination { channel, address: address.into(), sealed_key: None })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_the_smtp_server_with_subject_text_and_link() {
    for backend in backends().await {
        let smtp = Receiver::smtp();
        let senders = mail_senders(&smtp_config(smtp.port, SmtpTls::None, None));
        let run = Delivering::with_senders(&backend, senders);
        let notification = run.send(address(Channel::Email, "alice@example.com"), "[COC] IM1 assigned to you").await;
        let delivery = &notification.deliveries[0];
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 1), "{}: {delivery:?}", run.backend);
        let mails = smtp.wait_for(WAIT, |m| !m.is_empty()).await;
        assert_eq!(mails.len(), 1, "{}", run.backend);
        assert_eq!(mails[0]["to"], serde_json::json!(["alice@example.com"]));
        assert_eq!(mails[0]["subject"], "[COC] IM1 assigned to you");
        let expected_id = format!("<{}@example.com>", notification.notification_id);
        assert_eq!(mails[0]["headers"]["Message-ID"], expected_id.as_str(), "{}", run.backend);
        let body = mails[0]["body"].as_str().unwrap();
        assert!(body.contains("Incident IM1 (P1) is assigned to you."), "{body}");
        assert!(body.contains("https://coc.example.com/v1/external/incident/IM1"), "{body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_robot_messages_are_accepted_and_a_wrong_key_fails_alone() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let run = Delivering::start(&backend, robots_deliverer(&robots));
        engineer_with_robots(
            &run.app,
            "right",
            &[
                (Channel::Dingtalk, robots.url("/dingtalk/right?access_token=t1"), Some(DINGTALK_SECRET)),
                (Channel::Lark, robots.url("/lark/right"), Some(LARK_SECRET)),
                (Channel::Wecom, robots.url("/wecom/right?key=k1"), None),
            ],
        )
        .await;
        engineer_with_robots(
            &run.app,
            "wrong",
            &[
                (Channel::Dingtalk, robots.url("/dingtalk/wrong?access_token=t2"), Some("SECnot-the-key")),
                (Channel::Lark, robots.url("/lark/wrong"), Some("not-the-key")),
            ],
        )
        .await;
        let (right, wrong) =
            tokio::join!(run.send(Recipient::Engineer("right"), "IM1"), run.send(Recipient::Engineer("wrong"), "IM1"));

        for delivery in &right.deliveries {
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Sent, 1),
                "{}: {delivery:?}",
                run.backend
            );
        }
        for (channel, code) in [(Channel::Dingtalk, "310000"), (Channel::Lark, "19021")] {
            let delivery = delivery_of(&wrong, channel);
            // The vendor's refusal of the signature does not pass: failed at once, not retried.
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Failed, 1),
                "{}: {delivery:?}",
                run.backend
            );
            let error = delivery.last_error.as_deref().unwrap_or_default();
            assert!(error.contains(code), "{}: {channel:?}: {error}", run.backend);
        }
        let received = robots.received();
        let accepted: Vec<&str> =
            received.iter().filter(|r| r["accepted"] == true).map(|r| r["path"].as_str().unwrap()).collect();
        assert_eq!(accepted.len(), 3, "{}: {received:?}", run.backend);
        for path in ["/dingtalk/right", "/lark/right", "/wecom/right"] {
            assert!(accepted.contains(&path), "{}: {path} in {accepted:?}", run.backend);
        }
        let text = received.iter().find(|r| r["path"] == "/lark/right").unwrap()["text"].as_str().unwrap().to_owned();
        assert!(text.starts_with("IM1\nIncident IM1 (P1) is assigned to you."), "{text}");
        assert!(text.ends_with("https://coc.example.com/v1/external/incident/IM1"), "{text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_failing_twice_is_sent_on_the_third_attempt() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let run = Delivering::start(&backend, robots_deliverer(&robots));
        engineer_with_robots(&run.app, "flaky", &[(Channel::Wecom, robots.url("/wecom/fail-2?key=k"), None)]).await;
        let notification = run.send(Recipient::Engineer("flaky"), "IM1").await;
        let delivery = &notification.deliveries[0];
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 3), "{}: {delivery:?}", run.backend);
        assert!(delivery.last_error.as_deref().unwrap_or_default().contains("500"), "{delivery:?}");
        let tries: Vec<bool> = robots.received().iter().map(|r| r["accepted"] == true).collect();
        assert_eq!(tries, [false, false, true], "{}", run.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_that_never_answers_fails_after_the_bound_and_spares_the_others() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let run = Delivering::start(&backend, robots_deliverer(&robots));
        engineer_with_robots(
            &run.app,
            "half",
            &[
                (Channel::Wecom, robots.url("/wecom/down?key=k"), None),
                (Channel::Dingtalk, robots.url("/dingtalk/fine?access_token=t"), Some(DINGTALK_SECRET)),
            ],
        )
        .await;
        let notification = run.send(Recipient::Engineer("half"), "IM1").await;
        let down = delivery_of(&notification, Channel::Wecom);
        assert_eq!(
            (down.status, down.attempts),
            (DeliveryStatus::Failed, quick().max_attempts),
            "{}: {down:?}",
            run.backend
        );
        assert!(down.last_error.as_deref().unwrap_or_default().contains("500"), "{down:?}");
        let fine = delivery_of(&notification, Channel::Dingtalk);
        assert_eq!((fine.status, fine.attempts), (DeliveryStatus::Sent, 1), "{}: {fine:?}", run.backend);
        let to_down = robots.received().iter().filter(|r| r["path"] == "/wecom/down").count();
        assert_eq!(to_down, quick().max_attempts as usize, "{}: one request per attempt", run.backend);
        // Given up: nothing is pending, so the sweep has nothing to re-queue.
        assert_eq!(sweep(&run.app, &DeliveryConfig { sweep_grace: Duration::ZERO, ..quick() }).await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_and_voice_messages_are_lines_in_their_outboxes() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let sms = Outbox::in_data_dir(dir.path(), "sms.jsonl");
        let voice = Outbox::in_data_dir(dir.path(), "voice.jsonl");
        let senders = Senders { sms: Arc::new(sms.clone()), voice: Arc::new(voice.clone()), ..Senders::unconfigured() };
        let run = Delivering::with_senders(&backend, senders);
        for (channel, outbox) in [(Channel::Sms, &sms), (Channel::Voice, &voice)] {
            let notification = run.send(address(channel, "+8613800001234"), "IM1").await;
            assert_eq!(notification.deliveries[0].status, DeliveryStatus::Sent, "{}", run.backend);
            let text = std::fs::read_to_string(outbox.path()).unwrap();
            let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(lines.len(), 1, "{channel:?}: {text}");
            assert_eq!(lines[0]["to"], "+8613800001234");
            assert_eq!(lines[0]["channel"], serde_json::to_value(channel).unwrap());
            assert_eq!(lines[0]["notification_id"], notification.notification_id.as_str());
            assert!(lines[0]["text"].as_str().unwrap().contains("https://coc.example.com/v1/external/incident/IM1"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_nothing_serves_fails_with_a_clear_error() {
    for backend in backends().await {
        let run = Delivering::with_senders(&backend, Senders::unconfigured());
        let delivery = run.send(address(Channel::Email, "bob@example.com"), "IM1").await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}", run.backend);
        assert!(delivery.last_error.unwrap().contains("COC_SMTP_HOST"), "{}", run.backend);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_the_policy_no_longer_allows_is_refused_at_send_time() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        // The engineer saved the webhook while its host was allow-listed; the
        // consumer's list no longer has it.
        let senders = Senders {
            robots: Arc::new(RobotSender::new(AllowedHosts::none(), ROBOT_TIMEOUT)),
            ..Senders::unconfigured()
        };
        let run = Delivering::with_senders(&backend, senders);
        engineer_with_robots(&run.app, "moved", &[(Channel::Wecom, robots.url("/wecom/moved?key=k"), None)]).await;
        let delivery = run.send(Recipient::Engineer("moved"), "IM1").await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}: {delivery:?}", run.backend);
        assert!(delivery.last_error.unwrap_or_default().contains("webhook refused"), "{}", run.backend);
        assert!(robots.received().is_empty(), "{}: nothing reached the host", run.backend);
    }
}

/// A resolver that answers every name with one address (DNS pointed at an
/// internal address, as a rebinding attacker would), counting its lookups.
struct PointedAt {
    address: SocketAddr,
    lookups: AtomicUsize,
}

#[async_trait]
impl Resolver for PointedAt {
    async fn lookup(&self, _host: &str, _port: u16) -> std::io::Result<Vec<SocketAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        Ok(vec![self.address])
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_host_that_resolves_to_loopback_is_refused_and_never_connected_to() {
    for backend in backends().await {
        // What the post would reach if the check let it through: a listener
        // on loopback that counts every connection it accepts.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let accepting = tokio::spawn(async move {
            while listener.accept().await.is_ok() {
                counted.fetch_add(1, Ordering::SeqCst);
            }
        });
        let resolver = Arc::new(PointedAt { address, lookups: AtomicUsize::new(0) });
        // No allow-list: the vendor's own host is the only one permitted.
        let robots = RobotSender::new(AllowedHosts::none(), ROBOT_TIMEOUT).with_resolver(resolver.clone());
        let run = Delivering::with_senders(&backend, Senders { robots: Arc::new(robots), ..Senders::unconfigured() });
        engineer_with_robots(
            &run.app,
            "rebound",
            &[(Channel::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=t".into(), Some(DINGTALK_SECRET))],
        )
        .await;
        let delivery = run.send(Recipient::Engineer("rebound"), "IM1").await.deliveries[0].clone();
        // Refused for good: the name will keep resolving there.
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}: {delivery:?}", run.backend);
        let error = delivery.last_error.unwrap_or_default();
        assert_eq!(error, "oapi.dingtalk.com resolves to an internal address; refused", "{}", run.backend);
        assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1, "{}: the name was looked up", run.backend);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(connections.load(Ordering::SeqCst), 0, "{}: nothing connected to {address}", run.backend);
        accepting.abort();
    }
}
