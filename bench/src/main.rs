//! `make bench`: COC against its peers, on this machine, in one run.
//!
//! - `alarms`: alarm intake vs Prometheus Alertmanager;
//! - `fanout`: script fan-out to N local hosts vs Ansible ad-hoc;
//! - `lists`: list/get at 100 / 1,000 / 10,000 items vs the 100-item figures;
//! - `idle`: idle server CPU with 10 and 200 agents, fresh and after history;
//! - `batches`: per-batch orchestration overhead;
//! - `lambda`: zipped sizes and cold starts of the built Lambda functions vs a
//!   minimal `lambda_http` function;
//! - `patch`: compliance evaluation of one host's 5,000 packages.
//!
//! `coc-bench [PART...]` runs the parts named (all by default) and writes the
//! results as Markdown to stdout and to `target/bench/results.md`. Every process
//! the bench starts is a child killed when its guard drops, also on a panic.

mod agents;
mod alarms;
mod batches;
mod fanout;
mod idle;
mod lambda;
mod lists;
mod load;
mod patch;
mod procs;
mod report;
mod server;

use report::Report;

const PARTS: [&str; 7] = ["alarms", "fanout", "lists", "idle", "batches", "lambda", "patch"];

fn header(report: &mut Report, parts: &[String]) {
    let git = report::version_of("git", &["describe", "--always", "--dirty"]);
    report.add("# Benchmark results\n\n");
    report.table(
        &["", ""],
        &[
            vec!["date (UTC)".into(), report::now_utc()],
            vec!["machine".into(), report::machine()],
            vec!["coc".into(), format!("coc-local {} (git {git}), {}", env!("CARGO_PKG_VERSION"), report::profile())],
            vec!["Alertmanager".into(), alarms::alertmanager_version()],
            vec!["Ansible".into(), fanout::ansible_version()],
            vec!["command".into(), format!("`make bench` (= `coc-bench {}`)", parts.join(" "))],
        ],
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut parts: Vec<String> = std::env::args().skip(1).collect();
    if parts.is_empty() || parts.iter().any(|p| p == "all") {
        parts = PARTS.iter().map(|p| p.to_string()).collect();
    }
    if let Some(unknown) = parts.iter().find(|p| !PARTS.contains(&p.as_str())) {
        eprintln!("unknown part {unknown}: choose from {}", PARTS.join(", "));
        std::process::exit(2);
    }
    let results = report::results_path();
    let mut report = Report::default();
    header(&mut report, &parts);
    // The 10,000-item store of `lists` is the history `idle` measures on, when both run.
    let mut history = None;
    for part in &parts {
        match part.as_str() {
            "alarms" => alarms::run(&mut report).await,
            "fanout" => fanout::run(&mut report).await,
            "lists" => history = Some(lists::run(&mut report).await),
            "idle" => idle::run(&mut report, history.as_ref().map(|d| d.path())).await,
            "batches" => batches::run(&mut report).await,
            "lambda" => lambda::run(&mut report).await,
            "patch" => patch::run(&mut report).await,
            _ => unreachable!("parts are checked above"),
        }
        report.save(&results);
    }
    eprintln!("results written to {}", results.display());
}
