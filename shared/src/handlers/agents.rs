//! `/v1/agents/{agent_sn}/…` (ours): what host agents call. An agent acts with
//! its own credential (see `auth::agents`; registering is in `agent_identity`),
//! sends heartbeats, long-polls for its jobs and reports their results.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::absent::null_is_default;
use crate::domain::job::agent::Agent;
use crate::domain::job::order::{InstanceStatus, Order};
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::handlers::orders::redact;
use crate::http::{ApiRequest, ApiResponse};
use crate::ports::StoreError;
use crate::repositories::reports::{self, Recorded, RunResult};
use crate::repositories::{jobs, Versioned};
use crate::secrets;

/// The longest a job poll waits for work.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(20);
/// Logs are capped at 1 MB (spec 4.2.1); the agent caps them, the server enforces it.
pub const MAX_LOG_BYTES: usize = 1024 * 1024;
/// Ends a log that masking secrets made longer than [`MAX_LOG_BYTES`], cut to fit.
const MASKED_TOO_LONG: &str = "\n[log truncated: masking secrets made it longer than 1 MiB]";
// A report is one transaction: its result, its job's removal and its log's chunks
// (each cut at a character boundary, so up to 3 bytes short).
const _: () = assert!(2 + MAX_LOG_BYTES.div_ceil(jobs::LOG_CHUNK_BYTES - 3) <= reports::MAX_WRITE_OPS);

