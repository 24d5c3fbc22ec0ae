//! Patch management (spec 4.5 and ours): baselines (ours), compliance reports
//! (spec 4.5), patch tickets and the inventories agents report for them (ours).

pub mod baselines;
pub mod compliance;
mod inventory;
mod jobs;

pub use inventory::report_inventory;
pub use jobs::start_job;
