//! Notification delivery in the real `coc-local` process: what was saved and
//! queued before the server ran (or before it crashed) is delivered once it
//! runs, to the SMS outbox in its data dir, and the log says so.

mod common;

use std::time::{Duration, Instant};

use coc_shared::domain::notification::{Channel, Destination, EventKind, Message};
use coc_shared::domain::tenant::ProjectId;
use coc_shared::notify::{self, Recipient};
use coc_shared::App;
use serde_json::Value;

use common::{signed, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_queued_while_no_server_ran_is_delivered_when_one_starts() {
    let dir = tempfile::tempdir().unwrap();
    let id = {
        // Another process (a function under `cargo lambda watch`, or a server
        // since stopped) saved and queued it in the shared data dir.
        let app = App::embedded(dir.path()).unwrap();
        let message = Message {
            kind: EventKind::TicketAbnormal,
            subject: "Ticket SCT1 ended ABNORMAL".into(),
            text: "2 of 10 hosts failed.".into(),
            link: None,
            subject_id: "SCT1".into(),
        };
        let to = Destination { channel: Channel::Sms, address: "+8613800005678".into(), sealed_key: None };
        let project = ProjectId::parse("p1").unwrap();
        notify::send(&app, &project, Recipient::Address(to), message).await.unwrap().unwrap()
    };
    let server = start(dir.path()).await;

    let outbox = dir.path().join("outbox/sms.jsonl");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !outbox.exists() {
        assert!(Instant::now() < deadline, "the server's consumer did not deliver to {}", outbox.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line: Value = serde_json::from_str(std::fs::read_to_string(&outbox).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["to"], "+8613800005678");
    assert_eq!(line["text"], "Ticket SCT1 ended ABNORMAL\n2 of 10 hosts failed.");

    let path = format!("/v1/notifications/{id}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let headers = signed("GET", &server.base, &path, None, b"");
        let reply: Value =
            http.get(format!("{}{path}", server.base)).headers(headers).send().await.unwrap().json().await.unwrap();
        let delivery = &reply["data"]["deliveries"][0];
        if delivery["status"] == "SENT" {
            assert_eq!(delivery["recipient"], "+86*******5678");
            assert_eq!(delivery["attempts"], 1);
            break;
        }
        assert!(Instant::now() < deadline, "not recorded as sent: {reply}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
