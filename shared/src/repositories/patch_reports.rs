//! Compliance reports in the table (owner: the reports work of #11; the
//! signature below is what the inventory endpoint relies on).

use crate::domain::patch::{ComplianceItem, InstanceCompliant};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::ports::Store;

/// Replaces the report of (`report.instance_id`, `report.baseline_id`) with
/// this one and its items; readers see the old report or the new one, whole.
pub async fn save(
    store: &dyn Store,
    project: &ProjectId,
    report: &InstanceCompliant,
    items: &[ComplianceItem],
) -> Result<(), ApiError> {
    let _ = (store, project, report, items);
    todo!("patch_reports::save")
}
