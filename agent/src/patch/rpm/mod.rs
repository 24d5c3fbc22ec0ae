//! rpm hosts (Huawei Cloud EulerOS, EulerOS, CentOS): installed packages from
//! one `rpm -qa`, candidates from `dnf`/`yum check-update`, their advisory
//! type, severity and date from `updateinfo list`, the reboot state from
//! `needs-restarting -r` (see [`reboot`]). dnf and yum run on their cache only
//! (`-C`) unless the `refresh` setting asks for `makecache` first, so a scan
//! downloads nothing.
//!
//! With a root (`--root`/`--installroot`), dnf reads its configuration,
//! repositories, cache and release version from the root; the host's dnf
//! plugins stay out of it (some write host paths: `local` copies packages to
//! `/var/lib/dnf/plugins/local`, `generate_completion_cache` writes
//! `/var/cache/dnf/packages.db`), all but the read-only `needs-restarting`.
//! `agent/tests/patch_rpm.rs` runs all of it with Debian's rpm, dnf 4 and
//! createrepo_c against a root made by `agent/tests/fixtures/make-rpmroot.sh`.
//!
//! - [`parse`]: the parsers of the tools' output;
//! - [`reboot`]: whether a reboot is pending.

pub mod parse;
pub mod reboot;

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::command::{on_path, Call};
use super::settings::PatchSettings;

pub use parse::{
    available_updates, check_update_result, parse_check_update, parse_failed_packages, parse_installed,
    parse_updateinfo, split_nevra, Advisory, Candidate,
};

const QUERY_TIMEOUT: Duration = Duration::from_secs(600);
const INSTALL_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// `%{EPOCH}` is `(none)` for most packages.
const QUERY_FORMAT: &str = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\t%{GROUP}\\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frontend {
    Dnf,
    Yum,
}

/// How rpm and its front end are called for these settings.
#[derive(Debug, Clone)]
pub struct RpmTools {
    root: Option<PathBuf>,
    frontend: Frontend,
    cache_only: bool,
    /// `COC_AGENT_DNF_OPTIONS`, for every dnf/yum call.
    options: Vec<String>,
}

impl RpmTools {
    /// dnf where the host has it (HCE 2, EulerOS 2.9+, CentOS 8), else yum (CentOS 7).
    pub fn new(settings: &PatchSettings) -> RpmTools {
        let frontend = if on_path("dnf") { Frontend::Dnf } else { Frontend::Yum };
        RpmTools {
            root: settings.root.clone(),
            frontend,
            cache_only: !settings.refresh,
            options: settings.dnf_options.clone(),
        }
    }

    /// The root the tools work in, if not the host.
    pub fn root(&self) -> Option<&Path> {
        self.root.as_deref()
    }

    /// dnf or yum; `-C` (the cache only) for the reading calls of a scan.
    fn frontend_with(&self, timeout: Duration, cache_only: bool) -> Call {
        let program = match self.frontend {
            Frontend::Dnf => "dnf",
            Frontend::Yum => "yum",
        };
        let mut call = Call::new(program, timeout).arg("-q");
        if cache_only {
            call = call.arg("-C");
        }
        if let Some(root) = &self.root {
            call = call.arg(format!("--installroot={}", root.display())).arg("--disableplugin=*");
            if self.frontend == Frontend::Dnf {
                call = call.arg("--enableplugin=needs-restarting");
            }
        }
        call.args(self.options.iter().cloned())
    }

    fn frontend(&self, timeout: Duration) -> Call {
        self.frontend_with(timeout, self.cache_only)
    }

    pub fn query_call(&self) -> Call {
        let mut call = Call::new("rpm", QUERY_TIMEOUT);
        if let Some(root) = &self.root {
            call = call.arg(format!("--root={}", root.display()));
        }
        call.args(["-qa", "--qf", QUERY_FORMAT])
    }

    pub fn refresh_call(&self) -> Call {
        self.frontend_with(QUERY_TIMEOUT, false).arg("makecache")
    }

    /// Exit 100: updates listed; 0: none; anything else: an error.
    pub fn check_update_call(&self) -> Call {
        self.frontend(QUERY_TIMEOUT).arg("check-update")
    }

