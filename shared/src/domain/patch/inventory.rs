//! What an agent's scan found on its host (the body it posts after a patch job).

use serde::{Deserialize, Serialize};

/// A package the host has installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub architecture: String,
    /// When it was installed (ms since the epoch), where the package manager
    /// keeps it (rpm's INSTALLTIME; dpkg: the mtime of its `.list` file).
    #[serde(default)]
    pub installed_time: Option<i64>,
    /// The OS's category for it (dpkg Section, rpm Group / updateinfo type); may be empty.
    #[serde(default)]
    pub classification: String,
    /// The OS's severity or priority for it (dpkg Priority, updateinfo severity); may be empty.
    #[serde(default)]
    pub severity: String,
}

/// An update the host's repositories offer for a package (installed or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailableUpdate {
    pub name: String,
    /// The candidate version the package manager would install.
    pub version: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub classification: String,
    #[serde(default)]
    pub severity: String,
    /// When the update was released (ms), where the repository says it
    /// (updateinfo `issued`); `None` counts as released long ago.
    #[serde(default)]
    pub release_time: Option<i64>,
    /// Whether it comes from a security archive / is a security advisory.
    #[serde(default)]
    pub security: bool,
}

/// One scan of one host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The OS as `/etc/os-release` names it, mapped to the baseline families
    /// (`Debian`, `Ubuntu`, `HuaweiCloudEulerOS`, `EulerOS`, `CentOS`).
    pub operating_system: String,
    #[serde(default)]
    pub os_version: String,
    /// `dpkg` or `rpm`.
    pub package_manager: String,
    pub installed: Vec<InstalledPackage>,
    pub available: Vec<AvailableUpdate>,
    /// The host waits for a reboot (`/var/run/reboot-required`, `needs-restarting -r`).
    #[serde(default)]
    pub reboot_required: bool,
    /// The packages that asked for the reboot, where the OS says (`reboot-required.pkgs`).
    #[serde(default)]
    pub reboot_packages: Vec<String>,
    /// Install only: the packages this run installed.
    #[serde(default)]
    pub installed_now: Vec<String>,
    /// Install only: the packages this run tried to install and could not.
    #[serde(default)]
    pub failed: Vec<String>,
    /// When the scan ran on the host (ms).
    pub scanned_at: i64,
}

impl Inventory {
    /// A scan by `package_manager` at `scanned_at` that has found nothing yet.
    pub fn empty(package_manager: &str, scanned_at: i64) -> Inventory {
        Inventory {
            operating_system: String::new(),
            os_version: String::new(),
            package_manager: package_manager.to_owned(),
            installed: Vec::new(),
            available: Vec::new(),
            reboot_required: false,
            reboot_packages: Vec::new(),
            installed_now: Vec::new(),
            failed: Vec::new(),
            scanned_at,
        }
    }
}
