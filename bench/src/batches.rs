//! Per-batch orchestration overhead: what the ticket machinery adds around a
//! script. Baselines in the same run: the script run directly by the agent's
//! runner, and a ticket of one host in one batch.

use std::time::{Duration, Instant};

use coc_shared::domain::script::ScriptType;
use coc_shared::repositories::jobs::Job;

use crate::agents::{run_ticket, Fleet};
use crate::load::{median, ms};
use crate::report::{ratio, Report};
use crate::server::{call, script_body, CocServer};

const HOSTS: usize = 200;
const BATCHES: usize = 20;
const RUNS: usize = 5;
const COMMAND: &str = "echo hi";

async fn direct_run() -> Duration {
    let job = Job {
        execute_uuid: "bench".into(),
        instance_id: 1,
        attempt: 1,
        script_type: ScriptType::Shell,
        content: COMMAND.into(),
        params: Vec::new(),
        execute_user: "root".into(),
        timeout_secs: 60,
        claimed_at: None,
        patch: None,
    };
    let (_keep, cancel) = tokio::sync::oneshot::channel();
    let started = Instant::now();
    coc_agent::runner::run(&job, cancel).await;
    started.elapsed()
}

pub async fn run(report: &mut Report) {
    report.heading("Per-batch orchestration overhead");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let server = CocServer::start(dir.path()).await;
    let api = server.api();
    let fleet = Fleet::start(&server, "batch", HOSTS).await;
    let script = call(&api, "POST", "/v1/job/scripts", None, Some(script_body("batches", COMMAND))).await;
    let script = script.as_str().expect("a script uuid").to_owned();

    let mut direct = Vec::new();
    for _ in 0..20 {
        direct.push(direct_run().await);
    }
    let one_host = &fleet.agent_sns[..1];
    run_ticket(&api, &script, one_host, 1).await; // warm-up
    let mut single = Vec::new();
    for _ in 0..RUNS {
        single.push(run_ticket(&api, &script, one_host, 1).await);
    }
    let mut full = Vec::new();
    for _ in 0..RUNS {
        full.push(run_ticket(&api, &script, &fleet.agent_sns, BATCHES).await);
    }
    let (direct, single, full) = (median(direct), median(single), median(full));
    let per_batch = full / BATCHES as u32;
    let cell = |d: Duration| format!("{:.1} ms", ms(d));
    report.paragraph(&format!(
        "`{COMMAND}` through tickets over {HOSTS} connected `coc-agent` loops, timed from the execute call to \
         the ticket read back FINISHED (polled every 5 ms); medians. Overhead = the time a ticket adds to the \
         script run itself."
    ));
    report.table(
        &["case", "median"],
        &[
            vec!["baseline: the script run directly by the agent's runner (20 runs)".into(), cell(direct)],
            vec![format!("a ticket of 1 host in 1 batch ({RUNS} runs)"), cell(single)],
            vec!["… overhead (1-host ticket − direct run)".into(), cell(single.saturating_sub(direct))],
            vec![format!("{HOSTS} hosts in {BATCHES} batches of {} ({RUNS} runs), total", HOSTS / BATCHES), cell(full)],
            vec!["… per batch".into(), cell(per_batch)],
            vec!["… overhead per batch (per batch − direct run)".into(), cell(per_batch.saturating_sub(direct))],
            vec!["ratio: per batch / 1-host ticket".into(), ratio(per_batch.as_secs_f64(), single.as_secs_f64())],
        ],
    );
    drop(fleet);
    server.stop();
}
