//! The files of the library, embedded at build time: `shared/public-scripts/manifest.json`
//! and one `<name>.sh` per entry. A test holds the two lists together.

/// The manifest: one entry per script, in id order.
pub(super) const MANIFEST: &str = include_str!("../../../public-scripts/manifest.json");

macro_rules! scripts {
    ($($name:literal),* $(,)?) => {
        /// Each script's content by name.
        pub(super) const FILES: &[(&str, &str)] =
            &[$(($name, include_str!(concat!("../../../public-scripts/", $name, ".sh")))),*];
    };
}

scripts![
    "disk_usage_report",
    "clean_old_logs",
    "restart_systemd_service",
    "collect_diagnostics",
    "check_ntp_sync",
    "list_listening_ports",
    "rotate_log",
    "check_memory",
    "check_disk_space",
    "check_process",
    "system_info",
    "find_large_files",
    "check_port_open",
    "tail_log",
    "check_cert_expiry",
    "check_http_endpoint",
];
