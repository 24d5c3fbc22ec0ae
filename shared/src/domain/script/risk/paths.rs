//! What a path argument is: the file system's root, a system directory, a disk
//! device, a history or credential file. Paths come resolved as far as the
//! script shows; a part the script does not determine (an unset variable, a
//! command substitution) is [`UNKNOWN`].

/// Stands for a part of a word the analysis cannot know.
pub const UNKNOWN: char = '\u{0}';

/// Directories whose recursive deletion, move or permission change ruins a host.
const SYSTEM_DIRS: &[&str] = &[
    "bin",
    "boot",
    "dev",
    "etc",
    "home",
    "lib",
    "lib32",
    "lib64",
    "libx32",
    "opt",
    "proc",
    "root",
    "run",
    "sbin",
    "srv",
    "sys",
    "usr",
    "var",
    "usr/bin",
    "usr/sbin",
    "usr/lib",
    "usr/lib64",
    "usr/local",
    "usr/share",
    "usr/include",
    "var/lib",
    "var/spool",
    "etc/ssh",
    "etc/systemd",
    "etc/default",
    "etc/pam.d",
    "etc/init.d",
    "etc/sudoers.d",
    "boot/efi",
    "boot/grub",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `/`, `/*`, `/.`, `//`, `/..` …
    Root,
    /// A system directory, everything in it (`/etc/*`), or the home directory (`~`, `$HOME`).
    System,
    /// Starts with an unknown part followed by `/` (`"$DIR/"*`): the root if that part is empty.
    UnsetPrefix,
    Other,
}

/// The components of an absolute path after `.`/`..`/empty ones and a final `*` glob are
/// resolved away; `None` for a relative path.
fn components(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('/')?;
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            _ => parts.push(part),
        }
    }
    // `/etc/*` and `/etc/.*` take the whole directory; `/*` the whole file system.
    while parts.last().is_some_and(|p| matches!(*p, "*" | ".*" | "**")) {
        parts.pop();
    }
    Some(parts)
}

pub fn classify(path: &str) -> Target {
    if let Some(after) = path.strip_prefix(UNKNOWN) {
        let after = after.trim_start_matches(UNKNOWN);
        return if after.starts_with('/') && components(after).is_some_and(|c| c.is_empty() || is_system(&c)) {
            Target::UnsetPrefix
        } else {
            Target::Other
        };
    }
    if path.contains(UNKNOWN) {
        return Target::Other;
    }
    if matches!(path.trim_end_matches('/'), "~" | "~/*" | "~/.*") || path == "~/" {
        return Target::System;
    }
    match components(path) {
        Some(parts) if parts.is_empty() => Target::Root,
        Some(parts) if is_system(&parts) => Target::System,
        _ => Target::Other,
    }
}

fn is_system(parts: &[&str]) -> bool {
    let joined = parts.join("/");
    SYSTEM_DIRS.contains(&joined.as_str())
}

/// A disk, partition or memory device: writing to it destroys data (not /dev/null, ttys …).
pub fn is_disk_device(path: &str) -> bool {
    const DISKS: &[&str] = &[
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "md", "dm-", "mapper/", "disk/", "nbd", "rbd", "zd", "loop", "mem",
        "kmem", "port", "root",
    ];
    let Some(parts) = components(path) else {
        return false;
    };
    let [dev, rest @ ..] = parts.as_slice() else {
        return false;
    };
    if *dev != "dev" || rest.is_empty() {
        return false;
    }
    let name = rest.join("/");
    DISKS.iter().any(|d| name.starts_with(d))
}

/// Shell histories and login or audit logs.
pub fn is_trace_file(path: &str) -> bool {
    const HISTORIES: &[&str] =
        &[".bash_history", ".zsh_history", ".sh_history", ".history", ".python_history", ".mysql_history", ".lesshst"];
    const LOGS: &[&str] = &[
        "var/log/wtmp",
        "var/log/btmp",
        "var/log/lastlog",
        "var/log/auth.log",
        "var/log/secure",
        "var/log/messages",
        "var/log/syslog",
        "var/log/audit/audit.log",
        "var/log/faillog",
        "var/run/utmp",
        "run/utmp",
    ];
    let name = path.rsplit('/').next().unwrap_or(path);
    if HISTORIES.contains(&name) {
        return true;
    }
    components(path).is_some_and(|parts| LOGS.contains(&parts.join("/").as_str()))
}

/// The files that hold the host's accounts, privileges and login keys.
pub fn is_credential_file(path: &str) -> bool {
    const FILES: &[&str] = &["etc/passwd", "etc/shadow", "etc/gshadow", "etc/group", "etc/sudoers"];
    if path.ends_with("/.ssh/authorized_keys") || path.ends_with("/.ssh/authorized_keys2") {
        return true;
    }
    components(path).is_some_and(|parts| FILES.contains(&parts.join("/").as_str()))
}

pub fn is_sysrq(path: &str) -> bool {
    components(path).is_some_and(|parts| parts == ["proc", "sysrq-trigger"])
}

/// A chmod mode that lets every user write: octal with the others' write bit, or `o+w`, `a+w`, `+w` …
pub fn is_world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_ascii_digit() && c < '8') {
        let others = mode.chars().last().and_then(|c| c.to_digit(8)).unwrap_or(0);
        return others & 2 != 0;
    }
    mode.split(',').any(|clause| {
        let Some(op) = clause.find(['+', '=']) else {
            return false;
        };
        let (who, perms) = clause.split_at(op);
        (who.contains('a') || who.contains('o')) && perms[1..].contains('w')
    })
}

/// The last component of a command path: `/usr/bin/rm` is `rm`.
pub fn basename(word: &str) -> &str {
    word.rsplit('/').next().unwrap_or(word)
}
