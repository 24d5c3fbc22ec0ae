//! Script execution: tickets ("orders") that run an approved script on hosts
//! in batches, the hosts' agents, and the rules that move a ticket along.

pub mod agent;
pub mod execute;
pub mod operation;
pub mod order;
#[cfg(test)]
mod order_tests;
pub mod patch;
