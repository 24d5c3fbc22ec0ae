//! Which runner a job goes to: a script job to the script runner, a patch
//! job to the host's package manager (`patch`). Either way the job's timeout
//! and a cancel from the server end it, with the runner's exit codes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use coc_shared::domain::patch::{Inventory, PatchJob, PatchOperation};
use coc_shared::repositories::jobs::Job;
use tokio::sync::oneshot;

use crate::patch::{self, PatchSettings};
use crate::runner::{self, EXIT_CANCELED, EXIT_TIMED_OUT, MAX_LOG_BYTES};

/// How jobs run on this host.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub scripts: runner::Settings,
    pub patch: PatchSettings,
}

/// What a run leaves to report: the exit code and log, and for a patch job the scan to post first.
#[derive(Debug, Clone)]
pub struct Finished {
    pub exit_code: i32,
    pub log: String,
    pub inventory: Option<Inventory>,
}

pub async fn run(job: &Job, cancel: oneshot::Receiver<()>, settings: &Settings) -> Finished {
    match &job.patch {
        Some(patch) => run_patch(job, patch, cancel, &settings.patch).await,
        None => {
            let outcome = runner::run_with(job, cancel, &settings.scripts).await;
            Finished { exit_code: outcome.exit_code, log: outcome.log, inventory: None }
        }
    }
}

/// A patch job, stopped at its timeout or on cancel. The package manager's
/// processes are the patch runner's children; stopping drops its future. A
/// scan only reads, so it stops at once; an install first gets
/// `settings.install_stop_grace` (see [`PatchSettings`]) to end what the
/// package manager is doing (no new install call starts), and then reports
/// what it did (its rescan) under the stop's exit code.
async fn run_patch(job: &Job, patch: &PatchJob, cancel: oneshot::Receiver<()>, settings: &PatchSettings) -> Finished {
    let limit = Duration::from_secs(u64::from(job.timeout_secs));
    let stop = AtomicBool::new(false);
    let run = patch::run_stoppable(patch, settings, &stop);
    tokio::pin!(run);
    let (exit_code, why) = tokio::select! {
        run = &mut run => {
            return Finished { exit_code: run.exit_code, log: within_limit(run.log), inventory: run.inventory };
        }
        _ = tokio::time::sleep(limit) => (EXIT_TIMED_OUT, format!("stopped after the {}s timeout", job.timeout_secs)),
        _ = cancel => (EXIT_CANCELED, "stopped: the run was canceled".to_owned()),
    };
    stop.store(true, Ordering::SeqCst);
    if patch.operation == PatchOperation::Install {
        if let Ok(run) = tokio::time::timeout(settings.install_stop_grace, &mut run).await {
            let log = format!("{}\n[{why}; the package manager was let finish first]", run.log);
            return Finished { exit_code, log: within_limit(log), inventory: run.inventory };
        }
        let grace = settings.install_stop_grace.as_secs();
        return Finished {
            exit_code,
            log: format!("[{why}; the install did not finish within {grace}s and was killed]"),
            inventory: None,
        };
    }
    Finished { exit_code, log: format!("[{why}]"), inventory: None }
}

/// The log cut to what a report carries, at a character boundary.
fn within_limit(mut log: String) -> String {
    const CUT: &str = "\n[log truncated: the output passed 1 MB]";
    if log.len() > MAX_LOG_BYTES {
        let mut cut = MAX_LOG_BYTES - CUT.len();
        while !log.is_char_boundary(cut) {
            cut -= 1;
        }
        log.truncate(cut);
        log.push_str(CUT);
    }
    log
}
