//! Patch jobs on the host (#11): scan the package database with the host's
//! own package manager and, for an install, install what the baseline
//! approves, then scan again.
//!
//! - [`os`]: the OS family from `os-release`, and so dpkg/apt or rpm/dnf-yum;
//! - [`dpkg`] and [`apt`], [`rpm`]: the calls and the parsers of their output;
//! - [`scan`]: a scan in a handful of calls; [`install`]: the install and its check;
//! - [`approve`]: which updates the job's baseline approves;
//! - [`settings`]: the host, or a throw-away root for tests.
//!
//! `run(job, settings)` is what the agent's job loop calls.

pub mod approve;
pub mod apt;
pub mod command;
pub mod dpkg;
pub mod install;
pub mod os;
pub mod rpm;
pub mod scan;
pub mod settings;

use std::sync::atomic::AtomicBool;

use coc_shared::domain::patch::{Inventory, PatchJob, PatchOperation};

pub use settings::PatchSettings;

/// The exit code of a job that could not scan (as the script runner's "cannot run").
pub const EXIT_CANNOT_SCAN: i32 = 126;

/// What a patch job did: the scan to post (if one ran) and the job's exit code and log.
#[derive(Debug, Clone)]
pub struct PatchRun {
    pub inventory: Option<Inventory>,
    pub exit_code: i32,
    pub log: String,
}

/// The job's log, as readable lines.
#[derive(Debug, Default)]
pub struct Log(String);

impl Log {
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.0.push_str(line.as_ref());
        self.0.push('\n');
    }

    /// Text that already ends its lines (a tool's output); nothing if empty.
    pub fn block(&mut self, text: &str) {
        self.0.push_str(text);
    }

    pub fn text(&self) -> &str {
        &self.0
    }
}

/// Runs `job` on this host (or in `settings.root`). Exit code 0: the scan ran
/// and, for an install, every approved missing update is now installed.
pub async fn run(job: &PatchJob, settings: &PatchSettings) -> PatchRun {
    run_stoppable(job, settings, &AtomicBool::new(false)).await
}

/// [`run`], told by `stop` that the job was canceled or timed out: what the
/// package manager is doing then finishes (the caller's grace), but no
/// install starts after it.
pub async fn run_stoppable(job: &PatchJob, settings: &PatchSettings, stop: &AtomicBool) -> PatchRun {
    let mut log = Log::default();
    let (inventory, exit_code) = match prepare(settings, &mut log).await {
        Err(err) => {
            log.line(format!("cannot scan: {err}"));
            (None, EXIT_CANNOT_SCAN)
        }
        Ok((os, tools)) => match scan::scan(&os, &tools, settings, &mut log).await {
            Err(err) => {
                log.line(format!("cannot scan: {err}"));
                (None, EXIT_CANNOT_SCAN)
            }
            Ok(before) => match job.operation {
                PatchOperation::Scan => (Some(before), 0),
                PatchOperation::Install => install::install(job, &os, &tools, settings, before, stop, &mut log).await,
            },
        },
    };
    PatchRun { inventory, exit_code, log: log.0 }
}

async fn prepare(settings: &PatchSettings, log: &mut Log) -> Result<(os::HostOs, scan::Tools), String> {
    if let Some(root) = &settings.root {
        log.line(format!("working in the root {}", root.display()));
    }
    let os = os::detect(settings)?;
    let tools = scan::Tools::new(&os, settings)?;
    if settings.refresh {
        scan::refresh(&tools, log).await?;
    }
    Ok((os, tools))
}
