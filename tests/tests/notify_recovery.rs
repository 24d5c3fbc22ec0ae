//! Delivery that nothing lost can break, on both adapters: a message handled
//! twice sends once, the sweep re-queues what a crash left behind, and an
//! attempt lost with its consumer is made again (and a mail sent again then
//! keeps its Message-ID).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use coc_runtime::adapters::smtp::SmtpTls;
use coc_shared::App;

use coc_shared::clock::Clock;
use coc_shared::domain::notification::{Channel, DeliveryStatus};
use coc_shared::notify::consumer::{handle_message, run_consumer};
use coc_shared::notify::deliver::{Deliverer, Handled};
use coc_shared::notify::sweep::sweep;
use coc_shared::notify::{self, Recipient};
use coc_shared::ports::{StoreError, WriteOp};
use coc_shared::repositories::notifications;
use coc_tests::backends;
use coc_tests::hooked::{HookedStore, WriteHook};
use coc_tests::notify_fixtures::*;
use coc_tests::receivers::Receiver;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_message_sends_nothing_twice() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        let deliverer = robots_deliverer(&robots);
        engineer_with_robots(&app, "once", &[(Channel::Wecom, robots.url("/wecom/once?key=k"), None)]).await;
        notify::send(&app, &project(), Recipient::Engineer("once"), message("IM1")).await.unwrap().unwrap();
        let messages = app.notify_queue.receive(10, Duration::from_secs(5)).await.unwrap();
        assert_eq!(messages.len(), 1, "{}", backend.name);
        let body = &messages[0].body;
        // The same message to two consumers at once, then once more later.
        let (first, second) =
            tokio::join!(handle_message(&app, &deliverer, body), handle_message(&app, &deliverer, body));
        let mut outcomes = vec![first.unwrap(), second.unwrap()];
        outcomes.push(handle_message(&app, &deliverer, body).await.unwrap());
        assert_eq!(outcomes.iter().filter(|h| **h == Handled::Sent).count(), 1, "{}: {outcomes:?}", backend.name);
        assert!(
            outcomes.iter().filter(|h| **h != Handled::Sent).all(|h| matches!(h, Handled::Skipped(_))),
            "{outcomes:?}"
        );
        let received = robots.wait_for(Duration::from_millis(300), |r| r.len() > 1).await;
        assert_eq!(received.len(), 1, "{}: sent once: {received:?}", backend.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_requeues_a_notification_whose_dispatch_was_lost() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let clock = Clock::manual(1_800_000_000_000);
        let app = backend.app().with_clock(clock.clone());
        let deliverer = robots_deliverer(&robots);
        engineer_with_robots(&app, "lost", &[(Channel::Wecom, robots.url("/wecom/lost?key=k"), None)]).await;
        // Saved, then the process stops before `dispatch`.
        let outgoing =
            notify::prepare(&app, &project(), Recipient::Engineer("lost"), message("IM1")).await.unwrap().unwrap();
        app.store.write(outgoing.ops.clone()).await.unwrap();
        let id = outgoing.notification.notification_id.clone();

        assert_eq!(sweep(&app, &deliverer.config).await.unwrap(), 0, "{}: not overdue yet", backend.name);
        clock.advance(deliverer.config.sweep_grace.as_millis() as i64);
        assert_eq!(sweep(&app, &deliverer.config).await.unwrap(), 1, "{}: overdue: re-queued", backend.name);
        let consumer = tokio::spawn(run_consumer(app.clone(), deliverer.clone()));
        let notification = final_notification(&app, &id).await;
        assert_eq!(notification.deliveries[0].status, DeliveryStatus::Sent, "{}", backend.name);
        assert_eq!(robots.received().len(), 1, "{}", backend.name);
        // Sent: it left the pending list.
        clock.advance(deliverer.config.sweep_grace.as_millis() as i64);
        assert_eq!(sweep(&app, &deliverer.config).await.unwrap(), 0, "{}", backend.name);
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_lost_with_its_consumer_is_made_again_after_the_claim_timeout() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let clock = Clock::manual(1_800_000_000_000);
        let app = backend.app().with_clock(clock.clone());
        let deliverer = robots_deliverer(&robots);
        engineer_with_robots(&app, "crash", &[(Channel::Wecom, robots.url("/wecom/crash?key=k"), None)]).await;
        let outgoing =
            notify::prepare(&app, &project(), Recipient::Engineer("crash"), message("IM1")).await.unwrap().unwrap();
        app.store.write(outgoing.ops.clone()).await.unwrap();
        let id = outgoing.notification.notification_id.clone();
        // A consumer claimed the first attempt, then died before sending (or recording).
        let read = notifications::get(app.store.as_ref(), &project(), &id).await.unwrap().unwrap();
        let mut claimed = read.value.clone();
        claimed.deliveries[0].attempts = 1;
        claimed.deliveries[0].claimed_at = Some(clock.now_ms());
        notifications::replace(app.store.as_ref(), &claimed, read.version).await.unwrap();

        // Its message comes back: the claim is still live, so nobody sends.
        notify::dispatch(&app, &outgoing).await.unwrap();
        let messages = app.notify_queue.receive(10, Duration::from_secs(5)).await.unwrap();
        let body = messages[0].body.clone();
        app.notify_queue.delete(&messages[0].receipt).await.unwrap();
        let handled = handle_message(&app, &deliverer, &body).await.unwrap();
        assert_eq!(handled, Handled::Skipped("another consumer is sending"), "{}", backend.name);
        assert_eq!(sweep(&app, &deliverer.config).await.unwrap(), 0, "{}: the claim is live", backend.name);

        // Past the claim timeout the attempt counts as lost: the sweep re-queues it, and it is made again.
        clock.advance(deliverer.config.claim_timeout.as_millis() as i64);
        assert_eq!(sweep(&app, &deliverer.config).await.unwrap(), 1, "{}", backend.name);
        let consumer = tokio::spawn(run_consumer(app.clone(), deliverer.clone()));
        let delivery = final_notification(&app, &id).await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 2), "{}: {delivery:?}", backend.name);
        assert_eq!(robots.received().len(), 1, "{}", backend.name);
        assert!(delivery.last_error.as_deref().unwrap_or_default().contains("attempt 1 was lost"), "{delivery:?}");
        consumer.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_duplicates_of_every_delivery_send_each_once() {
    for backend in backends().await {
        let robots = Receiver::robots(DINGTALK_SECRET, LARK_SECRET);
        let app = backend.app();
        let deliverer = robots_deliverer(&robots);
        engineer_with_robots(
            &app,
            "raced",
            &[
                (Channel::Wecom, robots.url("/wecom/raced?key=k"), None),
                (Channel::Dingtalk, robots.url("/dingtalk/raced?access_token=t"), Some(DINGTALK_SECRET)),
                (Channel::Lark, robots.url("/lark/raced"), Some(LARK_SECRET)),
            ],
        )
        .await;
        let outgoing =
            notify::prepare(&app, &project(), Recipient::Engineer("raced"), message("IM1")).await.unwrap().unwrap();
        app.store.write(outgoing.ops.clone()).await.unwrap();
        // Four copies of each delivery's message, all handled at once: the
        // three deliveries contend for the one notification item, and each
        // delivery's copies for its claim.
        let mut bodies = Vec::new();
        for _ in 0..4 {
            notify::dispatch(&app, &outgoing).await.unwrap();
        }
        while bodies.len() < 12 {
            let messages = app.notify_queue.receive(10, Duration::from_secs(5)).await.unwrap();
            assert!(!messages.is_empty(), "{}: all 12 messages arrive", backend.name);
            bodies.extend(messages.into_iter().map(|m| m.body));
        }
        let mut racers = tokio::task::JoinSet::new();
        for body in bodies {
            let (app, deliverer) = (app.clone(), deliverer.clone());
            racers.spawn(async move { handle_message(&app, &deliverer, &body).await.unwrap() });
        }
        let mut sent = 0;
        while let Some(handled) = racers.join_next().await {
            sent += usize::from(handled.unwrap() == Handled::Sent);
        }
        assert_eq!(sent, 3, "{}: one send per delivery", backend.name);
        let id = &outgoing.notification.notification_id;
        for delivery in &final_notification(&app, id).await.deliveries {
            assert_eq!(
                (delivery.status, delivery.attempts),
                (DeliveryStatus::Sent, 1),
                "{}: {delivery:?}",
                backend.name
            );
        }
        let received = robots.wait_for(Duration::from_millis(300), |r| r.len() > 3).await;
        assert_eq!(received.len(), 3, "{}: {received:?}", backend.name);
    }
}

