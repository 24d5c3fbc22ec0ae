//! Whether an rpm host needs a reboot. rpm hosts keep no reboot flag (as
//! Debian's `/var/run/reboot-required`); the rule is `needs-restarting -r`'s:
//! a "core" package (the kernel, glibc, systemd, dbus, ... and the names an
//! admin lists in `/etc/dnf/plugins/needs-restarting.d/*.conf`) installed
//! after the machine booted. The agent asks `needs-restarting -r` (dnf's
//! plugin or yum-utils' tool); where it does not answer (not installed, yum in
//! a root) it applies the same rule itself to the scan's install times.
//! In a root the rule compares the root's packages with this machine's boot:
//! an image root whose core packages changed since the boot reads as pending.

use std::path::Path;

use coc_shared::domain::patch::InstalledPackage;

use super::RpmTools;
use crate::patch::command::Output;
use crate::patch::Log;

/// dnf 4's list (`needs_restarting.py`, from https://access.redhat.com/solutions/27943).
pub const CORE_PACKAGES: [&str; 8] =
    ["kernel", "kernel-rt", "glibc", "linux-firmware", "systemd", "dbus", "dbus-broker", "dbus-daemon"];

/// Where admins add core packages, inside the root.
const EXTRA_CORE_PACKAGES_DIR: &str = "etc/dnf/plugins/needs-restarting.d";

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RebootState {
    pub required: bool,
    /// The core packages updated since the boot.
    pub packages: Vec<String>,
}

/// What `needs-restarting -r` said: exit 0, no reboot; exit 1 with its
/// "Reboot is required" text, a reboot and the packages it lists (dnf:
/// `  * name`, yum-utils: `  name -> version`). Any other end (exit 1 is also
/// dnf's "No such command") is no answer.
pub fn from_needs_restarting(output: &Output) -> Option<RebootState> {
    match output.code {
        Some(0) => Some(RebootState::default()),
        Some(1) if output.stdout.contains("Reboot is required") => {
            let packages = output
                .stdout
                .lines()
                .skip_while(|line| !line.contains("have been updated"))
                .skip(1)
                .take_while(|line| line.starts_with([' ', '\t']) && !line.trim().is_empty())
                .filter_map(|line| line.trim().trim_start_matches("* ").split_whitespace().next())
                .map(str::to_owned)
                .collect();
            Some(RebootState { required: true, packages })
        }
        _ => None,
    }
}

/// The rule itself: the core packages (and `extra` names) installed after
/// `boot_secs` (Unix seconds), sorted and without repeats.
pub fn by_core_packages(installed: &[InstalledPackage], boot_secs: i64, extra: &[String]) -> RebootState {
    let mut packages: Vec<String> = installed
        .iter()
        .filter(|p| CORE_PACKAGES.contains(&p.name.as_str()) || extra.contains(&p.name))
        .filter(|p| p.installed_time.is_some_and(|ms| ms / 1000 > boot_secs))
        .map(|p| p.name.clone())
        .collect();
    packages.sort();
    packages.dedup();
    RebootState { required: !packages.is_empty(), packages }
}

/// The names of `<root>/etc/dnf/plugins/needs-restarting.d/*.conf`, one a line.
pub fn extra_core_packages(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(EXTRA_CORE_PACKAGES_DIR)) else { return Vec::new() };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "conf"))
        .filter_map(|path| std::fs::read_to_string(path).ok())
        .flat_map(|text| text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// This machine's boot time, Unix seconds (`btime` of `/proc/stat`).
pub fn boot_time() -> Option<i64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    stat.lines().find_map(|line| line.strip_prefix("btime ")).and_then(|secs| secs.trim().parse().ok())
}

/// The reboot state of the scanned host: `needs-restarting -r`, else the rule.
pub async fn state(tools: &RpmTools, installed: &[InstalledPackage], log: &mut Log) -> RebootState {
    if let Some(call) = tools.needs_restarting_call() {
        match call.output().await.map(|output| from_needs_restarting(&output)) {
            Ok(Some(state)) => return state,
            Ok(None) => log.line(format!("{} did not answer", call.display())),
            Err(err) => log.line(err),
        }
    }
    let Some(boot) = boot_time() else {
        log.line("the reboot state is unknown: no boot time in /proc/stat");
        return RebootState::default();
    };
    let extra = extra_core_packages(tools.root().unwrap_or(Path::new("/")));
    log.line("the reboot state comes from the core packages installed since the boot");
    by_core_packages(installed, boot, &extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: Option<i32>, stdout: &str) -> Output {
        Output { code, stdout: stdout.into(), stderr: String::new() }
    }

    #[test]
    fn needs_restarting_answers_with_its_exit_code_and_names() {
        let dnf = "Core libraries or services have been updated since boot-up:\n  * kernel\n  * systemd\n\n\
                   Reboot is required to fully utilize these updates.\n\
                   More information: https://access.redhat.com/solutions/27943\n";
        assert_eq!(
            from_needs_restarting(&out(Some(1), dnf)),
            Some(RebootState { required: true, packages: vec!["kernel".into(), "systemd".into()] })
        );
        let yum = "Core libraries or services have been updated:\n  kernel -> 3.10.0-1160.el7\n\n\
                   Reboot is required to ensure that your system benefits from these updates.\n";
        assert_eq!(from_needs_restarting(&out(Some(1), yum)).unwrap().packages, ["kernel"]);
        assert_eq!(
            from_needs_restarting(&out(Some(0), "Reboot should not be necessary.\n")),
            Some(RebootState::default())
        );
        let no_plugin = "No such command: needs-restarting. Please use /usr/bin/dnf --help\n";
        assert_eq!(from_needs_restarting(&out(Some(1), no_plugin)), None, "an error is no answer");
        assert_eq!(from_needs_restarting(&out(None, "")), None);
    }

    #[test]
    fn the_rule_takes_core_packages_installed_after_the_boot() {
        let package = |name: &str, secs: i64| InstalledPackage {
            name: name.into(),
            version: "1-1".into(),
            architecture: "x86_64".into(),
            installed_time: Some(secs * 1000),
            classification: String::new(),
            severity: String::new(),
        };
        let installed = [
            package("kernel", 900),
            package("kernel", 1100),
            package("glibc", 1000),
            package("bash", 2000),
            package("site-agent", 1500),
        ];
        let state = by_core_packages(&installed, 1000, &["site-agent".into()]);
        assert_eq!(state, RebootState { required: true, packages: vec!["kernel".into(), "site-agent".into()] });
        assert!(!by_core_packages(&installed, 3000, &[]).required);
    }

    #[test]
    fn extra_core_packages_come_from_the_roots_conf_files() {
        let root = tempfile::tempdir().unwrap();
        assert!(extra_core_packages(root.path()).is_empty());
        let dir = root.path().join(EXTRA_CORE_PACKAGES_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("site.conf"), "site-agent\n\nopenssl-libs\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not-a-package\n").unwrap();
        assert_eq!(extra_core_packages(root.path()), ["openssl-libs", "site-agent"]);
        assert!(boot_time().is_some_and(|t| t > 0));
    }
}
