//! Alarm intake against Prometheus Alertmanager: the same alerts from the same
//! load generator, in the same run, to COC's `POST /v1/event/huawei/custom/{key}`
//! and to Alertmanager's `POST /api/v2/alerts`. Rounds of the two alternate, so
//! that noise on the shared machine falls on both.

use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::load::{ms, round, Budget, Round, Summary};
use crate::procs::{free_port, wait_ready, ChildGuard};
use crate::report::{ratio, Report};
use crate::server::{call, CocServer};

const ROUNDS: usize = 3;

/// What the alarms of a case are.
#[derive(Clone, Copy, PartialEq)]
enum Alarms {
    /// A new alarm each request, below the integration's incident rule.
    New,
    /// A new alarm each request, each opening an incident.
    NewIncident,
    /// The same alarm again and again.
    Duplicate,
}

struct Case {
    name: &'static str,
    clients: usize,
    requests: usize,
    alarms: Alarms,
}

const CASES: [Case; 5] = [
    Case { name: "1 client, new alarms", clients: 1, requests: 1000, alarms: Alarms::New },
    Case { name: "1 client, duplicates of one alarm", clients: 1, requests: 1000, alarms: Alarms::Duplicate },
    Case { name: "64 clients, new alarms", clients: 64, requests: 6000, alarms: Alarms::New },
    Case {
        name: "64 clients, new alarms opening an incident each",
        clients: 64,
        requests: 6000,
        alarms: Alarms::NewIncident,
    },
    Case { name: "64 clients, duplicates of one alarm", clients: 64, requests: 6000, alarms: Alarms::Duplicate },
];

/// The alarm's id within a round: a new one per request, or one for the round.
fn alarm_id(alarms: Alarms, round: usize, n: usize) -> String {
    match alarms {
        Alarms::New | Alarms::NewIncident => format!("r{round}-n{n}"),
        Alarms::Duplicate => format!("r{round}-dup"),
    }
}

fn coc_alarm(alarms: Alarms, round: usize, n: usize) -> Value {
    let level = if alarms == Alarms::NewIncident { "Critical" } else { "Minor" };
    json!({"alarmId": alarm_id(alarms, round, n), "alarmName": "bench", "alarmLevel": level, "time": 1,
           "nameSpace": "ns", "applicationId": "app", "alarmDesc": "d", "alarmSource": "bench"})
}

fn alertmanager_alert(alarms: Alarms, round: usize, n: usize, starts_at: &str) -> Value {
    let severity = if alarms == Alarms::NewIncident { "critical" } else { "minor" };
    json!([{"labels": {"alertname": "bench", "alarm_id": alarm_id(alarms, round, n), "severity": severity,
                       "namespace": "ns", "application": "app", "source": "bench"},
            "annotations": {"description": "d"},
            "startsAt": starts_at}])
}

/// Prometheus Alertmanager on a free loopback port, a temporary storage
/// directory and a route to a receiver with no integrations (nothing leaves
/// the machine); clustering off.
struct Alertmanager {
    guard: ChildGuard,
    base: String,
    _dir: tempfile::TempDir,
}

fn alertmanager_bin() -> &'static str {
    if std::path::Path::new("/usr/bin/prometheus-alertmanager").exists() {
        "/usr/bin/prometheus-alertmanager"
    } else {
        "alertmanager"
    }
}

pub fn alertmanager_version() -> String {
    crate::report::version_of(alertmanager_bin(), &["--version"])
}

impl Alertmanager {
    async fn start() -> Alertmanager {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let config = dir.path().join("alertmanager.yml");
        std::fs::write(&config, "route:\n  receiver: discard\nreceivers:\n  - name: discard\n").expect("a config");
        let port = free_port();
        let mut command = Command::new(alertmanager_bin());
        command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=");
        let mut guard = ChildGuard::spawn("alertmanager", command, &dir.path().join("alertmanager.log"));
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&format!("{base}/-/ready"), &mut guard, Duration::from_secs(30)).await;
        Alertmanager { guard, base, _dir: dir }
    }
}

/// How the requests of a peer's rounds were answered. A refusal (an answer
/// that is not 2xx) and a failure (no answer) are results of the run, shown
/// beside the throughput, not reasons to stop it.
#[derive(Debug, Default)]
struct Outcomes {
    accepted: usize,
    refused: usize,
    failed: usize,
    /// `{status} {error_code}` of refusals, or the error of failures, with how often each came.
    reasons: BTreeMap<String, usize>,
}

impl Outcomes {
    fn record(&mut self, outcome: Result<(), String>, refused: bool) {
        match outcome {
            Ok(()) => self.accepted += 1,
            Err(reason) => {
                if refused {
                    self.refused += 1;
                } else {
                    self.failed += 1;
                }
                *self.reasons.entry(reason).or_default() += 1;
            }
        }
    }

    fn sent(&self) -> usize {
        self.accepted + self.refused + self.failed
    }

    /// `refused / failed` of everything sent, for the table.
    fn cell(&self) -> String {
        format!("{} / {} of {}", self.refused, self.failed, self.sent())
    }

    fn reasons(&self) -> String {
        self.reasons.iter().map(|(reason, n)| format!("{n}× {reason}")).collect::<Vec<_>>().join(", ")
    }
}

/// `{status} {error_code}` of a refusal: what a client would log.
fn refusal(status: reqwest::StatusCode, body: &str) -> String {
    let code = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|body| body["error_code"].as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("{} {code}", status.as_u16()).trim_end().to_owned()
}

