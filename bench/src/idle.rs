//! Idle CPU of the server with agents connected and nothing to do: the
//! server's own user + system time (`/proc/<pid>/stat`) over a quiet window,
//! on a fresh store and on one with history (10,000 scripts, 10,000 finished
//! tickets). The agents run in the bench process, so they cost the server only
//! what their long-polls and heartbeats make it do.

use std::path::Path;
use std::time::Duration;

use crate::agents::Fleet;
use crate::procs::cpu_time;
use crate::report::Report;
use crate::server::CocServer;

pub const AGENT_COUNTS: [usize; 2] = [10, 200];
/// After the agents registered: time for their first polls and heartbeats to settle.
const SETTLE: Duration = Duration::from_secs(5);
/// One whole cycle of what idle agents make the server do: each agent's 20 s
/// long-poll ends and is sent again once, and of its two heartbeats one is
/// recorded (a beat is written when the stored one is 15 s old), as in the
/// steady state.
const WINDOW: Duration = Duration::from_secs(20);

/// Percent of one core the server used while `agents` agents were connected and idle.
async fn idle_cpu(data_dir: &Path, agents: usize) -> f64 {
    let mut server = CocServer::start(data_dir).await;
    let fleet = Fleet::start(&server, &format!("idle{agents}-{}", coc_shared::clock::now_ms()), agents).await;
    tokio::time::sleep(SETTLE).await;
    let before = cpu_time(server.pid());
    tokio::time::sleep(WINDOW).await;
    let used = cpu_time(server.pid()).saturating_sub(before);
    server.assert_running();
    drop(fleet);
    server.stop();
    used.as_secs_f64() / WINDOW.as_secs_f64() * 100.0
}

/// `history`: a data directory with 10,000 scripts and tickets (made here when none is given).
pub async fn run(report: &mut Report, history: Option<&Path>) {
    report.heading("Idle server CPU with agents connected");
    let seeded;
    let history = match history {
        Some(dir) => dir.to_owned(),
        None => {
            seeded = tempfile::tempdir().expect("a temporary directory");
            crate::lists::seed_store(seeded.path(), 10_000).await;
            seeded.path().to_owned()
        }
    };
    let mut rows = Vec::new();
    for agents in AGENT_COUNTS {
        let fresh = tempfile::tempdir().expect("a temporary directory");
        let on_fresh = idle_cpu(fresh.path(), agents).await;
        let on_history = idle_cpu(&history, agents).await;
        rows.push(vec![
            agents.to_string(),
            format!("{on_fresh:.1} %"),
            format!("{on_history:.1} %"),
            crate::report::ratio(on_history, on_fresh),
        ]);
    }
    report.paragraph(&format!(
        "The server's CPU time (user + system, all threads) over {} s while N agents are connected and \
         long-polling with nothing to run, as a percentage of one core; measured {} s after the last agent \
         registered. Ratio = after history / fresh. Clock-tick resolution: 0.1 %.",
        WINDOW.as_secs(),
        SETTLE.as_secs()
    ));
    report.table(&["agents", "fresh store", "after 10,000 tickets + 10,000 scripts", "ratio"], &rows);
}
