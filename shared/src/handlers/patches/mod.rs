//! Patch management (spec 4.5).

pub mod compliance;
