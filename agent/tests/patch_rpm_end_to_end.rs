//! A patch ticket end to end on an rpm host: a real `coc-agent` on a
//! throw-away root shaped like Huawei Cloud EulerOS 2.0 (`support/rpmroot.rs`,
//! real rpm and dnf) scans and installs under the built-in EulerOS baseline;
//! the compliance report and the ticket say what happened.

#[allow(dead_code)]
#[path = "support/patch_server.rs"]
mod patch_server;
#[allow(dead_code)]
#[path = "support/rpmroot.rs"]
mod rpmroot;

use patch_server::{pairs, statuses, Server};

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
