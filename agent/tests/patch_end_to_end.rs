//! Patch tickets end to end with real processes: a real `coc-agent` scans
//! THIS machine's dpkg database and apt's view of its updates (read only), and
//! the compliance report that comes out has exactly the host's packages; an
//! agent on a throw-away root (`support/debroot.rs`) installs what the
//! baseline approves through an INSTALL ticket, and its report and the
//! ticket say what happened, and the same on an rpm root (`support/rpmroot.rs`)
//! under the built-in Huawei Cloud EulerOS baseline; a scan and its report
//! survive a server outage and an agent restart.

// Shared with agent/tests/patch.rs, which uses all of it.
#[allow(dead_code)]
#[path = "support/debroot.rs"]
mod debroot;
#[allow(dead_code)]
#[path = "support/rpmroot.rs"]
mod rpmroot;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coc_agent::client::{ApiClient, RunRef};
use coc_agent::spool::{self, Backoff, PendingReport, Spool};
use coc_agent::Config;
use coc_shared::auth::signature::{sign_headers, AccessKey};
use coc_shared::auth::Credential;
use coc_shared::clock::now_ms;
use coc_shared::domain::patch::Inventory;
use coc_shared::domain::tenant::ProjectId;
use coc_shared::repositories::credentials;
use coc_shared::App;
use serde_json::{json, Value};

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server in this process on a fresh embedded store, and its tenant's user.
struct Server {
    base: String,
    credential: Credential,
    api: ApiClient,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let app = App::embedded(dir.path()).unwrap();
        let credential = Credential::generate(ProjectId::parse("patch-e2e").unwrap(), "ops".into(), "ops".into(), 0);
        credentials::insert(app.store.as_ref(), &app.secrets, &credential).await.unwrap();
        let base = format!("http://{}", coc_local::spawn("127.0.0.1:0", app).await.unwrap());
        let config = Config::new(
            &base,
            &credential.access_key,
            &credential.secret_key,
            credential.project_id.as_str(),
            "e2e-client",
        );
        let api = ApiClient::new(config).unwrap();
        Server { base, credential, api, http: reqwest::Client::new(), _dir: dir }
    }

    async fn call(&self, method: &str, path_and_query: &str, body: Option<Value>) -> Value {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        self.api.call(method, path, query, body).await.unwrap_or_else(|e| panic!("{method} {path_and_query}: {e}"))
    }

    /// A GET whose answer is not in the `data` envelope (the spec 4.5 endpoints).
    async fn get_unwrapped(&self, path: &str, query: &str) -> Value {
        let mut headers = http::HeaderMap::new();
        headers.insert("host", self.base.trim_start_matches("http://").parse().unwrap());
        headers.insert("x-project-id", self.credential.project_id.as_str().parse().unwrap());
        let key = AccessKey { id: &self.credential.access_key, secret: &self.credential.secret_key };
        sign_headers(&mut headers, key, "GET", path, Some(query), b"", now_ms());
        let response = self.http.get(format!("{}{path}?{query}", self.base)).headers(headers).send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}?{query}");
        response.json().await.unwrap()
    }

    fn start_agent(&self, state_dir: &Path, agent_sn: &str, extra: &[(&str, &str)]) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_coc-agent"))
            .env("COC_ENDPOINT", &self.base)
            .env("COC_AGENT_SN", agent_sn)
            .env("COC_AGENT_STATE_DIR", state_dir.join(agent_sn))
            .env("COC_RESOURCE_ID", format!("ecs-{agent_sn}"))
            .env("COC_HOST_NAME", format!("host-{agent_sn}"))
            .env("COC_FIXED_IP", "10.1.0.1")
            .env("COC_HEARTBEAT_SECS", "1")
            .env("COC_AK", &self.credential.access_key)
            .env("COC_SK", &self.credential.secret_key)
            .env("COC_PROJECT_ID", self.credential.project_id.as_str())
            .env_remove("COC_AGENT_PATCH_ROOT")
            .env_remove("COC_AGENT_APT_OPTIONS")
            .env_remove("COC_AGENT_DNF_OPTIONS")
            .env("RUST_LOG", "warn")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .spawn()
            .expect("start coc-agent");
        Agent(child)
    }

    async fn wait_online(&self, agent_sn: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let hosts = self.call("GET", "/v1/resources?provider=ecs&type=cloudservers&limit=100", None).await;
            let online =
                hosts.as_array().unwrap().iter().any(|h| h["agent_id"] == agent_sn && h["agent_state"] == "ONLINE");
            if online {
                return;
            }
            assert!(Instant::now() < deadline, "{agent_sn} never registered: {hosts}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn start_patch_job(&self, operation: &str, agent_sn: &str, baseline_id: Option<&str>) -> String {
        let target = json!({"resource_id": format!("ecs-{agent_sn}"), "agent_sn": agent_sn,
                            "project_id": self.credential.project_id.as_str(), "region_id": "local"});
        let mut body = json!({"operation": operation, "timeout": 600, "execute_batches": [
            {"batch_index": 1, "rotation_strategy": "CONTINUE", "target_instances": [target]}]});
        if let Some(id) = baseline_id {
            body["baseline_id"] = json!(id);
        }
        self.call("POST", "/v1/patch/jobs", Some(body)).await.as_str().unwrap().to_owned()
    }

    async fn wait_ended(&self, uuid: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            let order = self.call("GET", &format!("/v1/job/script/orders/{uuid}"), None).await;
            if order["status"] == "FINISHED" || order["status"] == "ABNORMAL" {
                return order;
            }
            assert!(Instant::now() < deadline, "ticket {uuid} never ended: {order}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn instance(&self, uuid: &str) -> Value {
        let batch = self.call("GET", &format!("/v1/job/script/orders/{uuid}/batches/1?limit=10"), None).await;
        batch["execute_instances"][0].clone()
    }

    /// The host's one report of the ticket.
    async fn report_of(&self, agent_sn: &str) -> Value {
        let page =
            self.get_unwrapped("/v1/patch/instance/compliant", &format!("instance_id=ecs-{agent_sn}&limit=10")).await;
        assert_eq!(page["count"], 1, "one report per host and baseline: {page}");
        page["instance_compliant"][0].clone()
    }

    /// Every item of a report, page by page.
    async fn items_of(&self, report_id: &str) -> Vec<Value> {
        let path = format!("/v1/patch/instance/compliant/{report_id}");
        let mut items = Vec::new();
        for page in 1.. {
            let answer = self.get_unwrapped(&path, &format!("limit=100&offset={}", next_offset(page, 100))).await;
            let got = answer["compliance_items"].as_array().unwrap();
            items.extend(got.iter().cloned());
            if got.len() < 100 {
                assert_eq!(answer["count"].as_u64().unwrap() as usize, items.len(), "count is every item");
                return items;
            }
        }
        unreachable!()
    }
}

/// The `offset` of the `page`-th page (1-based) of `limit` items (README, "Patch compliance").
fn next_offset(page: usize, limit: usize) -> usize {
    let _ = limit;
    page
}

/// What dpkg says is installed: `(package, version)` of every package whose
/// files are all in place (states installed, triggers-pending, triggers-awaited).
fn dpkg_installed() -> Vec<(String, String)> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${db:Status-Status}\t${Package}\t${Version}\n"])
        .output()
        .expect("dpkg-query runs");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let mut fields = l.split('\t');
            let state = fields.next()?;
            ["installed", "triggers-pending", "triggers-awaited"]
                .contains(&state)
                .then(|| (fields.next().unwrap_or_default().to_owned(), fields.next().unwrap_or_default().to_owned()))
        })
        .collect()
}

