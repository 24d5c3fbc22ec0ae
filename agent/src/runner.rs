//! Runs one job on this host: the script with its parameters substituted, as
//! the requested user, in a process group of its own that is killed whole at
//! the timeout or on cancel, with its output capped at 1 MB.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coc_shared::domain::script::{ScriptType, MASK};
use coc_shared::repositories::jobs::Job;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::oneshot;

/// Scripts may log at most this much (spec 4.2.1); the rest is dropped.
pub const MAX_LOG_BYTES: usize = 1024 * 1024;
pub const EXIT_TIMED_OUT: i32 = 124;
pub const EXIT_CANNOT_RUN: i32 = 126;
pub const EXIT_CANCELED: i32 = 130;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub exit_code: i32,
    pub log: String,
}

fn refused(message: String) -> Outcome {
    Outcome { exit_code: EXIT_CANNOT_RUN, log: message }
}

/// `${name}` in the script becomes the parameter's value.
pub fn substitute(job: &Job) -> String {
    job.params.iter().fold(job.content.clone(), |text, p| text.replace(&format!("${{{}}}", p.name), &p.value))
}

fn mask_secrets(job: &Job, log: &str) -> String {
    job.params
        .iter()
        .filter(|p| p.sensitive && !p.value.is_empty())
        .fold(log.to_owned(), |text, p| text.replace(p.value.as_str(), MASK))
}

fn current_user() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        "root".into()
    } else {
        std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default()
    }
}

/// The command line: the interpreter reads the script from standard input, so
/// no file with secrets in it is left on disk.
fn command_for(job: &Job) -> Result<Command, String> {
    let interpreter: &[&str] = match job.script_type {
        ScriptType::Shell => &["bash", "-s"],
        ScriptType::Python => &["python3", "-"],
        ScriptType::Bat => return Err("BAT scripts need a Windows host; this agent runs on a Unix host".into()),
    };
    let me = current_user();
    let mut argv: Vec<String> = Vec::new();
    if job.execute_user != me {
        if me != "root" {
            return Err(format!("cannot run as {}: the agent runs as {me}, not root", job.execute_user));
        }
        argv.extend(["runuser".into(), "-u".into(), job.execute_user.clone(), "--".into()]);
    }
    argv.extend(interpreter.iter().map(|s| s.to_string()));
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    for param in &job.params {
        command.env(format!("COC_PARAM_{}", param.name), &param.value);
    }
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).kill_on_drop(true);
    Ok(command)
}

/// Appends what `reader` yields to `log` until it holds MAX_LOG_BYTES; reads
/// (and drops) the rest so the script never blocks on a full pipe.
async fn collect(mut reader: impl AsyncRead + Unpin, log: Arc<Mutex<(Vec<u8>, bool)>>) {
    let mut buffer = [0u8; 8192];
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        let mut guard = log.lock().expect("log lock");
        let (bytes, truncated) = &mut *guard;
        let room = MAX_LOG_BYTES.saturating_sub(bytes.len());
        bytes.extend_from_slice(&buffer[..n.min(room)]);
        *truncated |= n > room;
    }
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid {
        // SAFETY: signalling a process group we created; a stale id only yields ESRCH.
        unsafe {
            libc::kill(-(pid as i32), libc::SIGKILL);
        }
    }
}

