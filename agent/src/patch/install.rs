//! An install: the updates the job's baseline approves for this host's OS and
//! the host is missing, installed at exactly the scanned candidate versions,
//! each checked afterwards against a new scan (a package is installed when the
//! package database has it at its target version, whatever the tool's exit code).

use std::sync::atomic::{AtomicBool, Ordering};

use coc_shared::clock::now_ms;
use coc_shared::domain::patch::{AvailableUpdate, Inventory, PatchJob};

use super::approve;
use super::apt::{self, Target};
use super::command::{for_log, Call};
use super::os::HostOs;
use super::rpm;
use super::scan::{scan, Tools};
use super::settings::PatchSettings;
use super::Log;

/// The lines of a tool's output the log keeps.
const OUTPUT_LINES: usize = 200;

pub const EXIT_SOME_FAILED: i32 = 1;

/// Installs the approved missing updates of `before`; the second scan it
/// returns names what this run installed and what it could not.
pub async fn install(
    job: &PatchJob,
    os: &HostOs,
    tools: &Tools,
    settings: &PatchSettings,
    before: Inventory,
    stop: &AtomicBool,
    log: &mut Log,
) -> (Option<Inventory>, i32) {
    let Some(baseline) = approve::baseline_for(job, os.family.name()) else {
        log.line(format!("the job carries no baseline for {}: nothing installed", os.family.name()));
        return (Some(before), EXIT_SOME_FAILED);
    };
    let approved = approve::approved_missing(baseline, &before, now_ms());
    if approved.is_empty() {
        log.line(format!("baseline {}: no approved update is missing; nothing to install", baseline.name));
        return (Some(before), 0);
    }
    if stopped(stop, log) {
        return (Some(before), EXIT_SOME_FAILED);
    }
    log.line(format!(
        "baseline {}: installing {} approved updates: {}",
        baseline.name,
        approved.len(),
        approved.iter().map(|u| format!("{} {}", u.name, u.version)).collect::<Vec<_>>().join(", ")
    ));

    let batch = run_logged(&install_call(tools, &approved), log).await;
    let mut after = match scan(os, tools, settings, log).await {
        Ok(after) => after,
        Err(err) => return rescan_failed(before, approved, err, log),
    };
    if !batch {
        // One package the tool cannot take (a conflict, a version gone from
        // the repository) fails the whole call: the others get a call each.
        let failed_in_install = failed_in_install(tools, log);
        let retry: Vec<&AvailableUpdate> = approved
            .iter()
            .filter(|u| !is_at_target(&after, u) && !failed_in_install.iter().any(|n| n == &u.name))
            .collect();
        if !retry.is_empty() && !stopped(stop, log) {
            log.line(format!("retrying {} updates one by one", retry.len()));
            for update in &retry {
                if stopped(stop, log) {
                    break;
                }
                run_logged(&install_call(tools, std::slice::from_ref(update)), log).await;
            }
            after = match scan(os, tools, settings, log).await {
                Ok(after) => after,
                Err(err) => return rescan_failed(before, approved, err, log),
            };
        }
    }

    let (installed, failed): (Vec<&AvailableUpdate>, Vec<&AvailableUpdate>) =
        approved.iter().partition(|u| is_at_target(&after, u));
    after.installed_now = installed.iter().map(|u| u.name.clone()).collect();
    after.failed = failed.iter().map(|u| u.name.clone()).collect();
    // A package whose install broke (dpkg left it half-configured) is neither
    // installed nor upgradable for the second scan: its update stays available,
    // so the report shows it FAILED at the version it was to get.
    for update in &failed {
        if !after.available.iter().any(|u| u.name == update.name) {
            after.available.push((*update).clone());
        }
    }
    log.line(format!("installed {} of {} approved updates", installed.len(), approved.len()));
    for update in &installed {
        log.line(format!("  installed {} {}", update.name, update.version));
    }
    for update in &failed {
        let now = after.installed.iter().find(|p| p.name == update.name);
        let state = now.map_or("not installed correctly".to_owned(), |p| format!("still at {}", p.version));
        log.line(format!("  FAILED {} {} ({state})", update.name, update.version));
    }
    if after.reboot_required {
        log.line(format!("a reboot is pending (asked by: {})", after.reboot_packages.join(", ")));
    }
    let exit_code = if failed.is_empty() { 0 } else { EXIT_SOME_FAILED };
    (Some(after), exit_code)
}

/// Whether the job was stopped (canceled, timed out): then no package
/// manager call starts any more, and the log says so.
fn stopped(stop: &AtomicBool, log: &mut Log) -> bool {
    let stopped = stop.load(Ordering::SeqCst);
    if stopped {
        log.line("the job was stopped: no further install starts");
    }
    stopped
}

/// Whether the scan has the update's package at the update's version.
fn is_at_target(inventory: &Inventory, update: &AvailableUpdate) -> bool {
    inventory.installed.iter().any(|p| {
        p.name == update.name
            && p.version == update.version
            && (p.architecture == update.architecture || update.architecture == "all" || update.architecture.is_empty())
    })
}

fn install_call(tools: &Tools, updates: &[AvailableUpdate]) -> Call {
    match tools {
        Tools::Dpkg(apt) => apt.install_call(
            &updates
                .iter()
                .map(|u| Target {
                    name: u.name.clone(),
                    architecture: u.architecture.clone(),
                    version: u.version.clone(),
                })
                .collect::<Vec<_>>(),
        ),
        Tools::Rpm(rpm) => rpm.install_call(
            &updates.iter().map(|u| (u.name.clone(), u.version.clone(), u.architecture.clone())).collect::<Vec<_>>(),
        ),
    }
}

/// Runs an install call with its output in the log; whether it exited 0.
async fn run_logged(call: &Call, log: &mut Log) -> bool {
    log.line(format!("$ {}", call.display()));
    match call.output().await {
        Ok(output) => {
            log.block(&for_log(&output.stdout, OUTPUT_LINES));
            log.block(&for_log(&output.stderr, OUTPUT_LINES));
            log.line(format!("exit code {:?}", output.code));
            output.success()
        }
        Err(err) => {
            log.line(err);
            false
        }
    }
}

/// The packages the install reported failing on (dpkg's list, rpm's failed
/// scriptlets), from the install output in the log: another call would fail them again.
fn failed_in_install(tools: &Tools, log: &Log) -> Vec<String> {
    match tools {
        Tools::Dpkg(_) => apt::parse_failed_packages(log.text()),
        Tools::Rpm(_) => rpm::parse_failed_packages(log.text()),
    }
}

/// Without a second scan nothing is known installed: every update counts failed.
fn rescan_failed(
    mut before: Inventory,
    approved: Vec<AvailableUpdate>,
    err: String,
    log: &mut Log,
) -> (Option<Inventory>, i32) {
    log.line(format!("the scan after the install failed: {err}"));
    before.failed = approved.into_iter().map(|u| u.name).collect();
    (Some(before), EXIT_SOME_FAILED)
}
