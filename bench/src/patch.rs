//! Patch compliance: evaluating one host's scan of 5,000 installed packages
//! (a third of them with an update available) against a baseline, as the server
//! does for every report an agent posts. Pure computation, no I/O: the median
//! and the slowest of repeated runs.

use std::time::{Duration, Instant};

use coc_shared::domain::patch::baseline::{built_in, OsFamily};
use coc_shared::domain::patch::report::summarize;
use coc_shared::domain::patch::{evaluate, AvailableUpdate, InstalledPackage, Inventory};

use crate::report::Report;

pub const PACKAGES: usize = 5_000;
const RUNS: usize = 200;
const DAY_MS: i64 = 86_400_000;

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
