//! Reports on their way to the server. Each run's result is written to disk
//! (one file per execute id, instance and attempt, written atomically) before
//! it is first sent, and removed once the server has answered; files left by
//! an agent that stopped are sent again when it starts. Sending retries with
//! exponential backoff for a configurable total, hours by default, so a server
//! outage delays reports but loses none. The server answers a repeated report
//! of an attempt it already recorded as success, so a resend counts once.
//!
//! A patch job's report also holds the scan (inventory) of the host. It is
//! sent first, in the same way, and dropped from the spooled file once the
//! server has it; the job's final report follows. Sending a scan again
//! replaces the host's report with an equal one, so a resend is harmless.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

use serde::{Deserialize, Serialize};

use coc_shared::domain::patch::Inventory;

use crate::client::{ApiClient, CallError, RunRef};

/// A finished run's result as it goes to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingReport {
    pub run: RunRef,
    pub exit_code: i32,
    pub log: String,
    /// A patch job's scan, until the server has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
}

/// How long and how often a report is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub longest: Duration,
    /// Give up (until the agent restarts) once this much time has passed.
    pub total: Duration,
}

impl Backoff {
    pub fn for_total(total: Duration) -> Backoff {
        Backoff { first: Duration::from_millis(500), longest: Duration::from_secs(30), total }
    }
}

#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
}

impl Spool {
    pub fn open(dir: &Path) -> std::io::Result<Spool> {
        std::fs::create_dir_all(dir)?;
        Ok(Spool { dir: dir.to_owned() })
    }

    fn path_of(&self, run: &RunRef) -> PathBuf {
        self.dir.join(format!("{}-{}-{}.json", file_safe(&run.execute_uuid), run.instance_id, run.attempt))
    }

    /// Writes the report where a crash cannot leave half of it: a temporary file,
    /// flushed to disk, renamed into place, the directory flushed too.
    pub fn save(&self, report: &PendingReport) -> std::io::Result<()> {
        let path = self.path_of(&report.run);
        let temporary = path.with_extension("tmp");
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&serde_json::to_vec(report)?)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    pub fn remove(&self, run: &RunRef) {
        if let Err(err) = std::fs::remove_file(self.path_of(run)) {
            if err.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %err, execute_uuid = run.execute_uuid, "cannot remove a sent report from the spool");
            }
        }
    }

    /// The reports left to send. A file that does not parse (cut short by a crash
    /// before the rename, or not ours) is left where it is and named in the log.
    pub fn pending(&self) -> Vec<PendingReport> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut reports = Vec::new();
        for path in entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")) {
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<PendingReport>(&b).map_err(|e| e.to_string()))
            {
                Ok(report) => reports.push(report),
                Err(err) => {
                    tracing::warn!(error = %err, path = %path.display(), "skipping an unreadable spooled report")
                }
            }
        }
        reports
    }
}

/// The execute id as a file name: kept when it is plain, hex otherwise.
fn file_safe(id: &str) -> String {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        id.to_owned()
    } else {
        id.bytes().map(|b| format!("{b:02x}")).collect()
    }
}

/// Whether a failed report can succeed later: not when the server refused it
/// for what it says (the ticket or instance is gone, not this agent's, malformed).
fn worth_retrying(err: &CallError) -> bool {
    !matches!(err.status, Some(400 | 403 | 404 | 413 | 422))
}

/// How a call with retries ended.
enum Sent<T> {
    /// The server answered.
    Answered(T),
    /// The server refused it for what it says; sending it again cannot help.
    Refused,
    /// The retry time is over; it stays spooled for the next start.
    GaveUp,
}

