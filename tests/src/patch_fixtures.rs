//! Compliance reports and items to seed stores with, as the inventory
//! endpoint would save them.

use coc_shared::domain::patch::report::{summarize, ComplianceStatus};
use coc_shared::domain::patch::{ComplianceItem, ComplianceLevel, InstanceCompliant, PatchStatus};

/// A report of host `instance_id` against `baseline_id`, made at `report_time` by ticket `order_id`.
pub fn report(instance_id: &str, baseline_id: &str, report_time: i64, order_id: &str) -> InstanceCompliant {
    InstanceCompliant {
        id: String::new(),
        instance_id: instance_id.to_owned(),
        agent_sn: format!("sn-{instance_id}"),
        name: format!("host-{instance_id}"),
        ip: "10.0.0.7".to_owned(),
        eip: String::new(),
        region: "cn-north-4".to_owned(),
        group: String::new(),
        operating_system: "Ubuntu".to_owned(),
        baseline_id: baseline_id.to_owned(),
        baseline_name: format!("baseline {baseline_id}"),
        rule_type: "standard".to_owned(),
        summaries: Default::default(),
        item_count: 0,
        order_id: order_id.to_owned(),
        job_id: format!("{order_id}-{instance_id}"),
        report_time,
    }
}

/// Item `n` of a report: statuses, levels and classifications in turn, install
/// times out of order (and none for what is missing), titles `{prefix}-{n:05}`.
pub fn item(prefix: &str, n: usize) -> ComplianceItem {
    let patch_status = PatchStatus::ALL[n % PatchStatus::ALL.len()];
    let installed = patch_status != PatchStatus::Missing;
    ComplianceItem {
        title: format!("{prefix}-{n:05}"),
        installed_version: if installed { "1.0".to_owned() } else { String::new() },
        available_version: "1.1".to_owned(),
        classification: ["Security", "Bugfix"][n % 2].to_owned(),
        severity_level: ["Important", "Moderate", "Low"][n % 3].to_owned(),
        compliance_level: ComplianceLevel::ALL[n % 4],
        patch_status,
        // A permutation of the items, so that installed-time order is not insertion order.
        installed_time: installed.then(|| 1_700_000_000_000 + ((n * 7919) % 100_003) as i64 * 1000),
    }
}

pub fn items(prefix: &str, count: usize) -> Vec<ComplianceItem> {
    (0..count).map(|n| item(prefix, n)).collect()
}

/// Items that leave the host compliant: all installed.
pub fn compliant_items(prefix: &str, count: usize) -> Vec<ComplianceItem> {
    (0..count).map(|n| ComplianceItem { patch_status: PatchStatus::Installed, ..item(prefix, n) }).collect()
}

/// The status a report of these items has.
pub fn status_of(items: &[ComplianceItem]) -> ComplianceStatus {
    if summarize(items).non_compliant.total() == 0 {
        ComplianceStatus::Compliant
    } else {
        ComplianceStatus::NonCompliant
    }
}

/// The sort key of items in installed-time order, as the lists sort them.
pub fn installed_order(items: &[ComplianceItem]) -> Vec<String> {
    let mut sorted: Vec<&ComplianceItem> = items.iter().collect();
    sorted.sort_by(|a, b| {
        a.installed_time.unwrap_or(i64::MIN).cmp(&b.installed_time.unwrap_or(i64::MIN)).then(a.title.cmp(&b.title))
    });
    sorted.into_iter().map(|i| i.title.clone()).collect()
}
