//! `PatchSettings::from_env`, in a test binary of its own: it sets the
//! process's environment, which no other test may read meanwhile.

use std::path::PathBuf;

use coc_agent::patch::PatchSettings;

#[test]
fn the_patch_settings_come_from_the_environment() {
    for name in [
        "COC_AGENT_PATCH_ROOT",
        "COC_AGENT_APT_OPTIONS",
        "COC_AGENT_DNF_OPTIONS",
        "COC_AGENT_PATCH_REFRESH",
        "COC_AGENT_INSTALL_GRACE_SECS",
    ] {
        std::env::remove_var(name);
    }
    let host = PatchSettings::from_env();
    assert_eq!((host.root, host.apt_options.len(), host.dnf_options.len(), host.refresh), (None, 0, 0, false));
    assert_eq!(host.install_stop_grace, coc_agent::patch::settings::INSTALL_STOP_GRACE);

    std::env::set_var("COC_AGENT_PATCH_ROOT", "/tmp/debroot/root");
    std::env::set_var("COC_AGENT_APT_OPTIONS", "-o Acquire::Retries=3 Debug::NoLocking=1");
    std::env::set_var("COC_AGENT_DNF_OPTIONS", "--releasever=2.0 --setopt=reposdir=/srv/repos");
    std::env::set_var("COC_AGENT_PATCH_REFRESH", "1");
    std::env::set_var("COC_AGENT_INSTALL_GRACE_SECS", "20");
    let throwaway = PatchSettings::from_env();
    assert_eq!(throwaway.root, Some(PathBuf::from("/tmp/debroot/root")));
    assert_eq!(throwaway.apt_options, ["Acquire::Retries=3", "Debug::NoLocking=1"]);
    assert_eq!(throwaway.dnf_options, ["--releasever=2.0", "--setopt=reposdir=/srv/repos"]);
    assert!(throwaway.refresh);
    assert_eq!(throwaway.install_stop_grace, std::time::Duration::from_secs(20));
}