/// What apt says can be upgraded: `(package, suites it comes from)`, read only
/// (`apt list --upgradable` reads the host's lists and changes nothing).
fn apt_upgradable() -> Vec<(String, String)> {
    let out = Command::new("apt").args(["list", "--upgradable"]).stderr(Stdio::null()).output().expect("apt runs");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            // `openssl/bookworm-security 3.0.15-1~deb12u1 amd64 [upgradable from: 3.0.11-1~deb12u2]`
            let (name, rest) = l.split_once('/')?;
            rest.contains("[upgradable from").then(|| (name.to_owned(), rest.split(' ').next().unwrap().to_owned()))
        })
        .collect()
}

fn status_count(items: &[Value], status: &str) -> usize {
    items.iter().filter(|i| i["patch_detail"]["patch_status"] == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_real_agent_scans_this_hosts_dpkg_database() {
    let server = Server::start().await;
    let states = tempfile::tempdir().unwrap();
    let before = dpkg_installed();
    let _agent = server.start_agent(states.path(), "real1", &[]);
    server.wait_online("real1").await;
    let uuid = server.start_patch_job("SCAN", "real1", None).await;
    let order = server.wait_ended(&uuid).await;
    let instance = server.instance(&uuid).await;
    assert_eq!(order["status"], "FINISHED", "{order} {instance}");
    assert_eq!(order["properties"]["script_name"], "COC-PatchScan");
    assert_eq!(instance["exit_code"], 0, "{instance}");

    let report = server.report_of("real1").await;
    assert_eq!(report["execution_summary"]["order_id"], uuid.as_str());
    assert_eq!(report["name"], "host-real1");
    assert_eq!(report["ip"], "10.1.0.1");
    let items = server.items_of(report["id"].as_str().unwrap()).await;
    let installed = dpkg_installed();
    assert_eq!(installed, before, "a scan changes nothing");
    let upgradable = apt_upgradable();
    let installed_items: usize = ["INSTALLED", "INSTALLED_OTHER", "MISSING", "REJECT", "FAILED", "PENDING_REBOOT"]
        .iter()
        .map(|s| status_count(&items, s))
        .sum();
    assert_eq!(items.len(), installed.len(), "one item per installed package, as dpkg-query -W says");
    assert_eq!(installed_items, installed.len());
    let titles: std::collections::HashSet<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
    for (name, _) in &installed {
        assert!(titles.contains(name.as_str()), "{name} is in the report");
    }
    let approved = approved_upgradable(&report, &upgradable);
    assert_eq!(
        status_count(&items, "MISSING"),
        approved.len(),
        "MISSING is what apt can upgrade and the baseline approves: {approved:?}"
    );
    for name in &approved {
        let item = items.iter().find(|i| i["title"] == name.as_str()).unwrap();
        assert_eq!(item["patch_detail"]["patch_status"], "MISSING", "{item}");
    }
    assert_eq!(
        status_count(&items, "INSTALLED") + status_count(&items, "INSTALLED_OTHER"),
        installed.len() - approved.len(),
        "the rest is installed"
    );
    let compliant = report["compliant_summary"]["compliant_count"].as_u64().unwrap() as usize;
    let non_compliant = report["non_compliant_summary"]["non_compliant_count"].as_u64().unwrap() as usize;
    assert_eq!((compliant, non_compliant), (installed.len() - approved.len(), approved.len()));
}

/// The upgradable packages the report's baseline approves: the built-in
/// Debian default approves every update (see README, "Patch baselines").
fn approved_upgradable(report: &Value, upgradable: &[(String, String)]) -> Vec<String> {
    assert!(report["baseline_id"].as_str().unwrap().contains("default"), "the built-in default: {report}");
    upgradable.iter().map(|(name, _)| name.clone()).collect()
}

/// The statuses of a report's items, by package.
fn statuses(items: &[Value]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (i["title"].as_str().unwrap().to_owned(), i["patch_detail"]["patch_status"].as_str().unwrap().to_owned())
        })
        .collect();
    all.sort();
    all
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_install_ticket_on_a_throwaway_root_installs_what_the_baseline_approves() {
    let host_before = dpkg_installed();
    let host_reboot_flag = Path::new("/var/run/reboot-required").exists();
    let root = debroot::DebRoot::build();
    let server = Server::start().await;
    let states = tempfile::tempdir().unwrap();
    let root_dir = root.root();
    let _agent = server.start_agent(states.path(), "root1", &[("COC_AGENT_PATCH_ROOT", root_dir.to_str().unwrap())]);
    server.wait_online("root1").await;

    // A scan first: every update of the root is approved by the Debian default, so missing.
    let scan = server.start_patch_job("SCAN", "root1", None).await;
    assert_eq!(server.wait_ended(&scan).await["status"], "FINISHED");
    let report = server.report_of("root1").await;
    assert_eq!(report["baseline_id"], "PB-default-debian");
    let id = report["id"].as_str().unwrap().to_owned();
    assert_eq!(
        statuses(&server.items_of(&id).await),
        pairs(&[
            ("coc-test-broken", "MISSING"),
            ("coc-test-current", "INSTALLED"),
            ("coc-test-plain", "MISSING"),
            ("coc-test-reboot", "MISSING"),
            ("coc-test-secure", "MISSING"),
        ])
    );
    assert_eq!(report["non_compliant_summary"]["non_compliant_count"], 4);
    assert_eq!(report["non_compliant_summary"]["severity_summary"]["high_count"], 1, "the security update: {report}");

    // The install: three updates land, one fails in its postinst, one asks for a reboot.
    let install = server.start_patch_job("INSTALL", "root1", None).await;
    let order = server.wait_ended(&install).await;
    let instance = server.instance(&install).await;
    assert_eq!(order["status"], "ABNORMAL", "a failed package fails the run and the success rate: {order}");
    assert_eq!(order["properties"]["script_name"], "COC-PatchInstall");
    assert_ne!(instance["exit_code"], 0, "{instance}");
    let log = instance["message"].as_str().unwrap();
    assert!(log.contains("FAILED coc-test-broken 2.0"), "the log says what failed: {log}");
    assert!(log.contains("installed 3 of 4 approved updates"), "{log}");

    let after = server.report_of("root1").await;
    assert_eq!(after["id"], id.as_str(), "the install replaced the host's report for the baseline");
    assert_eq!(after["execution_summary"]["order_id"], install.as_str());
    // What this run installed while the host now waits for a reboot is pending
    // too (README, "What each status means"); the one that asked for it surely is.
    let installed_or_pending = |(name, status): &(String, String)| {
        let wanted = match name.as_str() {
            "coc-test-broken" => &["FAILED"][..],
            "coc-test-current" => &["INSTALLED"][..],
            "coc-test-reboot" => &["PENDING_REBOOT"][..],
            _ => &["INSTALLED", "PENDING_REBOOT"][..],
        };
        wanted.contains(&status.as_str())
    };
    let after_items = statuses(&server.items_of(&id).await);
    let names: Vec<&str> = after_items.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, debroot::PACKAGES.iter().map(|(n, _, _)| *n).collect::<Vec<_>>(), "{after_items:?}");
    assert!(after_items.iter().all(installed_or_pending), "{after_items:?}");
    assert_eq!(after["status"], "non_compliant");
    let state = root.dpkg_state();
    for name in ["coc-test-plain", "coc-test-reboot", "coc-test-secure"] {
        assert!(state.contains(&(name.into(), "2.0".into(), "installed".into())), "{name} 2.0 in the root: {state:?}");
    }
    assert!(root_dir.join("var/run/reboot-required").exists(), "the reboot flag is in the root");
    assert_eq!(dpkg_installed(), host_before, "the machine's own packages are untouched");
    assert_eq!(Path::new("/var/run/reboot-required").exists(), host_reboot_flag, "and its reboot flag");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_install_ticket_on_an_rpm_root_installs_what_the_euleros_baseline_approves() {
    let Some(root) = rpmroot::RpmRoot::build() else { return };
    let host_before = rpmroot::host_state();
    let server = Server::start().await;
    let states = tempfile::tempdir().unwrap();
    let root_dir = root.root();
    let _agent = server.start_agent(states.path(), "rpm1", &[("COC_AGENT_PATCH_ROOT", root_dir.to_str().unwrap())]);
    server.wait_online("rpm1").await;

    // The scan: the built-in baseline approves the Important security update
    // and the bug fixes (missing), not the Low one nor the unclassified one.
    let scan = server.start_patch_job("SCAN", "rpm1", None).await;
    assert_eq!(server.wait_ended(&scan).await["status"], "FINISHED");
    let report = server.report_of("rpm1").await;
    assert_eq!(report["baseline_id"], "PB-default-huaweicloudeuleros");
    let id = report["id"].as_str().unwrap().to_owned();
    let items = server.items_of(&id).await;
    assert_eq!(items.len(), rpmroot::PACKAGES.len(), "one item per package rpm -qa lists");
    assert_eq!(
        statuses(&items),
        pairs(&[
            ("coc-test-bare", "INSTALLED_OTHER"),
            ("coc-test-broken", "MISSING"),
            ("coc-test-current", "INSTALLED_OTHER"),
            ("coc-test-lowsec", "INSTALLED_OTHER"),
            ("coc-test-plain", "MISSING"),
            ("coc-test-reboot", "MISSING"),
            ("coc-test-release", "INSTALLED_OTHER"),
            ("coc-test-secure", "MISSING"),
        ])
    );
    assert_eq!(report["non_compliant_summary"]["non_compliant_count"], 4);
    assert_eq!(report["non_compliant_summary"]["severity_summary"]["high_count"], 1, "the security update: {report}");

    // The install: three land (one asks for a reboot), the one whose %pre fails does not.
    let install = server.start_patch_job("INSTALL", "rpm1", None).await;
    let order = server.wait_ended(&install).await;
    let instance = server.instance(&install).await;
    assert_eq!(order["status"], "ABNORMAL", "a failed package fails the run: {order}");
    let log = instance["message"].as_str().unwrap();
    assert!(log.contains("installed 3 of 4 approved updates"), "{log}");
    assert!(log.contains("FAILED coc-test-broken 2.0-1 (still at 1.0-1)"), "{log}");

    let after = server.report_of("rpm1").await;
    assert_eq!(after["id"], id.as_str());
    assert_eq!(after["execution_summary"]["order_id"], install.as_str());
    let after_items = statuses(&server.items_of(&id).await);
    let status_of = |name: &str| after_items.iter().find(|(n, _)| n == name).map(|(_, s)| s.as_str()).unwrap();
    assert_eq!(status_of("coc-test-broken"), "FAILED", "{after_items:?}");
    assert_eq!(status_of("coc-test-reboot"), "PENDING_REBOOT", "{after_items:?}");
    for name in ["coc-test-plain", "coc-test-secure"] {
        assert!(["INSTALLED", "PENDING_REBOOT"].contains(&status_of(name)), "{name}: {after_items:?}");
    }
    for name in ["coc-test-bare", "coc-test-lowsec", "coc-test-current", "coc-test-release"] {
        assert_eq!(status_of(name), "INSTALLED_OTHER", "{name}: {after_items:?}");
    }
    let versions = root.versions();
    for (name, version) in [("coc-test-plain", "1:2.0-1"), ("coc-test-secure", "2.0-1"), ("coc-test-broken", "1.0-1")] {
        assert!(versions.contains(&(name.into(), version.into())), "{name} {version} in the root: {versions:?}");
    }
    assert_eq!(rpmroot::host_state(), host_before, "the machine's own packages and dnf state are untouched");
}

fn sample_inventory() -> Inventory {
    serde_json::from_value(json!({
        "operating_system": "Debian", "os_version": "12", "package_manager": "dpkg",
        "installed": [{"name": "bash", "version": "5.2.15-2", "architecture": "amd64", "installed_time": 1_700_000_000_000_i64}],
        "available": [], "scanned_at": now_ms()
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_scan_waits_in_the_spool_through_an_outage_and_a_restart() {
    let server = Server::start().await;
    // An agent registered with the user's key, acting with its own credential.
    let config = Config::new(
        &server.base,
        &server.credential.access_key,
        &server.credential.secret_key,
        server.credential.project_id.as_str(),
        "spooler",
    );
    let own = ApiClient::new(config.clone()).unwrap().register(None).await.unwrap();
    let agent = ApiClient::new(config.clone().acting_as(&own)).unwrap();
    let uuid = server.start_patch_job("SCAN", "spooler", None).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let job = loop {
        let jobs = agent.poll(5).await.unwrap();
        if let Some(job) = jobs.into_iter().next() {
            break job;
        }
        assert!(Instant::now() < deadline, "the job is handed out");
    };
    assert!(job.patch.is_some());
    let run = RunRef { execute_uuid: job.execute_uuid.clone(), instance_id: job.instance_id, attempt: job.attempt };
    let report = PendingReport { run, exit_code: 0, log: "scanned".into(), inventory: Some(sample_inventory()) };

    // The server cannot be reached: the scan and the result stay on disk.
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path()).unwrap();
    spool.save(&report).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut unreachable = config.clone().acting_as(&own);
    unreachable.endpoint = format!("http://127.0.0.1:{port}");
    let outage = Backoff {
        first: Duration::from_millis(50),
        longest: Duration::from_millis(100),
        total: Duration::from_millis(400),
    };
    spool::deliver(&ApiClient::new(unreachable).unwrap(), &spool, &report, outage).await;
    assert_eq!(spool.pending(), vec![report.clone()], "nothing was lost");

    // The agent starts again: what is spooled goes out, the scan first.
    let restarted = Spool::open(dir.path()).unwrap();
    for pending in restarted.pending() {
        spool::deliver(&agent, &restarted, &pending, Backoff::for_total(Duration::from_secs(30))).await;
    }
    assert!(restarted.pending().is_empty(), "sent reports leave the spool");
    let order = server.wait_ended(&uuid).await;
    assert_eq!(order["status"], "FINISHED", "{order}");
    let shown = server.report_of("spooler").await;
    assert_eq!(shown["execution_summary"]["order_id"], uuid.as_str());
    assert_eq!(
        shown["compliant_summary"]["compliant_count"].as_u64().unwrap()
            + shown["non_compliant_summary"]["non_compliant_count"].as_u64().unwrap(),
        1
    );
    // Sent once more (a crash between the send and the spool update): still one report.
    spool::deliver(&agent, &restarted, &report, Backoff::for_total(Duration::from_secs(5))).await;
    server.report_of("spooler").await;
}
