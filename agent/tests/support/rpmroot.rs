//! A throw-away rpm/dnf root shaped like a Huawei Cloud EulerOS 2.0 host, with
//! small packages built on the spot (see `agent/tests/fixtures/make-rpmroot.sh`
//! for what it holds). Use it from a test with
//! `#[path = "support/rpmroot.rs"] mod rpmroot;`, then run an agent with
//! `COC_AGENT_PATCH_ROOT` set to [`RpmRoot::root`].
//!
//! Without the tools (rpmbuild, createrepo_c, modifyrepo_c, dnf) [`RpmRoot::build`]
//! gives `None` and says so, unless `COC_REQUIRE_PATCH_TOOLS` is set (as
//! `scripts/test.sh` does): then a missing tool fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The tools the root is made and used with.
pub const TOOLS: [&str; 5] = ["rpm", "rpmbuild", "createrepo_c", "modifyrepo_c", "dnf"];

/// The packages of the root: (name, installed `[epoch:]version-release`, version offered).
pub const PACKAGES: [(&str, &str, Option<&str>); 8] = [
    ("coc-test-bare", "1.0-1", Some("2.0-1")),
    ("coc-test-broken", "1.0-1", Some("2.0-1")),
    ("coc-test-current", "1.0-1", None),
    ("coc-test-lowsec", "1.0-1", Some("2.0-1")),
    ("coc-test-plain", "1:1.0-1", Some("1:2.0-1")),
    ("coc-test-reboot", "1.0-1", Some("2.0-1")),
    ("coc-test-release", "2.0-1", None),
    ("coc-test-secure", "1.0-1", Some("2.0-1")),
];

/// The advisories of the repository's updateinfo.xml: (package, classification, severity, security).
pub const ADVISORIES: [(&str, &str, &str, bool); 5] = [
    ("coc-test-broken", "Bugfix", "", false),
    ("coc-test-lowsec", "Security", "Low", true),
    ("coc-test-plain", "Bugfix", "", false),
    ("coc-test-reboot", "Bugfix", "", false),
    ("coc-test-secure", "Security", "Important", true),
];

/// When the advisories were issued: 2026-01-15 08:00:00 UTC, in ms.
pub const ISSUED_MS: i64 = 1_768_464_000_000;
/// The install time of the installed base (`SOURCE_DATE_EPOCH`), in seconds.
pub const BASE_INSTALL_SECS: i64 = 1_700_000_000;

/// The package whose 2.0 `%pre` fails.
pub const BROKEN_PACKAGE: &str = "coc-test-broken";
/// The package `needs-restarting.d` of the root names a core package.
pub const REBOOT_PACKAGE: &str = "coc-test-reboot";

pub struct RpmRoot {
    dir: tempfile::TempDir,
}

/// An installed package as `rpm -qa` gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RpmPackage {
    pub name: String,
    pub evr: String,
    pub arch: String,
    pub install_secs: i64,
}

fn missing_tools() -> Vec<&'static str> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    TOOLS.into_iter().filter(|tool| !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file())).collect()
}

impl RpmRoot {
    /// Builds a new root in a temporary directory (removed on drop); `None`
    /// when the tools are missing and not required.
    pub fn build() -> Option<RpmRoot> {
        RpmRoot::build_with(None)
    }

    /// A root whose coc-test-secure 2.0 takes `slow_secs` to install (its
    /// `%pre` marks [`RpmRoot::slow_install_started`] and then sleeps).
    pub fn build_slow(slow_secs: u32) -> Option<RpmRoot> {
        RpmRoot::build_with(Some(slow_secs))
    }

    /// Whether the slow install's `%pre` has started.
    pub fn slow_install_started(&self) -> bool {
        self.root().join("var/tmp/coc-test-slow.started").exists()
    }

