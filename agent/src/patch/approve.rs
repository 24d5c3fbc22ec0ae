//! Which updates an install applies: the missing updates the job's baseline
//! for this host's OS family approves.
//!
//! Interim: the shared evaluation (`coc_shared::domain::patch::evaluate`) is
//! being written in parallel and will provide
//! `approved_missing(baseline, inventory, now) -> Vec<AvailableUpdate>` and the
//! baseline of an OS; until it lands, [`approved_missing`] applies the
//! baseline's documented rules here, and is the only function to switch over.

use coc_shared::domain::patch::{AvailableUpdate, Baseline, Inventory, PatchJob};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The job's baseline for this OS family (`Baseline::operating_system`).
pub fn baseline_for<'a>(job: &'a PatchJob, family: &str) -> Option<&'a Baseline> {
    job.baselines.iter().find(|b| b.operating_system.eq_ignore_ascii_case(family))
}

/// The available updates `baseline` approves at `now` (ms): never a rejected
/// package; an explicitly approved one; else one an approval rule matches
/// (classification and severity, case-insensitive, empty lists matching any;
/// security only if the rule says so) once `approve_after_days` have passed
/// since its release (an unknown release time counts as long ago).
pub fn approved_missing(baseline: &Baseline, inventory: &Inventory, now: i64) -> Vec<AvailableUpdate> {
    let listed = |list: &[String], name: &str| list.iter().any(|n| n == name);
    let matches = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value));
    inventory
        .available
        .iter()
        .filter(|update| !listed(&baseline.rejected_patches, &update.name))
        .filter(|update| {
            listed(&baseline.approved_patches, &update.name)
                || baseline.approval_rules.iter().any(|rule| {
                    matches(&rule.classifications, &update.classification)
                        && matches(&rule.severities, &update.severity)
                        && (!rule.security_only || update.security)
                        && update
                            .release_time
                            .is_none_or(|released| released + rule.approve_after_days as i64 * DAY_MS <= now)
                })
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use coc_shared::domain::patch::baseline::ApprovalRule;
    use coc_shared::domain::patch::{ComplianceLevel, PatchOperation};

    fn update(name: &str, classification: &str, security: bool, release_time: Option<i64>) -> AvailableUpdate {
        AvailableUpdate {
            name: name.into(),
            version: "2.0".into(),
            architecture: "all".into(),
            classification: classification.into(),
            severity: "optional".into(),
            release_time,
            security,
        }
    }

    fn baseline(os: &str, rules: Vec<ApprovalRule>) -> Baseline {
        Baseline {
            id: format!("b-{os}"),
            name: os.into(),
            description: String::new(),
            operating_system: os.into(),
            is_default: true,
            rule_type: "standard".into(),
            approval_rules: rules,
            approved_patches: vec!["explicit".into()],
            approved_compliance_level: ComplianceLevel::High,
            rejected_patches: vec!["rejected".into()],
            created_at: 0,
            updated_at: 0,
            version: 1,
        }
    }

    #[test]
    fn only_approved_updates_are_chosen() {
        let now = 100 * DAY_MS;
        let rule = ApprovalRule {
            classifications: vec![],
            severities: vec![],
            security_only: true,
            approve_after_days: 7,
            compliance_level: ComplianceLevel::Critical,
        };
        let inventory = Inventory {
            operating_system: "Debian".into(),
            os_version: "12".into(),
            package_manager: "dpkg".into(),
            installed: vec![],
            available: vec![
                update("secure", "net", true, None),
                update("plain", "utils", false, None),
                update("explicit", "utils", false, None),
                update("rejected", "net", true, None),
                update("too-new", "net", true, Some(now - 2 * DAY_MS)),
                update("old-enough", "net", true, Some(now - 8 * DAY_MS)),
            ],
            reboot_required: false,
            reboot_packages: vec![],
            installed_now: vec![],
            failed: vec![],
            scanned_at: now,
        };
        let chosen = approved_missing(&baseline("Debian", vec![rule]), &inventory, now);
        let names: Vec<&str> = chosen.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["secure", "explicit", "old-enough"]);

        let job = PatchJob {
            operation: PatchOperation::Install,
            baselines: vec![baseline("Ubuntu", vec![]), baseline("Debian", vec![])],
        };
        assert_eq!(baseline_for(&job, "Debian").unwrap().id, "b-Debian");
        assert!(baseline_for(&job, "CentOS").is_none());
    }
}