/// One round; every answer is recorded in `outcomes`. Throughput counts only
/// the accepted requests; latencies are those of every answered one.
async fn post_round(
    http: &reqwest::Client,
    url: &str,
    budget: Budget,
    outcomes: &Arc<Mutex<Outcomes>>,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> Round {
    let (http, url) = (http.clone(), url.to_owned());
    let body = Arc::new(body);
    let counted = outcomes.clone();
    let (accepted_before, sent_before) = {
        let so_far = outcomes.lock().unwrap();
        (so_far.accepted, so_far.sent())
    };
    let mut round = round(budget, move |n| {
        let request = http.post(&url).json(&body(n));
        let outcomes = counted.clone();
        async move {
            let (outcome, refused) = match request.send().await {
                Ok(response) if response.status().is_success() => (Ok(()), false),
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().await.unwrap_or_default();
                    (Err(refusal(status, &text)), true)
                }
                Err(err) => (Err(format!("no answer: {err}")), false),
            };
            outcomes.lock().unwrap().record(outcome, refused);
        }
    })
    .await;
    let outcomes = outcomes.lock().unwrap();
    let (accepted, sent) = (outcomes.accepted - accepted_before, outcomes.sent() - sent_before);
    if sent > 0 {
        round.rate *= accepted as f64 / sent as f64;
    }
    round
}

pub async fn run(report: &mut Report) {
    report.heading("Alarm intake vs Prometheus Alertmanager");
    let coc_dir = tempfile::tempdir().expect("a temporary directory");
    let mut coc = CocServer::start(coc_dir.path()).await;
    // The integration's incidents go to the bench user, who must be an O&M engineer.
    call(&coc.api(), "POST", "/v1/engineers/sync", None, Some(json!({}))).await;
    let integration = call(
        &coc.api(),
        "POST",
        "/v1/integrations",
        None,
        Some(json!({"name": "bench", "alarm_level_threshold": "Critical"})),
    )
    .await;
    let key = integration["integration_key"].as_str().expect("an integration key").to_owned();
    let coc_url = format!("{}/v1/event/huawei/custom/{key}", coc.base);
    let mut alertmanager = Alertmanager::start().await;
    let am_url = format!("{}/api/v2/alerts", alertmanager.base);
    let starts_at = crate::report::now_utc();
    // One client pool per peer, the same settings for both.
    let (coc_http, am_http) = (reqwest::Client::new(), reqwest::Client::new());

    let (mut rows, mut unanswered) = (Vec::new(), Vec::new());
    for (c, case) in CASES.iter().enumerate() {
        let budget = Budget { clients: case.clients, requests: case.requests, time: Duration::from_secs(5) };
        let (mut coc_rounds, mut am_rounds) = (Vec::new(), Vec::new());
        let (coc_outcomes, am_outcomes) = (Arc::default(), Arc::default());
        for r in 0..ROUNDS {
            // Ids are unique per case and round: a "new" alarm is never one an earlier round sent.
            let round_id = c * ROUNDS + r;
            let alarms = case.alarms;
            let ours = post_round(&coc_http, &coc_url, budget, &coc_outcomes, move |n| coc_alarm(alarms, round_id, n));
            coc_rounds.push(ours.await);
            let at = starts_at.clone();
            let theirs = post_round(&am_http, &am_url, budget, &am_outcomes, move |n| {
                alertmanager_alert(alarms, round_id, n, &at)
            });
            am_rounds.push(theirs.await);
            // A server that died is not a slow one: stop here (the guards stop the other).
            coc.assert_running();
            alertmanager.guard.assert_running();
        }
        let (coc_outcomes, am_outcomes) = (coc_outcomes.lock().unwrap(), am_outcomes.lock().unwrap());
        for (peer, outcomes) in [("COC", &coc_outcomes), ("Alertmanager", &am_outcomes)] {
            if outcomes.refused + outcomes.failed > 0 {
                unanswered.push(format!("{}, {peer}: {}", case.name, outcomes.reasons()));
            }
        }
        let (ours, theirs) = (Summary::of(&coc_rounds), Summary::of(&am_rounds));
        rows.push(vec![
            case.name.to_owned(),
            format!("{:.0}", ours.rate),
            format!("{:.0}", theirs.rate),
            ratio(ours.rate, theirs.rate),
            format!("{:.2}", ms(ours.p50)),
            format!("{:.2}", ms(theirs.p50)),
            format!("{:.2}", ms(ours.p99)),
            format!("{:.2}", ms(theirs.p99)),
            coc_outcomes.cell(),
            am_outcomes.cell(),
        ]);
    }
    report.paragraph(&format!(
        "Both servers are child processes of the bench on loopback, fed by the same load generator \
         (closed loop: each client sends its next request when the previous one is answered), rounds \
         of the two alternating; medians of {ROUNDS} rounds, each up to its request count or 5 s. COC runs on \
         its embedded store (every acknowledged alarm is on disk); Alertmanager keeps alerts in memory \
         and snapshots them to its storage directory periodically. Ratio = COC / Alertmanager throughput. \
         Throughput counts accepted (2xx) requests only, latency every answered one; \
         refused = answered with another status, failed = not answered, over all rounds of the case."
    ));
    report.table(
        &[
            "case",
            "COC req/s",
            "Alertmanager req/s",
            "ratio",
            "COC p50 ms",
            "AM p50 ms",
            "COC p99 ms",
            "AM p99 ms",
            "COC refused / failed",
            "AM refused / failed",
        ],
        &rows,
    );
    if !unanswered.is_empty() {
        report.paragraph(&format!("Not accepted: {}.", unanswered.join("; ")));
    }
    drop(alertmanager.guard);
    coc.stop();
}