    fn build_with(slow_secs: Option<u32>) -> Option<RpmRoot> {
        let missing = missing_tools();
        if !missing.is_empty() {
            let message = format!(
                "the rpm patch tests need {} (Debian: apt-get install rpm createrepo-c dnf dnf-plugins-core, \
                 as scripts/install-tools.sh does)",
                missing.join(", ")
            );
            assert!(std::env::var_os("COC_REQUIRE_PATCH_TOOLS").is_none(), "{message}; COC_REQUIRE_PATCH_TOOLS is set");
            eprintln!("SKIPPED: {message}; set COC_REQUIRE_PATCH_TOOLS=1 to fail instead");
            return None;
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-rpmroot.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg(dir.path())
            .args(slow_secs.map(|secs| secs.to_string()))
            .output()
            .expect("run make-rpmroot.sh");
        assert!(
            output.status.success(),
            "make-rpmroot.sh failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        Some(RpmRoot { dir })
    }

    /// The root to hand the agent.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The local repository.
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// Every package of the root's rpm database, sorted, from rpm itself.
    pub fn rpm_state(&self) -> Vec<RpmPackage> {
        let output = Command::new("rpm")
            .arg(format!("--root={}", self.root().display()))
            .args(["-qa", "--qf", "%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}-%{RELEASE}\\t%{ARCH}\\t%{INSTALLTIME}\\n"])
            .output()
            .expect("rpm -qa");
        assert!(output.status.success(), "rpm -qa: {}", String::from_utf8_lossy(&output.stderr));
        let mut packages: Vec<RpmPackage> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let [name, epoch, vr, arch, secs] = line.split('\t').collect::<Vec<_>>()[..] else { return None };
                Some(RpmPackage {
                    name: name.to_owned(),
                    evr: if epoch == "0" { vr.to_owned() } else { format!("{epoch}:{vr}") },
                    arch: arch.to_owned(),
                    install_secs: secs.parse().ok()?,
                })
            })
            .collect();
        packages.sort();
        packages
    }

    /// The root's packages as (name, `[epoch:]version-release`).
    pub fn versions(&self) -> Vec<(String, String)> {
        self.rpm_state().into_iter().map(|p| (p.name, p.evr)).collect()
    }

    /// What `dnf check-update` in the root lists, run by the test itself
    /// (plugins off, on the cache): sorted (name, arch, `[epoch:]version-release`).
    pub fn dnf_check_update(&self) -> Vec<(String, String, String)> {
        let output = Command::new("dnf")
            .env("LC_ALL", "C")
            .args(["-q", "-C", "--disableplugin=*"])
            .arg(format!("--installroot={}", self.root().display()))
            .arg("check-update")
            .output()
            .expect("dnf check-update");
        assert_eq!(output.status.code(), Some(100), "updates are listed: {}", String::from_utf8_lossy(&output.stderr));
        let mut updates: Vec<(String, String, String)> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let [name_arch, evr, _repo] = line.split_whitespace().collect::<Vec<_>>()[..] else { return None };
                let (name, arch) = name_arch.rsplit_once('.')?;
                Some((name.to_owned(), arch.to_owned(), evr.to_owned()))
            })
            .collect();
        updates.sort();
        updates
    }
}

/// The parts of this machine a scan or an install in a root must leave alone:
/// its dpkg database, dnf's own state, cache and configuration, and this
/// user's rpm database (Debian's rpm keeps it in `~/.rpmdb`).
pub fn host_state() -> String {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let script = format!(
        "dpkg-query -W -f='${{binary:Package}} ${{Version}} ${{db:Status-Abbrev}}\\n'; \
         for d in /var/cache/dnf /var/lib/dnf /etc/dnf /etc/yum.repos.d {home}/.rpmdb /var/lib/rpm; do \
           [ -e \"$d\" ] && ls -laR --time-style=full-iso \"$d\"; done; true"
    );
    let output = Command::new("sh").args(["-c", &script]).env("LC_ALL", "C").output().expect("sh");
    String::from_utf8_lossy(&output.stdout).into_owned()
}
