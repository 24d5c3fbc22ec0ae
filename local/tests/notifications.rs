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

/// Runs coc-local with `env` until it exits (at most 30 s): its exit status and what it wrote to stderr.
fn run_to_exit(env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_coc-local"))
        .env("COC_LISTEN", format!("127.0.0.1:{}", common::free_port()))
        .env("COC_DATA_DIR", dir.path())
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start coc-local");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("coc-local kept running with {env:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn delivery_settings_out_of_range_stop_the_server_at_start_naming_the_variable() {
    let missing_ca = std::env::temp_dir().join("coc-no-such-ca.pem");
    for (env, variable) in [
        (vec![("COC_NOTIFY_SWEEP_GRACE_MS", "1000")], "COC_NOTIFY_SWEEP_GRACE_MS"),
        (vec![("COC_NOTIFY_SWEEP_GRACE_MS", "two minutes")], "COC_NOTIFY_SWEEP_GRACE_MS"),
        (vec![("COC_VOICE_PROVIDER", "carrier-pigeon")], "COC_VOICE_PROVIDER"),
        (
            vec![
                ("COC_SMTP_HOST", "127.0.0.1"),
                ("COC_SMTP_FROM", "coc@example.com"),
                ("COC_SMTP_CA_FILE", missing_ca.to_str().unwrap()),
            ],
            "COC_SMTP_CA_FILE",
        ),
    ] {
        let (status, stderr) = run_to_exit(&env);
        assert!(!status.success(), "{env:?}: {status}");
        assert!(stderr.contains(variable), "{env:?}: {stderr}");
    }
}
