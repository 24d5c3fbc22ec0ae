//! The parsers of rpm, dnf and yum output.

use coc_shared::domain::patch::{AvailableUpdate, InstalledPackage};

use crate::patch::command::Output;

/// `[epoch:]version-release`, the epoch left out when there is none.
fn evr(epoch: &str, version: &str, release: &str) -> String {
    match epoch {
        "" | "(none)" | "0" => format!("{version}-{release}"),
        epoch => format!("{epoch}:{version}-{release}"),
    }
}

/// The packages of `rpm -qa --qf QUERY_FORMAT` (without the `gpg-pubkey`
/// entries rpm keeps for imported keys).
pub fn parse_installed(output: &str) -> Vec<InstalledPackage> {
    output
        .lines()
        .filter_map(|line| {
            let [name, epoch, version, release, arch, installed, group] = line.split('\t').collect::<Vec<_>>()[..]
            else {
                return None;
            };
            if name == "gpg-pubkey" || name.is_empty() {
                return None;
            }
            Some(InstalledPackage {
                name: name.to_owned(),
                version: evr(epoch, version, release),
                architecture: arch.to_owned(),
                installed_time: installed.trim().parse::<i64>().ok().map(|secs| secs * 1000),
                classification: if group == "Unspecified" { String::new() } else { group.to_owned() },
                severity: String::new(),
            })
        })
        .collect()
}

/// A candidate of `check-update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub name: String,
    pub architecture: String,
    pub version: String,
    pub repository: String,
}

/// The candidates of `check-update` output: `name.arch  [epoch:]version-release  repo`
/// lines (a long name wraps onto a line of its own), up to "Obsoleting Packages".
pub fn parse_check_update(output: &str) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    let mut carried: Vec<&str> = Vec::new();
    for line in output.lines() {
        if line.starts_with("Obsoleting Packages") {
            break;
        }
        let mut tokens = std::mem::take(&mut carried);
        tokens.extend(line.split_whitespace());
        match tokens.len() {
            1 if tokens[0].contains('.') && !tokens[0].ends_with(':') => carried = tokens,
            3 => {
                let (Some((name, arch)), version) = (tokens[0].rsplit_once('.'), tokens[1]) else { continue };
                if name.is_empty() || !version.contains('-') || !version.starts_with(|c: char| c.is_ascii_digit()) {
                    continue;
                }
                candidates.push(Candidate {
                    name: name.to_owned(),
                    architecture: arch.to_owned(),
                    version: version.to_owned(),
                    repository: tokens[2].to_owned(),
                });
            }
            _ => {}
        }
    }
    candidates
}

/// One advisory's entry for one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advisory {
    pub id: String,
    pub name: String,
    pub architecture: String,
    pub version: String,
    pub classification: String,
    pub severity: String,
    pub security: bool,
    pub issued: Option<i64>,
}

/// `name-[epoch:]version-release.arch` → (name, evr, arch).
pub fn split_nevra(nevra: &str) -> Option<(String, String, String)> {
    let (rest, arch) = nevra.rsplit_once('.')?;
    let (rest, release) = rest.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() || arch.is_empty() {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}"), arch.to_owned()))
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
}

/// The entries of `updateinfo list` output. dnf 4 and yum print
/// `ID  TYPE  NEVRA`, TYPE being `bugfix`, `enhancement`, `newpackage` or
/// `Severity/Sec.` for a security advisory, and dnf 4 verbose (`-v`) the
/// advisory's date after it (`YYYY-MM-DD HH:MM:SS`); dnf 5 prints
/// `ID  TYPE  SEVERITY  NEVRA  YYYY-MM-DD HH:MM:SS` under a header. Other
/// lines (headers, verbose debug lines) do not parse as entries.
pub fn parse_updateinfo(output: &str) -> Vec<Advisory> {
    output
        .lines()
        .filter_map(|line| {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let (id, kind, severity, nevra, issued) = match tokens[..] {
                [id, label, nevra] => dnf4(id, label, nevra, None),
                [id, label, nevra, date, clock] => dnf4(id, label, nevra, Some(parse_issued(date, clock)?)),
                [id, kind, severity, nevra, date, clock] => (id, kind, severity, nevra, parse_issued(date, clock)),
                _ => return None,
            };
            let (name, version, architecture) = split_nevra(nevra)?;
            let security = kind.eq_ignore_ascii_case("security");
            let severity = if severity.eq_ignore_ascii_case("none") { "" } else { severity };
            Some(Advisory {
                id: id.to_owned(),
                name,
                architecture,
                version,
                classification: capitalized(kind),
                severity: severity.to_owned(),
                security,
                issued,
            })
        })
        .collect()
}

