//! Every status of the evaluation, the summaries adding up, and its speed.

use super::*;
use crate::domain::patch::baseline::{built_in, ApprovalRule, OsFamily};
use crate::domain::patch::inventory::InstalledPackage;
use crate::domain::patch::report::summarize;

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_000 * DAY;

fn installed(name: &str, classification: &str, severity: &str) -> InstalledPackage {
    InstalledPackage {
        name: name.into(),
        version: "1.0".into(),
        architecture: "amd64".into(),
        installed_time: Some(NOW - 100 * DAY),
        classification: classification.into(),
        severity: severity.into(),
    }
}

fn update(name: &str, classification: &str, severity: &str, released_days_ago: i64, security: bool) -> AvailableUpdate {
    AvailableUpdate {
        name: name.into(),
        version: "2.0".into(),
        architecture: "amd64".into(),
        classification: classification.into(),
        severity: severity.into(),
        release_time: Some(NOW - released_days_ago * DAY),
        security,
    }
}

fn inventory(installed: Vec<InstalledPackage>, available: Vec<AvailableUpdate>) -> Inventory {
    Inventory {
        operating_system: "CentOS".into(),
        os_version: "8".into(),
        package_manager: "rpm".into(),
        installed,
        available,
        reboot_required: false,
        reboot_packages: Vec::new(),
        installed_now: Vec::new(),
        failed: Vec::new(),
        scanned_at: NOW,
    }
}

/// CentOS's built-in (Security Critical/Important at HIGH, Bugfix at MEDIUM, 7
/// days) plus an `Enhancement` rule at LOW for installed packages of that kind.
fn baseline() -> Baseline {
    let mut baseline = built_in(OsFamily::CentOS);
    baseline.approval_rules.push(ApprovalRule {
        classifications: vec!["Enhancement".into()],
        severities: Vec::new(),
        security_only: false,
        approve_after_days: 30,
        compliance_level: ComplianceLevel::Low,
    });
    baseline.rejected_patches = vec!["telnet".into()];
    baseline.approved_patches = vec!["openssl".into()];
    baseline.approved_compliance_level = ComplianceLevel::Critical;
    baseline
}

fn status_of<'a>(items: &'a [ComplianceItem], title: &str) -> &'a ComplianceItem {
    items.iter().find(|i| i.title == title).unwrap_or_else(|| panic!("no item {title}: {items:?}"))
}

#[test]
fn each_package_gets_the_status_its_state_calls_for() {
    let mut scan = inventory(
        vec![
            installed("telnet", "Enhancement", ""),
            installed("kernel", "Security", "Critical"),
            installed("glibc", "Security", "Important"),
            installed("bash", "Enhancement", ""),
            installed("vim", "Other", ""),
            installed("curl", "Bugfix", ""),
            installed("systemd", "Bugfix", ""),
            installed("fresh", "Security", "Critical"),
        ],
        vec![
            update("kernel", "Security", "Critical", 10, true),
            update("vim", "Security", "Low", 10, true),
            update("curl", "Bugfix", "", 10, false),
            update("fresh", "Security", "Critical", 3, true),
            update("openssl", "Other", "", 0, false),
            update("telnet", "Security", "Critical", 100, true),
            update("newpkg", "Enhancement", "", 1, false),
        ],
    );
    scan.failed = vec!["curl".into()];
    scan.installed_now = vec!["systemd".into()];
    scan.reboot_required = true;
    scan.reboot_packages = vec!["glibc".into()];
    let items = evaluate(&baseline(), &scan, NOW);

    let reject = status_of(&items, "telnet");
    assert_eq!(reject.patch_status, PatchStatus::Reject, "rejected wins over an approved update");
    let missing = status_of(&items, "kernel");
    assert_eq!((missing.patch_status, missing.compliance_level), (PatchStatus::Missing, ComplianceLevel::High));
    assert_eq!((missing.installed_version.as_str(), missing.available_version.as_str()), ("1.0", "2.0"));
    assert_eq!(missing.installed_time, Some(NOW - 100 * DAY));
    assert_eq!(status_of(&items, "glibc").patch_status, PatchStatus::PendingReboot, "it asked for the reboot");
    assert_eq!(status_of(&items, "systemd").patch_status, PatchStatus::PendingReboot, "installed now, reboot pending");
    let failed = status_of(&items, "curl");
    assert_eq!((failed.patch_status, failed.compliance_level), (PatchStatus::Failed, ComplianceLevel::Medium));
    let approved = status_of(&items, "bash");
    assert_eq!((approved.patch_status, approved.compliance_level), (PatchStatus::Installed, ComplianceLevel::Low));
    let other = status_of(&items, "vim");
    assert_eq!(other.patch_status, PatchStatus::InstalledOther, "its update is Low, no rule approves it or vim");
    assert_eq!(other.available_version, "");
    assert_eq!(status_of(&items, "fresh").patch_status, PatchStatus::Installed, "its update waits 7 days");
    let new = status_of(&items, "openssl");
    assert_eq!((new.patch_status, new.compliance_level), (PatchStatus::Missing, ComplianceLevel::Critical));
    assert_eq!(new.installed_version, "", "approved by the list, not installed");
    assert!(items.iter().all(|i| i.title != "newpkg"), "an unapproved update of a package not installed: no item");
    assert_eq!(items.len(), 9);
    let titles: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
    let mut sorted = titles.clone();
    sorted.sort();
    assert_eq!(titles, sorted, "ordered by title");
}

