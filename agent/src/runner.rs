//! Runs one job on this host: the script fed to its interpreter on standard
//! input, its parameters handed over as environment variables (data, never
//! script text), as the requested user. Its output (stdout and stderr on one
//! pipe, in the order written) becomes the log. At the timeout or on cancel
//! the run's whole process tree is killed, including processes that left its
//! process group, and the log says what was killed.

use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coc_shared::repositories::jobs::Job;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;
use tokio::sync::oneshot;

use crate::output::{self, Capture};
use crate::tree::{self, RunTree};

pub use crate::output::MAX_LOG_BYTES;
use coc_shared::domain::script::ScriptType;

pub const EXIT_TIMED_OUT: i32 = 124;
pub const EXIT_CANNOT_RUN: i32 = 126;
pub const EXIT_CANCELED: i32 = 130;
/// How long the output is still read after the script exits, for processes it
/// left behind (`cmd &`, `nohup`, `setsid`) that still hold it open.
pub const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// Environment names a parameter may not take: the dynamic loader, the shell or
/// Python would act on them before the script's first line runs.
const RESERVED_NAMES: &[&str] =
    &["PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "HOME", "SHELL", "USER", "LOGNAME"];
const RESERVED_PREFIXES: &[&str] = &["LD_", "BASH_FUNC_", "PYTHON", "COC_"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub exit_code: i32,
    pub log: String,
}

/// How runs are contained.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Put each run in a cgroup v2 of its own when the agent may create one.
    pub cgroups: bool,
    pub output_grace: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { cgroups: true, output_grace: OUTPUT_GRACE }
    }
}

fn refused(message: String) -> Outcome {
    Outcome { exit_code: EXIT_CANNOT_RUN, log: message }
}

fn current_user() -> String {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 {
        "root".into()
    } else {
        std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default()
    }
}

/// Whether this host has a user of that name.
fn user_exists(name: &str) -> bool {
    let Ok(name) = CString::new(name) else { return false };
    // SAFETY: getpwnam_r writes only into the buffers we pass and their sizes.
    unsafe {
        let mut entry: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let mut buffer = vec![0 as libc::c_char; 16 * 1024];
        let status = libc::getpwnam_r(name.as_ptr(), &mut entry, buffer.as_mut_ptr(), buffer.len(), &mut found);
        status == 0 && !found.is_null()
    }
}

/// Environment names are case-sensitive: `user` is free, `USER` is not.
fn reserved(name: &str) -> bool {
    RESERVED_NAMES.contains(&name) || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// The command line: the interpreter reads the script from standard input, so
/// no file with secrets in it is left on disk. Each parameter is an environment
/// variable of its name (and `COC_PARAM_<name>`): a shell script's own `${name}`
/// expands it, a Python script reads `os.environ["name"]`.
fn command_for(job: &Job) -> Result<Command, String> {
    let interpreter: &[&str] = match job.script_type {
        ScriptType::Shell => &["bash", "-s"],
        ScriptType::Python => &["python3", "-"],
        ScriptType::Bat => return Err("BAT scripts need a Windows host; this agent runs on a Unix host".into()),
    };
    if let Some(param) = job.params.iter().find(|p| reserved(&p.name)) {
        return Err(format!(
            "parameter {} cannot be handed to the script: the name is reserved for the interpreter's environment",
            param.name
        ));
    }
    let me = current_user();
    let mut argv: Vec<String> = Vec::new();
    if job.execute_user != me {
        if !user_exists(&job.execute_user) {
            return Err(format!("cannot run as {}: there is no such user on this host", job.execute_user));
        }
        if me != "root" {
            return Err(format!("cannot run as {}: the agent runs as {me}, not root", job.execute_user));
        }
        argv.extend(["runuser".into(), "-u".into(), job.execute_user.clone(), "--".into()]);
    }
    argv.extend(interpreter.iter().map(|s| s.to_string()));
    let mut command = Command::new(&argv[0]);
    command.args(&argv[1..]);
    for param in &job.params {
        command.env(&param.name, &param.value);
        command.env(format!("COC_PARAM_{}", param.name), &param.value);
    }
    command.stdin(Stdio::piped()).process_group(0).kill_on_drop(true);
    Ok(command)
}

/// One pipe for both stdout and stderr, so the log keeps the order of writes
/// and a value written in one write never arrives interleaved with the other stream.
fn output_pipe(command: &mut Command) -> std::io::Result<tokio::net::unix::pipe::Receiver> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills the two descriptors on success; each is then owned exactly once.
    let (read, write) = unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    };
    command.stdout(Stdio::from(write.try_clone()?)).stderr(Stdio::from(write));
    tokio::net::unix::pipe::Receiver::from_owned_fd(read)
}

