//! Patch jobs on the host (owner: the agent-scanner work of #11): scan the
//! package database with the host's own package manager and, for an install,
//! install what the baseline approves, then scan again.
//!
//! The signatures below are what the agent's job loop relies on.

use std::path::PathBuf;

use coc_shared::domain::patch::{Inventory, PatchJob};

/// Where the package manager works. Default: the host itself. Tests point it
/// at a throw-away root so they never change the test machine's packages.
#[derive(Debug, Clone, Default)]
pub struct PatchSettings {
    /// A root directory to install into (`dpkg --root`, `rpm --root`); `None`: `/`.
    pub root: Option<PathBuf>,
    /// Extra `-o Name=value` options for every apt-get / apt-cache call (e.g. `Dir::State`).
    pub apt_options: Vec<String>,
}

/// What a patch job did: the scan to post (if one ran) and the job's exit code and log.
#[derive(Debug, Clone)]
pub struct PatchRun {
    pub inventory: Option<Inventory>,
    pub exit_code: i32,
    pub log: String,
}

/// Runs `job` on this host.
pub async fn run(job: &PatchJob, settings: &PatchSettings) -> PatchRun {
    let _ = (job, settings);
    todo!("patch::run")
}
