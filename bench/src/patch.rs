//! Patch compliance: evaluating one host's scan of 5,000 installed packages
//! (a third of them with an update available) against a baseline, as the server
//! does for every report an agent posts (pure computation, no I/O: the median
//! and the slowest of repeated runs); and one real scan of this host by the
//! agent, against the floor a user would otherwise run by hand (the same two
//! package-manager calls, `dpkg-query -W` and `apt-get -s dist-upgrade`) and
//! against Ansible's `package_facts`, which reads the installed packages only.

use std::process::Stdio;
use std::time::{Duration, Instant};

use coc_agent::patch::{self as agent_patch, PatchSettings};
use coc_shared::domain::patch::{PatchJob, PatchOperation};

use coc_shared::domain::patch::baseline::{built_in, OsFamily};
use coc_shared::domain::patch::report::summarize;
use coc_shared::domain::patch::{evaluate, AvailableUpdate, InstalledPackage, Inventory};

use crate::report::Report;

pub const PACKAGES: usize = 5_000;
const RUNS: usize = 200;
const DAY_MS: i64 = 86_400_000;
/// Rounds of the host scan and of each peer (a scan takes seconds).
const SCAN_ROUNDS: usize = 3;

/// A Debian-like scan: `packages` installed, every third with an update
/// (half of those from the security archive, released 0 to 29 days ago).
pub fn scan_of(packages: usize, now: i64) -> Inventory {
    let installed = (0..packages)
        .map(|i| InstalledPackage {
            name: format!("package-{i:05}"),
            version: format!("1.{i}-1"),
            architecture: "amd64".into(),
            installed_time: Some(now - 400 * DAY_MS),
            classification: ["libs", "utils", "net", "admin"][i % 4].into(),
            severity: ["required", "important", "standard", "optional"][i % 4].into(),
        })
        .collect();
    let available = (0..packages)
        .step_by(3)
        .map(|i| AvailableUpdate {
            name: format!("package-{i:05}"),
            version: format!("1.{i}-2"),
            architecture: "amd64".into(),
            classification: ["libs", "utils", "net", "admin"][i % 4].into(),
            severity: String::new(),
            release_time: Some(now - (i as i64 % 30) * DAY_MS),
            security: i % 2 == 0,
        })
        .collect();
    Inventory {
        operating_system: "Debian".into(),
        os_version: "12".into(),
        package_manager: "dpkg".into(),
        installed,
        available,
        reboot_required: true,
        reboot_packages: vec!["package-00001".into()],
        installed_now: Vec::new(),
        failed: Vec::new(),
        scanned_at: now,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub async fn run(report: &mut Report) {
    evaluation(report);
    host_scan(report).await;
}

fn evaluation(report: &mut Report) {
    report.heading("Patch compliance evaluation");
    let now = coc_shared::clock::now_ms();
    let baseline = built_in(OsFamily::Debian);
    let scan = scan_of(PACKAGES, now);
    let mut times = Vec::with_capacity(RUNS);
    let mut items = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        let evaluated = evaluate(&baseline, &scan, now);
        let summaries = summarize(&evaluated);
        times.push(started.elapsed());
        items = evaluated.len();
        assert_eq!(summaries.compliant.total() + summaries.non_compliant.total(), items as u64);
    }
    times.sort();
    report.paragraph(&format!(
        "One host's scan of {PACKAGES} installed packages ({} updates available) evaluated against the built-in \
         Debian baseline and summarized, {RUNS} times in this process ({} items per report).",
        scan.available.len(),
        items
    ));
    report.table(
        &["packages", "median", "slowest", "target"],
        &[vec![PACKAGES.to_string(), ms(times[RUNS / 2]), ms(times[RUNS - 1]), "well under 10 ms".into()]],
    );
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs `program args` to its end with its output discarded; its wall time, or `None` if it failed.
async fn timed(program: &str, args: &[&str]) -> Option<Duration> {
    let started = Instant::now();
    let status = tokio::process::Command::new(program)
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .ok()?;
    status.success().then(|| started.elapsed())
}

/// The two calls an agent's scan makes, run side by side as it runs them.
async fn raw_tools_once() -> Option<Duration> {
    let started = Instant::now();
    let (query, simulate) = tokio::join!(
        timed("dpkg-query", &["-W"]),
        timed("apt-get", &["-s", "-o", "Debug::NoLocking=1", "dist-upgrade"])
    );
    query.and(simulate).map(|_| started.elapsed())
}

async fn ansible_facts_once() -> Option<Duration> {
    let bin = crate::fanout::ansible_bin();
    let bin = bin.to_string_lossy();
    timed(&bin, &["localhost", "-c", "local", "-m", "package_facts", "-o"]).await
}

async fn host_scan(report: &mut Report) {
    report.heading("Patch scan of this host");
    if timed("dpkg-query", &["--version"]).await.is_none() {
        report.paragraph("Skipped: this host has no dpkg.");
        return;
    }
    let job = PatchJob { operation: PatchOperation::Scan, baselines: Vec::new() };
    let settings = PatchSettings::default();
    let mut ours = Vec::new();
    let mut found = (0, 0);
    for _ in 0..SCAN_ROUNDS {
        let started = Instant::now();
        let run = agent_patch::run(&job, &settings).await;
        ours.push(started.elapsed());
        match run.inventory {
            Some(inventory) => found = (inventory.installed.len(), inventory.available.len()),
            None => {
                report.paragraph(&format!("The agent's scan failed: {}", run.log.trim()));
                return;
            }
        }
    }
    let mut floor = Vec::new();
    let mut ansible = Vec::new();
    for _ in 0..SCAN_ROUNDS {
        floor.extend(raw_tools_once().await);
        ansible.extend(ansible_facts_once().await);
    }
    let ours = median(ours);
    let mut rows = vec![vec!["coc-agent scan".to_string(), ms(ours), "1.00".to_string()]];
    if !floor.is_empty() {
        let floor = median(floor);
        rows.push(vec![
            "dpkg-query -W + apt-get -s dist-upgrade".into(),
            ms(floor),
            crate::report::ratio(ours.as_secs_f64(), floor.as_secs_f64()),
        ]);
    }
    if ansible.is_empty() {
        rows.push(vec![
            "ansible -m package_facts".into(),
            "not run (no ansible: scripts/install-bench-tools.sh installs it)".into(),
            "n/a".into(),
        ]);
    } else {
        let ansible = median(ansible);
        rows.push(vec![
            format!("ansible -m package_facts ({})", crate::fanout::ansible_version()),
            ms(ansible),
            crate::report::ratio(ours.as_secs_f64(), ansible.as_secs_f64()),
        ]);
    }
    report.paragraph(&format!(
        "Medians of {SCAN_ROUNDS} rounds. The scan found {} installed packages and {} available updates; the \
         ratio is the agent's time over the peer's (below 1: the agent is faster). Ansible's facts list the \
         installed packages only, not the updates.",
        found.0, found.1
    ));
    report.table(&["scan", "median", "coc-agent ÷ this"], &rows);
}
