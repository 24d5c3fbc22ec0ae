//! Where and how the package manager works: the host itself by default, or a
//! throw-away root (tests, image builds) that no call reaches outside of.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the package manager works. Default: the host itself. Tests point it
/// at a throw-away root so they never change the test machine's packages.
#[derive(Debug, Clone)]
pub struct PatchSettings {
    /// A root directory to scan and install into; `None`: `/`. With a root,
    /// dpkg runs with `--root` (maintainer scripts chrootless, `$DPKG_ROOT`
    /// set), apt reads its whole configuration, lists, cache and dpkg status
    /// from the root (see `apt::AptEnv`), rpm/dnf/yum get `--root`/`--installroot`.
    pub root: Option<PathBuf>,
    /// Extra `-o Name=value` options for every apt-get call (e.g. `Acquire::Retries=3`).
    pub apt_options: Vec<String>,
    /// Extra arguments for every dnf/yum call (e.g. `--setopt=reposdir=/srv/repos`,
    /// `--releasever=2.0`), before the command.
    pub dnf_options: Vec<String>,
    /// Refresh the package index (`apt-get update`, `dnf makecache`) before a
    /// scan. Off by default: a scan changes nothing on the host and reads the
    /// index as the host's own refresh (apt's daily timer, dnf-makecache) left it.
    pub refresh: bool,
    /// How long a canceled or timed-out install may still run: apt/dpkg or
    /// dnf/rpm killed in the middle of unpacking or configuring leave
    /// half-installed packages (and a database that needs repair), so the
    /// package manager gets this long to finish what it is doing before it
    /// is killed. Default [`INSTALL_STOP_GRACE`].
    pub install_stop_grace: Duration,
}

/// The default of [`PatchSettings::install_stop_grace`].
pub const INSTALL_STOP_GRACE: Duration = Duration::from_secs(300);

impl Default for PatchSettings {
    fn default() -> PatchSettings {
        PatchSettings {
            root: None,
            apt_options: Vec::new(),
            dnf_options: Vec::new(),
            refresh: false,
            install_stop_grace: INSTALL_STOP_GRACE,
        }
    }
}

impl PatchSettings {
    /// `COC_AGENT_PATCH_ROOT` (a directory), `COC_AGENT_APT_OPTIONS` (options
    /// separated by whitespace, each `Name=value`, with or without a leading
    /// `-o`), `COC_AGENT_DNF_OPTIONS` (dnf/yum arguments separated by
    /// whitespace, each starting with `-`; others are ignored, so that no
    /// word can become a package name), `COC_AGENT_PATCH_REFRESH` (`1`
    /// refreshes the index before each scan) and `COC_AGENT_INSTALL_GRACE_SECS`
    /// (the install's stop grace, seconds; default 300).
    pub fn from_env() -> PatchSettings {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        PatchSettings {
            root: var("COC_AGENT_PATCH_ROOT").map(PathBuf::from),
            apt_options: var("COC_AGENT_APT_OPTIONS").map(|v| parse_apt_options(&v)).unwrap_or_default(),
            dnf_options: var("COC_AGENT_DNF_OPTIONS").map(|v| parse_dnf_options(&v)).unwrap_or_default(),
            refresh: var("COC_AGENT_PATCH_REFRESH").is_some_and(|v| v == "1"),
            install_stop_grace: var("COC_AGENT_INSTALL_GRACE_SECS")
                .and_then(|v| v.trim().parse().ok())
                .map_or(INSTALL_STOP_GRACE, Duration::from_secs),
        }
    }

    /// The root as a path (`/` for the host).
    pub fn root_dir(&self) -> &Path {
        self.root.as_deref().unwrap_or(Path::new("/"))
    }

    /// A path of the root: `/etc/os-release` → `<root>/etc/os-release`.
    pub fn in_root(&self, path: &str) -> PathBuf {
        self.root_dir().join(path.trim_start_matches('/'))
    }
}

fn parse_apt_options(value: &str) -> Vec<String> {
    value.split_whitespace().filter(|word| *word != "-o").map(|word| word.trim_start_matches("-o").to_owned()).collect()
}

/// dnf/yum options only: a word without a leading `-` (a stray package name
/// or subcommand) would change what the call does.
fn parse_dnf_options(value: &str) -> Vec<String> {
    value.split_whitespace().filter(|word| word.starts_with('-')).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_options_take_either_spelling() {
        assert_eq!(
            parse_apt_options("-o Acquire::Retries=3  -oDebug::NoLocking=1\nAPT::Get::Show-Versions=1"),
            ["Acquire::Retries=3", "Debug::NoLocking=1", "APT::Get::Show-Versions=1"]
        );
    }

    #[test]
    fn dnf_options_are_options_only() {
        assert_eq!(
            parse_dnf_options("--setopt=reposdir=/srv/repos\n  --releasever=2.0 bash -C"),
            ["--setopt=reposdir=/srv/repos", "--releasever=2.0", "-C"]
        );
    }

    #[test]
    fn paths_are_taken_inside_the_root() {
        let host = PatchSettings::default();
        assert_eq!(host.in_root("/etc/os-release"), Path::new("/etc/os-release"));
        let throwaway = PatchSettings { root: Some("/tmp/r".into()), ..PatchSettings::default() };
        assert_eq!(throwaway.in_root("/var/run/reboot-required"), Path::new("/tmp/r/var/run/reboot-required"));
    }
}