    /// dnf 4 prints each advisory's date only when verbose (`-v`), with a
    /// few debug lines the parser passes over; in UTC, as the parser reads it.
    pub fn updateinfo_call(&self) -> Call {
        let call = match self.frontend {
            Frontend::Dnf => self.frontend(QUERY_TIMEOUT).args(["-v", "updateinfo", "list", "--available"]),
            Frontend::Yum => self.frontend(QUERY_TIMEOUT).args(["updateinfo", "list", "available"]),
        };
        call.env("TZ", "UTC")
    }

    /// `needs-restarting -r`: dnf's plugin reads the package database of the
    /// root it is given (and its `needs-restarting.d`); yum's separate tool
    /// knows no root, so there is no call for yum in a root.
    pub fn needs_restarting_call(&self) -> Option<Call> {
        match (self.frontend, &self.root) {
            (Frontend::Dnf, _) => Some(self.frontend(QUERY_TIMEOUT).args(["needs-restarting", "-r"])),
            (Frontend::Yum, None) => Some(Call::new("needs-restarting", QUERY_TIMEOUT).arg("-r")),
            (Frontend::Yum, Some(_)) => None,
        }
    }

    /// Upgrades to exactly these versions (`name-[epoch:]version-release.arch`),
    /// downloading them (never cache only).
    pub fn install_call(&self, targets: &[(String, String, String)]) -> Call {
        self.frontend_with(INSTALL_TIMEOUT, false)
            .args(["-y", "upgrade"])
            .args(targets.iter().map(|(name, version, arch)| format!("{name}-{version}.{arch}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_reaches_every_call_and_a_scan_stays_on_the_cache() {
        let settings = PatchSettings { root: Some("/tmp/r".into()), ..PatchSettings::default() };
        let tools = RpmTools { frontend: Frontend::Dnf, ..RpmTools::new(&settings) };
        let in_root = "--installroot=/tmp/r --disableplugin=* --enableplugin=needs-restarting";
        assert_eq!(tools.query_call().args[0], "--root=/tmp/r");
        assert_eq!(tools.check_update_call().display(), format!("dnf -q -C {in_root} check-update"));
        assert_eq!(
            tools.needs_restarting_call().unwrap().display(),
            format!("dnf -q -C {in_root} needs-restarting -r")
        );
        let install = tools.install_call(&[("openssl".into(), "1:1.1.1m-28.hce2".into(), "x86_64".into())]);
        assert_eq!(install.display(), format!("dnf -q {in_root} -y upgrade openssl-1:1.1.1m-28.hce2.x86_64"));
        assert_eq!(tools.refresh_call().display(), format!("dnf -q {in_root} makecache"));
        assert_eq!(tools.updateinfo_call().display(), format!("dnf -q -C {in_root} -v updateinfo list --available"));

        let yum = RpmTools { frontend: Frontend::Yum, ..RpmTools::new(&PatchSettings::default()) };
        assert_eq!(yum.updateinfo_call().display(), "yum -q -C updateinfo list available");
        assert_eq!(yum.needs_restarting_call().unwrap().display(), "needs-restarting -r");
        let yum_in_root = RpmTools { frontend: Frontend::Yum, ..RpmTools::new(&settings) };
        assert!(yum_in_root.needs_restarting_call().is_none(), "yum's needs-restarting knows no root");
        assert_eq!(
            yum_in_root.check_update_call().display(),
            "yum -q -C --installroot=/tmp/r --disableplugin=* check-update"
        );
    }

    #[test]
    fn the_dnf_options_reach_every_frontend_call() {
        let settings = PatchSettings { dnf_options: vec!["--releasever=2.0".into()], ..PatchSettings::default() };
        let tools = RpmTools { frontend: Frontend::Dnf, ..RpmTools::new(&settings) };
        assert_eq!(tools.check_update_call().display(), "dnf -q -C --releasever=2.0 check-update");
        assert!(tools.install_call(&[]).args.contains(&"--releasever=2.0".to_owned()));
        assert!(!tools.query_call().args.contains(&"--releasever=2.0".to_owned()), "rpm takes no dnf option");
    }
}
