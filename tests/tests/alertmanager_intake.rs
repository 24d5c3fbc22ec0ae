//! The Prometheus intake against the real thing: Debian's Alertmanager
//! (`/usr/bin/prometheus-alertmanager`, installed by scripts/install-tools.sh)
//! on loopback, its webhook receiver pointed at `POST /v1/event/prometheus/{key}`
//! of a local server on each store adapter. Alerts go in through Alertmanager's
//! own API (`POST /api/v2/alerts`); what arrives is Alertmanager's own payload.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use coc_tests::{backends, serve, Client};

const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const PROJECT: &str = "p-prom";
/// Long enough for Alertmanager's group wait, a few repeats and the resolution.
const PATIENCE: Duration = Duration::from_secs(45);

/// An Alertmanager process, stopped when dropped.
struct Alertmanager {
    child: Child,
    api: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Alertmanager {
    /// One route to one webhook receiver, grouped by alertname, flushed and
    /// repeated every second so that repeats come within the test's patience.
    async fn start(webhook: &str) -> Alertmanager {
        assert!(
            Path::new(ALERTMANAGER).exists(),
            "{ALERTMANAGER} is missing: scripts/install-tools.sh installs Debian's prometheus-alertmanager"
        );
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(
            &config,
            format!(
                "route:\n  receiver: coc\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  \
                 repeat_interval: 1s\nreceivers:\n  - name: coc\n    webhook_configs:\n      - url: '{webhook}'\n        \
                 send_resolved: true\n        max_alerts: 100\n"
            ),
        )
        .unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(ALERTMANAGER)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start alertmanager");
        let mut alertmanager = Alertmanager { child, api: format!("http://127.0.0.1:{port}/api/v2"), _dir: dir };
        let ready = format!("http://127.0.0.1:{port}/-/ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(&ready).await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if let Ok(Some(status)) = alertmanager.child.try_wait() {
                panic!("alertmanager exited with {status}: {}", alertmanager.log());
            }
            assert!(Instant::now() < deadline, "alertmanager not ready: {}", alertmanager.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        alertmanager
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    async fn post_alerts(&self, alerts: &Value) {
        let reply = reqwest::Client::new().post(format!("{}/alerts", self.api)).json(alerts).send().await.unwrap();
        assert!(reply.status().is_success(), "alertmanager refused the alerts: {}", reply.status());
    }

    /// The fingerprint Alertmanager gave the only alert it holds.
    async fn fingerprint(&self) -> String {
        let alerts: Value = reqwest::get(format!("{}/alerts", self.api)).await.unwrap().json().await.unwrap();
        alerts[0]["fingerprint"].as_str().expect("one alert").to_owned()
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap()
}

fn disk_full(ends_at: Option<OffsetDateTime>) -> Value {
    let mut alert = json!({
        "labels": {"alertname": "DiskFull", "instance": "web-1:9100", "job": "node", "severity": "critical"},
        "annotations": {"summary": "disk / on web-1 is full", "description": "99% used"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk",
        "startsAt": rfc3339(OffsetDateTime::now_utc() - Duration::from_secs(60)),
    });
    if let Some(ends_at) = ends_at {
        alert["endsAt"] = json!(rfc3339(ends_at));
    }
    json!([alert])
}

/// The integration's alarms, polled until `done` holds or patience runs out.
async fn alarms_until(
    client: &Client,
    integration_id: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = client.get(&format!("/v1/integrations/{integration_id}/alarms")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let rows = reply.body["data"].as_array().cloned().unwrap_or_default();
        if done(&rows) {
            return rows;
        }
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}; alarms: {rows:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_alerts_become_deduplicated_alarms_and_resolving_clears_them() {
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), PROJECT).await;
        client.sync_engineers(&[]).await;
        let reply = client.post("/v1/integrations", &json!({"name": "prometheus"})).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let integration_id = reply.body["data"]["integration_id"].as_str().unwrap().to_owned();
        let key = reply.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let alertmanager = Alertmanager::start(&format!("{}/v1/event/prometheus/{key}", client.base)).await;

        alertmanager.post_alerts(&disk_full(None)).await;
        let first = alarms_until(&client, &integration_id, "the alarm", |rows| !rows.is_empty()).await;
        let fingerprint = alertmanager.fingerprint().await;
        assert_eq!(first.len(), 1, "{name}: {first:?}");
        assert_eq!(first[0]["alarm_id"], fingerprint, "{name}: the alarm is the alert's fingerprint");
        assert_eq!(first[0]["alarm_name"], "DiskFull");
        assert_eq!(first[0]["alarm_level"], "Critical");
        assert_eq!(first[0]["alarm_status"], "alarm");
        let incident = first[0]["incident_num"].as_str().expect("a Critical alarm opens an incident").to_owned();
        let reply = client.get(&format!("/v1/external/incident/{incident}")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);

        // Alertmanager repeats the notification every second: one alarm, counted, one incident.
        let repeated = alarms_until(&client, &integration_id, "repeats", |rows| {
            rows.len() > 1 || rows[0]["occurrences"].as_u64().unwrap_or(0) >= 3
        })
        .await;
        assert_eq!(repeated.len(), 1, "{name}: repeats must not be new alarms: {repeated:?}");
        assert_eq!(repeated[0]["incident_num"], incident, "{name}: repeats must not open incidents");
        assert_eq!(repeated[0]["alarm_status"], "alarm");

        // Resolving: the same alert, ended a second ago.
        alertmanager.post_alerts(&disk_full(Some(OffsetDateTime::now_utc() - Duration::from_secs(1)))).await;
        let cleared =
            alarms_until(&client, &integration_id, "the clearing", |rows| rows[0]["alarm_status"] == "ok").await;
        assert_eq!(cleared.len(), 1, "{name}: {cleared:?}");
        assert_eq!(cleared[0]["alarm_id"], fingerprint);
        assert_eq!(cleared[0]["incident_num"], incident);
        drop(alertmanager);
    }
}
