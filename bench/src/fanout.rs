//! Script fan-out to N local hosts against Ansible ad-hoc: the same shell
//! command (`echo hi`) on N hosts, timed end to end. COC: one ticket of N hosts
//! in one batch over N `coc-agent` loops, from the execute call to FINISHED.
//! Ansible: `ansible all -m shell -a 'echo hi' -f N` over an inventory of N
//! aliases of this machine with the local connection, from start to exit.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::agents::{run_ticket, Fleet};
use crate::load::{median, ms};
use crate::report::{ratio, Report};
use crate::server::{call, script_body, CocServer};

const HOST_COUNTS: [usize; 2] = [10, 50];
const ROUNDS: usize = 3;
const COMMAND: &str = "echo hi";
/// The API takes at most 10 hosts per batch (spec limit): more hosts are more batches.
const HOSTS_PER_BATCH: usize = 10;

/// The venv `scripts/install-bench-tools.sh` puts ansible-core in.
pub fn ansible_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("COC_BENCH_ANSIBLE") {
        return PathBuf::from(path);
    }
    let venv = crate::report::workspace_dir().join(".tools/bench-venv/bin/ansible");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("ansible")
    }
}

pub fn ansible_version() -> String {
    crate::report::version_of(&ansible_bin().to_string_lossy(), &["--version"])
}

/// Runs the ad-hoc command over `hosts` aliases of localhost once; returns its wall time.
fn ansible_once(dir: &Path, hosts: usize) -> Duration {
    let bin = ansible_bin();
    let python = bin.with_file_name("python3");
    let python = if python.exists() { python } else { PathBuf::from("/usr/bin/python3") };
    let inventory = dir.join(format!("inventory-{hosts}"));
    let lines: String = (0..hosts)
        .map(|n| format!("host{n} ansible_connection=local ansible_python_interpreter={}\n", python.display()))
        .collect();
    std::fs::write(&inventory, lines).expect("an inventory");
    let started = Instant::now();
    let output = Command::new(&bin)
        .args(["all", "-i"])
        .arg(&inventory)
        .args(["-m", "shell", "-a", COMMAND, "-f", &hosts.to_string()])
        // Ansible's own state stays in the bench's temporary directory.
        .env("ANSIBLE_HOME", dir.join("ansible-home"))
        .env("ANSIBLE_LOCAL_TEMP", dir.join("ansible-tmp"))
        .env("ANSIBLE_HOST_KEY_CHECKING", "False")
        .env("ANSIBLE_NOCOLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (make bench installs it)", bin.display()));
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let changed = stdout.matches("CHANGED").count();
    assert!(
        output.status.success() && changed == hosts,
        "ansible ran on {changed} of {hosts} hosts ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

pub async fn run(report: &mut Report) {
    report.heading("Script fan-out vs Ansible ad-hoc");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = CocServer::start(&dir.path().join("coc")).await;
    let api = server.api();
    let max_hosts = HOST_COUNTS.iter().copied().max().unwrap_or(1);
    let fleet = Fleet::start(&server, "fan", max_hosts).await;
    let script = call(&api, "POST", "/v1/job/scripts", None, Some(script_body("fanout", COMMAND))).await;
    let script = script.as_str().expect("a script uuid").to_owned();

    let mut rows = Vec::new();
    for hosts in HOST_COUNTS {
        let targets = &fleet.agent_sns[..hosts];
        let batches = hosts.div_ceil(HOSTS_PER_BATCH);
        // One warm-up each (page cache, first connections), not counted.
        run_ticket(&api, &script, targets, batches).await;
        ansible_once(dir.path(), hosts);
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(run_ticket(&api, &script, targets, batches).await.observed);
            let dir = dir.path().to_owned();
            theirs.push(tokio::task::spawn_blocking(move || ansible_once(&dir, hosts)).await.expect("ansible ran"));
        }
        let (ours, theirs) = (median(ours), median(theirs));
        rows.push(vec![
            format!("{hosts} ({batches} batch{})", if batches == 1 { "" } else { "es" }),
            format!("{:.1}", ms(ours)),
            format!("{:.1}", ms(theirs)),
            ratio(theirs.as_secs_f64(), ours.as_secs_f64()),
        ]);
    }
    report.paragraph(&format!(
        "`{COMMAND}` on N local hosts, median of {ROUNDS} rounds after one warm-up. COC: one ticket of N \
         hosts in batches of {HOSTS_PER_BATCH} (the API's limit per batch; batches run one after the other), over N `coc-agent` loops already connected (long-polling), timed from the \
         execute call to the ticket read back FINISHED. Ansible: `ansible all -i INVENTORY -m shell -a \
         '{COMMAND}' -f N` with N inventory aliases of localhost (`ansible_connection=local`), timed from \
         process start to exit (Ansible has no resident agent: its start is part of every run). \
         Ratio = Ansible time / COC time (above 1: COC is faster)."
    ));
    report.table(&["hosts", "COC ms", "Ansible ms", "ratio"], &rows);
    drop(fleet);
    server.stop();
}