/// Lets the first `allowed` writes through and refuses every later one: the
/// consumer "dies" after its claim, before it records what it sent.
struct DiesAfter {
    allowed: usize,
    writes: AtomicUsize,
}

#[async_trait]
impl WriteHook for DiesAfter {
    async fn before_write(&self, _ops: &[WriteOp]) -> Result<(), StoreError> {
        if self.writes.fetch_add(1, Ordering::SeqCst) < self.allowed {
            Ok(())
        } else {
            Err(StoreError::Backend("the consumer stopped".into()))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mail_sent_before_its_consumer_died_is_sent_again_with_the_same_message_id() {
    for backend in backends().await {
        let smtp = Receiver::smtp();
        let clock = Clock::manual(1_800_000_000_000);
        let app = backend.app().with_clock(clock.clone());
        let senders = mail_senders(&smtp_config(smtp.port, SmtpTls::None, None));
        let deliverer = Deliverer { senders, config: quick() };
        let to = coc_shared::domain::notification::Destination {
            channel: Channel::Email,
            address: "alice@example.com".into(),
            sealed_key: None,
        };
        let id = notify::send(&app, &project(), Recipient::Address(to), message("IM1")).await.unwrap().unwrap();
        let messages = app.notify_queue.receive(10, Duration::from_secs(5)).await.unwrap();
        let body = messages[0].body.clone();

        // The first consumer claims (its one write), sends, and cannot record.
        let dying_store = Arc::new(HookedStore::new(app.store.clone(), DiesAfter { allowed: 1, writes: 0.into() }));
        let dying = App { store: dying_store, ..app.clone() };
        assert!(handle_message(&dying, &deliverer, &body).await.is_err(), "{}: the record was refused", backend.name);
        assert_eq!(smtp.wait_for(WAIT, |m| !m.is_empty()).await.len(), 1, "{}", backend.name);

        // Its claim outlives it; once stale, the sweep re-queues the delivery and a live consumer sends again.
        clock.advance(deliverer.config.claim_timeout.as_millis() as i64);
        assert!(sweep(&app, &deliverer.config).await.unwrap() >= 1, "{}", backend.name);
        let consumer = tokio::spawn(run_consumer(app.clone(), deliverer.clone()));
        let delivery = final_notification(&app, &id).await.deliveries[0].clone();
        assert_eq!((delivery.status, delivery.attempts), (DeliveryStatus::Sent, 2), "{}: {delivery:?}", backend.name);
        consumer.abort();

        // At least once: the receiver has it twice, as one message (one Message-ID).
        let mails = smtp.wait_for(WAIT, |m| m.len() >= 2).await;
        assert_eq!(mails.len(), 2, "{}: {mails:?}", backend.name);
        let ids: Vec<&str> = mails.iter().map(|m| m["headers"]["Message-ID"].as_str().unwrap_or_default()).collect();
        assert_eq!(ids[0], format!("<{id}@example.com>"), "{}", backend.name);
        assert_eq!(ids[0], ids[1], "{}", backend.name);
    }
}
