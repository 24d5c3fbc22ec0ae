//! Patch management (spec 4.5): baselines (ours) and compliance reports.

pub mod baselines;
// pub mod compliance; (the compliance reports' endpoints)
