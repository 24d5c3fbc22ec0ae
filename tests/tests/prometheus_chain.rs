//! The whole monitoring chain as people run it: Debian's Prometheus
//! (`/usr/bin/prometheus`) evaluates a rule that always fires and sends the
//! alert to Debian's Alertmanager, whose webhook receiver is
//! `POST /v1/event/prometheus/{key}` of a local server on each store adapter.
//! Nothing is posted by the test: the alarm must come from the rule.
//! Without the binaries (scripts/install-tools.sh installs both) the test
//! says SKIPPED, unless `COC_REQUIRE_PATCH_TOOLS` is set (as `make test` does).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use coc_tests::{backends, serve, Client};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
/// Prometheus' first evaluation, its send to Alertmanager, Alertmanager's
/// group wait and a repeat, with room for a loaded machine.
const PATIENCE: Duration = Duration::from_secs(50);

/// A process, stopped when dropped, with its log kept for failure messages.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(binary: &str, args: &[String], log: PathBuf) -> Daemon {
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(binary)
            .args(args)
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("start {binary}: {e}"));
        Daemon { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits for `url` to answer 2xx, failing with the log if the process exits.
    async fn ready(&mut self, url: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("exited with {status}: {}", self.log());
            }
            assert!(Instant::now() < deadline, "{url} not ready: {}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether the binaries are here; a missing one skips, or fails if required.
fn tools_present() -> bool {
    let missing: Vec<&str> = [PROMETHEUS, ALERTMANAGER].into_iter().filter(|b| !Path::new(b).exists()).collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{missing:?} missing: scripts/install-tools.sh installs Debian's prometheus and prometheus-alertmanager"
    );
    assert!(std::env::var_os("COC_REQUIRE_PATCH_TOOLS").is_none(), "{message}; COC_REQUIRE_PATCH_TOOLS is set");
    eprintln!("SKIPPED: {message}; set COC_REQUIRE_PATCH_TOOLS=1 to fail instead");
    false
}

/// Alertmanager sending to `webhook`, then Prometheus with one always-firing
/// rule evaluated every second, sending to that Alertmanager.
async fn chain(dir: &Path, webhook: &str) -> (Daemon, Daemon) {
    let am_port = free_port();
    std::fs::write(
        dir.join("alertmanager.yml"),
        format!(
            "route:\n  receiver: coc\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 1s\n  \
             repeat_interval: 1s\nreceivers:\n  - name: coc\n    webhook_configs:\n      - url: '{webhook}'\n        \
             send_resolved: true\n"
        ),
    )
    .unwrap();
    let mut alertmanager = Daemon::start(
        ALERTMANAGER,
        &[
            format!("--config.file={}", dir.join("alertmanager.yml").display()),
            format!("--storage.path={}", dir.join("am-data").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".to_owned(),
        ],
        dir.join("alertmanager.log"),
    );
    alertmanager.ready(&format!("http://127.0.0.1:{am_port}/-/ready")).await;

    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: coc-chain\n    interval: 1s\n    rules:\n      - alert: AlwaysFiring\n        \
         expr: vector(1) > 0\n        labels:\n          severity: critical\n          instance: chain-host:9100\n        \
         annotations:\n          summary: the Prometheus rule fires\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ['{}']\nalerting:\n  \
             alertmanagers:\n    - static_configs:\n        - targets: ['127.0.0.1:{am_port}']\n",
            dir.join("rules.yml").display()
        ),
    )
    .unwrap();
    let prom_port = free_port();
    let mut prometheus = Daemon::start(
        PROMETHEUS,
        &[
            format!("--config.file={}", dir.join("prometheus.yml").display()),
            format!("--storage.tsdb.path={}", dir.join("prom-data").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
            // The first send can come before the Alertmanager is discovered
            // (and is dropped); the next is then a second away, not a minute.
            "--rules.alert.resend-delay=1s".to_owned(),
        ],
        dir.join("prometheus.log"),
    );
    prometheus.ready(&format!("http://127.0.0.1:{prom_port}/-/ready")).await;
    (alertmanager, prometheus)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firing_prometheus_rule_becomes_an_alarm_through_alertmanager() {
    if !tools_present() {
        return;
    }
    for backend in backends().await {
        let name = backend.name;
        let client = Client::new(&serve(backend.app()).await, backend.store.clone(), "p-prom-chain").await;
        client.sync_engineers(&[]).await;
        let reply = client.post("/v1/integrations", &json!({"name": "prometheus"})).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let integration_id = reply.body["data"]["integration_id"].as_str().unwrap().to_owned();
        let key = reply.body["data"]["integration_key"].as_str().unwrap().to_owned();
        let dir = tempfile::tempdir().unwrap();
        let (alertmanager, prometheus) = chain(dir.path(), &format!("{}/v1/event/prometheus/{key}", client.base)).await;

        // The rule's alert, then Alertmanager's repeats of it: one alarm, counted.
        let deadline = Instant::now() + PATIENCE;
        let rows = loop {
            let reply = client.get(&format!("/v1/integrations/{integration_id}/alarms")).await;
            assert_eq!(reply.status, 200, "{name}: {}", reply.body);
            let rows: Vec<Value> = reply.body["data"].as_array().cloned().unwrap_or_default();
            if rows.first().is_some_and(|r| r["occurrences"].as_u64().unwrap_or(0) >= 2) {
                break rows;
            }
            assert!(
                Instant::now() < deadline,
                "{name}: no repeated alarm within {PATIENCE:?}: {rows:?}\nprometheus: {}\nalertmanager: {}",
                prometheus.log(),
                alertmanager.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert_eq!(rows.len(), 1, "{name}: {rows:?}");
        assert_eq!(rows[0]["alarm_name"], "AlwaysFiring", "{name}");
        assert_eq!(rows[0]["alarm_level"], "Critical", "{name}: the rule's severity label");
        assert_eq!(rows[0]["alarm_status"], "alarm", "{name}");
        let incident = rows[0]["incident_num"].as_str().expect("a Critical alarm opens an incident");
        let reply = client.get(&format!("/v1/external/incident/{incident}")).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        drop(prometheus);
        drop(alertmanager);
    }
}
