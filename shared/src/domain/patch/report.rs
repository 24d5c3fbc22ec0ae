//! A host's compliance report (spec 4.5.1 InstanceCompliant) and its items
//! (spec 4.5.2 ComplianceItem), as they are stored and shown.

use serde::{Deserialize, Serialize};

/// An item's state against the baseline (spec 4.5.2 `patch_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PatchStatus {
    /// Approved by the baseline and installed, with no approved update missing.
    #[serde(rename = "INSTALLED")]
    Installed,
    /// Installed, but no rule or list of the baseline approves it.
    #[serde(rename = "INSTALLED_OTHER")]
    InstalledOther,
    /// The baseline approves an update the host has not installed.
    #[serde(rename = "MISSING")]
    Missing,
    /// Installed although the baseline rejects it.
    #[serde(rename = "REJECT")]
    Reject,
    /// An install tried to install it and could not.
    #[serde(rename = "FAILED")]
    Failed,
    /// Installed, and the host must reboot before it takes effect.
    #[serde(rename = "PENDING_REBOOT")]
    PendingReboot,
}

impl PatchStatus {
    pub const ALL: [PatchStatus; 6] = [
        PatchStatus::Installed,
        PatchStatus::InstalledOther,
        PatchStatus::Missing,
        PatchStatus::Reject,
        PatchStatus::Failed,
        PatchStatus::PendingReboot,
    ];

    pub fn key(self) -> &'static str {
        match self {
            PatchStatus::Installed => "INSTALLED",
            PatchStatus::InstalledOther => "INSTALLED_OTHER",
            PatchStatus::Missing => "MISSING",
            PatchStatus::Reject => "REJECT",
            PatchStatus::Failed => "FAILED",
            PatchStatus::PendingReboot => "PENDING_REBOOT",
        }
    }

    pub fn parse(key: &str) -> Option<PatchStatus> {
        PatchStatus::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Whether an item in this state leaves the host compliant. A pending
    /// reboot does not: the fix is not in effect yet (Patch Manager's default).
    pub fn is_compliant(self) -> bool {
        matches!(self, PatchStatus::Installed | PatchStatus::InstalledOther)
    }
}

/// How much a non-compliant item matters, set by the baseline rule that
/// approved it (spec 4.5.2 `compliance_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ComplianceLevel {
    Critical,
    High,
    Medium,
    Low,
    Informational,
    Unspecified,
}

impl ComplianceLevel {
    pub const ALL: [ComplianceLevel; 6] = [
        ComplianceLevel::Critical,
        ComplianceLevel::High,
        ComplianceLevel::Medium,
        ComplianceLevel::Low,
        ComplianceLevel::Informational,
        ComplianceLevel::Unspecified,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ComplianceLevel::Critical => "CRITICAL",
            ComplianceLevel::High => "HIGH",
            ComplianceLevel::Medium => "MEDIUM",
            ComplianceLevel::Low => "LOW",
            ComplianceLevel::Informational => "INFORMATIONAL",
            ComplianceLevel::Unspecified => "UNSPECIFIED",
        }
    }

    pub fn parse(key: &str) -> Option<ComplianceLevel> {
        ComplianceLevel::ALL.into_iter().find(|l| l.key() == key)
    }
}

/// One package of one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComplianceItem {
    /// The package name (the spec's "patch name").
    pub title: String,
    /// The installed version, if any.
    #[serde(default)]
    pub installed_version: String,
    /// The approved version the host should have, if an update is approved.
    #[serde(default)]
    pub available_version: String,
    pub classification: String,
    pub severity_level: String,
    pub compliance_level: ComplianceLevel,
    pub patch_status: PatchStatus,
    pub installed_time: Option<i64>,
}

/// Counts by compliance level (spec 4.5.1 SeveritySummary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeveritySummary {
    pub critical_count: u64,
    pub high_count: u64,
    pub medium_count: u64,
    pub low_count: u64,
    pub informational_count: u64,
    pub unspecified_count: u64,
}

impl SeveritySummary {
    pub fn add(&mut self, level: ComplianceLevel) {
        let count = match level {
            ComplianceLevel::Critical => &mut self.critical_count,
            ComplianceLevel::High => &mut self.high_count,
            ComplianceLevel::Medium => &mut self.medium_count,
            ComplianceLevel::Low => &mut self.low_count,
            ComplianceLevel::Informational => &mut self.informational_count,
            ComplianceLevel::Unspecified => &mut self.unspecified_count,
        };
        *count += 1;
    }

    pub fn total(&self) -> u64 {
        self.critical_count
            + self.high_count
            + self.medium_count
            + self.low_count
            + self.informational_count
            + self.unspecified_count
    }
}

/// The compliant and the non-compliant items of a report, counted by level;
/// the two totals add up to the report's item count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summaries {
    pub compliant: SeveritySummary,
    pub non_compliant: SeveritySummary,
}

pub fn summarize(items: &[ComplianceItem]) -> Summaries {
    let mut summaries = Summaries::default();
    for item in items {
        let side =
            if item.patch_status.is_compliant() { &mut summaries.compliant } else { &mut summaries.non_compliant };
        side.add(item.compliance_level);
    }
    summaries
}

/// A host's report against one baseline (spec 4.5.1 InstanceCompliant, less
/// what the view derives). There is one per (host, baseline); a new scan replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceCompliant {
    pub id: String,
    /// The host's resource id (the spec's `instance_id`).
    pub instance_id: String,
    /// The agent that reported it.
    pub agent_sn: String,
    pub name: String,
    pub ip: String,
    pub eip: String,
    pub region: String,
    pub group: String,
    pub operating_system: String,
    pub baseline_id: String,
    pub baseline_name: String,
    pub rule_type: String,
    pub summaries: Summaries,
    pub item_count: u64,
    /// The ticket (`execute_uuid`) and job (`{execute_uuid}-{instance id}`) that made it.
    pub order_id: String,
    pub job_id: String,
    pub report_time: i64,
}

impl InstanceCompliant {
    pub fn is_compliant(&self) -> bool {
        self.summaries.non_compliant.total() == 0
    }
}

/// Whether a report leaves its host compliant (spec 4.5.1 `compliant_status`
/// and `status`): one non-compliant item makes the host non-compliant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComplianceStatus {
    Compliant,
    NonCompliant,
}

impl ComplianceStatus {
    pub const ALL: [ComplianceStatus; 2] = [ComplianceStatus::Compliant, ComplianceStatus::NonCompliant];

    pub fn key(self) -> &'static str {
        match self {
            ComplianceStatus::Compliant => "compliant",
            ComplianceStatus::NonCompliant => "non_compliant",
        }
    }
}

impl InstanceCompliant {
    pub fn status(&self) -> ComplianceStatus {
        if self.is_compliant() {
            ComplianceStatus::Compliant
        } else {
            ComplianceStatus::NonCompliant
        }
    }
}
