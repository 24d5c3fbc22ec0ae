//! Patch tickets end to end with real processes: a real `coc-agent` scans
//! THIS machine's dpkg database and apt's view of its updates (read only), and
//! the compliance report that comes out has exactly the host's packages; an
//! agent on a throw-away root (`support/debroot.rs`) installs what the
//! baseline approves through an INSTALL ticket, and its report and the
//! ticket say what happened (`patch_rpm_end_to_end.rs` does the same on an
//! rpm root); a scan and its report survive a server outage and an agent restart.

// Shared with agent/tests/patch.rs, which uses all of it.
#[allow(dead_code)]
#[path = "support/debroot.rs"]
mod debroot;
#[allow(dead_code)]
#[path = "support/patch_server.rs"]
mod patch_server;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coc_agent::client::{ApiClient, RunRef};
use coc_agent::spool::{self, Backoff, PendingReport, Spool};
use coc_agent::Config;
use coc_shared::clock::now_ms;
use coc_shared::domain::patch::Inventory;
use patch_server::{pairs, status_count, statuses, Server};
use serde_json::{json, Value};

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
