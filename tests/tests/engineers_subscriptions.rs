//! Subscriptions of EMAIL, SMS and VOICE on every backend: saving an address
//! starts them and queues a confirmation (never sent inline); the link works
//! once, also when opened twice at the same moment; it expires after 48 hours
//! (a manual clock, no sleeping); a changed or cleared address ends its
//! subscriptions; a subscribe request cannot pick a confirmed channel.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use coc_shared::clock::{now_ms, Clock};
use coc_shared::adapters::sqlite::{SqliteDb, SqliteQueue};
use coc_shared::domain::notification::{Channel, DeliveryStatus, EventKind, Notification};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::limits::SUBSCRIPTION_VALIDITY_MS;
use coc_shared::notify::DeliveryTask;
use coc_shared::ports::Queue;
use coc_shared::repositories::notifications;
use coc_tests::{backends, serve, Backend, Client, Reply};

const PUBLIC_URL: &str = "https://coc.example.test";
const CONFIRM: &str = "/v1/subscriptions/confirm";

struct Setup {
    client: Client,
    clock: Clock,
    backend: Backend,
    project: ProjectId,
    /// The notification queue, of its own: nothing consumes it here.
    notify_queue: Arc<dyn Queue>,
    _queue_dir: tempfile::TempDir,
}

async fn setup(backend: Backend, project: &str) -> Setup {
    let clock = Clock::manual(now_ms());
    let queue_dir = tempfile::tempdir().unwrap();
    let notify_queue: Arc<dyn Queue> =
        Arc::new(SqliteQueue::new(SqliteDb::open_dir(queue_dir.path()).unwrap(), "notify", Duration::from_secs(60)));
    let app = backend
        .app()
        .with_clock(clock.clone())
        .with_notify_queue(notify_queue.clone())
        .with_public_url(Some(PUBLIC_URL.into()));
    let client = Client::new(&serve(app).await, backend.store.clone(), project).await;
    let added = client
        .post("/v1/engineers", &json!({"user_name": "kim", "alias": "Kim", "identity_provider": "idp"}))
        .await;
    assert_eq!(added.status, 200, "{}", added.body);
    Setup { client, clock, backend, project: ProjectId::parse(project).unwrap(), notify_queue, _queue_dir: queue_dir }
}

impl Setup {
    async fn put(&self, body: Value) -> Reply {
        // A second on, so that "the newest confirmation" is well defined.
        self.clock.advance(1000);
        let reply = self.client.put("/v1/engineers/kim", &body).await;
        assert_eq!(reply.status, 200, "{}: {}", self.backend.name, reply.body);
        reply
    }

    /// The tenant's confirmation notifications, newest first.
    async fn confirmations(&self) -> Vec<Notification> {
        let page = notifications::list(self.backend.store.as_ref(), &self.project, None, 100).await.unwrap();
        page.rows.into_iter().filter(|n| n.message.kind == EventKind::SubscriptionConfirmation).collect()
    }

    /// The token of the newest confirmation of `channel` (`EMAIL`, `SMS`, `VOICE`).
    async fn token(&self, channel: &str) -> String {
        let all = self.confirmations().await;
        let newest = all
            .iter()
            .find(|n| n.message.subject.contains(&format!(" {channel} ")))
            .unwrap_or_else(|| panic!("no {channel} confirmation among {all:?}"));
        let link = newest.message.link.clone().expect("a link");
        assert!(link.starts_with(&format!("{PUBLIC_URL}{CONFIRM}?token=")), "{link}");
        assert!(newest.message.text.contains(&link), "the text carries the link");
        link.rsplit_once("token=").unwrap().1.to_owned()
    }

    async fn confirm(&self, token: &str) -> Reply {
        self.client.unauthenticated().get(&format!("{CONFIRM}?token={token}")).await
    }

    /// Each channel's state, in the list's order EMAIL, SMS, VOICE.
    async fn states(&self) -> Vec<String> {
        let reply = self.client.get("/v1/engineers/kim/subscriptions").await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["data"].as_array().unwrap().iter().map(|s| s["state"].as_str().unwrap().to_owned()).collect()
    }
}

