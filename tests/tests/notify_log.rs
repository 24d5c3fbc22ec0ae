//! The delivery log over HTTP on every backend: newest first in pages, every
//! delivery with its masked recipient, one tenant never seeing another's.

use coc_shared::domain::notification::{Channel, Destination, EventKind, Message};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::notify::{self, Recipient};
use coc_tests::{backends, serve, Client};

async fn notify_address(
    app: &coc_shared::App,
    project: &str,
    channel: Channel,
    address: &str,
    subject: &str,
) -> String {
    let message = Message {
        kind: EventKind::TicketAbnormal,
        subject: subject.into(),
        text: "Ticket SCT1 ended ABNORMAL.".into(),
        link: None,
        subject_id: "SCT1".into(),
    };
    let to = Destination { channel, address: address.into(), sealed_key: None };
    let project = ProjectId::parse(project).unwrap();
    notify::send(app, &project, Recipient::Address(to), message).await.unwrap().expect("a notification")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_pages_newest_first_masks_recipients_and_keeps_tenants_apart() {
    for backend in backends().await {
        let app = backend.app();
        let base = serve(app.clone()).await;
        let ours = Client::new(&base, backend.store.clone(), "p-log-a").await;
        let theirs = Client::new(&base, backend.store.clone(), "p-log-b").await;
        let mut ids = Vec::new();
        for (n, (channel, address)) in [
            (Channel::Email, "alice@example.com"),
            (Channel::Sms, "+8613800001234"),
            (Channel::Dingtalk, "https://oapi.dingtalk.com/robot/send?access_token=very-secret"),
        ]
        .into_iter()
        .enumerate()
        {
            ids.push(notify_address(&app, "p-log-a", channel, address, &format!("n{n}")).await);
            // Distinct creation times: the log's order is the creation order.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let other = notify_address(&app, "p-log-b", Channel::Email, "eve@example.org", "other").await;

        let first = ours.get("/v1/notifications?limit=2").await;
        assert_eq!(first.status, 200, "{}: {}", backend.name, first.body);
        assert_eq!(first.body["count"], 3, "{}", backend.name);
        let rows = first.body["data"].as_array().unwrap();
        let got: Vec<&str> = rows.iter().map(|r| r["notification_id"].as_str().unwrap()).collect();
        assert_eq!(got, [ids[2].as_str(), ids[1].as_str()], "{}: newest first", backend.name);
        let marker = first.body["next_marker"].as_str().expect("a next page").to_owned();
        let second = ours.get(&format!("/v1/notifications?limit=2&marker={}", marker.replace('#', "%23"))).await;
        let rows = second.body["data"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{}: {}", backend.name, second.body);
        assert_eq!(rows[0]["notification_id"], ids[0].as_str());
        assert_eq!(second.body["next_marker"], serde_json::Value::Null);

        let text = format!("{}{}", first.body, second.body);
        for secret in ["alice@", "13800001234", "very-secret"] {
            assert!(!text.contains(secret), "{}: {secret} shows in the log", backend.name);
        }
        let robot = &first.body["data"][0]["deliveries"][0];
        assert_eq!(robot["channel"], "DINGTALK");
        assert_eq!(robot["recipient"], "https://oapi.dingtalk.com/robot/send?***");
        assert!(robot["status"].is_string() && robot["attempts"].is_u64(), "{robot}");

        let one = ours.get(&format!("/v1/notifications/{}", ids[0])).await;
        assert_eq!(one.status, 200, "{}", one.body);
        let delivery = &one.body["data"]["deliveries"][0];
        assert_eq!(delivery["recipient"], "a***@example.com");
        assert_eq!(one.body["data"]["subject"], "n0");

        // The other tenant: its own one only; ours are not found.
        let listed = theirs.get("/v1/notifications").await;
        assert_eq!(listed.body["count"], 1, "{}", backend.name);
        assert_eq!(listed.body["data"][0]["notification_id"], other.as_str());
        let foreign = theirs.get(&format!("/v1/notifications/{}", ids[0])).await;
        assert_eq!(foreign.status, 404, "{}: {}", backend.name, foreign.body);

        let bad = ours.get("/v1/notifications?marker=nonsense").await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        assert!(bad.error_msg().contains("marker"), "{}", bad.body);
        let long = ours.get(&format!("/v1/notifications/{}", "N".repeat(65))).await;
        assert_eq!(long.status, 400, "{}", long.body);
    }
}
