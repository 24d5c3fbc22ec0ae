//! A scan: the host's installed packages, the updates its repositories offer
//! and its reboot state, from a handful of package-manager calls (never one
//! per package). It changes nothing.

use std::time::Instant;

use coc_shared::clock::now_ms;
use coc_shared::domain::patch::{AvailableUpdate, Inventory};

use super::apt::{self, AptEnv};
use super::command::{for_log, Call, Output};
use super::dpkg;
use super::os::{HostOs, PackageManager};
use super::rpm::{self, RpmTools};
use super::settings::PatchSettings;
use super::Log;

/// The package tools of one host, set up once per job.
pub enum Tools {
    Dpkg(AptEnv),
    Rpm(RpmTools),
}

impl Tools {
    pub fn new(os: &HostOs, settings: &PatchSettings) -> Result<Tools, String> {
        Ok(match os.family.package_manager() {
            PackageManager::Dpkg => Tools::Dpkg(AptEnv::new(settings)?),
            PackageManager::Rpm => Tools::Rpm(RpmTools::new(settings)),
        })
    }
}

/// Runs `call`, failing unless it exits 0.
pub async fn checked(call: &Call) -> Result<Output, String> {
    let output = call.output().await?;
    if output.success() {
        Ok(output)
    } else {
        Err(format!("{} failed ({:?}):\n{}", call.display(), output.code, for_log(&output.stderr, 20)))
    }
}

/// Refreshes the package index, when the settings ask for it.
pub async fn refresh(tools: &Tools, log: &mut Log) -> Result<(), String> {
    let call = match tools {
        Tools::Dpkg(apt) => apt.update_call(),
        Tools::Rpm(rpm) => rpm.refresh_call(),
    };
    checked(&call).await?;
    log.line(format!("refreshed the package index ({})", call.display()));
    Ok(())
}

pub async fn scan(os: &HostOs, tools: &Tools, settings: &PatchSettings, log: &mut Log) -> Result<Inventory, String> {
    let started = Instant::now();
    let mut inventory = match tools {
        Tools::Dpkg(apt) => scan_dpkg(apt, settings).await?,
        Tools::Rpm(rpm) => scan_rpm(rpm, log).await?,
    };
    inventory.operating_system = os.family.name().to_owned();
    inventory.os_version = os.version.clone();
    let security = inventory.available.iter().filter(|u| u.security).count();
    log.line(format!(
        "scanned {} {}: {} installed packages, {} available updates ({} security), reboot {}, in {} ms",
        inventory.operating_system,
        inventory.os_version,
        inventory.installed.len(),
        inventory.available.len(),
        security,
        if inventory.reboot_required { "required" } else { "not required" },
        started.elapsed().as_millis()
    ));
    Ok(inventory)
}

fn empty_inventory(package_manager: PackageManager) -> Inventory {
    Inventory::empty(package_manager.name(), now_ms())
}

/// Two calls: `dpkg-query -W` and `apt-get -s dist-upgrade`. An update takes
/// its package's Section and Priority (apt's simulation shows neither).
async fn scan_dpkg(apt: &AptEnv, settings: &PatchSettings) -> Result<Inventory, String> {
    let mut inventory = empty_inventory(PackageManager::Dpkg);
    // Both only read; they run side by side.
    let (query_call, simulate_call) = (dpkg::query_call(settings), apt.simulate_call());
    let (query, simulation) = tokio::join!(checked(&query_call), checked(&simulate_call));
    let admindir = dpkg::admindir(settings);
    inventory.installed = dpkg::parse_installed(&query?.stdout, |name| dpkg::list_file_mtime(&admindir, name));
    inventory.available = apt::parse_simulation(&simulation?.stdout)
        .into_iter()
        .map(|upgrade| {
            let package = inventory
                .installed
                .iter()
                .find(|p| {
                    p.name == upgrade.name && (p.architecture == upgrade.architecture || upgrade.architecture == "all")
                })
                .or_else(|| inventory.installed.iter().find(|p| p.name == upgrade.name));
            AvailableUpdate {
                name: upgrade.name,
                version: upgrade.candidate,
                architecture: upgrade.architecture,
                classification: package.map(|p| p.classification.clone()).unwrap_or_default(),
                severity: package.map(|p| p.severity.clone()).unwrap_or_default(),
                release_time: None,
                security: upgrade.security,
            }
        })
        .collect();
    (inventory.reboot_required, inventory.reboot_packages) = dpkg::reboot_pending(settings);
    Ok(inventory)
}

/// Four calls: `rpm -qa`, `check-update`, `updateinfo list` and
/// `needs-restarting -r` (see `rpm::reboot`). One after the other: dnf
/// instances wait for each other's metadata lock (`dnf/lock.py` polls it once a
/// second), so side by side they take longer.
async fn scan_rpm(rpm: &RpmTools, log: &mut Log) -> Result<Inventory, String> {
    let mut inventory = empty_inventory(PackageManager::Rpm);
    inventory.installed = rpm::parse_installed(&checked(&rpm.query_call()).await?.stdout);
    let candidates = rpm::check_update_result(&rpm.check_update_call().output().await?)?;
    // A repository without updateinfo is common (CentOS): the updates are then unclassified.
    let advisories = match checked(&rpm.updateinfo_call()).await {
        Ok(output) => rpm::parse_updateinfo(&output.stdout),
        Err(err) => {
            log.line(format!("no advisories: {err}"));
            Vec::new()
        }
    };
    inventory.available = rpm::available_updates(&candidates, &advisories);
    let reboot = rpm::reboot::state(rpm, &inventory.installed, log).await;
    (inventory.reboot_required, inventory.reboot_packages) = (reboot.required, reboot.packages);
    Ok(inventory)
}