/// The agent of the path, which must be the one whose credential signed the
/// request: an agent reaches only its own jobs.
pub(crate) async fn agent_of(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Versioned<Agent>, ApiError> {
    let agent_sn = request.path_param("agent_sn")?;
    if caller.agent_sn.as_deref() != Some(agent_sn) {
        return Err(ApiError::Forbidden(format!("this credential is not agent {agent_sn}'s")));
    }
    jobs::get_agent_versioned(app.store.as_ref(), &caller.project_id, agent_sn)
        .await?
        .ok_or_else(|| ApiError::Unauthorized(format!("agent {agent_sn} has been revoked")))
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRef {
    pub execute_uuid: String,
    pub instance_id: u64,
    pub attempt: u32,
}

#[derive(Deserialize)]
struct Heartbeat {
    #[serde(default, deserialize_with = "null_is_default")]
    running: Vec<RunRef>,
}

/// `POST /v1/agents/{agent_sn}/heartbeat` with the runs the agent has going →
/// `{"data": {"cancel": [runs to stop]}}`: runs that were canceled, skipped or timed out.
pub async fn heartbeat(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let beat: Heartbeat = request.json_body()?;
    let Versioned { value: mut agent, version } = agent_of(app, caller, &request).await?;
    let now = now_ms();
    // Recorded only when the stored beat is getting old: the time only decides ONLINE.
    if agent.heartbeat_due(now) {
        agent.last_heartbeat = now;
        // Lost to a concurrent write (another beat, a revocation): this beat's time does not matter.
        match app.store.write(vec![jobs::agent_put_op(&agent, Some(version))?]).await {
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(other) => return Err(other.into()),
        }
    }
    let mut cancel = Vec::new();
    for run in beat.running {
        let order = jobs::get_order(app.store.as_ref(), &caller.project_id, &run.execute_uuid).await?;
        let wanted = order.as_ref().and_then(|o| o.value.instance(run.instance_id)).is_some_and(|i| {
            i.status == InstanceStatus::Processing
                && i.attempt == run.attempt
                && i.target.agent_sn.as_str() == agent.agent_sn
        });
        if !wanted {
            cancel.push(run);
        }
    }
    ApiResponse::data(serde_json::json!({ "cancel": cancel }))
}

/// `GET /v1/agents/{agent_sn}/jobs?wait_seconds=0..20` → `{"data": [jobs]}`,
/// waiting up to `wait_seconds` for one to arrive. Each job is handed out once.
///
/// A waiting poll costs nothing until the engine of this process wakes it for
/// jobs of this agent (see `wakeups`); it looks at the store again only every
/// `App::poll_recheck`, for jobs handed out by other processes, and not at all
/// at its deadline (the agent's next poll looks first thing).
pub async fn poll(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let wait = match request.query_param::<u64>("wait_seconds")? {
        Some(secs) if secs > MAX_POLL_WAIT.as_secs() => {
            return Err(ApiError::invalid("wait_seconds", format!("must be 0 to {}", MAX_POLL_WAIT.as_secs())))
        }
        Some(secs) => Duration::from_secs(secs),
        None => Duration::ZERO,
    };
    let agent = agent_of(app, caller, &request).await?.value;
    let deadline = Instant::now() + wait;
    // Subscribed before the first look, so jobs handed out after it wake this poll.
    let mut wakeup = app.wakeups.subscribe(&caller.project_id, &agent.agent_sn);
    loop {
        let mut jobs = jobs::claim_jobs(app.store.as_ref(), &caller.project_id, &agent.agent_sn, now_ms()).await?;
        if !jobs.is_empty() || Instant::now() >= deadline {
            for job in &mut jobs {
                secrets::open_job(&app.secrets, job).await?;
            }
            return ApiResponse::data(jobs);
        }
        let recheck_at = (Instant::now() + app.poll_recheck).min(deadline);
        let woken = tokio::select! {
            _ = wakeup.woken() => true,
            _ = tokio::time::sleep_until(recheck_at) => false,
        };
        if !woken && Instant::now() >= deadline {
            return ApiResponse::data(Vec::<jobs::Job>::new());
        }
    }
}

#[derive(Deserialize)]
struct Report {
    attempt: u32,
    exit_code: i32,
    #[serde(default, deserialize_with = "null_is_default")]
    log: String,
}

/// `POST /v1/agents/{agent_sn}/jobs/{execute_uuid}/{instance_id}` with
/// `{"attempt", "exit_code", "log"}` → `{"data": true}` when recorded (or already
/// recorded: resending a report is safe), `false` when the run was no longer
/// wanted (canceled, timed out, retried) or already has another result.
///
/// The ticket is only read: the result and its log are written as items of
/// their own in one conditional write, and the engine folds them into the
/// ticket in its next step (`engine::step`), so the reports of a batch never
/// contend for the ticket.
pub async fn report(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let report: Report = request.json_body()?;
    if report.log.len() > MAX_LOG_BYTES {
        return Err(ApiError::invalid("log", format!("must be at most {MAX_LOG_BYTES} bytes")));
    }
    let agent = agent_of(app, caller, &request).await?.value;
    let (execute_uuid, instance_id) = run_of_path(&request)?;
    let (store, project) = (app.store.as_ref(), &caller.project_id);
    let order = order_of_run(app, caller, execute_uuid, instance_id, &agent.agent_sn).await?;
    let running = order
        .instance(instance_id)
        .is_some_and(|i| i.status == InstanceStatus::Processing && i.attempt == report.attempt);
    if !running {
        // A resend of a report already folded in is acknowledged again; otherwise
        // the run is no longer wanted (canceled, timed out, retried).
        return ApiResponse::data(order.has_report(instance_id, report.attempt, report.exit_code));
    }
    let log = within_limit(redact(&report.log, &secrets::order_secrets(&app.secrets, &order).await?));
    let result = RunResult { instance_id, attempt: report.attempt, exit_code: report.exit_code, reported_at: now_ms() };
    let recorded = match reports::record(store, project, execute_uuid, &agent.agent_sn, &result, &log).await? {
        Recorded::New => true,
        // The agent resends until it hears back: the same result is the same report.
        Recorded::AlreadyReported => {
            match reports::get(store, project, execute_uuid, instance_id, report.attempt).await? {
                Some(earlier) => earlier.exit_code == report.exit_code,
                // Folded in since the ticket was read: the ticket tells.
                None => order_of_run(app, caller, execute_uuid, instance_id, &agent.agent_sn).await?.has_report(
                    instance_id,
                    report.attempt,
                    report.exit_code,
                ),
            }
        }
    };
    if recorded {
        // Also for a resend: the kick after the first report may have been lost.
        engine::kick(app.queue.as_ref(), project, execute_uuid).await?;
    }
    ApiResponse::data(recorded)
}

/// The log as stored: at most [`MAX_LOG_BYTES`]. Masks longer than the secrets
/// they replace can make a log that was within the limit longer.
fn within_limit(mut log: String) -> String {
    if log.len() > MAX_LOG_BYTES {
        let mut cut = MAX_LOG_BYTES - MASKED_TOO_LONG.len();
        while !log.is_char_boundary(cut) {
            cut -= 1;
        }
        log.truncate(cut);
        log.push_str(MASKED_TOO_LONG);
    }
    log
}

/// The run a report path names: `{execute_uuid}` and `{instance_id}`.
pub(crate) fn run_of_path(request: &ApiRequest) -> Result<(&str, u64), ApiError> {
    let execute_uuid = request.path_param("execute_uuid")?;
    let instance_id = request
        .path_param("instance_id")?
        .parse()
        .map_err(|_| ApiError::invalid("instance_id", "must be a whole number"))?;
    Ok((execute_uuid, instance_id))
}

/// The ticket of a run reported by `agent_sn`: 404 when there is no such
/// ticket or instance, 403 when the instance runs on another agent.
pub(crate) async fn order_of_run(
    app: &App,
    caller: &Caller,
    execute_uuid: &str,
    instance_id: u64,
    agent_sn: &str,
) -> Result<Order, ApiError> {
    let order = jobs::get_order(app.store.as_ref(), &caller.project_id, execute_uuid)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("ticket {execute_uuid} does not exist")))?
        .value;
    match order.instance(instance_id).map(|i| i.target.agent_sn.as_str()) {
        None => Err(ApiError::NotFound(format!("instance {instance_id} is not in ticket {execute_uuid}"))),
        Some(sn) if sn != agent_sn => {
            Err(ApiError::Forbidden(format!("instance {instance_id} does not run on agent {agent_sn}")))
        }
        Some(_) => Ok(order),
    }
}