/// Calls until the server answers, refuses, or `backoff.total` (counted from
/// `started`) is spent.
async fn with_retries<T, F, Fut>(what: &str, run: &RunRef, backoff: Backoff, started: Instant, mut call: F) -> Sent<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, CallError>>,
{
    let mut wait = backoff.first;
    let mut tries = 0u32;
    loop {
        tries += 1;
        match call().await {
            Ok(answer) => return Sent::Answered(answer),
            Err(err) if !worth_retrying(&err) => {
                tracing::error!(error = %err, execute_uuid = run.execute_uuid, instance_id = run.instance_id, what, "the server refused it; dropping it");
                return Sent::Refused;
            }
            Err(err) => {
                if started.elapsed() + wait > backoff.total {
                    tracing::error!(error = %err, execute_uuid = run.execute_uuid, instance_id = run.instance_id, tries, what,
                        "giving up sending for now; it stays spooled for the next start");
                    return Sent::GaveUp;
                }
                tracing::warn!(error = %err, tries, what, retry_in_ms = wait.as_millis() as u64, "sending failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(backoff.longest);
            }
        }
    }
}

/// Sends a spooled report until the server answers, then removes it from the
/// spool: a patch job's scan first, then the run's result.
pub async fn deliver(client: &ApiClient, spool: &Spool, report: &PendingReport, backoff: Backoff) {
    let run = &report.run;
    let started = Instant::now();
    if let Some(inventory) = &report.inventory {
        match with_retries("scan", run, backoff, started, || client.post_inventory(run, inventory)).await {
            Sent::Answered(None) => {
                tracing::info!(
                    execute_uuid = run.execute_uuid,
                    instance_id = run.instance_id,
                    "the scan's run was no longer wanted"
                )
            }
            Sent::Answered(Some(_)) | Sent::Refused => {}
            Sent::GaveUp => return,
        }
        // Sent: what is left to send is the result alone.
        let rest = PendingReport { inventory: None, ..report.clone() };
        if let Err(err) = spool.save(&rest) {
            tracing::warn!(error = %err, execute_uuid = run.execute_uuid, "cannot drop the sent scan from the spool");
        }
    }
    match with_retries("report", run, backoff, started, || client.report(run, report.exit_code, &report.log)).await {
        Sent::Answered(recorded) => {
            if !recorded {
                tracing::info!(
                    execute_uuid = run.execute_uuid,
                    instance_id = run.instance_id,
                    "the run was no longer wanted"
                );
            }
            spool.remove(run);
        }
        Sent::Refused => spool.remove(run),
        Sent::GaveUp => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(uuid: &str, attempt: u32) -> PendingReport {
        PendingReport {
            run: RunRef { execute_uuid: uuid.into(), instance_id: 7, attempt },
            exit_code: 3,
            log: "out\n".into(),
            inventory: None,
        }
    }

    #[test]
    fn saved_reports_are_pending_until_removed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(&dir.path().join("spool")).unwrap();
        spool.save(&report("SCT-1", 1)).unwrap();
        spool.save(&report("SCT-1", 2)).unwrap();
        spool.save(&report("SCT-1", 2)).unwrap();
        spool.save(&report("../evil", 1)).unwrap();
        let mut pending = spool.pending();
        pending.sort_by_key(|r| (r.run.execute_uuid.clone(), r.run.attempt));
        assert_eq!(pending, vec![report("../evil", 1), report("SCT-1", 1), report("SCT-1", 2)]);
        assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "nothing is written outside the spool");
        spool.remove(&report("SCT-1", 1).run);
        assert_eq!(spool.pending().len(), 2);
        // A file cut short is skipped, not fatal.
        std::fs::write(dir.path().join("spool/broken-1-1.json"), b"{\"run\":").unwrap();
        assert_eq!(spool.pending().len(), 2);
    }

    #[test]
    fn a_patch_jobs_scan_is_spooled_with_its_report_and_old_files_still_read() {
        use coc_shared::domain::patch::Inventory;
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let inventory =
            Inventory { operating_system: "Debian".into(), os_version: "12".into(), ..Inventory::empty("dpkg", 1) };
        let with_scan = PendingReport { inventory: Some(inventory), ..report("SCT-2", 1) };
        spool.save(&with_scan).unwrap();
        assert_eq!(spool.pending(), vec![with_scan]);
        // A file an agent without patch jobs spooled.
        std::fs::write(
            dir.path().join("SCT-3-1-1.json"),
            br#"{"run":{"execute_uuid":"SCT-3","instance_id":1,"attempt":1},"exit_code":0,"log":""}"#,
        )
        .unwrap();
        assert_eq!(spool.pending().iter().filter(|r| r.inventory.is_none()).count(), 1);
    }
}
