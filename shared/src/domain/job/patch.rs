//! The body of `POST /v1/patch/jobs` (ours): a scan or an install of patches
//! on hosts, run as a ticket of the job engine. The batches have the shape and
//! the rules of a script execution (spec 4.2.6); what the hosts run is the
//! [`PatchJob`] the ticket carries instead of a script.

use serde::Deserialize;

use super::execute::{optional_timeout_secs, ExecuteBatch, ExecuteParam, ExecuteUser, Execution, SuccessRate};
use super::order::ScriptSnapshot;
use crate::domain::patch::{Inventory, PatchOperation};
use crate::domain::script::ScriptType;
use crate::limits;

bounded_text!(
    /// A baseline id as a patch ticket names it.
    PatchBaselineRef, limits::PATCH_JOB_BASELINE_ID
);

/// Who the ticket says runs a patch job. The agent runs the package manager
/// itself (as the user it runs as); nothing runs as this user.
const PATCH_EXECUTE_USER: &str = "root";

/// A checked patch ticket request.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawPatchExecution")]
pub struct PatchExecution {
    pub operation: PatchOperation,
    /// The baseline the user chose; `None`: the tenant's default of every OS family.
    pub baseline_id: Option<PatchBaselineRef>,
    /// The batches, timeout and success rate, as a script execution holds them.
    pub execution: Execution,
}

#[derive(Deserialize)]
struct RawPatchExecution {
    operation: PatchOperation,
    #[serde(default)]
    baseline_id: Option<PatchBaselineRef>,
    execute_batches: Vec<ExecuteBatch>,
    #[serde(default)]
    success_rate: Option<SuccessRate>,
    #[serde(default, deserialize_with = "optional_timeout_secs")]
    timeout: Option<u32>,
}

impl PatchOperation {
    /// How long a run may take when the request does not say: a scan reads the
    /// package database, an install downloads and unpacks.
    pub fn default_timeout_secs(self) -> u32 {
        match self {
            PatchOperation::Scan => limits::PATCH_SCAN_TIMEOUT_SECS,
            PatchOperation::Install => limits::PATCH_INSTALL_TIMEOUT_SECS,
        }
    }

    /// The name the ticket shows (`order_name`, `script_name`).
    pub fn ticket_name(self) -> &'static str {
        match self {
            PatchOperation::Scan => "COC-PatchScan",
            PatchOperation::Install => "COC-PatchInstall",
        }
    }

    /// The script a patch ticket names in its views: no content, no parameters.
    pub fn snapshot(self) -> ScriptSnapshot {
        ScriptSnapshot {
            script_uuid: self.ticket_name().to_owned(),
            name: self.ticket_name().to_owned(),
            version: "1".to_owned(),
            script_type: ScriptType::Shell,
            content: String::new(),
            params: Vec::new(),
            revision: 0,
        }
    }
}

impl TryFrom<RawPatchExecution> for PatchExecution {
    type Error = String;

    fn try_from(raw: RawPatchExecution) -> Result<Self, String> {
        let execute_param = ExecuteParam {
            resourceful: None,
            timeout: raw.timeout.unwrap_or_else(|| raw.operation.default_timeout_secs()),
            success_rate: raw.success_rate.unwrap_or(SuccessRate::ALL),
            execute_user: ExecuteUser::parse(PATCH_EXECUTE_USER).expect("a valid user name"),
            script_params: Vec::new(),
        };
        let execution = Execution::checked(execute_param, raw.execute_batches)?;
        Ok(PatchExecution { operation: raw.operation, baseline_id: raw.baseline_id, execution })
    }
}

/// The body of `POST /v1/agents/{agent_sn}/jobs/{execute_uuid}/{instance_id}/patch-inventory`
/// (ours): the scan of one run of a patch job, every size within `limits`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawInventoryReport")]
pub struct InventoryReport {
    /// The run (the job's attempt) that scanned.
    pub attempt: u32,
    pub inventory: Inventory,
}

#[derive(Deserialize)]
struct RawInventoryReport {
    #[serde(deserialize_with = "attempt")]
    attempt: u32,
    inventory: Inventory,
}

fn attempt<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<u32, D::Error> {
    limits::INVENTORY_ATTEMPT.deserialize_u32(deserializer)
}

fn text(field: &str, limit: limits::Chars, value: &str) -> Result<(), String> {
    limit.check(value).map_err(|problem| format!("{field}: {problem}"))
}

fn names(field: &str, values: &[String]) -> Result<(), String> {
    limits::INVENTORY_NAMES.check(values.len(), "names").map_err(|problem| format!("{field}: {problem}"))?;
    for (i, name) in values.iter().enumerate() {
        text(&format!("{field}[{i}]"), limits::PACKAGE_NAME, name)?;
    }
    Ok(())
}

