//! A patch baseline: which updates a host of one OS family must have.
//! (Our endpoints; the reference only names a report's `baseline_id`/`baseline_name`/`rule_type`.)

use serde::{Deserialize, Serialize};

use super::report::ComplianceLevel;

/// An approval rule: updates whose classification and severity match are
/// approved `approve_after_days` after their release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRule {
    /// The classifications it approves (empty: any).
    #[serde(default)]
    pub classifications: Vec<String>,
    /// The severities it approves (empty: any).
    #[serde(default)]
    pub severities: Vec<String>,
    /// Only updates from a security archive / with a security advisory.
    #[serde(default)]
    pub security_only: bool,
    pub approve_after_days: u32,
    /// The level a missing update it approves is reported with.
    pub compliance_level: ComplianceLevel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The OS family it is for: `Debian`, `Ubuntu`, `HuaweiCloudEulerOS`, `EulerOS`, `CentOS`.
    pub operating_system: String,
    /// The tenant's default baseline for its OS family (one per family).
    pub is_default: bool,
    /// Shown as the report's `rule_type` (`standard`).
    pub rule_type: String,
    pub approval_rules: Vec<ApprovalRule>,
    /// Package names approved whatever the rules say.
    #[serde(default)]
    pub approved_patches: Vec<String>,
    /// The level a missing explicitly approved package is reported with.
    pub approved_compliance_level: ComplianceLevel,
    /// Package names never approved; installed, they are REJECT.
    #[serde(default)]
    pub rejected_patches: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Bumped by each update (optimistic concurrency).
    pub version: u64,
}