/// Reads `reader` to its end into `capture`; past the cap it reads and drops,
/// so the script never blocks on a full pipe.
async fn collect(mut reader: impl AsyncRead + Unpin, capture: Arc<Mutex<Capture>>) {
    let mut buffer = vec![0u8; 64 * 1024];
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        capture.lock().expect("capture lock").push(&buffer[..n]);
    }
}

pub async fn run(job: &Job, cancel: oneshot::Receiver<()>) -> Outcome {
    run_with(job, cancel, &Settings::default()).await
}

pub async fn run_with(job: &Job, cancel: oneshot::Receiver<()>, settings: &Settings) -> Outcome {
    let mut command = match command_for(job) {
        Ok(command) => command,
        Err(message) => return refused(message),
    };
    let reader = match output_pipe(&mut command) {
        Ok(reader) => reader,
        Err(err) => return refused(format!("cannot make the output pipe: {err}")),
    };
    let mut tree = RunTree::new(settings.cgroups);
    tree.contain(&mut command);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => return refused(format!("cannot start the interpreter: {err}")),
    };
    // The parent's copies of the write end are gone with `command`: EOF comes when the tree's are.
    drop(command);
    tree.started(child.id());
    let capture = Arc::new(Mutex::new(Capture::default()));
    let mut reading = tokio::spawn(collect(reader, capture.clone()));
    if let Some(mut stdin) = child.stdin.take() {
        // Fed alongside, not before the timeout starts: the interpreter reads its script as it
        // goes, and one stuck before its end must still be killed at the timeout. A script that
        // exits before reading all of itself closes the pipe; that is its business.
        let content = job.content.clone();
        tokio::spawn(async move { stdin.write_all(content.as_bytes()).await });
    }
    let timeout = Duration::from_secs(u64::from(job.timeout_secs));
    let mut notes = Vec::new();
    let ended = tokio::select! {
        status = child.wait() => Ok(status),
        _ = tokio::time::sleep(timeout) => Err((EXIT_TIMED_OUT, format!("killed after the {}s timeout", job.timeout_secs))),
        _ = cancel => Err((EXIT_CANCELED, "killed: the run was canceled".to_owned())),
    };
    let exit_code = match ended {
        Ok(Ok(status)) => status
            .code()
            .unwrap_or_else(|| 128 + std::os::unix::process::ExitStatusExt::signal(&status).unwrap_or(libc::SIGKILL)),
        Ok(Err(err)) => {
            notes.push(format!("lost the process: {err}"));
            EXIT_CANNOT_RUN
        }
        Err((code, why)) => {
            let killed = tree.kill().await;
            let _ = child.wait().await;
            notes.push(format!("{why}: {}", tree::describe(&killed)));
            code
        }
    };
    // Processes the script left running may hold the output open: read only a little longer.
    if tokio::time::timeout(settings.output_grace, &mut reading).await.is_err() {
        reading.abort();
        notes.push(format!(
            "stopped reading the output {}s after the script ended: processes it left running still hold it",
            settings.output_grace.as_secs()
        ));
    }
    let secrets: Vec<&str> = job.params.iter().filter(|p| p.sensitive).map(|p| p.value.as_str()).collect();
    let log = output::render(&capture.lock().expect("capture lock"), &secrets, &notes);
    Outcome { exit_code, log }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coc_shared::domain::job::order::ResolvedParam;
    use coc_shared::domain::script::MASK;

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
            patch: None,
        }
    }

    async fn run_now(job: &Job) -> Outcome {
        let (_keep, cancel) = oneshot::channel();
        run(job, cancel).await
    }

    fn with_param(mut job: Job, name: &str, value: &str) -> Job {
        job.params.push(ResolvedParam { name: name.into(), value: value.into(), sensitive: false });
        job
    }

    fn temp_path(what: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("coc-agent-{what}-{}", uuid::Uuid::new_v4()))
    }

    #[tokio::test]
    async fn shell_scripts_get_their_parameters_and_secrets_stay_masked() {
        let outcome =
            run_now(&job(ScriptType::Shell, "echo hello ${who}; echo key=${key} env=$COC_PARAM_who >&2; exit 3", 10))
                .await;
        assert_eq!(outcome.exit_code, 3);
        assert!(outcome.log.contains("hello world"), "{}", outcome.log);
        assert!(outcome.log.contains(&format!("key={MASK}")), "{}", outcome.log);
        assert!(outcome.log.contains("env=world"), "{}", outcome.log);
        assert!(!outcome.log.contains("hunter2"));
    }

    #[tokio::test]
    async fn parameter_values_arrive_as_data_never_as_shell_syntax() {
        // Every character here is allowed by the spec's rules for values.
        let values = [r#"a "b" c"#, "*", "{a,b}", "x=1 [y] {z}", r#"\" ; echo injected"#];
        let mut script = job(ScriptType::Shell, "", 10);
        for (i, value) in values.iter().enumerate() {
            script = with_param(script, &format!("p{i}"), value);
            script.content.push_str(&format!("printf '<%s>\\n' \"${{p{i}}}\"\n"));
        }
        let outcome = run_now(&script).await;
        assert_eq!(outcome.exit_code, 0, "{}", outcome.log);
        let expected: String = values.iter().map(|v| format!("<{v}>\n")).collect();
        assert_eq!(outcome.log, expected);
        let python = with_param(job(ScriptType::Python, "import os\nprint(os.environ['q'])", 10), "q", r#"1" + "2"#);
        assert_eq!(run_now(&python).await.log, "1\" + \"2\n");
    }

    #[tokio::test]
    async fn python_scripts_run() {
        let outcome =
            run_now(&job(ScriptType::Python, "import os, sys\nprint('py', os.environ['who'])\nsys.exit(0)", 10)).await;
        assert_eq!(outcome, Outcome { exit_code: 0, log: "py world\n".into() });
    }

    #[tokio::test]
    async fn parameters_named_like_loader_or_shell_variables_are_refused() {
        let outcome = run_now(&with_param(job(ScriptType::Shell, "echo hi", 10), "LD_PRELOAD", "/tmp/x.so")).await;
        assert_eq!(outcome.exit_code, EXIT_CANNOT_RUN);
        assert!(outcome.log.contains("parameter LD_PRELOAD"), "{}", outcome.log);
        let lower = run_now(&with_param(job(ScriptType::Shell, "echo \"$path $user\"", 10), "path", "p")).await;
        assert_eq!(lower.log, "p \n", "names differ from the reserved ones by case");
    }

    #[tokio::test]
    async fn an_unknown_execute_user_gets_a_clear_error() {
        let mut other = job(ScriptType::Shell, "id -un", 10);
        other.execute_user = "no_such_user_coc".into();
        let outcome = run_now(&other).await;
        assert_eq!(outcome.exit_code, EXIT_CANNOT_RUN);
        assert!(outcome.log.contains("no such user"), "{}", outcome.log);
    }

    #[tokio::test]
    async fn the_timeout_kills_the_whole_process_group() {
        let marker = temp_path("orphan");
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
    async fn a_long_script_stuck_before_its_end_is_killed_at_the_timeout() {
        // More script than a pipe holds, so feeding it waits on the interpreter.
        let script = format!("sleep 30\n{}", "# padding\n".repeat(50_000));
        let started = std::time::Instant::now();
        let outcome = run_now(&job(ScriptType::Shell, &script, 1)).await;
        assert_eq!(outcome.exit_code, EXIT_TIMED_OUT);
        assert!(started.elapsed() < Duration::from_secs(20), "killed at the timeout, not after the sleep");
    }

    /// Children that left the process group: a new session, job control, a double fork.
    async fn escaped_children_are_killed_at_the_timeout(settings: Settings) {
        // The children wait well past the 1 s timeout before they write their
        // markers, so that a loaded machine (the timer firing late, the script
        // slow to start them) cannot make a child that was killed look escaped.
        const CHILD_WAIT_SECS: u64 = 8;
        let markers: Vec<_> = (0..3).map(|i| temp_path(&format!("escaped-{i}"))).collect();
        let script = format!(
            "setsid bash -c 'sleep {wait}; touch {}' &\nset -m\nsleep {wait} && touch {} &\nset +m\n( (sleep {wait}; touch {}) & )\nsleep 30",
            markers[0].display(),
            markers[1].display(),
            markers[2].display(),
            wait = CHILD_WAIT_SECS
        );
        let started = std::time::Instant::now();
        let outcome = run_with(&job(ScriptType::Shell, &script, 1), oneshot::channel().1, &settings).await;
        assert_eq!(outcome.exit_code, EXIT_TIMED_OUT);
        assert!(outcome.log.contains("killed after the 1s timeout: "), "{}", outcome.log);
        assert!(outcome.log.contains(" sleep"), "the log lists what was killed: {}", outcome.log);
        let killed_after = started.elapsed();
        assert!(killed_after < Duration::from_secs(CHILD_WAIT_SECS - 1), "the kill came only after {killed_after:?}");
        tokio::time::sleep(Duration::from_secs(CHILD_WAIT_SECS + 1).saturating_sub(killed_after)).await;
        for marker in &markers {
            assert!(!marker.exists(), "{} was written by a child that outlived the kill", marker.display());
        }
    }

    #[tokio::test]
    async fn escaped_children_are_killed_without_a_cgroup() {
        escaped_children_are_killed_at_the_timeout(Settings { cgroups: false, ..Settings::default() }).await;
    }

    #[tokio::test]
    async fn escaped_children_are_killed_with_a_cgroup_where_there_is_one() {
        escaped_children_are_killed_at_the_timeout(Settings::default()).await;
    }

    #[tokio::test]
    async fn a_background_child_holding_the_output_does_not_hold_the_run() {
        let pids = temp_path("pids");
        let script =
            format!("setsid sleep 60 & echo $! > {0}\nsleep 61 & echo $! >> {0}\necho bye\nexit 4", pids.display());
        let started = std::time::Instant::now();
        let outcome = run_now(&job(ScriptType::Shell, &script, 120)).await;
        assert!(started.elapsed() < Duration::from_secs(20), "the run ended soon after the script");
        for pid in std::fs::read_to_string(&pids).unwrap().split_whitespace() {
            // SAFETY: the processes this test's script started.
            unsafe { libc::kill(pid.parse().unwrap(), libc::SIGKILL) };
        }
        assert_eq!(outcome.exit_code, 4);
        assert!(outcome.log.starts_with("bye\n"), "{}", outcome.log);
        assert!(outcome.log.contains("stopped reading the output"), "{}", outcome.log);
    }

    #[tokio::test]
    async fn output_over_the_limit_is_reported_truncated_with_the_scripts_exit_code() {
        let outcome = run_now(&job(ScriptType::Shell, "head -c 1100000 /dev/zero | tr '\\0' 'x'; echo", 30)).await;
        assert_eq!(outcome.exit_code, 0);
        assert!(outcome.log.len() <= MAX_LOG_BYTES);
        assert!(outcome.log.ends_with(output::TRUNCATED));
        let binary = run_now(&job(ScriptType::Shell, "head -c 950000 /dev/urandom; exit 0", 30)).await;
        assert_eq!(binary.exit_code, 0);
        assert!(binary.log.len() <= MAX_LOG_BYTES, "{} bytes", binary.log.len());
    }

    #[tokio::test]
    async fn a_secret_written_in_pieces_is_still_masked() {
        let outcome = run_now(&job(ScriptType::Shell, "printf 'key=hun'; sleep 0.3; printf 'ter2\\n' >&2", 10)).await;
        assert_eq!(outcome.log, format!("key={MASK}\n"));
    }

    #[tokio::test]
    async fn cancel_kills_and_bat_or_other_users_are_refused() {
        let (stop, cancel) = oneshot::channel();
        let running = tokio::spawn(async move { run(&job(ScriptType::Shell, "sleep 30", 60), cancel).await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.send(()).unwrap();
        let canceled = running.await.unwrap();
        assert_eq!(canceled.exit_code, EXIT_CANCELED);
        assert!(
            canceled.log.contains("killed: the run was canceled: ") && canceled.log.contains(" sleep"),
            "{}",
            canceled.log
        );
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