/// One package's texts, `field` being its place (`inventory.installed[3]`).
fn package(
    field: &str,
    name: &str,
    version: &str,
    architecture: &str,
    classification: &str,
    severity: &str,
) -> Result<(), String> {
    text(&format!("{field}.name"), limits::PACKAGE_NAME, name)?;
    text(&format!("{field}.version"), limits::PACKAGE_VERSION, version)?;
    text(&format!("{field}.architecture"), limits::PACKAGE_ARCHITECTURE, architecture)?;
    text(&format!("{field}.classification"), limits::PACKAGE_CLASSIFICATION, classification)?;
    text(&format!("{field}.severity"), limits::PACKAGE_SEVERITY, severity)
}

impl TryFrom<RawInventoryReport> for InventoryReport {
    type Error = String;

    fn try_from(raw: RawInventoryReport) -> Result<Self, String> {
        let inventory = raw.inventory;
        text("inventory.operating_system", limits::INVENTORY_OS, &inventory.operating_system)?;
        text("inventory.os_version", limits::INVENTORY_OS_VERSION, &inventory.os_version)?;
        text("inventory.package_manager", limits::INVENTORY_PACKAGE_MANAGER, &inventory.package_manager)?;
        let count = |field: &str, len: usize| {
            limits::INVENTORY_PACKAGES.check(len, "packages").map_err(|problem| format!("{field}: {problem}"))
        };
        count("inventory.installed", inventory.installed.len())?;
        for (i, p) in inventory.installed.iter().enumerate() {
            let field = format!("inventory.installed[{i}]");
            package(&field, &p.name, &p.version, &p.architecture, &p.classification, &p.severity)?;
        }
        count("inventory.available", inventory.available.len())?;
        for (i, p) in inventory.available.iter().enumerate() {
            let field = format!("inventory.available[{i}]");
            package(&field, &p.name, &p.version, &p.architecture, &p.classification, &p.severity)?;
        }
        names("inventory.reboot_packages", &inventory.reboot_packages)?;
        names("inventory.installed_now", &inventory.installed_now)?;
        names("inventory.failed", &inventory.failed)?;
        Ok(InventoryReport { attempt: raw.attempt, inventory })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn decode(body: serde_json::Value) -> Result<PatchExecution, String> {
        serde_json::from_value(body).map_err(|e| e.to_string())
    }

    fn batch(index: u32, agents: &[&str]) -> serde_json::Value {
        let targets: Vec<_> = agents
            .iter()
            .map(|a| json!({"resource_id": a, "agent_sn": a, "project_id": "p", "region_id": "r"}))
            .collect();
        json!({"batch_index": index, "rotation_strategy": "CONTINUE", "target_instances": targets})
    }

    #[test]
    fn defaults_depend_on_the_operation() {
        let scan = decode(json!({"operation": "SCAN", "execute_batches": [batch(1, &["a"])]})).unwrap();
        assert_eq!(scan.execution.execute_param.timeout, limits::PATCH_SCAN_TIMEOUT_SECS);
        assert_eq!(scan.execution.execute_param.success_rate, SuccessRate::ALL);
        assert_eq!(scan.baseline_id, None);
        let install = decode(json!({"operation": "INSTALL", "baseline_id": null, "timeout": null,
                                    "success_rate": "50.5", "execute_batches": [batch(1, &["a"])]}))
        .unwrap();
        assert_eq!(install.execution.execute_param.timeout, limits::PATCH_INSTALL_TIMEOUT_SECS);
        assert_eq!(install.execution.execute_param.success_rate.tenths(), 505);
    }

    #[test]
    fn batches_follow_the_script_execution_rules() {
        let twice = decode(json!({"operation": "SCAN", "execute_batches": [batch(1, &["a"]), batch(2, &["a"])]}));
        assert!(twice.unwrap_err().contains("appears more than once"));
        let gap = decode(json!({"operation": "SCAN", "execute_batches": [batch(2, &["a"])]}));
        assert!(gap.unwrap_err().contains("batch_index"));
        let none = decode(json!({"operation": "SCAN", "execute_batches": []}));
        assert!(none.unwrap_err().contains("execute_batches"));
        let unknown = decode(json!({"operation": "REBOOT", "execute_batches": [batch(1, &["a"])]}));
        assert!(unknown.unwrap_err().contains("REBOOT"));
        let slow = decode(json!({"operation": "SCAN", "timeout": 1801, "execute_batches": [batch(1, &["a"])]}));
        assert!(slow.unwrap_err().contains("1801"));
    }
}
