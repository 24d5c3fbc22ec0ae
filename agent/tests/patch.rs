//! Patch scans and installs with the real package tools: a scan of this
//! machine's own dpkg database (read only), and scans and installs in a
//! throw-away root with packages built by the test, the machine's own package
//! database compared before and after.

#[path = "support/debroot.rs"]
mod debroot;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Instant;

use coc_agent::patch::{self, PatchSettings};
use coc_shared::domain::patch::baseline::ApprovalRule;
use coc_shared::domain::patch::{Baseline, ComplianceLevel, PatchJob, PatchOperation};
use debroot::DebRoot;

fn sh(command: &str) -> String {
    let output = Command::new("sh").args(["-c", command]).env("LC_ALL", "C").output().expect("sh");
    assert!(output.status.success(), "{command}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The host's whole package database, as dpkg lists it.
fn host_packages() -> String {
    sh("dpkg-query -W -f='${binary:Package} ${Version} ${db:Status-Abbrev}\\n'")
}

fn debian_baseline(rule: ApprovalRule) -> Baseline {
    Baseline {
        id: "bl-debian".into(),
        name: "debian-default".into(),
        description: String::new(),
        operating_system: "Debian".into(),
        is_default: true,
        rule_type: "standard".into(),
        approval_rules: vec![rule],
        approved_patches: vec![],
        approved_compliance_level: ComplianceLevel::Unspecified,
        rejected_patches: vec![],
        created_at: 0,
        updated_at: 0,
        version: 1,
    }
}

fn any_update() -> ApprovalRule {
    ApprovalRule {
        classifications: vec![],
        severities: vec![],
        security_only: false,
        approve_after_days: 0,
        compliance_level: ComplianceLevel::High,
    }
}

fn job(operation: PatchOperation, baselines: Vec<Baseline>) -> PatchJob {
    PatchJob { operation, baselines }
}

fn in_root(root: &DebRoot) -> PatchSettings {
    PatchSettings { root: Some(root.root()), ..PatchSettings::default() }
}

#[tokio::test]
async fn a_scan_of_this_machine_reads_its_whole_dpkg_database() {
    let before = host_packages();
    let started = Instant::now();
    let run = patch::run(&job(PatchOperation::Scan, vec![]), &PatchSettings::default()).await;
    let took = started.elapsed();
    println!("scan of this machine: {} ms\n{}", took.as_millis(), run.log);
    assert_eq!(run.exit_code, 0, "{}", run.log);
    let inventory = run.inventory.expect("an inventory");

    let expected: BTreeSet<String> =
        sh("dpkg-query -W -f='${db:Status-Status} ${Package} ${Version} ${Architecture}\\n'")
            .lines()
            .filter_map(|l| {
                ["installed ", "triggers-pending ", "triggers-awaited "].iter().find_map(|state| l.strip_prefix(state))
            })
            .map(str::to_owned)
            .collect();
    let scanned: BTreeSet<String> =
        inventory.installed.iter().map(|p| format!("{} {} {}", p.name, p.version, p.architecture)).collect();
    assert_eq!(scanned, expected);
    assert!(inventory.installed.iter().all(|p| p.installed_time.is_some_and(|t| t > 0)), "every install time");
    let dpkg = inventory.installed.iter().find(|p| p.name == "dpkg").expect("dpkg is installed");
    assert_eq!(dpkg.classification, sh("dpkg-query -W -f='${Section}' dpkg"));
    assert_eq!(dpkg.severity, sh("dpkg-query -W -f='${Priority}' dpkg"));

    let upgradable: BTreeSet<String> = sh("apt-get -s dist-upgrade")
        .lines()
        .filter(|l| l.starts_with("Inst ") && l.split(' ').nth(2).is_some_and(|w| w.starts_with('[')))
        .map(|l| l.split(' ').nth(1).unwrap().split(':').next().unwrap().to_owned())
        .collect();
    let available: BTreeSet<String> = inventory.available.iter().map(|u| u.name.clone()).collect();
    assert_eq!(available, upgradable);

    let os = std::fs::read_to_string("/etc/os-release").unwrap();
    let family = if os.contains("ID=ubuntu") { "Ubuntu" } else { "Debian" };
    assert_eq!((inventory.operating_system.as_str(), inventory.package_manager.as_str()), (family, "dpkg"));
    assert_eq!(inventory.reboot_required, std::path::Path::new("/var/run/reboot-required").exists());
    assert!(inventory.installed_now.is_empty() && inventory.failed.is_empty());
    assert_eq!(host_packages(), before, "a scan changes nothing");
}

#[tokio::test]
async fn a_scan_of_a_root_sees_its_updates_and_security_archive() {
    let root = DebRoot::build();
    let before = root.dpkg_state();
    let run = patch::run(&job(PatchOperation::Scan, vec![]), &in_root(&root)).await;
    assert_eq!(run.exit_code, 0, "{}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(inventory.operating_system, "Debian");
    assert_eq!(inventory.os_version, "12");
    let installed: Vec<(&str, &str)> =
        inventory.installed.iter().map(|p| (p.name.as_str(), p.version.as_str())).collect();
    let expected: Vec<(&str, &str)> = debroot::PACKAGES.iter().map(|(name, v, _)| (*name, *v)).collect();
    assert_eq!(installed, expected);
    let plain = inventory.installed.iter().find(|p| p.name == "coc-test-plain").unwrap();
    assert_eq!((plain.classification.as_str(), plain.severity.as_str()), ("utils", "optional"));

    let mut available: Vec<(&str, &str, bool, &str)> = inventory
        .available
        .iter()
        .map(|u| (u.name.as_str(), u.version.as_str(), u.security, u.classification.as_str()))
        .collect();
    available.sort();
    assert_eq!(
        available,
        [
            ("coc-test-broken", "2.0", false, "misc"),
            ("coc-test-plain", "2.0", false, "utils"),
            ("coc-test-reboot", "2.0", false, "admin"),
            ("coc-test-secure", "2.0", true, "net"),
        ]
    );
    assert!(!inventory.reboot_required);
    assert_eq!(root.dpkg_state(), before, "a scan changes nothing in the root");
}

#[tokio::test]
async fn an_install_into_a_root_installs_what_is_approved_and_reports_failures() {
    let host_before = host_packages();
    let host_reboot_flag = std::path::Path::new("/var/run/reboot-required").exists();
    let root = DebRoot::build();
    let run = patch::run(&job(PatchOperation::Install, vec![debian_baseline(any_update())]), &in_root(&root)).await;
    println!("{}", run.log);
    assert_eq!(run.exit_code, 1, "one approved update failed");
    let inventory = run.inventory.expect("the scan after the install");
    let mut installed_now = inventory.installed_now.clone();
    installed_now.sort();
    assert_eq!(installed_now, ["coc-test-plain", "coc-test-reboot", "coc-test-secure"]);
    assert_eq!(inventory.failed, [debroot::BROKEN_PACKAGE]);
    assert!(inventory.reboot_required);
    assert_eq!(inventory.reboot_packages, [debroot::REBOOT_PACKAGE]);
    let left: Vec<(&str, &str)> = inventory.available.iter().map(|u| (u.name.as_str(), u.version.as_str())).collect();
    assert_eq!(left, [(debroot::BROKEN_PACKAGE, "2.0")], "only the failed update is still to install");
    for name in ["coc-test-plain", "coc-test-reboot", "coc-test-secure"] {
        assert!(inventory.installed.iter().any(|p| p.name == name && p.version == "2.0"), "{name} at 2.0");
    }
    assert!(!inventory.installed.iter().any(|p| p.name == debroot::BROKEN_PACKAGE), "a half-configured package");
    let state = root.dpkg_state();
    assert!(state.contains(&("coc-test-broken".into(), "2.0".into(), "half-configured".into())), "{state:?}");
    assert!(run.log.contains("installed 3 of 4 approved updates"), "{}", run.log);
    assert!(run.log.contains("FAILED coc-test-broken 2.0"), "{}", run.log);

    assert_eq!(host_packages(), host_before, "the machine's own packages are untouched");
    assert_eq!(std::path::Path::new("/var/run/reboot-required").exists(), host_reboot_flag);
}

#[tokio::test]
async fn an_install_applies_only_what_the_baseline_approves() {
    let root = DebRoot::build();
    let security_only = ApprovalRule { security_only: true, ..any_update() };
    let baselines = vec![debian_baseline(security_only)];
    let run = patch::run(&job(PatchOperation::Install, baselines.clone()), &in_root(&root)).await;
    assert_eq!(run.exit_code, 0, "{}", run.log);
    let inventory = run.inventory.unwrap();
    assert_eq!(inventory.installed_now, [debroot::SECURITY_PACKAGE]);
    assert!(inventory.failed.is_empty());
    let mut left: Vec<&str> = inventory.available.iter().map(|u| u.name.as_str()).collect();
    left.sort();
    assert_eq!(left, ["coc-test-broken", "coc-test-plain", "coc-test-reboot"]);
    assert!(!inventory.reboot_required);

    // Run again: nothing approved is missing any more.
    let again = patch::run(&job(PatchOperation::Install, baselines), &in_root(&root)).await;
    assert_eq!(again.exit_code, 0, "{}", again.log);
    assert!(again.log.contains("nothing to install"), "{}", again.log);
    assert!(again.inventory.unwrap().installed_now.is_empty());
}

#[tokio::test]
async fn an_install_without_a_baseline_for_the_os_installs_nothing() {
    let root = DebRoot::build();
    let mut centos = debian_baseline(any_update());
    centos.operating_system = "CentOS".into();
    let before = root.dpkg_state();
    let run = patch::run(&job(PatchOperation::Install, vec![centos]), &in_root(&root)).await;
    assert_ne!(run.exit_code, 0);
    assert!(run.log.contains("no baseline for Debian"), "{}", run.log);
    assert_eq!(run.inventory.unwrap().available.len(), 4, "the scan is still reported");
    assert_eq!(root.dpkg_state(), before);
}

#[tokio::test]
async fn a_root_without_an_os_release_cannot_be_scanned() {
    let empty = tempfile::tempdir().unwrap();
    let settings = PatchSettings { root: Some(empty.path().into()), ..PatchSettings::default() };
    let run = patch::run(&job(PatchOperation::Scan, vec![]), &settings).await;
    assert_eq!(run.exit_code, patch::EXIT_CANNOT_SCAN);
    assert!(run.inventory.is_none());
    assert!(run.log.contains("os-release"), "{}", run.log);
}

#[tokio::test]
async fn a_refresh_fetches_the_lists_of_the_root_only() {
    let root = DebRoot::build();
    let lists = root.root().join("var/lib/apt/lists");
    for entry in std::fs::read_dir(&lists).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.file_name().is_some_and(|n| n.to_string_lossy().contains("_repo_")) {
            std::fs::remove_file(path).unwrap();
        }
    }
    let host_lists = || sh("ls -l --time-style=full-iso /var/lib/apt/lists");
    let host_before = host_lists();

    let stale = patch::run(&job(PatchOperation::Scan, vec![]), &in_root(&root)).await;
    assert_eq!(stale.exit_code, 0, "{}", stale.log);
    assert!(stale.inventory.unwrap().available.is_empty(), "without lists apt knows no update");

    let settings = PatchSettings { refresh: true, ..in_root(&root) };
    let fresh = patch::run(&job(PatchOperation::Scan, vec![]), &settings).await;
    assert_eq!(fresh.exit_code, 0, "{}", fresh.log);
    assert!(fresh.log.contains("refreshed the package index"), "{}", fresh.log);
    assert_eq!(fresh.inventory.unwrap().available.len(), 4);
    assert_eq!(host_lists(), host_before, "the host's own lists are untouched");
}

#[tokio::test]
async fn when_the_batch_fails_each_update_gets_a_call_of_its_own() {
    let root = DebRoot::build();
    // The repository lost one package file: apt cannot fetch it, refuses the
    // whole batch, and dpkg never runs.
    std::fs::remove_file(root.repo().join("stable/coc-test-plain_2.0_all.deb")).unwrap();
    let run = patch::run(&job(PatchOperation::Install, vec![debian_baseline(any_update())]), &in_root(&root)).await;
    assert_eq!(run.exit_code, 1, "{}", run.log);
    assert!(run.log.contains("retrying 4 updates one by one"), "{}", run.log);
    let inventory = run.inventory.unwrap();
    let (mut installed_now, mut failed) = (inventory.installed_now.clone(), inventory.failed.clone());
    installed_now.sort();
    failed.sort();
    assert_eq!(installed_now, ["coc-test-reboot", "coc-test-secure"]);
    assert_eq!(failed, ["coc-test-broken", "coc-test-plain"]);
    let plain = inventory.installed.iter().find(|p| p.name == "coc-test-plain").unwrap();
    assert_eq!(plain.version, "1.0", "untouched by the failed fetch");
}
