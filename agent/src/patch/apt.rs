//! apt on a dpkg host: the updates its sources offer (one `apt-get -s
//! dist-upgrade` simulation, which changes nothing), and the install of given
//! versions. With a throw-away root, apt reads all of its configuration,
//! sources, lists and cache from the root and has dpkg work there.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::command::Call;
use super::settings::PatchSettings;

const SIMULATE_TIMEOUT: Duration = Duration::from_secs(600);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(1800);
const INSTALL_TIMEOUT: Duration = Duration::from_secs(2 * 3600);

/// An upgrade apt would make: the installed version and the candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub name: String,
    pub architecture: String,
    pub current: String,
    pub candidate: String,
    /// The archives the candidate comes from as apt shows them
    /// (`Label:Version/Suite`, e.g. `Debian-Security:12/stable-security`).
    pub origins: Vec<String>,
    /// Whether one of them is a security archive.
    pub security: bool,
}

/// One version to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub architecture: String,
    pub version: String,
}

/// How apt is called for these settings. With a root it writes a small apt
/// configuration file (handed over as `APT_CONFIG`, removed on drop): only a
/// file read before apt's configuration directory keeps the host's
/// `/etc/apt/apt.conf.d` (and its hooks, such as debconf's preconfigure) out.
pub struct AptEnv {
    config: Option<ConfigFile>,
    options: Vec<String>,
}

struct ConfigFile(PathBuf);

impl Drop for ConfigFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The apt configuration that confines apt and dpkg to `root`. Maintainer
/// scripts run chrooted into a root that has a shell (a system image: its
/// scripts then cannot reach the host); a root without one (the test roots)
/// gets `--force-script-chrootless`, and its scripts must honour `$DPKG_ROOT`.
pub fn root_config(root: &Path) -> Result<String, String> {
    let chrootless = !root.join("bin/sh").exists();
    let root = root
        .to_str()
        .filter(|r| !r.contains(['"', '\n', ';', '{', '}']))
        .ok_or_else(|| format!("the patch root {} cannot be written into an apt configuration", root.display()))?;
    let root = root.trim_end_matches('/');
    let scripts = if chrootless { " \"--force-script-chrootless\";" } else { "" };
    Ok(format!(
        "Dir \"{root}/\";\n\
         Dir::State::status \"{root}/var/lib/dpkg/status\";\n\
         Dir::Etc::Parts \"{root}/etc/apt/apt.conf.d\";\n\
         DPkg::Options {{ \"--root={root}\";{scripts} \"--log={root}/var/log/dpkg.log\"; }};\n"
    ))
}

impl AptEnv {
    pub fn new(settings: &PatchSettings) -> Result<AptEnv, String> {
        let config = match &settings.root {
            None => None,
            Some(root) => {
                let text = root_config(root)?;
                let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
                let path = std::env::temp_dir().join(format!(
                    "coc-agent-apt-{}-{}.conf",
                    std::process::id(),
                    nanos.as_nanos()
                ));
                std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                Some(ConfigFile(path))
            }
        };
        Ok(AptEnv { config, options: settings.apt_options.clone() })
    }

    fn apt_get(&self, timeout: Duration) -> Call {
        let mut call = Call::new("apt-get", timeout)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env("APT_LISTCHANGES_FRONTEND", "none")
            .env("NEEDRESTART_MODE", "a")
            .env("UCF_FORCE_CONFFOLD", "1");
        if let Some(config) = &self.config {
            call = call.env("APT_CONFIG", config.0.display().to_string());
        }
        for option in &self.options {
            call = call.arg("-o").arg(option.clone());
        }
        call
    }

    /// What a full upgrade would install, changing nothing.
    pub fn simulate_call(&self) -> Call {
        self.apt_get(SIMULATE_TIMEOUT).args(["-s", "-q", "dist-upgrade"])
    }

    /// Refreshes the package lists (only with the `refresh` setting).
    pub fn update_call(&self) -> Call {
        self.apt_get(UPDATE_TIMEOUT).args(["-q", "update"])
    }

    /// Installs exactly these versions of installed packages: nothing new, no
    /// prompt, changed configuration files kept as the admin left them.
    pub fn install_call(&self, targets: &[Target]) -> Call {
        let qualify = |t: &Target| targets.iter().filter(|o| o.name == t.name).count() > 1;
        self.apt_get(INSTALL_TIMEOUT)
            .args(["-q", "-y", "--only-upgrade"])
            .args(["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"])
            // Waits for unattended-upgrades or an admin's apt to finish rather than failing at once.
            .args(["-o", "DPkg::Lock::Timeout=300"])
            .arg("install")
            .args(targets.iter().map(|t| match qualify(t) {
                true => format!("{}:{}={}", t.name, t.architecture, t.version),
                false => format!("{}={}", t.name, t.version),
            }))
    }
}

/// The upgrades of an `apt-get -s` output: its `Inst` lines that replace an
/// installed version, `Inst name [current] (candidate origins [arch])`.
pub fn parse_simulation(output: &str) -> Vec<Upgrade> {
    output.lines().filter_map(parse_inst_line).collect()
}

