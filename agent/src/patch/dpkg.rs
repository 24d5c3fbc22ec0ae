//! The installed packages of a dpkg host, from one `dpkg-query` call, and its
//! reboot-pending state (`/var/run/reboot-required`, written by packages'
//! maintainer scripts through update-notifier-common's convention).

use std::path::{Path, PathBuf};
use std::time::Duration;

use coc_shared::domain::patch::InstalledPackage;

use super::command::Call;
use super::settings::PatchSettings;

const QUERY_TIMEOUT: Duration = Duration::from_secs(300);

/// One line per package: name, version, architecture, Section (the
/// classification), Priority (the severity), the state, the mtime of its file
/// list (`db-fsys:Last-Modified`, dpkg ≥ 1.19.3: the install time) and the
/// arch-qualified name its `.list` file is named after.
const FORMAT: &str = "${Package}\\t${Version}\\t${Architecture}\\t${Section}\\t${Priority}\\t${db:Status-Status}\\t${db-fsys:Last-Modified}\\t${binary:Package}\\n";

/// States in which the package's files are in place and configured
/// (`triggers-*`: only a trigger of another package is still to run).
const INSTALLED_STATES: [&str; 3] = ["installed", "triggers-awaited", "triggers-pending"];

/// `dpkg-query -W` on the root's database.
pub fn query_call(settings: &PatchSettings) -> Call {
    let mut call = Call::new("dpkg-query", QUERY_TIMEOUT);
    if let Some(root) = &settings.root {
        call = call.arg(format!("--root={}", root.display()));
    }
    call.arg("-W").arg(format!("-f={FORMAT}"))
}

/// dpkg's database directory in the root.
pub fn admindir(settings: &PatchSettings) -> PathBuf {
    settings.in_root("/var/lib/dpkg")
}

/// The installed packages in `dpkg-query` output; for a dpkg that leaves the
/// install time empty, `list_mtime` gives the `.list` file's mtime.
pub fn parse_installed(output: &str, list_mtime: impl Fn(&str) -> Option<i64>) -> Vec<InstalledPackage> {
    output
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let [name, version, architecture, section, priority, state, modified, qualified] = fields[..] else {
                return None;
            };
            if !INSTALLED_STATES.contains(&state) || name.is_empty() {
                return None;
            }
            let installed_time = modified
                .trim()
                .parse::<i64>()
                .ok()
                .map(|secs| secs * 1000)
                .or_else(|| list_mtime(qualified).or_else(|| list_mtime(name)));
            Some(InstalledPackage {
                name: name.to_owned(),
                version: version.to_owned(),
                architecture: architecture.to_owned(),
                installed_time,
                classification: section.to_owned(),
                severity: priority.to_owned(),
            })
        })
        .collect()
}

/// The mtime (ms) of `<admindir>/info/<name>.list`.
pub fn list_file_mtime(admindir: &Path, name: &str) -> Option<i64> {
    let modified = std::fs::metadata(admindir.join("info").join(format!("{name}.list"))).ok()?.modified().ok()?;
    let since_epoch = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
    i64::try_from(since_epoch.as_millis()).ok()
}

/// Whether the root waits for a reboot, and the packages that asked for it.
pub fn reboot_pending(settings: &PatchSettings) -> (bool, Vec<String>) {
    let flag = settings.in_root("/var/run/reboot-required");
    if !flag.exists() {
        return (false, Vec::new());
    }
    let packages = std::fs::read_to_string(settings.in_root("/var/run/reboot-required.pkgs")).unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    for name in packages.lines().map(str::trim).filter(|n| !n.is_empty()) {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    (true, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_installed_packages_are_read_with_their_fields() {
        let output = "bash\t5.2.15-2+b8\tamd64\tshells\trequired\tinstalled\t1747699200\tbash\n\
                      libc6\t2.36-9\tamd64\tlibs\toptional\tinstalled\t1747699300\tlibc6:amd64\n\
                      old-conf\t1.0\tall\tmisc\toptional\tconfig-files\t\told-conf\n\
                      broken\t2.0\tall\tmisc\textra\thalf-configured\t1747699400\tbroken\n\
                      waiting\t3.1\tall\tdoc\toptional\ttriggers-pending\t\twaiting\n";
        let installed = parse_installed(output, |name| (name == "waiting").then_some(42));
        let names: Vec<&str> = installed.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["bash", "libc6", "waiting"]);
        assert_eq!(
            installed[0],
            InstalledPackage {
                name: "bash".into(),
                version: "5.2.15-2+b8".into(),
                architecture: "amd64".into(),
                installed_time: Some(1_747_699_200_000),
                classification: "shells".into(),
                severity: "required".into(),
            }
        );
        assert_eq!(installed[2].installed_time, Some(42), "the .list mtime when dpkg gives none");
    }

    #[test]
    fn the_reboot_flag_and_its_packages_are_read_from_the_root() {
        let root = tempfile::tempdir().unwrap();
        let settings = PatchSettings { root: Some(root.path().into()), ..PatchSettings::default() };
        assert_eq!(reboot_pending(&settings), (false, vec![]));
        std::fs::create_dir_all(root.path().join("var/run")).unwrap();
        std::fs::write(root.path().join("var/run/reboot-required"), "*** System restart required ***\n").unwrap();
        std::fs::write(root.path().join("var/run/reboot-required.pkgs"), "linux-image-amd64\nlibc6\nlibc6\n").unwrap();
        assert_eq!(reboot_pending(&settings), (true, vec!["linux-image-amd64".into(), "libc6".into()]));
    }
}