#[tokio::test]
async fn an_email_subscription_is_confirmed_once_by_its_link() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-email").await;
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "UNSUBSCRIBED", "UNSUBSCRIBED"]);
        let saved = s.put(json!({"email": "kim@example.com"})).await;
        assert_eq!(saved.body["data"]["subscriptions"][0]["state"], "PENDING");

        let list = s.client.get("/v1/engineers/kim/subscriptions").await;
        let email = &list.body["data"][0];
        assert_eq!(email["channel"], "EMAIL");
        assert_eq!(email["address"], "k***@example.com", "masked");
        assert_eq!(email["expires_at"].as_i64().unwrap(), s.clock.now_ms() + SUBSCRIPTION_VALIDITY_MS);
        assert_eq!(email["requested_at"].as_i64().unwrap(), s.clock.now_ms());

        // Queued through the pipeline, to the address, not sent inline.
        let confirmations = s.confirmations().await;
        assert_eq!(confirmations.len(), 1, "{}", s.backend.name);
        let delivery = &confirmations[0].deliveries[0];
        assert_eq!(delivery.destination.channel, Channel::Email);
        assert_eq!(delivery.destination.address, "kim@example.com");
        assert_eq!(confirmations[0].user_id, None, "to the address, whatever its subscription");
        assert_eq!(delivery.status, DeliveryStatus::Pending, "queued, not sent inline");
        let queued = s.notify_queue.receive(10, Duration::from_secs(1)).await.unwrap();
        let tasks: Vec<DeliveryTask> = queued.iter().map(|m| serde_json::from_str(&m.body).unwrap()).collect();
        assert!(tasks.iter().any(|t| t.notification_id == confirmations[0].notification_id), "{tasks:?}");

        let token = s.token("EMAIL").await;
        assert!(token.len() >= 32 && token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
        let confirmed = s.confirm(&token).await;
        assert_eq!(confirmed.status, 200, "{}: {}", s.backend.name, confirmed.body);
        assert_eq!(confirmed.body["data"]["state"], "CONFIRMED");
        assert_eq!(confirmed.body["data"]["channel"], "EMAIL");
        let used = s.confirm(&token).await;
        assert_eq!(used.status, 404, "{}: a link works once: {}", s.backend.name, used.body);
        assert!(used.error_msg().contains("used"), "{}", used.error_msg());
        assert_eq!(s.states().await, ["CONFIRMED", "UNSUBSCRIBED", "UNSUBSCRIBED"]);

        // Past 48 hours a confirmed subscription stays confirmed.
        s.clock.advance(SUBSCRIPTION_VALIDITY_MS * 2);
        assert_eq!(s.states().await[0], "CONFIRMED");
        let again = s.client.post("/v1/engineers/kim/subscriptions", &json!({"channels": ["EMAIL"]})).await;
        assert_eq!(again.status, 400, "{}", again.body);
        assert!(again.error_msg().contains("channels") && again.error_msg().contains("EMAIL"), "{}", again.error_msg());

        let forged = s.confirm(&"0".repeat(64)).await;
        assert_eq!(forged.status, 404);
        assert_eq!(s.confirm("not-hex").await.status, 404);
        assert_eq!(s.client.unauthenticated().get(CONFIRM).await.status, 404);
    }
}

#[tokio::test]
async fn links_expire_after_48_hours_and_a_new_subscription_can_be_requested() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-expiry").await;
        s.put(json!({"mobile": "+8613800001234"})).await;
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "PENDING", "PENDING"]);
        let confirmations = s.confirmations().await;
        assert_eq!(confirmations.len(), 2, "{}: SMS and VOICE", s.backend.name);
        for n in &confirmations {
            assert_eq!(n.deliveries[0].destination.channel, Channel::Sms, "voice is confirmed by text message too");
            assert_eq!(n.deliveries[0].destination.address, "+8613800001234");
        }
        let sms = s.token("SMS").await;
        let voice = s.token("VOICE").await;
        assert_ne!(sms, voice);

        s.clock.advance(SUBSCRIPTION_VALIDITY_MS - 1);
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "PENDING", "PENDING"], "{}: one ms before", s.backend.name);
        s.clock.advance(1);
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "EXPIRED", "EXPIRED"], "{}: at 48 hours", s.backend.name);
        let expired = s.confirm(&sms).await;
        assert_eq!(expired.status, 400, "{}: {}", s.backend.name, expired.body);
        assert!(expired.error_msg().contains("expired"), "{}", expired.error_msg());
        assert!(expired.error_msg().contains("new"), "it says a new subscription can be requested");

        s.clock.advance(1000);
        let renewed = s.client.post("/v1/engineers/kim/subscriptions", &json!({"channels": ["SMS"]})).await;
        assert_eq!(renewed.status, 200, "{}", renewed.body);
        assert_eq!(renewed.body["data"][1]["state"], "PENDING");
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "PENDING", "EXPIRED"]);
        assert_eq!(s.confirm(&sms).await.status, 404, "{}: the old link was replaced", s.backend.name);
        let fresh = s.token("SMS").await;
        assert_ne!(fresh, sms);
        assert_eq!(s.confirm(&fresh).await.status, 200);
        assert_eq!(s.states().await, ["UNSUBSCRIBED", "CONFIRMED", "EXPIRED"]);
        assert_eq!(s.confirm(&voice).await.status, 400, "the voice link is still expired");
    }
}

