//! Patch management (spec 4.5 and ours): baselines (ours), patch tickets and
//! the inventories agents report for them (ours), and compliance reports.

pub mod baselines;
// pub mod compliance; (the compliance reports' endpoints)
mod inventory;
mod jobs;

pub use inventory::report_inventory;
pub use jobs::start_job;
