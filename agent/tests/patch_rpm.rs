//! Patch scans and installs on an rpm host, with the real tools (Debian's
//! rpm, dnf 4 and createrepo_c) in a throw-away root shaped like Huawei Cloud
//! EulerOS 2.0 (`support/rpmroot.rs`): what the agent reports is compared with
//! what rpm and dnf say when the test runs them itself, and the machine's own
//! packages and dnf state with what they were before.

#[allow(dead_code)]
#[path = "support/rpmroot.rs"]
mod rpmroot;

use coc_agent::patch::{self, PatchSettings};
use coc_shared::domain::patch::baseline::{built_in, ApprovalRule};
use coc_shared::domain::patch::{Baseline, ComplianceLevel, OsFamily, PatchJob, PatchOperation};
use rpmroot::{RpmRoot, ADVISORIES, BROKEN_PACKAGE, ISSUED_MS, PACKAGES, REBOOT_PACKAGE};

fn job(operation: PatchOperation, baselines: Vec<Baseline>) -> PatchJob {
    PatchJob { operation, baselines }
}

fn in_root(root: &RpmRoot) -> PatchSettings {
    PatchSettings { root: Some(root.root()), ..PatchSettings::default() }
}

/// The built-in Huawei Cloud EulerOS baseline: Critical and Important
/// security advisories and bug fixes, 7 days after their release.
fn hce_default() -> Baseline {
    built_in(OsFamily::HuaweiCloudEulerOS)
}

fn rule(security_only: bool) -> ApprovalRule {
    ApprovalRule {
        classifications: vec![],
        severities: vec![],
        security_only,
        approve_after_days: 0,
        compliance_level: ComplianceLevel::High,
    }
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names
}

#[tokio::test]
async fn a_scan_of_an_rpm_root_gives_what_rpm_and_dnf_say() {
    let Some(root) = RpmRoot::build() else { return };
    let (host_before, root_before) = (rpmroot::host_state(), root.rpm_state());
    let run = patch::run(&job(PatchOperation::Scan, vec![]), &in_root(&root)).await;
    println!("{}", run.log);
    assert_eq!(run.exit_code, 0, "{}", run.log);
    let inventory = run.inventory.expect("an inventory");
    assert_eq!(
        (inventory.operating_system.as_str(), inventory.os_version.as_str(), inventory.package_manager.as_str()),
        ("HuaweiCloudEulerOS", "2.0", "rpm")
    );

    // Installed: exactly rpm -qa, with rpm's install times.
    let mut scanned: Vec<(String, String, String, Option<i64>)> = inventory
        .installed
        .iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.architecture.clone(), p.installed_time))
        .collect();
    scanned.sort();
    let expected: Vec<(String, String, String, Option<i64>)> = root_before
        .iter()
        .map(|p| (p.name.clone(), p.evr.clone(), p.arch.clone(), Some(p.install_secs * 1000)))
        .collect();
    assert_eq!(scanned, expected);
    let mut names: Vec<(&str, &str)> =
        inventory.installed.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    names.sort();
    assert_eq!(names, PACKAGES.map(|(name, installed, _)| (name, installed)));
    let release = inventory.installed.iter().find(|p| p.name == "coc-test-release").unwrap();
    assert_eq!(release.classification, "System Environment/Base", "the rpm Group");

    // Available: exactly dnf check-update, each with its advisory.
    let mut available: Vec<(String, String, String)> =
        inventory.available.iter().map(|u| (u.name.clone(), u.architecture.clone(), u.version.clone())).collect();
    available.sort();
    assert_eq!(available, root.dnf_check_update());
    let offered: Vec<(&str, &str)> = PACKAGES.iter().filter_map(|(name, _, new)| Some((*name, (*new)?))).collect();
    assert_eq!(available.len(), offered.len());
    for update in &inventory.available {
        let advisory = ADVISORIES.iter().find(|(name, ..)| *name == update.name);
        let (classification, severity, security) = advisory.map_or(("", "", false), |(_, c, s, sec)| (*c, *s, *sec));
        assert_eq!(
            (update.classification.as_str(), update.severity.as_str(), update.security),
            (classification, severity, security),
            "{} takes its advisory from updateinfo",
            update.name
        );
        assert_eq!(update.release_time, advisory.map(|_| ISSUED_MS), "{} release time", update.name);
    }
    assert!(!inventory.reboot_required, "the base was installed long before this boot");
    assert!(!run.log.contains("core packages installed since"), "needs-restarting answered: {}", run.log);

    assert_eq!(root.rpm_state(), root_before, "a scan changes nothing in the root");
    assert_eq!(rpmroot::host_state(), host_before, "nor on this machine");
}

