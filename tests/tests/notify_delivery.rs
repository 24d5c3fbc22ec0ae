//! Notification delivery end to end on both adapters: real receivers on
//! loopback (an SMTP server, chat robot endpoints that check signatures as the
//! vendors do) and the real queue consumer; what is sent, retried, given up.

use std::sync::Arc;
use std::time::Duration;

use coc_shared::adapters::outbox::Outbox;
use coc_shared::adapters::robots::{RobotSender, ROBOT_TIMEOUT};
use coc_shared::adapters::smtp::{SmtpConfig, SmtpSender, SmtpTls};
use coc_shared::domain::engineer::webhook::AllowedHosts;
use coc_shared::domain::notification::{Channel, DeliveryStatus, Destination};
use coc_shared::notify::config::DeliveryConfig;
use coc_shared::notify::consumer::run_consumer;
use coc_shared::notify::deliver::Deliverer;
use coc_shared::notify::senders::Senders;
use coc_shared::notify::sweep::sweep;
use coc_shared::notify::{self, Recipient};
use coc_tests::backends;
use coc_tests::notify_fixtures::*;
use coc_tests::receivers::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_reaches_the_smtp_server_with_subject_text_and_link() {
    for backend in backends().await {
        let smtp = Receiver::smtp();
        let app = backend.app();
        let config = SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port,
            tls: SmtpTls::None,
            user: None,
            password: None,
            from: "COC <coc@example.com>".into(),
            timeout: Duration::from_secs(10),
        };
        let senders = Senders { email: Arc::new(SmtpSender::new(&config).unwrap()), ..Senders::unconfigured() };
        let consumer = tokio::spawn(run_consumer(app.clone(), Deliverer { senders, config: quick() }));
        let to = Destination { channel: Channel::Email, address: "alice@example.com".into(), sealed_key: None };
        let id = notify::send(&app, &project(), Recipient::Address(to), message("[COC] IM1 assigned to you"))
            .await
            .unwrap()
            .expect("a notification");
        let notification = final_notification(&app, &id).await;
        let delivery = &notification.deliveries[0];
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 1), "{}: {delivery:?}", backend.name);
        let mails = smtp.wait_for(WAIT, |m| !m.is_empty()).await;
        assert_eq!(mails.len(), 1, "{}", backend.name);
        assert_eq!(mails[0]["to"], serde_json::json!(["alice@example.com"]));
        assert_eq!(mails[0]["subject"], "[COC] IM1 assigned to you");
        let body = mails[0]["body"].as_str().unwrap();
        assert!(body.contains("Incident IM1 (P1) is assigned to you."), "{body}");
        assert!(body.contains("https://coc.example.com/v1/external/incident/IM1"), "{body}");
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_robot_messages_are_accepted_and_a_wrong_key_fails_alone() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        let consumer = tokio::spawn(run_consumer(app.clone(), robots_deliverer(&robots)));
        engineer_with_robots(
            &app,
            "right",
            &[
                (Channel::Dingtalk, robots.url("/dingtalk/right?access_token=t1"), Some(DINGTALK_SECRET)),
                (Channel::Lark, robots.url("/lark/right"), Some(LARK_SECRET)),
                (Channel::Wecom, robots.url("/wecom/right?key=k1"), None),
            ],
        )
        .await;
        engineer_with_robots(
            &app,
            "wrong",
            &[
                (Channel::Dingtalk, robots.url("/dingtalk/wrong?access_token=t2"), Some("SECnot-the-key")),
                (Channel::Lark, robots.url("/lark/wrong"), Some("not-the-key")),
            ],
        )
        .await;
        let right =
            notify::send(&app, &project(), Recipient::Engineer("right"), message("IM1")).await.unwrap().unwrap();
        let wrong =
            notify::send(&app, &project(), Recipient::Engineer("wrong"), message("IM1")).await.unwrap().unwrap();

        let right = final_notification(&app, &right).await;
        for delivery in &right.deliveries {
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Sent, 1),
                "{}: {delivery:?}",
                backend.name
            );
        }
        let wrong = final_notification(&app, &wrong).await;
        for (channel, code) in [(Channel::Dingtalk, "310000"), (Channel::Lark, "19021")] {
            let delivery = delivery_of(&wrong, channel);
            // The vendor's refusal of the signature does not pass: failed at once, not retried.
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Failed, 1),
                "{}: {delivery:?}",
                backend.name
            );
            let error = delivery.last_error.as_deref().unwrap_or_default();
            assert!(error.contains(code), "{}: {channel:?}: {error}", backend.name);
        }
        let received = robots.received();
        let accepted: Vec<&str> =
            received.iter().filter(|r| r["accepted"] == true).map(|r| r["path"].as_str().unwrap()).collect();
        assert_eq!(accepted.len(), 3, "{}: {received:?}", backend.name);
        for path in ["/dingtalk/right", "/lark/right", "/wecom/right"] {
            assert!(accepted.contains(&path), "{}: {path} in {accepted:?}", backend.name);
        }
        let text = received.iter().find(|r| r["path"] == "/lark/right").unwrap()["text"].as_str().unwrap().to_owned();
        assert!(text.starts_with("IM1\nIncident IM1 (P1) is assigned to you."), "{text}");
        assert!(text.ends_with("https://coc.example.com/v1/external/incident/IM1"), "{text}");
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_failing_twice_is_sent_on_the_third_attempt() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        let consumer = tokio::spawn(run_consumer(app.clone(), robots_deliverer(&robots)));
        engineer_with_robots(&app, "flaky", &[(Channel::Wecom, robots.url("/wecom/fail-2?key=k"), None)]).await;
        let id = notify::send(&app, &project(), Recipient::Engineer("flaky"), message("IM1")).await.unwrap().unwrap();
        let notification = final_notification(&app, &id).await;
        let delivery = &notification.deliveries[0];
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 3), "{}: {delivery:?}", backend.name);
        assert!(delivery.last_error.as_deref().unwrap_or_default().contains("500"), "{delivery:?}");
        let tries: Vec<bool> = robots.received().iter().map(|r| r["accepted"] == true).collect();
        assert_eq!(tries, [false, false, true], "{}", backend.name);
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_that_never_answers_fails_after_the_bound_and_spares_the_others() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        let consumer = tokio::spawn(run_consumer(app.clone(), robots_deliverer(&robots)));
        engineer_with_robots(
            &app,
            "half",
            &[
                (Channel::Wecom, robots.url("/wecom/down?key=k"), None),
                (Channel::Dingtalk, robots.url("/dingtalk/fine?access_token=t"), Some(DINGTALK_SECRET)),
            ],
        )
        .await;
        let id = notify::send(&app, &project(), Recipient::Engineer("half"), message("IM1")).await.unwrap().unwrap();
        let notification = final_notification(&app, &id).await;
        let down = delivery_of(&notification, Channel::Wecom);
        assert_eq!(
            (down.status, down.attempts),
            (DeliveryStatus::Failed, quick().max_attempts),
            "{}: {down:?}",
            backend.name
        );
        assert!(down.last_error.as_deref().unwrap_or_default().contains("500"), "{down:?}");
        let fine = delivery_of(&notification, Channel::Dingtalk);
        assert_eq!((fine.status, fine.attempts), (DeliveryStatus::Sent, 1), "{}: {fine:?}", backend.name);
        let to_down = robots.received().iter().filter(|r| r["path"] == "/wecom/down").count();
        assert_eq!(to_down, quick().max_attempts as usize, "{}: one request per attempt", backend.name);
        // Given up: nothing is pending, so the sweep has nothing to re-queue.
        assert_eq!(sweep(&app, &DeliveryConfig { sweep_grace: Duration::ZERO, ..quick() }).await.unwrap(), 0);
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_message_is_a_line_in_the_sms_outbox() {
    for backend in backends().await {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::in_data_dir(dir.path(), "sms.jsonl");
        let app = backend.app();
        let senders = Senders { sms: Arc::new(outbox.clone()), ..Senders::unconfigured() };
        let consumer = tokio::spawn(run_consumer(app.clone(), Deliverer { senders, config: quick() }));
        let to = Destination { channel: Channel::Sms, address: "+8613800001234".into(), sealed_key: None };
        let id = notify::send(&app, &project(), Recipient::Address(to), message("IM1")).await.unwrap().unwrap();
        let notification = final_notification(&app, &id).await;
        assert_eq!(notification.deliveries[0].status, DeliveryStatus::Sent, "{}", backend.name);
        let text = std::fs::read_to_string(outbox.path()).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0]["to"], "+8613800001234");
        assert_eq!(lines[0]["channel"], "SMS");
        assert_eq!(lines[0]["notification_id"], id.as_str());
        assert!(lines[0]["text"].as_str().unwrap().contains("https://coc.example.com/v1/external/incident/IM1"));
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_nothing_serves_fails_with_a_clear_error() {
    for backend in backends().await {
        let app = backend.app();
        let consumer =
            tokio::spawn(run_consumer(app.clone(), Deliverer { senders: Senders::unconfigured(), config: quick() }));
        let to = Destination { channel: Channel::Email, address: "bob@example.com".into(), sealed_key: None };
        let id = notify::send(&app, &project(), Recipient::Address(to), message("IM1")).await.unwrap().unwrap();
        let delivery = final_notification(&app, &id).await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}", backend.name);
        assert!(delivery.last_error.unwrap().contains("COC_SMTP_HOST"), "{}", backend.name);
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_the_policy_no_longer_allows_is_refused_at_send_time() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        // The engineer saved the webhook while its host was allow-listed; the
        // consumer's list no longer has it.
        let deliverer = Deliverer {
            senders: Senders {
                robots: Arc::new(RobotSender::new(AllowedHosts::none(), ROBOT_TIMEOUT)),
                ..Senders::unconfigured()
            },
            config: quick(),
        };
        let consumer = tokio::spawn(run_consumer(app.clone(), deliverer));
        engineer_with_robots(&app, "moved", &[(Channel::Wecom, robots.url("/wecom/moved?key=k"), None)]).await;
        let id = notify::send(&app, &project(), Recipient::Engineer("moved"), message("IM1")).await.unwrap().unwrap();
        let delivery = final_notification(&app, &id).await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Failed, 1), "{}: {delivery:?}", backend.name);
        assert!(delivery.last_error.unwrap_or_default().contains("webhook refused"), "{}", backend.name);
        assert!(robots.received().is_empty(), "{}: nothing reached the host", backend.name);
        consumer.abort();
    }
}
