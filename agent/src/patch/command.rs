//! One call of a package tool: a fixed program and arguments (never a shell),
//! the C locale so its output parses the same on every host, a timeout, and
//! its output captured for the parsers and the log.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

/// What a tool printed and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// A tool call to make: the program, its arguments and extra environment.
#[derive(Debug, Clone)]
pub struct Call {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub timeout: Duration,
}

impl Call {
    pub fn new(program: &str, timeout: Duration) -> Call {
        Call { program: program.to_owned(), args: Vec::new(), env: Vec::new(), timeout }
    }

    pub fn arg(mut self, arg: impl Into<String>) -> Call {
        self.args.push(arg.into());
        self
    }

    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Call {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, name: &str, value: impl Into<String>) -> Call {
        self.env.push((name.to_owned(), value.into()));
        self
    }

    /// The command line as the log shows it.
    pub fn display(&self) -> String {
        std::iter::once(self.program.as_str()).chain(self.args.iter().map(String::as_str)).collect::<Vec<_>>().join(" ")
    }

    /// Runs it to its end or its timeout (then it is killed). `Err` when it
    /// could not start or timed out.
    pub async fn output(&self) -> Result<Output, String> {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env("LC_ALL", "C")
            .env_remove("LANGUAGE")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|e| format!("cannot run {}: {e}", self.program))?;
        match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
            Err(_) => {
                Err(format!("{} did not finish within {} s and was killed", self.display(), self.timeout.as_secs()))
            }
            Ok(Err(e)) => Err(format!("{}: {e}", self.display())),
            Ok(Ok(out)) => Ok(Output {
                code: out.status.code(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }),
        }
    }
}

/// Whether `program` is on the PATH (to choose between dnf and yum).
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

/// A tool's output as the job log may show it: the last `max_lines` lines,
/// with any password in a URL (`scheme://user:password@host`) removed, since
/// repository URLs may carry credentials.
pub fn for_log(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skipped = lines.len().saturating_sub(max_lines);
    let mut out = String::new();
    if skipped > 0 {
        out.push_str(&format!("[{skipped} earlier lines left out]\n"));
    }
    for line in &lines[skipped..] {
        out.push_str(&redact_url_passwords(line));
        out.push('\n');
    }
    out
}

fn redact_url_passwords(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(|c: char| c == '/' || c.is_whitespace()).unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let user = authority[..at].split(':').next().unwrap_or("");
                out.push_str(user);
                out.push_str(":***@");
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_are_removed_from_the_log() {
        let line = "Get:1 https://bob:s3cret@mirror.example/debian bookworm InRelease";
        assert_eq!(redact_url_passwords(line), "Get:1 https://bob:***@mirror.example/debian bookworm InRelease");
        assert_eq!(redact_url_passwords("Get:2 file:/tmp/repo ./ a 2.0"), "Get:2 file:/tmp/repo ./ a 2.0");
        assert_eq!(redact_url_passwords("http://host/x and ftp://u:p@h/y"), "http://host/x and ftp://u:***@h/y");
    }

    #[test]
    fn the_log_keeps_the_last_lines() {
        let text = (1..=5).map(|i| format!("line {i}")).collect::<Vec<_>>().join("\n");
        assert_eq!(for_log(&text, 2), "[3 earlier lines left out]\nline 4\nline 5\n");
    }

    #[tokio::test]
    async fn a_call_is_killed_at_its_timeout() {
        let err = Call::new("sleep", Duration::from_millis(200)).arg("5").output().await.unwrap_err();
        assert!(err.contains("did not finish"), "{err}");
    }

    #[tokio::test]
    async fn a_call_runs_in_the_c_locale() {
        let out = Call::new("sh", Duration::from_secs(5)).args(["-c", "echo $LC_ALL"]).output().await.unwrap();
        assert!(out.success());
        assert_eq!(out.stdout.trim(), "C");
    }
}