#[tokio::test]
async fn an_install_applies_the_baseline_leaves_a_rejected_package_and_reports_a_failure() {
    let Some(root) = RpmRoot::build() else { return };
    let host_before = rpmroot::host_state();
    // The built-in baseline approves the Important security update and the
    // bug fixes, not the Low one nor the update without an advisory; the
    // tenant rejected coc-test-plain.
    let baseline = Baseline { rejected_patches: vec!["coc-test-plain".into()], ..hce_default() };
    let run = patch::run(&job(PatchOperation::Install, vec![baseline]), &in_root(&root)).await;
    println!("{}", run.log);
    assert_eq!(run.exit_code, 1, "one approved update failed: {}", run.log);
    let inventory = run.inventory.expect("the scan after the install");
    assert_eq!(sorted(inventory.installed_now.clone()), ["coc-test-reboot", "coc-test-secure"]);
    assert_eq!(inventory.failed, [BROKEN_PACKAGE]);
    assert!(run.log.contains("installing 3 approved updates"), "{}", run.log);
    assert!(run.log.contains("installed 2 of 3 approved updates"), "{}", run.log);
    assert!(run.log.contains("FAILED coc-test-broken 2.0-1 (still at 1.0-1)"), "{}", run.log);
    assert!(run.log.contains("Error in PREIN scriptlet"), "dnf's own words are in the log: {}", run.log);
    assert!(!run.log.contains("retrying"), "a failed scriptlet fails again: no call of its own: {}", run.log);

    // rpm itself: the approved updates at 2.0, the rest as they were.
    let versions = root.versions();
    let version_of = |name: &str| versions.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap();
    assert_eq!(version_of("coc-test-secure"), "2.0-1");
    assert_eq!(version_of("coc-test-reboot"), "2.0-1");
    assert_eq!(version_of("coc-test-plain"), "1:1.0-1", "rejected: not installed");
    assert_eq!(version_of("coc-test-lowsec"), "1.0-1", "a Low security update is not approved");
    assert_eq!(version_of("coc-test-bare"), "1.0-1", "an update without an advisory is not approved");
    assert_eq!(version_of(BROKEN_PACKAGE), "1.0-1", "its %pre failed");
    assert_eq!(versions.len(), PACKAGES.len());

    let left: Vec<String> = sorted(inventory.available.iter().map(|u| u.name.clone()).collect());
    assert_eq!(left, ["coc-test-bare", "coc-test-broken", "coc-test-lowsec", "coc-test-plain"]);
    assert!(inventory.reboot_required, "a core package was installed since the boot");
    assert_eq!(inventory.reboot_packages, [REBOOT_PACKAGE]);
    assert!(!run.log.contains("core packages installed since"), "needs-restarting answered: {}", run.log);
    assert_eq!(rpmroot::host_state(), host_before, "the machine's own packages and dnf state are untouched");
}