#[test]
fn installing_turns_missing_into_installed() {
    let base = baseline();
    let before = inventory(
        vec![installed("kernel", "Security", "Critical")],
        vec![update("kernel", "Security", "Critical", 10, true)],
    );
    assert_eq!(evaluate(&base, &before, NOW)[0].patch_status, PatchStatus::Missing);
    let chosen = approved_missing(&base, &before, NOW);
    assert_eq!(chosen.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(), ["kernel"]);
    let mut after = inventory(vec![installed("kernel", "Security", "Critical")], Vec::new());
    after.installed_now = vec!["kernel".into()];
    assert_eq!(evaluate(&base, &after, NOW)[0].patch_status, PatchStatus::Installed);
    after.reboot_required = true;
    assert_eq!(evaluate(&base, &after, NOW)[0].patch_status, PatchStatus::PendingReboot);
}

#[test]
fn approved_missing_never_picks_rejected_or_unripe_updates() {
    let scan = inventory(
        vec![installed("telnet", "", ""), installed("kernel", "", "")],
        vec![
            update("telnet", "Security", "Critical", 100, true),
            update("kernel", "Security", "Critical", 1, true),
            update("zlib", "Bugfix", "", 8, false),
            update("openssl", "", "", 0, false),
        ],
    );
    let chosen: Vec<String> = approved_missing(&baseline(), &scan, NOW).into_iter().map(|u| u.name).collect();
    assert_eq!(chosen, ["openssl", "zlib"]);
}

#[test]
fn debian_defaults_approve_security_at_once_and_the_rest_after_a_week() {
    let debian = built_in(OsFamily::Debian);
    let scan = inventory(
        vec![
            installed("libssl3", "libs", "important"),
            installed("less", "text", "standard"),
            installed("nano", "editors", ""),
        ],
        vec![
            update("libssl3", "libs", "", 0, true),
            update("less", "text", "", 3, false),
            update("nano", "editors", "", 8, false),
        ],
    );
    let items = evaluate(&debian, &scan, NOW);
    let security = status_of(&items, "libssl3");
    assert_eq!((security.patch_status, security.compliance_level), (PatchStatus::Missing, ComplianceLevel::High));
    assert_eq!(status_of(&items, "less").patch_status, PatchStatus::Installed, "a 3-day-old update waits");
    let week = status_of(&items, "nano");
    assert_eq!((week.patch_status, week.compliance_level), (PatchStatus::Missing, ComplianceLevel::Medium));
}

#[test]
fn a_failed_package_the_rescan_no_longer_sees_is_still_failed() {
    let mut scan = inventory(vec![installed("bash", "Security", "Critical")], Vec::new());
    scan.failed = vec!["half-configured".into()];
    let items = evaluate(&baseline(), &scan, NOW);
    let failed = status_of(&items, "half-configured");
    assert_eq!(failed.patch_status, PatchStatus::Failed);
    assert_eq!(failed.compliance_level, baseline().approved_compliance_level);
    assert_eq!(items.len(), 2);
}

#[test]
fn summaries_add_up_to_the_items() {
    let mut scan = inventory(
        (0..50).map(|i| installed(&format!("p{i:02}"), ["Security", "Bugfix", "Other"][i % 3], "Critical")).collect(),
        (0..50).step_by(4).map(|i| update(&format!("p{i:02}"), "Security", "Critical", 30, true)).collect(),
    );
    scan.failed = vec!["p01".into()];
    scan.reboot_packages = vec!["p03".into()];
    let items = evaluate(&baseline(), &scan, NOW);
    let summaries = summarize(&items);
    assert_eq!(summaries.compliant.total() + summaries.non_compliant.total(), items.len() as u64);
    let non_compliant = items.iter().filter(|i| !i.patch_status.is_compliant()).count() as u64;
    assert_eq!(summaries.non_compliant.total(), non_compliant);
    // p00, p04 … p48 miss a HIGH update; p03 (Security, Critical: HIGH) waits for the reboot.
    assert_eq!(summaries.non_compliant.high_count, 14);
    assert_eq!(summaries.non_compliant.medium_count, 1, "p01 (Bugfix) failed");
    assert!(non_compliant > 13, "the failed and the pending reboot count too");
}

#[test]
fn five_thousand_packages_evaluate_fast() {
    let installed_packages: Vec<_> =
        (0..5_000).map(|i| installed(&format!("pkg{i:05}"), "Security", "Important")).collect();
    let available: Vec<_> =
        (0..5_000).step_by(3).map(|i| update(&format!("pkg{i:05}"), "Security", "Important", 10, true)).collect();
    let mut scan = inventory(installed_packages, available);
    scan.failed = (0..5_000).step_by(100).map(|i| format!("pkg{i:05}")).collect();
    let base = baseline();
    let started = std::time::Instant::now();
    let items = evaluate(&base, &scan, NOW);
    let took = started.elapsed();
    assert_eq!(items.len(), 5_000);
    // Well under 10 ms in release; a debug build is slower, so the test allows more.
    assert!(took.as_millis() < 200, "{took:?}");
}
