//! Patch management (spec 4.5 and ours): patch tickets, the inventories agents
//! report for them, baselines and compliance reports.

mod inventory;
mod jobs;

pub use inventory::report_inventory;
pub use jobs::start_job;
