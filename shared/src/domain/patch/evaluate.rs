//! The evaluation of a scan against a baseline: one item per package.
//!
//! Each installed package gets one item, in this order of precedence:
//! - **REJECT**: the baseline's `rejected_patches` names it;
//! - **FAILED**: the install run tried to install it and could not (`Inventory::failed`);
//! - **MISSING**: an update of it is available and approved (a rule covers the
//!   update's classification, severity and security origin, and its release is
//!   `approve_after_days` old; or `approved_patches` names it) — at the rule's level;
//! - **PENDING_REBOOT**: it asked for the pending reboot (`reboot_packages`), or
//!   this run installed it and the host waits for a reboot;
//! - **INSTALLED**: a rule covers it (or `approved_patches` names it), nothing missing;
//! - **INSTALLED_OTHER**: installed, no rule or list approves it.
//!
//! An approved update of a package the host does not have is MISSING too (a new
//! kernel, say); one that failed to install is FAILED, and so is a package the
//! install failed on that the scan after it finds neither installed nor offered
//! (at the baseline's `approved_compliance_level`). Updates nobody approved of
//! packages not installed get no item. Rejected updates are never approved.
//!
//! Cost: a few hash sets and one map over the inventory, then one lookup per
//! package, then the sort by title: O(n log n) for n packages.

use std::collections::{HashMap, HashSet};

use super::baseline::Baseline;
use super::inventory::{AvailableUpdate, Inventory};
use super::report::{ComplianceItem, ComplianceLevel, PatchStatus};

/// A baseline made ready for many lookups.
struct Judge<'a> {
    baseline: &'a Baseline,
    approved: HashSet<&'a str>,
    rejected: HashSet<&'a str>,
    now: i64,
}

impl<'a> Judge<'a> {
    fn new(baseline: &'a Baseline, now: i64) -> Self {
        Judge {
            baseline,
            approved: baseline.approved_patches.iter().map(String::as_str).collect(),
            rejected: baseline.rejected_patches.iter().map(String::as_str).collect(),
            now,
        }
    }

    /// The level an approved update is missing with, or `None` when nothing approves it.
    /// Of several rules that approve it, the most severe level counts.
    fn approves_update(&self, update: &AvailableUpdate) -> Option<ComplianceLevel> {
        if self.rejected.contains(update.name.as_str()) {
            return None;
        }
        let by_rules = self
            .baseline
            .approval_rules
            .iter()
            .filter(|r| r.covers(&update.classification, &update.severity, update.security))
            .filter(|r| r.waited(update.release_time, self.now))
            .map(|r| r.compliance_level)
            .min();
        let by_list = self.approved.contains(update.name.as_str()).then_some(self.baseline.approved_compliance_level);
        by_rules.into_iter().chain(by_list).min()
    }

    /// The level of an installed package some rule or the list approves (it is
    /// installed, so release dates do not matter; nothing tells an installed
    /// package's archive, so security-only rules do not cover it).
    fn approves_installed(&self, name: &str, classification: &str, severity: &str) -> Option<ComplianceLevel> {
        let by_rules = self
            .baseline
            .approval_rules
            .iter()
            .filter(|r| r.covers(classification, severity, false))
            .map(|r| r.compliance_level)
            .min();
        let by_list = self.approved.contains(name).then_some(self.baseline.approved_compliance_level);
        by_rules.into_iter().chain(by_list).min()
    }
}

