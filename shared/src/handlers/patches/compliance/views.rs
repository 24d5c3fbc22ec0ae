//! The reference's shapes of a report (table 4-79) and of an item (table 4-88).

use serde_json::{json, Value};

use crate::domain::patch::report::SeveritySummary;
use crate::domain::patch::{ComplianceItem, InstanceCompliant};
use crate::repositories::patch_reports::{StoredReport, ENTERPRISE_PROJECT, REPORT_SCENE};

fn severity(summary: &SeveritySummary) -> Value {
    json!({
        "critical_count": summary.critical_count,
        "high_count": summary.high_count,
        "informational_count": summary.informational_count,
        "low_count": summary.low_count,
        "medium_count": summary.medium_count,
        "unspecified_count": summary.unspecified_count,
    })
}

/// What a host does not have shows as `null`, as in the reference's example.
fn or_null(value: &str) -> Value {
    if value.is_empty() {
        Value::Null
    } else {
        Value::String(value.to_owned())
    }
}

pub fn report(stored: &StoredReport) -> Value {
    let report = &stored.report;
    let summaries = &report.summaries;
    json!({
        "compliant_summary": {
            "compliant_count": summaries.compliant.total(),
            "severity_summary": severity(&summaries.compliant),
        },
        "non_compliant_summary": {
            "non_compliant_count": summaries.non_compliant.total(),
            "severity_summary": severity(&summaries.non_compliant),
        },
        "execution_summary": {
            "order_id": report.order_id,
            "job_id": report.job_id,
            "report_time": report.report_time,
        },
        "id": report.id,
        "enterprise_project_id": ENTERPRISE_PROJECT,
        "name": report.name,
        "instance_id": report.instance_id,
        // Hosts are ECS servers, not CCE nodes.
        "node_id": "",
        "ip": report.ip,
        "eip": or_null(&report.eip),
        "region": report.region,
        "group": or_null(&report.group),
        "report_scene": REPORT_SCENE,
        "cce_info_id": Value::Null,
        "status": report.status().key(),
        "baseline_id": report.baseline_id,
        "baseline_name": report.baseline_name,
        "rule_type": report.rule_type,
        "operating_system": report.operating_system,
    })
}

pub fn item(report: &InstanceCompliant, item: &ComplianceItem) -> Value {
    json!({
        "instance_id": report.instance_id,
        "title": item.title,
        "classification": item.classification,
        "severity_level": item.severity_level,
        "compliance_level": item.compliance_level.key(),
        "patch_detail": {
            "installed_time": item.installed_time,
            "patch_baseline_id": report.baseline_id,
            "patch_baseline_name": report.baseline_name,
            "patch_status": item.patch_status.key(),
        },
    })
}
