//! Patch management (spec 4.5): baselines say which updates a host must have,
//! an agent's scan says what the host has and what it could install, and the
//! evaluation of one against the other is the host's compliance report.
//!
//! The flow, as AWS Systems Manager Patch Manager does it:
//! 1. a user starts a scan or an install on hosts: a ticket of the job engine
//!    whose jobs carry a [`PatchJob`] instead of a script;
//! 2. the agent runs the host's own package manager and posts an [`Inventory`];
//! 3. the server evaluates it against the baseline ([`evaluate`]) and replaces
//!    the host's report for that baseline.
//!
//! Types shared by the server and the agent live here, so both read one format.

use serde::{Deserialize, Serialize};

pub mod baseline;
pub mod evaluate;
pub mod inventory;
pub mod report;

pub use baseline::{Baseline, BaselineInput, OsFamily};
pub use evaluate::{approved_missing, evaluate};
pub use inventory::{AvailableUpdate, InstalledPackage, Inventory};
pub use report::{ComplianceItem, ComplianceLevel, InstanceCompliant, PatchStatus};

/// What a patch job does on its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PatchOperation {
    /// Read the package database and the available updates; change nothing.
    Scan,
    /// Install the updates the baseline approves, then scan again.
    Install,
}

/// The work of one patch job, carried by the ticket and handed to the agent:
/// the baselines as they were when the ticket was made (the one the user chose,
/// or the tenant's default of every OS family), so that the agent can pick what
/// to install with the same [`evaluate`] the server reports with. Each host
/// uses the one for its OS family ([`Baseline::operating_system`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatchJob {
    pub operation: PatchOperation,
    pub baselines: Vec<Baseline>,
}
