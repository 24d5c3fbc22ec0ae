//! The evaluation of a scan against a baseline: one item per package.

use super::baseline::Baseline;
use super::inventory::Inventory;
use super::report::ComplianceItem;

/// The report items of `inventory` against `baseline` at `now` (ms), ordered by title.
pub fn evaluate(baseline: &Baseline, inventory: &Inventory, now: i64) -> Vec<ComplianceItem> {
    let _ = (baseline, inventory, now);
    todo!("patch evaluation")
}
