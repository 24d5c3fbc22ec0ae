//! What the notification tests share: a tenant, a message, quick retry
//! settings, engineers with robots, and waiting for a notification to settle.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coc_runtime::adapters::robots::{RobotSender, ROBOT_TIMEOUT};
use coc_runtime::adapters::smtp::{SmtpConfig, SmtpSender, SmtpTls};
use coc_shared::domain::engineer::webhook::AllowedHosts;
use coc_shared::domain::engineer::Engineer;
use coc_shared::domain::notification::{Channel, Delivery, EventKind, Message, Notification};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::notify::config::DeliveryConfig;
use coc_shared::notify::consumer::run_consumer;
use coc_shared::notify::deliver::Deliverer;
use coc_shared::notify::senders::Senders;
use coc_shared::notify::{self, Recipient};
use coc_shared::ports::Store;
use coc_shared::repositories::{engineers, notifications};
use coc_shared::App;

use crate::receivers::Receiver;
use crate::{serve, Backend, Client};

pub const DINGTALK_SECRET: &str = "SECdingtalk-test-secret";
pub const LARK_SECRET: &str = "lark-test-secret";
pub const WAIT: Duration = Duration::from_secs(30);

pub fn project() -> ProjectId {
    ProjectId::parse("notify-project").unwrap()
}

pub fn message(subject: &str) -> Message {
    Message {
        kind: EventKind::IncidentAssigned,
        subject: subject.into(),
        text: "Incident IM1 (P1) is assigned to you.".into(),
        link: Some("https://coc.example.com/v1/external/incident/IM1".into()),
        subject_id: "IM1".into(),
    }
}

/// SMTP settings for the test's receiver on loopback `port`: no login, the
/// test's sender address, a 10 s timeout.
pub fn smtp_config(port: u16, tls: SmtpTls, ca_file: Option<PathBuf>) -> SmtpConfig {
    SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls,
        user: None,
        password: None,
        from: "COC <coc@example.com>".into(),
        ca_file,
        timeout: Duration::from_secs(10),
    }
}

/// Senders that deliver mail through `config`, and nothing else.
pub fn mail_senders(config: &SmtpConfig) -> Senders {
    Senders { email: Arc::new(SmtpSender::new(config).unwrap()), ..Senders::unconfigured() }
}

/// Quick retries, four attempts, claims that outlive any send of a test.
pub fn quick() -> DeliveryConfig {
    DeliveryConfig {
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_millis(200),
        max_attempts: 4,
        claim_timeout: Duration::from_secs(30),
        sweep_grace: Duration::from_secs(120),
    }
}

pub fn robots_deliverer(robots: &Receiver) -> Deliverer {
    let allowed = AllowedHosts::parse(&format!("127.0.0.1:{}", robots.port)).unwrap();
    let senders = Senders { robots: Arc::new(RobotSender::new(allowed, ROBOT_TIMEOUT)), ..Senders::unconfigured() };
    Deliverer { senders, config: quick() }
}

/// An engineer with the given robots (keys sealed as the engineers' API seals them).
pub async fn engineer_with_robots(app: &App, user_id: &str, robots: &[(Channel, String, Option<&str>)]) {
    let mut engineer = Engineer::iam(project(), user_id.into(), user_id.into(), app.clock.now_ms());
    for (channel, url, key) in robots {
        let sealed = match key {
            Some(key) => Some(app.secrets.seal(key).await.unwrap()),
            None => None,
        };
        match channel {
            Channel::Wecom => engineer.wecom_webhook = Some(url.clone()),
            Channel::Dingtalk => (engineer.dingtalk_webhook, engineer.dingtalk_key) = (Some(url.clone()), sealed),
            Channel::Lark => (engineer.lark_webhook, engineer.lark_key) = (Some(url.clone()), sealed),
            other => panic!("{other:?} is no robot"),
        }
    }
    engineers::insert(app.store.as_ref(), &engineer).await.unwrap();
}

/// The notification once every delivery is final.
pub async fn final_notification(app: &App, id: &str) -> Notification {
    let start = Instant::now();
    loop {
        let read = notifications::get(app.store.as_ref(), &project(), id).await.unwrap().expect("saved");
        if read.value.is_final() || start.elapsed() > WAIT {
            return read.value;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

pub fn delivery_of(notification: &Notification, channel: Channel) -> &Delivery {
    notification.deliveries.iter().find(|d| d.destination.channel == channel).expect("a delivery of the channel")
}

/// A backend's app with a queue consumer delivering through `deliverer`
/// (stopped when this is dropped): what a delivery test starts from.
pub struct Delivering {
    pub app: App,
    pub backend: &'static str,
    consumer: tokio::task::JoinHandle<()>,
}

impl Delivering {
    pub fn start(backend: &Backend, deliverer: Deliverer) -> Self {
        Delivering::start_with(backend.name, backend.app(), deliverer)
    }

    /// With an app of the test's own (another clock, store or settings).
    pub fn start_with(backend: &'static str, app: App, deliverer: Deliverer) -> Self {
        let consumer = tokio::spawn(run_consumer(app.clone(), deliverer));
        Delivering { app, backend, consumer }
    }

    /// Only `senders`, with the quick retry settings.
    pub fn with_senders(backend: &Backend, senders: Senders) -> Self {
        Delivering::start(backend, Deliverer { senders, config: quick() })
    }

    /// Sends `message(subject)` to `recipient` and waits until every delivery is final.
    pub async fn send(&self, recipient: Recipient<'_>, subject: &str) -> Notification {
        let id = notify::send(&self.app, &project(), recipient, message(subject))
            .await
            .unwrap()
            .expect("a notification with deliveries");
        final_notification(&self.app, &id).await
    }
}

impl Drop for Delivering {
    fn drop(&mut self) {
        self.consumer.abort();
    }
}

/// An engineer's WeCom robot: on the test's robot receiver (allow-listed loopback).
pub fn wecom(robots: &Receiver, user: &str) -> String {
    robots.url(&format!("/wecom/{user}?key=k-{user}"))
}

/// A tenant served over HTTP on one backend, whose users u-alice (the
/// client), u-oncall and u-second are engineers with a WeCom robot each on
/// `robots`, and u-quiet an engineer with no contact method.
pub struct RobotTenant {
    pub name: &'static str,
    pub client: Client,
    pub store: Arc<dyn Store>,
    /// The chat robots' endpoints the notifications are delivered to.
    pub robots: Receiver,
    pub backend: Backend,
}

/// A [`RobotTenant`] of project `project` on every backend, its links to `public_url`.
pub async fn robot_tenants(project: &str, public_url: &str) -> Vec<RobotTenant> {
    let mut all = Vec::new();
    for backend in crate::backends().await {
        let robots = Receiver::robots("unused", "unused");
        let loopback = AllowedHosts::parse("127.0.0.1").unwrap();
        let app = backend.app().with_public_url(Some(public_url.into())).with_webhook_hosts(loopback);
        let client = Client::new(&serve(app).await, backend.store.clone(), project).await;
        client.sync_engineers(&[("u-oncall", "oncall"), ("u-second", "second"), ("u-quiet", "quiet")]).await;
        for user in ["u-alice", "u-oncall", "u-second"] {
            let robot = serde_json::json!({"wecom_webhook": wecom(&robots, user)});
            let reply = client.put(&format!("/v1/engineers/{user}"), &robot).await;
            assert_eq!(reply.status, 200, "{}: {}", backend.name, reply.body);
        }
        all.push(RobotTenant { name: backend.name, client, store: backend.store.clone(), robots, backend });
    }
    all
}