/// (id, type, severity, nevra, issued) of a dnf 4 or yum entry, whose label
/// is the type, or `Severity/Sec.` for a security advisory.
type Entry<'a> = (&'a str, &'a str, &'a str, &'a str, Option<i64>);

fn dnf4<'a>(id: &'a str, label: &'a str, nevra: &'a str, issued: Option<i64>) -> Entry<'a> {
    match label.split_once('/') {
        Some((severity, "Sec.")) => (id, "security", severity, nevra, issued),
        _ => (id, label, "", nevra, issued),
    }
}

fn parse_issued(date: &str, clock: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let at = time::PrimitiveDateTime::parse(&format!("{date} {clock}"), &format).ok()?;
    Some((at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

fn severity_rank(severity: &str) -> u8 {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "important" | "high" => 3,
        "moderate" | "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The available updates: each candidate with what its advisories say (the
/// advisory of its exact version, else any of the package: a later build
/// carries the earlier fixes). Security if one is; the highest severity.
pub fn available_updates(candidates: &[Candidate], advisories: &[Advisory]) -> Vec<AvailableUpdate> {
    candidates
        .iter()
        .map(|candidate| {
            let same_package = |a: &&Advisory| {
                a.name == candidate.name && (a.architecture == candidate.architecture || a.architecture == "noarch")
            };
            let exact: Vec<&Advisory> =
                advisories.iter().filter(same_package).filter(|a| a.version == candidate.version).collect();
            let matching = if exact.is_empty() { advisories.iter().filter(same_package).collect() } else { exact };
            let security = matching.iter().any(|a| a.security);
            let lead = matching
                .iter()
                .filter(|a| a.security == security)
                .max_by_key(|a| (severity_rank(&a.severity), a.issued.unwrap_or(i64::MIN)));
            AvailableUpdate {
                name: candidate.name.clone(),
                version: candidate.version.clone(),
                architecture: candidate.architecture.clone(),
                classification: lead.map(|a| a.classification.clone()).unwrap_or_default(),
                severity: lead.map(|a| a.severity.clone()).unwrap_or_default(),
                release_time: lead.and_then(|a| a.issued),
                security,
            }
        })
        .collect()
}

/// The packages whose scriptlet failed, from dnf's (and yum's) install output:
/// `Error in PREIN scriptlet in rpm package NAME` (a failed `%pre` leaves
/// the package as it was; the call fails whatever else it installed).
pub fn parse_failed_packages(output: &str) -> Vec<String> {
    let mut names: Vec<String> = output
        .lines()
        .filter_map(|line| line.trim().strip_prefix("Error in ")?.split_once(" scriptlet in rpm package "))
        .map(|(_, name)| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .collect();
    names.dedup();
    names
}

/// `check-update`: 100 lists updates, 0 means none.
pub fn check_update_result(output: &Output) -> Result<Vec<Candidate>, String> {
    match output.code {
        Some(0) => Ok(Vec::new()),
        Some(100) => Ok(parse_check_update(&output.stdout)),
        code => Err(format!("check-update failed ({code:?}): {}", output.stderr.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_packages_come_with_epoch_and_install_time() {
        let output = "kernel\t(none)\t5.10.0\t60.18.0.50.hce2\tx86_64\t1700000000\tUnspecified\n\
                      openssl\t1\t1.1.1m\t15.hce2\tx86_64\t1700000100\tSystem Environment/Libraries\n\
                      gpg-pubkey\t(none)\tb25e7f66\t61f8bd08\t(none)\t1700000200\tPublic Keys\n";
        let installed = parse_installed(output);
        assert_eq!(installed.len(), 2);
        assert_eq!(installed[0].version, "5.10.0-60.18.0.50.hce2");
        assert_eq!(installed[0].classification, "");
        assert_eq!(installed[1].version, "1:1.1.1m-15.hce2");
        assert_eq!(installed[1].installed_time, Some(1_700_000_100_000));
        assert_eq!(installed[1].classification, "System Environment/Libraries");
    }

    #[test]
    fn check_update_lists_candidates_with_wrapped_names_and_no_obsoletes() {
        let output = "\n\
kernel.x86_64                          5.10.0-182.0.0.95.hce2             hce2-updates\n\
openssl.x86_64                         1:1.1.1m-28.hce2                   hce2-updates\n\
python3-a-very-long-package-name-indeed.noarch\n\
                                       3.9.9-28.hce2                      hce2-updates\n\
Security: kernel-5.10.0-60.18.0.50.hce2.x86_64 is an installed security update\n\
Obsoleting Packages\n\
grub2-tools.x86_64                     1:2.06-34.hce2                     hce2-updates\n\
    grub2-tools.x86_64                 1:2.06-33.hce2                     @anaconda\n";
        let candidates = parse_check_update(output);
        let names: Vec<(&str, &str)> = candidates.iter().map(|c| (c.name.as_str(), c.version.as_str())).collect();
        assert_eq!(
            names,
            [
                ("kernel", "5.10.0-182.0.0.95.hce2"),
                ("openssl", "1:1.1.1m-28.hce2"),
                ("python3-a-very-long-package-name-indeed", "3.9.9-28.hce2")
            ]
        );
        assert_eq!(candidates[2].architecture, "noarch");
        assert_eq!(candidates[0].repository, "hce2-updates");
    }

    #[test]
    fn the_packages_a_scriptlet_failed_on_are_read() {
        let output = "Upgraded:\n  coc-test-reboot-2.0-1.noarch\nFailed:\n  coc-test-broken-1.0-1.noarch\n\
                      Error in PREIN scriptlet in rpm package coc-test-broken\n\
                      Error in POSTTRANS scriptlet in rpm package kernel-core\nError: Transaction failed\n";
        assert_eq!(parse_failed_packages(output), ["coc-test-broken", "kernel-core"]);
    }

    #[test]
    fn check_update_exit_codes() {
        let out = |code, stdout: &str| Output { code: Some(code), stdout: stdout.into(), stderr: "boom".into() };
        assert_eq!(check_update_result(&out(0, "")).unwrap(), vec![]);
        assert_eq!(check_update_result(&out(100, "a.noarch 1-2 repo\n")).unwrap().len(), 1);
        assert!(check_update_result(&out(1, "")).unwrap_err().contains("boom"));
    }

    #[test]
    fn nevras_split_from_the_right() {
        assert_eq!(
            split_nevra("vim-enhanced-2:9.0-5.oe2203.x86_64"),
            Some(("vim-enhanced".into(), "2:9.0-5.oe2203".into(), "x86_64".into()))
        );
        assert_eq!(
            split_nevra("kernel-5.10.0-60.18.0.50.hce2.x86_64"),
            Some(("kernel".into(), "5.10.0-60.18.0.50.hce2".into(), "x86_64".into()))
        );
        assert_eq!(split_nevra("nonsense"), None);
    }

    #[test]
    fn updateinfo_of_dnf4_yum_and_dnf5() {
        let dnf4 = "\
HCE2-SA-2024-0101 Important/Sec. kernel-5.10.0-182.0.0.95.hce2.x86_64
HCE2-BA-2024-0102 bugfix         systemd-249-43.hce2.x86_64
HCE2-EA-2024-0103 enhancement    vim-enhanced-2:9.0-5.hce2.x86_64
";
        let advisories = parse_updateinfo(dnf4);
        assert_eq!(advisories.len(), 3);
        assert_eq!(
            advisories[0],
            Advisory {
                id: "HCE2-SA-2024-0101".into(),
                name: "kernel".into(),
                architecture: "x86_64".into(),
                version: "5.10.0-182.0.0.95.hce2".into(),
                classification: "Security".into(),
                severity: "Important".into(),
                security: true,
                issued: None,
            }
        );
        assert_eq!((advisories[1].classification.as_str(), advisories[1].security), ("Bugfix", false));
        assert_eq!(advisories[2].classification, "Enhancement");

        let dnf4_verbose = "\
Loaded plugins: builddep, changelog, config-manager, needs-restarting
DNF version: 4.14.0
repo: using cache for: hce2-updates
HCE2-SA-2024-0101 Important/Sec. kernel-5.10.0-182.0.0.95.hce2.x86_64 2024-03-05 01:02:03
HCE2-BA-2024-0102 bugfix         systemd-249-43.hce2.x86_64           2024-03-06 00:00:00
Excludes from versionlock plugin were not applied
";
        let advisories = parse_updateinfo(dnf4_verbose);
        assert_eq!(advisories.len(), 2);
        assert_eq!((advisories[0].severity.as_str(), advisories[0].issued), ("Important", Some(1_709_600_523_000)));
        assert_eq!((advisories[1].classification.as_str(), advisories[1].issued), ("Bugfix", Some(1_709_683_200_000)));

        let yum = "RHSA-2020:5002 Moderate/Sec.  curl-7.29.0-59.el7_9.1.x86_64\nupdateinfo list done\n";
        let advisories = parse_updateinfo(yum);
        assert_eq!(advisories.len(), 1);
        assert_eq!(
            (advisories[0].severity.as_str(), advisories[0].version.as_str()),
            ("Moderate", "7.29.0-59.el7_9.1")
        );

        let dnf5 = "Name               Type     Severity Package                      Issued\n\
                    FEDORA-2024-4e1a  security Moderate curl-8.6.0-7.fc40.x86_64     2024-03-05 01:02:03\n\
                    FEDORA-2024-55b2  bugfix   None     less-643-4.fc40.x86_64       2024-03-06 00:00:00\n";
        let advisories = parse_updateinfo(dnf5);
        assert_eq!(advisories.len(), 2);
        assert!(advisories[0].security);
        assert_eq!(advisories[0].issued, Some(1_709_600_523_000));
        assert_eq!(advisories[1].severity, "");
    }

    #[test]
    fn candidates_take_their_advisories() {
        let candidate = |name: &str, version: &str| Candidate {
            name: name.into(),
            architecture: "x86_64".into(),
            version: version.into(),
            repository: "updates".into(),
        };
        let advisories = parse_updateinfo(
            "SA-1 Low/Sec.       kernel-5.10.0-100.hce2.x86_64\n\
             SA-2 Critical/Sec.  kernel-5.10.0-120.hce2.x86_64\n\
             BA-3 bugfix         systemd-249-43.hce2.x86_64\n\
             SA-4 Important/Sec. openssl-1:1.1.1m-28.hce2.x86_64\n\
             SA-5 Low/Sec.       openssl-1:1.1.1m-20.hce2.x86_64\n",
        );
        let updates = available_updates(
            &[
                candidate("kernel", "5.10.0-130.hce2"),
                candidate("systemd", "249-43.hce2"),
                candidate("openssl", "1:1.1.1m-20.hce2"),
                candidate("bash", "5.1-9.hce2"),
            ],
            &advisories,
        );
        let summary: Vec<(&str, bool, &str, &str)> = updates
            .iter()
            .map(|u| (u.name.as_str(), u.security, u.classification.as_str(), u.severity.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                ("kernel", true, "Security", "Critical"),
                ("systemd", false, "Bugfix", ""),
                ("openssl", true, "Security", "Low"),
                ("bash", false, "", ""),
            ]
        );
    }
}
