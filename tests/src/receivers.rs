//! The Python receivers of `tests/receivers/` as child processes: a real SMTP
//! server and the chat robots' endpoints, on loopback ports of their own.
//! Each prints `PORT <n>` and then one JSON line per thing it received.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace")
}

/// `COC_TEST_PYTHON`, else the project's venv (`.tools/venv`, which has aiosmtpd), else `python3`.
pub fn python() -> PathBuf {
    if let Some(python) = std::env::var_os("COC_TEST_PYTHON") {
        return python.into();
    }
    let venv = workspace_root().join(".tools/venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

/// A running receiver; killed when dropped.
pub struct Receiver {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<serde_json::Value>>>,
}

impl Receiver {
    /// Starts `tests/receivers/{script}` with `args` and waits for its port.
    pub fn start(script: &str, args: &[&str]) -> Receiver {
        let path = workspace_root().join("tests/receivers").join(script);
        let mut child = Command::new(python())
            .arg(&path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("the receiver's first line");
        let port = first
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("{script} did not say its port: {first:?}"));
        let lines: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(value);
                }
            }
        });
        Receiver { child, port, lines }
    }

    pub fn smtp() -> Receiver {
        Receiver::start("smtp_receiver.py", &[])
    }

    pub fn robots(dingtalk_secret: &str, lark_secret: &str) -> Receiver {
        Receiver::start("robot_receiver.py", &["--dingtalk-secret", dingtalk_secret, "--lark-secret", lark_secret])
    }

    /// The Pinpoint SMS and Voice v2 stand-in, taking calls signed with these credentials.
    pub fn sms_voice(access_key: &str, secret_key: &str, region: &str) -> Receiver {
        Receiver::start(
            "sms_voice_receiver.py",
            &["--access-key", access_key, "--secret-key", secret_key, "--region", region],
        )
    }

    /// `http://127.0.0.1:{port}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<serde_json::Value> {
        self.lines.lock().unwrap().clone()
    }

    /// What was received once `done` holds for it (or after `timeout`, as it is then).
    pub async fn wait_for(
        &self,
        timeout: Duration,
        done: impl Fn(&[serde_json::Value]) -> bool,
    ) -> Vec<serde_json::Value> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if done(&received) || start.elapsed() > timeout {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