#[tokio::test]
async fn a_changed_or_cleared_address_ends_its_subscriptions() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-change").await;
        s.put(json!({"email": "kim@example.com", "mobile": "+8613800001234"})).await;
        let first_email = s.token("EMAIL").await;
        let sms = s.token("SMS").await;
        assert_eq!(s.confirm(&sms).await.status, 200);

        // The same address saved again changes nothing.
        s.put(json!({"email": "kim@example.com", "mobile": "+8613800001234"})).await;
        assert_eq!(s.states().await, ["PENDING", "CONFIRMED", "PENDING"], "{}", s.backend.name);

        s.put(json!({"email": "kim@corp.example.com"})).await;
        assert_eq!(s.confirm(&first_email).await.status, 404, "{}: the old address's link stops working", s.backend.name);
        let list = s.client.get("/v1/engineers/kim/subscriptions").await;
        assert_eq!(list.body["data"][0]["state"], "PENDING");
        assert_eq!(list.body["data"][0]["address"], "k***@corp.example.com");
        let second_email = s.token("EMAIL").await;
        assert_eq!(s.confirm(&second_email).await.status, 200);

        let voice = s.token("VOICE").await;
        s.put(json!({"mobile": null})).await;
        assert_eq!(s.states().await, ["CONFIRMED", "UNSUBSCRIBED", "UNSUBSCRIBED"], "{}", s.backend.name);
        assert_eq!(s.confirm(&voice).await.status, 404);
        let none = s.client.post("/v1/engineers/kim/subscriptions", &json!({"channels": ["VOICE"]})).await;
        assert_eq!(none.status, 400, "{}", none.body);
        assert!(none.error_msg().contains("mobile"), "{}", none.error_msg());
    }
}

#[tokio::test]
async fn subscribe_requests_are_validated() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-validate").await;
        let path = "/v1/engineers/kim/subscriptions";
        for body in [
            json!({"channels": []}),
            json!({"channels": ["WECOM"]}),
            json!({"channels": ["EMAIL", "EMAIL"]}),
            json!({"channels": ["FAX"]}),
            json!({"channels": ["EMAIL"]}),
            json!({}),
        ] {
            let reply = s.client.post(path, &body).await;
            assert_eq!(reply.status, 400, "{body}: {}", reply.body);
            assert!(reply.error_msg().contains("channels"), "{body}: {}", reply.error_msg());
        }
        assert!(s.confirmations().await.is_empty(), "{}: nothing was sent", s.backend.name);
        assert_eq!(s.client.post("/v1/engineers/nobody/subscriptions", &json!({"channels": ["SMS"]})).await.status, 404);
        assert_eq!(s.client.get("/v1/engineers/nobody/subscriptions").await.status, 404);
    }
}

#[tokio::test]
async fn racing_confirmations_of_one_link_confirm_once() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-race").await;
        s.put(json!({"email": "kim@example.com"})).await;
        let token = s.token("EMAIL").await;
        let opens = (0..8).map(|_| {
            let client = s.client.unauthenticated();
            let path = format!("{CONFIRM}?token={token}");
            tokio::spawn(async move { client.get(&path).await.status })
        });
        let mut statuses = Vec::new();
        for open in opens {
            statuses.push(open.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{}: {statuses:?}", s.backend.name);
        assert!(statuses.iter().all(|s| *s == 200 || *s == 404), "{}: {statuses:?}", s.backend.name);
        assert_eq!(s.states().await[0], "CONFIRMED");
    }
}

#[tokio::test]
async fn deleting_an_engineer_ends_its_links() {
    for backend in backends().await {
        let s = setup(backend, "p-sub-delete").await;
        s.put(json!({"email": "kim@example.com"})).await;
        let token = s.token("EMAIL").await;
        assert_eq!(s.client.delete("/v1/engineers/kim").await.status, 200);
        assert_eq!(s.confirm(&token).await.status, 404, "{}", s.backend.name);
    }
}
