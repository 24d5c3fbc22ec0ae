//! A throw-away dpkg/apt root with small packages built on the spot (see
//! `agent/tests/fixtures/make-debroot.sh` for what it holds). Use it from a
//! test with `#[path = "support/debroot.rs"] mod debroot;`, then run an agent
//! with `COC_AGENT_PATCH_ROOT` set to [`DebRoot::root`].

use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages of the root: (name, installed version, version offered).
pub const PACKAGES: [(&str, &str, Option<&str>); 5] = [
    ("coc-test-broken", "1.0", Some("2.0")),
    ("coc-test-current", "1.0", None),
    ("coc-test-plain", "1.0", Some("2.0")),
    ("coc-test-reboot", "1.0", Some("2.0")),
    ("coc-test-secure", "1.0", Some("2.0")),
];

/// The package whose update comes from the `-security` suite.
pub const SECURITY_PACKAGE: &str = "coc-test-secure";
/// The package whose 2.0 postinst fails.
pub const BROKEN_PACKAGE: &str = "coc-test-broken";
/// The package whose 2.0 postinst asks for a reboot.
pub const REBOOT_PACKAGE: &str = "coc-test-reboot";

pub struct DebRoot {
    dir: tempfile::TempDir,
}

impl DebRoot {
    /// Builds a new root in a temporary directory (removed on drop).
    pub fn build() -> DebRoot {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/make-debroot.sh");
        let output = Command::new("bash").arg(&script).arg(dir.path()).output().expect("run make-debroot.sh");
        assert!(
            output.status.success(),
            "make-debroot.sh failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        DebRoot { dir }
    }

    /// The root to hand the agent.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The local repositories (`stable/`, `stable-security/`).
    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    /// `name\tversion\tstate` of each package of the root, from dpkg itself.
    pub fn dpkg_state(&self) -> Vec<(String, String, String)> {
        let output = Command::new("dpkg-query")
            .arg(format!("--root={}", self.root().display()))
            .args(["-W", "-f=${Package}\\t${Version}\\t${db:Status-Status}\\n"])
            .output()
            .expect("dpkg-query");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split('\t').map(str::to_owned);
                Some((fields.next()?, fields.next()?, fields.next()?))
            })
            .collect()
    }
}