#[tokio::test]
async fn an_explicitly_approved_package_is_installed_and_a_second_run_has_nothing_to_do() {
    let Some(root) = RpmRoot::build() else { return };
    let baseline = Baseline { approval_rules: vec![], approved_patches: vec!["coc-test-bare".into()], ..hce_default() };
    let baselines = vec![baseline];
    let run = patch::run(&job(PatchOperation::Install, baselines.clone()), &in_root(&root)).await;
    assert_eq!(run.exit_code, 0, "{}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(inventory.installed_now, ["coc-test-bare"]);
    assert!(inventory.failed.is_empty());
    let bare = inventory.installed.iter().find(|p| p.name == "coc-test-bare").unwrap();
    assert_eq!(bare.version, "2.0-1");
    assert!(bare.installed_time.unwrap() > rpmroot::BASE_INSTALL_SECS * 1000, "rpm's new install time");
    assert!(!inventory.reboot_required, "not a core package");
    assert_eq!(inventory.available.len(), 5);

    let again = patch::run(&job(PatchOperation::Install, baselines), &in_root(&root)).await;
    assert_eq!(again.exit_code, 0, "{}", again.log);
    assert!(again.log.contains("nothing to install"), "{}", again.log);
}

#[tokio::test]
async fn an_epoch_and_the_security_only_rule_reach_dnf_as_exact_versions() {
    let Some(root) = RpmRoot::build() else { return };
    let baseline =
        Baseline { approval_rules: vec![rule(true)], approved_patches: vec!["coc-test-plain".into()], ..hce_default() };
    let run = patch::run(&job(PatchOperation::Install, vec![baseline]), &in_root(&root)).await;
    assert_eq!(run.exit_code, 0, "{}", run.log);
    assert!(run.log.contains("coc-test-plain-1:2.0-1.noarch"), "the epoch is in the target: {}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(sorted(inventory.installed_now.clone()), ["coc-test-lowsec", "coc-test-plain", "coc-test-secure"]);
    let versions = root.versions();
    assert!(versions.contains(&("coc-test-plain".into(), "1:2.0-1".into())), "{versions:?}");
    assert!(versions.contains(&("coc-test-lowsec".into(), "2.0-1".into())), "{versions:?}");
}

#[tokio::test]
async fn without_needs_restarting_the_core_package_rule_finds_the_pending_reboot() {
    let Some(root) = RpmRoot::build() else { return };
    // No plugin at all: dnf knows no needs-restarting command.
    let settings = PatchSettings { dnf_options: vec!["--noplugins".into()], ..in_root(&root) };
    let baseline = Baseline { approval_rules: vec![], approved_patches: vec![REBOOT_PACKAGE.into()], ..hce_default() };
    let run = patch::run(&job(PatchOperation::Install, vec![baseline]), &settings).await;
    println!("{}", run.log);
    assert_eq!(run.exit_code, 0, "{}", run.log);
    assert!(run.log.contains("needs-restarting -r did not answer"), "{}", run.log);
    assert!(run.log.contains("the reboot state comes from the core packages installed since the boot"), "{}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(inventory.installed_now, [REBOOT_PACKAGE]);
    assert!(inventory.reboot_required);
    assert_eq!(inventory.reboot_packages, [REBOOT_PACKAGE], "named in the root's needs-restarting.d");
}

#[tokio::test]
async fn a_scan_reads_the_cache_only_and_a_refresh_makes_it_in_the_root() {
    let Some(root) = RpmRoot::build() else { return };
    std::fs::remove_dir_all(root.root().join("var/cache/dnf")).unwrap();
    let host_before = rpmroot::host_state();

    let stale = patch::run(&job(PatchOperation::Scan, vec![]), &in_root(&root)).await;
    assert_eq!(stale.exit_code, patch::EXIT_CANNOT_SCAN, "without a cache dnf -C cannot list updates: {}", stale.log);
    assert!(stale.log.contains("check-update failed"), "{}", stale.log);

    let settings = PatchSettings { refresh: true, ..in_root(&root) };
    let fresh = patch::run(&job(PatchOperation::Scan, vec![]), &settings).await;
    assert_eq!(fresh.exit_code, 0, "{}", fresh.log);
    assert!(fresh.log.contains("refreshed the package index"), "{}", fresh.log);
    assert_eq!(fresh.inventory.unwrap().available.len(), 6);
    assert!(root.root().join("var/cache/dnf").is_dir(), "the cache is made in the root");
    assert_eq!(rpmroot::host_state(), host_before, "and not on this machine");
}

#[tokio::test]
async fn when_the_repository_lost_a_package_the_others_are_installed_one_by_one() {
    let Some(root) = RpmRoot::build() else { return };
    std::fs::remove_file(root.repo().join("coc-test-secure-2.0-1.noarch.rpm")).unwrap();
    let run = patch::run(&job(PatchOperation::Install, vec![hce_default()]), &in_root(&root)).await;
    println!("{}", run.log);
    assert_eq!(run.exit_code, 1, "{}", run.log);
    assert!(run.log.contains("retrying"), "{}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(sorted(inventory.installed_now.clone()), ["coc-test-plain", "coc-test-reboot"]);
    assert_eq!(sorted(inventory.failed.clone()), ["coc-test-broken", "coc-test-secure"]);
    let versions = root.versions();
    assert!(versions.contains(&("coc-test-secure".into(), "1.0-1".into())), "{versions:?}");
}