fn parse_inst_line(line: &str) -> Option<Upgrade> {
    let rest = line.strip_prefix("Inst ")?;
    let (full_name, rest) = rest.split_once(' ')?;
    // A package not installed yet (a new dependency) has no `[current]`.
    let rest = rest.strip_prefix('[')?;
    let (current, rest) = rest.split_once("] (")?;
    let (candidate_part, _) = rest.split_once("])")?;
    let (candidate, origins_and_arch) = candidate_part.split_once(' ')?;
    let (origins, architecture) = origins_and_arch.rsplit_once(" [")?;
    let name = full_name.split(':').next().unwrap_or(full_name);
    let origins: Vec<String> = origins.split(", ").map(str::to_owned).collect();
    let security = origins.iter().any(|o| o.to_ascii_lowercase().contains("security"));
    Some(Upgrade {
        name: name.to_owned(),
        architecture: architecture.to_owned(),
        current: current.to_owned(),
        candidate: candidate.to_owned(),
        origins,
        security,
    })
}

/// The packages dpkg named after "Errors were encountered while processing:".
pub fn parse_failed_packages(output: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_list = false;
    for line in output.lines() {
        if line.starts_with("Errors were encountered while processing:") {
            in_list = true;
        } else if in_list && line.starts_with([' ', '\t']) {
            let name = line.trim();
            names.push(name.split(':').next().unwrap_or(name).to_owned());
        } else {
            in_list = false;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrades_and_their_archives_are_read_from_a_simulation() {
        let output = "\
Reading package lists...
Building dependency tree...
The following packages will be upgraded:
  base-files libc6 libperl5.36 openssl
4 upgraded, 1 newly installed, 0 to remove and 0 not upgraded.
Inst base-files [12.4+deb12u11] (12.4+deb12u14 Debian:12.14/oldstable [amd64])
Inst libperl5.36 [5.36.0-7+deb12u2] (5.36.0-7+deb12u3 Debian:12.14/oldstable [amd64]) [perl:amd64 ]
Inst libc6:i386 [2.36-9+deb12u9] (2.36-9+deb12u10 Debian:12.14/oldstable, Debian-Security:12/oldstable-security [i386])
Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 Ubuntu:22.04/jammy-security [amd64])
Inst linux-image-6.1.0-40-amd64 (6.1.153-1 Debian-Security:12/oldstable-security [amd64])
Inst coc-test-plain [1.0] (2.0 COC Tests:stable [all])
Conf base-files (12.4+deb12u14 Debian:12.14/oldstable [amd64])
";
        let upgrades = parse_simulation(output);
        let names: Vec<&str> = upgrades.iter().map(|u| u.name.as_str()).collect();
        assert_eq!(names, ["base-files", "libperl5.36", "libc6", "openssl", "coc-test-plain"]);
        assert_eq!(
            upgrades[2],
            Upgrade {
                name: "libc6".into(),
                architecture: "i386".into(),
                current: "2.36-9+deb12u9".into(),
                candidate: "2.36-9+deb12u10".into(),
                origins: vec!["Debian:12.14/oldstable".into(), "Debian-Security:12/oldstable-security".into()],
                security: true,
            }
        );
        let security: Vec<bool> = upgrades.iter().map(|u| u.security).collect();
        assert_eq!(security, [false, false, true, true, false]);
        assert_eq!(upgrades[4].origins, ["COC Tests:stable"]);
    }

    #[test]
    fn the_packages_dpkg_failed_on_are_read() {
        let output = "Setting up coc-test-broken (2.0) ...\n\
                      dpkg: error processing package coc-test-broken (--configure):\n \
                      installed coc-test-broken package post-installation script subprocess returned error exit status 1\n\
                      Errors were encountered while processing:\n coc-test-broken\n libfoo:amd64\n\
                      E: Sub-process /usr/bin/dpkg returned an error code (1)\n";
        assert_eq!(parse_failed_packages(output), ["coc-test-broken", "libfoo"]);
    }

    #[test]
    fn install_targets_are_exact_versions_qualified_only_when_needed() {
        let env = AptEnv::new(&PatchSettings::default()).unwrap();
        let target =
            |name: &str, arch: &str| Target { name: name.into(), architecture: arch.into(), version: "2".into() };
        let call = env.install_call(&[target("a", "all"), target("libc6", "amd64"), target("libc6", "i386")]);
        let tail: Vec<&str> = call.args.iter().rev().take(3).rev().map(String::as_str).collect();
        assert_eq!(tail, ["a=2", "libc6:amd64=2", "libc6:i386=2"]);
        assert!(call.args.iter().any(|a| a == "--only-upgrade"));
        assert!(call.env.iter().any(|(k, v)| k == "DEBIAN_FRONTEND" && v == "noninteractive"));
        assert!(!call.env.iter().any(|(k, _)| k == "APT_CONFIG"), "the host's own apt configuration");
    }

    #[test]
    fn a_root_confines_apt_and_dpkg_and_its_config_file_goes_away() {
        let settings = PatchSettings { root: Some("/tmp/some root/".into()), ..PatchSettings::default() };
        let config = root_config(settings.root.as_deref().unwrap()).unwrap();
        assert!(config.contains("Dir \"/tmp/some root/\";"), "{config}");
        assert!(config.contains("\"--root=/tmp/some root\"; \"--force-script-chrootless\";"), "{config}");
        let env = AptEnv::new(&settings).unwrap();
        let call = env.simulate_call();
        let (_, path) = call.env.iter().find(|(k, _)| k == "APT_CONFIG").unwrap().clone();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), config);
        drop(env);
        assert!(!Path::new(&path).exists());
        assert!(root_config(Path::new("/tmp/x\";evil")).is_err());

        let image = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(image.path().join("bin")).unwrap();
        std::fs::write(image.path().join("bin/sh"), "").unwrap();
        let config = root_config(image.path()).unwrap();
        assert!(!config.contains("chrootless"), "a root with a shell runs its scripts chrooted: {config}");
    }
}
