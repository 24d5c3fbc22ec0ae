//! The stop of a patch install (cancel, timeout) with a real dnf and rpm in a
//! throw-away root whose coc-test-secure 2.0 takes long to install (its
//! `%pre` sleeps; see `support/rpmroot.rs`): the package manager is let
//! finish within the grace and the run reports its rescan; past the grace it
//! is killed and nothing is reported; a job stopped before its install starts
//! installs nothing.

#[allow(dead_code)]
#[path = "support/rpmroot.rs"]
mod rpmroot;

use std::time::{Duration, Instant};

use coc_agent::dispatch::{self, Finished};
use coc_agent::patch::PatchSettings;
use coc_agent::runner::{EXIT_CANCELED, EXIT_TIMED_OUT};
use coc_shared::domain::patch::baseline::built_in;
use coc_shared::domain::patch::{Baseline, OsFamily, PatchJob, PatchOperation};
use coc_shared::domain::script::ScriptType;
use coc_shared::repositories::jobs::Job;
use rpmroot::RpmRoot;
use tokio::sync::oneshot;

const SLOW_PACKAGE: &str = "coc-test-secure";

/// An install job whose baseline approves the slow package only.
fn install_job(timeout_secs: u32) -> Job {
    let baseline = Baseline {
        approval_rules: vec![],
        approved_patches: vec![SLOW_PACKAGE.into()],
        ..built_in(OsFamily::HuaweiCloudEulerOS)
    };
    Job {
        execute_uuid: "grace".into(),
        instance_id: 1,
        attempt: 1,
        script_type: ScriptType::Shell,
        content: String::new(),
        params: vec![],
        execute_user: "root".into(),
        timeout_secs,
        claimed_at: None,
        patch: Some(PatchJob { operation: PatchOperation::Install, baselines: vec![baseline] }),
    }
}

fn settings(root: &RpmRoot, grace: Duration) -> dispatch::Settings {
    dispatch::Settings {
        patch: PatchSettings { root: Some(root.root()), install_stop_grace: grace, ..PatchSettings::default() },
        ..dispatch::Settings::default()
    }
}

fn start(job: Job, cancel: oneshot::Receiver<()>, settings: dispatch::Settings) -> tokio::task::JoinHandle<Finished> {
    tokio::spawn(async move { dispatch::run(&job, cancel, &settings).await })
}

async fn wait_for_the_slow_install(root: &RpmRoot) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !root.slow_install_started() {
        assert!(Instant::now() < deadline, "the install never reached the slow %pre");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The processes whose command line names the root (dnf, rpm working in it).
fn processes_in(root: &RpmRoot) -> Vec<String> {
    let needle = root.root().display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter_map(|entry| std::fs::read(entry.path().join("cmdline")).ok())
        .map(|cmdline| String::from_utf8_lossy(&cmdline).replace('\0', " "))
        .filter(|cmdline| cmdline.contains(&needle))
        .collect()
}

fn version_of(root: &RpmRoot, name: &str) -> String {
    root.versions().into_iter().find(|(n, _)| n == name).map(|(_, v)| v).expect("installed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canceled_install_lets_rpm_finish_and_reports_its_rescan() {
    let Some(root) = RpmRoot::build_slow(3) else { return };
    let (cancel, canceled) = oneshot::channel();
    let run = start(install_job(600), canceled, settings(&root, Duration::from_secs(120)));
    wait_for_the_slow_install(&root).await;
    cancel.send(()).unwrap();
    let finished = run.await.unwrap();
    println!("{}", finished.log);
    assert_eq!(finished.exit_code, EXIT_CANCELED, "{}", finished.log);
    assert!(finished.log.contains("the package manager was let finish first"), "{}", finished.log);
    let inventory = finished.inventory.expect("the rescan after the install");
    assert_eq!(inventory.installed_now, [SLOW_PACKAGE]);
    assert_eq!(version_of(&root, SLOW_PACKAGE), "2.0-1", "rpm finished the install");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_install_past_its_grace_is_killed_and_the_root_stays_usable() {
    let Some(root) = RpmRoot::build_slow(600) else { return };
    let (_cancel, canceled) = oneshot::channel();
    // The 20 s timeout comes during the install (the scan before it takes a
    // few seconds), whose %pre sleeps 10 minutes; the grace is 2 s.
    let run = start(install_job(20), canceled, settings(&root, Duration::from_secs(2)));
    wait_for_the_slow_install(&root).await;
    let finished = tokio::time::timeout(Duration::from_secs(60), run).await.expect("stopped after the grace").unwrap();
    assert_eq!(finished.exit_code, EXIT_TIMED_OUT, "{}", finished.log);
    assert!(finished.log.contains("the install did not finish within 2s and was killed"), "{}", finished.log);
    assert!(finished.inventory.is_none(), "nothing is known of a killed install");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_in(&root).is_empty() {
        assert!(Instant::now() < deadline, "dnf still runs: {:?}", processes_in(&root));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(version_of(&root, SLOW_PACKAGE), "1.0-1", "killed in %pre: nothing changed");

    // The next job finds the root as it was: its rpm database is not locked or broken.
    let (_cancel, canceled) = oneshot::channel();
    let mut scan = install_job(600);
    scan.patch.as_mut().unwrap().operation = PatchOperation::Scan;
    let rescan = start(scan, canceled, settings(&root, Duration::from_secs(2))).await.unwrap();
    assert_eq!(rescan.exit_code, 0, "{}", rescan.log);
    assert!(rescan.inventory.unwrap().available.iter().any(|u| u.name == SLOW_PACKAGE));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_stopped_before_its_install_starts_installs_nothing() {
    let Some(root) = RpmRoot::build_slow(3) else { return };
    let before = root.versions();
    let (cancel, canceled) = oneshot::channel();
    // Canceled at once, during the scan that comes before the install.
    cancel.send(()).unwrap();
    let finished = start(install_job(600), canceled, settings(&root, Duration::from_secs(120))).await.unwrap();
    assert_eq!(finished.exit_code, EXIT_CANCELED, "{}", finished.log);
    assert!(finished.log.contains("the job was stopped: no further install starts"), "{}", finished.log);
    assert!(!finished.log.contains("installing"), "{}", finished.log);
    assert!(!root.slow_install_started(), "dnf never ran the install");
    assert_eq!(root.versions(), before);
    let inventory = finished.inventory.expect("the scan is still reported");
    assert!(inventory.installed_now.is_empty());
}