/// The report items of `inventory` against `baseline` at `now` (ms), ordered by title.
pub fn evaluate(baseline: &Baseline, inventory: &Inventory, now: i64) -> Vec<ComplianceItem> {
    let judge = Judge::new(baseline, now);
    let updates: HashMap<&str, &AvailableUpdate> = inventory.available.iter().map(|u| (u.name.as_str(), u)).collect();
    let failed: HashSet<&str> = inventory.failed.iter().map(String::as_str).collect();
    let installed_now: HashSet<&str> = inventory.installed_now.iter().map(String::as_str).collect();
    let asked_reboot: HashSet<&str> = inventory.reboot_packages.iter().map(String::as_str).collect();
    let mut items = Vec::with_capacity(inventory.installed.len() + inventory.failed.len());
    let mut installed_names = HashSet::with_capacity(inventory.installed.len());

    for package in &inventory.installed {
        let name = package.name.as_str();
        installed_names.insert(name);
        let update = updates.get(name).copied();
        let update_level = update.and_then(|u| judge.approves_update(u));
        let own_level = judge.approves_installed(name, &package.classification, &package.severity);
        let pending_reboot = asked_reboot.contains(name) || (inventory.reboot_required && installed_now.contains(name));
        let (status, level) = if judge.rejected.contains(name) {
            (PatchStatus::Reject, own_level.unwrap_or(baseline.approved_compliance_level))
        } else if failed.contains(name) {
            (PatchStatus::Failed, update_level.or(own_level).unwrap_or(baseline.approved_compliance_level))
        } else if let Some(level) = update_level {
            (PatchStatus::Missing, level)
        } else if pending_reboot {
            (PatchStatus::PendingReboot, own_level.unwrap_or(baseline.approved_compliance_level))
        } else if let Some(level) = own_level {
            (PatchStatus::Installed, level)
        } else {
            (PatchStatus::InstalledOther, ComplianceLevel::Unspecified)
        };
        // A missing update is described by the update, anything else by the package.
        let described = match (status, update) {
            (PatchStatus::Missing | PatchStatus::Failed, Some(u)) => (&u.classification, &u.severity),
            _ => (&package.classification, &package.severity),
        };
        items.push(ComplianceItem {
            title: package.name.clone(),
            installed_version: package.version.clone(),
            available_version: match status {
                PatchStatus::Missing | PatchStatus::Failed => update.map(|u| u.version.clone()).unwrap_or_default(),
                _ => String::new(),
            },
            classification: described.0.clone(),
            severity_level: described.1.clone(),
            compliance_level: level,
            patch_status: status,
            installed_time: package.installed_time,
        });
    }

    // Updates of packages the host does not have.
    for update in &inventory.available {
        if installed_names.contains(update.name.as_str()) {
            continue;
        }
        let level = judge.approves_update(update);
        let status = if failed.contains(update.name.as_str()) {
            PatchStatus::Failed
        } else if level.is_some() {
            PatchStatus::Missing
        } else {
            continue;
        };
        items.push(ComplianceItem {
            title: update.name.clone(),
            installed_version: String::new(),
            available_version: update.version.clone(),
            classification: update.classification.clone(),
            severity_level: update.severity.clone(),
            compliance_level: level.unwrap_or(baseline.approved_compliance_level),
            patch_status: status,
            installed_time: None,
        });
        installed_names.insert(update.name.as_str());
    }

    // A package the install tried that is now neither installed nor offered
    // (dpkg left it half-configured, say) is still the run's failure.
    for name in &inventory.failed {
        if installed_names.insert(name.as_str()) {
            items.push(ComplianceItem {
                title: name.clone(),
                installed_version: String::new(),
                available_version: String::new(),
                classification: String::new(),
                severity_level: String::new(),
                compliance_level: baseline.approved_compliance_level,
                patch_status: PatchStatus::Failed,
                installed_time: None,
            });
        }
    }

    items.sort_by(|a, b| a.title.cmp(&b.title).then_with(|| a.installed_version.cmp(&b.installed_version)));
    items
}

/// The updates an install applies: every available update the baseline
/// approves at `now` (never a rejected one), by name.
pub fn approved_missing(baseline: &Baseline, inventory: &Inventory, now: i64) -> Vec<AvailableUpdate> {
    let judge = Judge::new(baseline, now);
    let mut chosen: Vec<AvailableUpdate> =
        inventory.available.iter().filter(|u| judge.approves_update(u).is_some()).cloned().collect();
    chosen.sort_by(|a, b| a.name.cmp(&b.name));
    chosen
}

#[cfg(test)]
mod tests;
