//! Per-batch orchestration overhead: what the ticket machinery adds around a
//! script. Baselines in the same run: the script run directly by the agent's
//! runner, and a ticket of one host in one batch.

use std::time::{Duration, Instant};

use coc_shared::domain::script::ScriptType;
use coc_shared::repositories::jobs::Job;

use crate::agents::{run_ticket, Fleet, TicketTime, READ_BACK_EVERY};
use crate::load::{median, ms};
use crate::report::Report;
use crate::server::{call, script_body, CocServer};

const HOSTS: usize = 200;
const BATCHES: usize = 20;
const RUNS: usize = 5;
const COMMAND: &str = "echo hi";

fn direct_job() -> Job {
    Job {
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
    }
}

/// `runs` scripts run at once by the agent's runner, without any server: the
/// floor under a batch of that many hosts on this machine.
async fn direct_runs(runs: usize) -> Duration {
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..runs {
        running.spawn(async {
            let (_keep, cancel) = tokio::sync::oneshot::channel();
            coc_agent::runner::run(&direct_job(), cancel).await;
        });
    }
    while running.join_next().await.is_some() {}
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
    let per_batch_hosts = HOSTS / BATCHES;

    let (mut direct, mut direct_batch) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        direct.push(direct_runs(1).await);
        direct_batch.push(direct_runs(per_batch_hosts).await);
    }
    let one_host = &fleet.agent_sns[..1];
    run_ticket(&api, &script, one_host, 1).await; // warm-up
    let (mut single, mut full) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        single.push(run_ticket(&api, &script, one_host, 1).await);
    }
    for _ in 0..RUNS {
        full.push(run_ticket(&api, &script, &fleet.agent_sns, BATCHES).await);
    }
    let (direct, direct_batch) = (median(direct), median(direct_batch));
    let observed = |times: &[TicketTime]| median(times.iter().map(|t| t.observed).collect());
    let recorded = |times: &[TicketTime]| median(times.iter().map(|t| t.recorded).collect());
    let (single_seen, single_kept) = (observed(&single), recorded(&single));
    let (full_seen, full_kept) = (observed(&full), recorded(&full));
    let batch_kept = full_kept / BATCHES as u32;
    let cell = |d: Duration| format!("{:.1} ms", ms(d));
    let over = |total: Duration, floor: Duration| cell(total.saturating_sub(floor));
    report.paragraph(&format!(
        "`{COMMAND}` through tickets over {HOSTS} connected `coc-agent` loops; medians. *Seen* = from the execute \
         call to the ticket read back FINISHED (read back every {} ms, so it includes up to that much waiting and \
         the client's round trips). *Recorded* = the ticket's own `gmt_finished − gmt_created`: the orchestration \
         from the saved ticket to its end. Overhead = recorded time − the same scripts run directly by the agent's \
         runner on this machine (one, or a batch's {per_batch_hosts} at once).",
        READ_BACK_EVERY.as_millis()
    ));
    report.table(
        &["case", "median"],
        &[
            vec!["direct: the script run by the agent's runner (20 runs)".into(), cell(direct)],
            vec![format!("direct: {per_batch_hosts} runs at once (20 times)"), cell(direct_batch)],
            vec![format!("a ticket of 1 host in 1 batch ({RUNS} runs), seen"), cell(single_seen)],
            vec!["… recorded".into(), cell(single_kept)],
            vec!["… overhead (recorded − one direct run)".into(), over(single_kept, direct)],
            vec![
                format!("{HOSTS} hosts in {BATCHES} batches of {per_batch_hosts} ({RUNS} runs), seen"),
                cell(full_seen),
            ],
            vec!["… recorded".into(), cell(full_kept)],
            vec!["… recorded per batch".into(), cell(batch_kept)],
            vec![
                format!("… overhead per batch (recorded per batch − {per_batch_hosts} direct runs at once)"),
                over(batch_kept, direct_batch),
            ],
        ],
    );
    drop(fleet);
    server.stop();
}
