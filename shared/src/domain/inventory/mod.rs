//! The resource inventory beyond agents: tags, hosts imported without an
//! agent, and batch plans (issue #15 part 4).

pub mod batches;
pub mod other;
pub mod tags;