pub async fn run(job: &Job, cancel: oneshot::Receiver<()>) -> Outcome {
    let mut command = match command_for(job) {
        Ok(command) => command,
        Err(message) => return refused(message),
    };
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return refused(format!("cannot start the interpreter: {err}")),
    };
    let pid = child.id();
    let log = Arc::new(Mutex::new((Vec::new(), false)));
    let out = tokio::spawn(collect(child.stdout.take().expect("piped"), log.clone()));
    let err = tokio::spawn(collect(child.stderr.take().expect("piped"), log.clone()));
    if let Some(mut stdin) = child.stdin.take() {
        let script = substitute(job);
        // A script that exits before reading all of itself closes the pipe; that is its business.
        let _ = stdin.write_all(script.as_bytes()).await;
    }
    let timeout = Duration::from_secs(u64::from(job.timeout_secs));
    let (exit_code, note) = tokio::select! {
        status = child.wait() => match status {
            Ok(status) => (status.code().unwrap_or(128 + libc::SIGKILL), None),
            Err(e) => (EXIT_CANNOT_RUN, Some(format!("lost the process: {e}"))),
        },
        _ = tokio::time::sleep(timeout) => {
            kill_group(pid);
            (EXIT_TIMED_OUT, Some(format!("killed after the {}s timeout", job.timeout_secs)))
        }
        _ = cancel => {
            kill_group(pid);
            (EXIT_CANCELED, Some("killed: the run was canceled".to_owned()))
        }
    };
    // The whole group is gone now, so the pipes close and the readers end.
    kill_group(pid);
    let _ = child.wait().await;
    let _ = tokio::join!(out, err);
    let (bytes, truncated) = log.lock().expect("log lock").clone();
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if truncated {
        text.push_str("\n[log truncated at 1 MB]");
    }
    if let Some(note) = note {
        text.push_str(&format!("\n[{note}]"));
    }
    Outcome { exit_code, log: mask_secrets(job, &text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coc_shared::domain::job::order::ResolvedParam;

    fn job(kind: ScriptType, content: &str, timeout_secs: u32) -> Job {
        Job {
            execute_uuid: "SCT".into(),
            instance_id: 1,
            attempt: 1,
            script_type: kind,
            content: content.into(),
            params: vec![
                ResolvedParam { name: "who".into(), value: "world".into(), sensitive: false },
                ResolvedParam { name: "key".into(), value: "hunter2".into(), sensitive: true },
            ],
            execute_user: current_user(),
            timeout_secs,
            claimed_at: None,
        }
    }

    async fn run_now(job: &Job) -> Outcome {
        let (_keep, cancel) = oneshot::channel();
        run(job, cancel).await
    }

    #[tokio::test]
    async fn shell_scripts_get_their_parameters_and_secrets_stay_masked() {
        let outcome =
            run_now(&job(ScriptType::Shell, "echo hello ${who}; echo key=${key} env=$COC_PARAM_who >&2; exit 3", 10))
                .await;
        assert_eq!(outcome.exit_code, 3);
        assert!(outcome.log.contains("hello world"), "{}", outcome.log);
        assert!(outcome.log.contains("key=******"), "{}", outcome.log);
        assert!(outcome.log.contains("env=world"), "{}", outcome.log);
        assert!(!outcome.log.contains("hunter2"));
    }

    #[tokio::test]
    async fn python_scripts_run() {
        let outcome = run_now(&job(ScriptType::Python, "import sys\nprint('py ${who}')\nsys.exit(0)", 10)).await;
        assert_eq!(outcome, Outcome { exit_code: 0, log: "py world\n".into() });
    }

    #[tokio::test]
    async fn the_timeout_kills_the_whole_process_group() {
        let marker = std::env::temp_dir().join(format!("coc-agent-orphan-{}", uuid::Uuid::new_v4()));
        let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
        let started = std::time::Instant::now();
        let outcome = run_now(&job(ScriptType::Shell, &script, 1)).await;
        assert_eq!(outcome.exit_code, EXIT_TIMED_OUT);
        assert!(outcome.log.contains("timeout"), "{}", outcome.log);
        assert!(started.elapsed() < Duration::from_secs(20), "the run ended at its timeout");
        tokio::time::sleep(Duration::from_secs(4)).await;
        assert!(!marker.exists(), "a child of the script outlived the kill");
    }

    #[tokio::test]
    async fn logs_are_capped_at_one_megabyte() {
        let outcome = run_now(&job(ScriptType::Shell, "head -c 3000000 /dev/zero | tr '\\0' 'x'; echo", 30)).await;
        assert_eq!(outcome.exit_code, 0);
        assert!(outcome.log.len() <= MAX_LOG_BYTES + 100);
        assert!(outcome.log.ends_with("[log truncated at 1 MB]"));
    }

    #[tokio::test]
    async fn cancel_kills_and_bat_or_other_users_are_refused() {
        let (stop, cancel) = oneshot::channel();
        let running = tokio::spawn(async move { run(&job(ScriptType::Shell, "sleep 30", 60), cancel).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.send(()).unwrap();
        assert_eq!(running.await.unwrap().exit_code, EXIT_CANCELED);
        assert_eq!(run_now(&job(ScriptType::Bat, "dir", 10)).await.exit_code, EXIT_CANNOT_RUN);
        let mut other = job(ScriptType::Shell, "id -un", 10);
        other.execute_user = "nobody".into();
        let outcome = run_now(&other).await;
        if current_user() == "root" {
            assert_eq!(outcome.log.trim(), "nobody", "root runs the script as the requested user");
        } else {
            assert_eq!(outcome.exit_code, EXIT_CANNOT_RUN);
        }
    }
}
