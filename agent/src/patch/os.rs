//! Which OS family a host is, from its `os-release`, and so which package
//! manager scans it.

use std::collections::HashMap;

use super::settings::PatchSettings;

/// The baseline families and their package managers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Debian,
    Ubuntu,
    HuaweiCloudEulerOS,
    EulerOS,
    CentOS,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    Dpkg,
    Rpm,
}

impl Family {
    /// The name baselines and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Family::Debian => "Debian",
            Family::Ubuntu => "Ubuntu",
            Family::HuaweiCloudEulerOS => "HuaweiCloudEulerOS",
            Family::EulerOS => "EulerOS",
            Family::CentOS => "CentOS",
        }
    }

    pub fn package_manager(self) -> PackageManager {
        match self {
            Family::Debian | Family::Ubuntu => PackageManager::Dpkg,
            Family::HuaweiCloudEulerOS | Family::EulerOS | Family::CentOS => PackageManager::Rpm,
        }
    }

    /// `ID` first (`hce` is Huawei Cloud EulerOS), then `ID_LIKE` for derivatives
    /// (Linux Mint is `ID_LIKE="ubuntu debian"`).
    fn from_ids(id: &str, id_like: &str) -> Option<Family> {
        let one = |id: &str| match id.to_ascii_lowercase().as_str() {
            "debian" => Some(Family::Debian),
            "ubuntu" => Some(Family::Ubuntu),
            "hce" => Some(Family::HuaweiCloudEulerOS),
            "euleros" => Some(Family::EulerOS),
            "centos" => Some(Family::CentOS),
            _ => None,
        };
        one(id).or_else(|| id_like.split_whitespace().find_map(one))
    }
}

impl PackageManager {
    pub fn name(self) -> &'static str {
        match self {
            PackageManager::Dpkg => "dpkg",
            PackageManager::Rpm => "rpm",
        }
    }
}

/// The host's OS as a scan reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostOs {
    pub family: Family,
    pub version: String,
}

/// Reads `<root>/etc/os-release` (else `<root>/usr/lib/os-release`, as os-release(5) says).
pub fn detect(settings: &PatchSettings) -> Result<HostOs, String> {
    let mut last_error = String::new();
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        let path = settings.in_root(path);
        match std::fs::read_to_string(&path) {
            Ok(text) => return parse(&text).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) => last_error = format!("cannot read {}: {e}", path.display()),
        }
    }
    Err(last_error)
}

/// The family and version of an os-release text.
pub fn parse(text: &str) -> Result<HostOs, String> {
    let fields: HashMap<&str, String> = text
        .lines()
        .filter_map(|line| line.trim().split_once('='))
        .map(|(key, value)| (key.trim(), unquote(value.trim())))
        .collect();
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let family = Family::from_ids(&field("ID"), &field("ID_LIKE")).ok_or_else(|| {
        format!(
            "unsupported OS {:?}: patching supports Debian, Ubuntu, HuaweiCloudEulerOS, EulerOS and CentOS",
            field("PRETTY_NAME")
        )
    })?;
    Ok(HostOs { family, version: field("VERSION_ID") })
}

fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_families_come_from_their_os_release() {
        let cases = [
            ("ID=debian\nVERSION_ID=\"12\"\n", Family::Debian, "12"),
            ("NAME=\"Ubuntu\"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\n", Family::Ubuntu, "22.04"),
            (
                "NAME=\"Huawei Cloud EulerOS\"\nVERSION=\"2.0 (x86_64)\"\nID=\"hce\"\nVERSION_ID=\"2.0\"\n",
                Family::HuaweiCloudEulerOS,
                "2.0",
            ),
            ("NAME=\"EulerOS\"\nVERSION=\"2.0 (SP10)\"\nID=\"euleros\"\nVERSION_ID=\"2.0\"\n", Family::EulerOS, "2.0"),
            ("NAME=\"CentOS Linux\"\nID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n", Family::CentOS, "7"),
            ("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=\"21.2\"\n", Family::Ubuntu, "21.2"),
        ];
        for (text, family, version) in cases {
            assert_eq!(parse(text).unwrap(), HostOs { family, version: version.into() }, "{text}");
        }
        assert_eq!(Family::CentOS.package_manager(), PackageManager::Rpm);
        assert_eq!(Family::Ubuntu.package_manager(), PackageManager::Dpkg);
    }

    #[test]
    fn an_unsupported_os_is_named() {
        let err = parse("PRETTY_NAME=\"Arch Linux\"\nID=arch\n").unwrap_err();
        assert!(err.contains("Arch Linux"), "{err}");
    }

    #[test]
    fn this_machine_is_a_supported_family() {
        // The test machine is Debian; any supported family will do elsewhere.
        let os = detect(&PatchSettings::default()).unwrap();
        assert!(!os.family.name().is_empty());
    }
}
