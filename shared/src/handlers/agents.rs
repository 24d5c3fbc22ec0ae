//! `/v1/agents/{agent_sn}/…` (ours): what host agents call. An agent acts with
//! its own credential (see `auth::agents`; registering is in `agent_identity`),
//! sends heartbeats, long-polls for its jobs and reports their results.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::retry::{landed, until_written};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::absent::null_is_default;
use crate::domain::job::agent::Agent;
use crate::domain::job::order::{Effects, InstanceStatus};
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::handlers::orders::redact;
use crate::http::{ApiRequest, ApiResponse};
use crate::ports::StoreError;
use crate::repositories::{jobs, Versioned};
use crate::secrets;

/// The longest a job poll waits for work.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(20);
const POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Logs are capped at 1 MB (spec 4.2.1); the agent caps them, the server enforces it.
pub const MAX_LOG_BYTES: usize = 1024 * 1024;

/// The agent of the path, which must be the one whose credential signed the
/// request: an agent reaches only its own jobs.
async fn agent_of(app: &App, caller: &Caller, request: &ApiRequest) -> Result<Versioned<Agent>, ApiError> {
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
    agent.last_heartbeat = now_ms();
    // Lost to a concurrent write (another beat, a revocation): this beat's time does not matter.
    match app.store.write(vec![jobs::agent_put_op(&agent, Some(version))?]).await {
        Ok(()) | Err(StoreError::ConditionFailed) => {}
        Err(other) => return Err(other.into()),
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
pub async fn poll(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let wait = match request.query_param::<u64>("wait_seconds")? {
        Some(secs) if secs > MAX_POLL_WAIT.as_secs() => {
            return Err(ApiError::invalid("wait_seconds", format!("must be 0 to {}", MAX_POLL_WAIT.as_secs())))
        }
        Some(secs) => Duration::from_secs(secs),
        None => Duration::ZERO,
    };
    let agent = agent_of(app, caller, &request).await?.value;
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let mut jobs = jobs::claim_jobs(app.store.as_ref(), &caller.project_id, &agent.agent_sn, now_ms()).await?;
        if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
            for job in &mut jobs {
                secrets::open_job(&app.secrets, job).await?;
            }
            return ApiResponse::data(jobs);
        }
        // Woken early when this process hands out jobs; the interval covers other processes.
        tokio::select! {
            _ = app.jobs_handed_out.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
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
/// wanted (canceled, timed out, retried).
pub async fn report(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let report: Report = request.json_body()?;
    if report.log.len() > MAX_LOG_BYTES {
        return Err(ApiError::invalid("log", format!("must be at most {MAX_LOG_BYTES} bytes")));
    }
    let agent = agent_of(app, caller, &request).await?.value;
    let execute_uuid = request.path_param("execute_uuid")?;
    let instance_id: u64 = request
        .path_param("instance_id")?
        .parse()
        .map_err(|_| ApiError::invalid("instance_id", "must be a whole number"))?;
    let store = app.store.as_ref();
    let recorded = until_written(&format!("ticket {execute_uuid}"), || async {
        let current = jobs::get_order(store, &caller.project_id, execute_uuid)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("ticket {execute_uuid} does not exist")))?;
        let was = current.value.status;
        let mut order = current.value;
        match order.instance(instance_id).map(|i| i.target.agent_sn.as_str()) {
            None => return Err(ApiError::NotFound(format!("instance {instance_id} is not in ticket {execute_uuid}"))),
            Some(sn) if sn != agent.agent_sn => {
                return Err(ApiError::Forbidden(format!(
                    "instance {instance_id} does not run on agent {}",
                    agent.agent_sn
                )))
            }
            Some(_) => {}
        }
        let log = redact(&report.log, &secrets::order_secrets(&app.secrets, &order).await?);
        let summary = format!("exit code {}", report.exit_code);
        if !order.report(instance_id, report.attempt, report.exit_code, &summary, now_ms()) {
            // A resend of a report already recorded (the agent retries until it hears back)
            // is acknowledged again; otherwise the run is no longer wanted (canceled, timed
            // out, retried). Either way there is nothing to write.
            return Ok(Some(order.has_report(instance_id, report.attempt, report.exit_code)));
        }
        jobs::put_log(store, &caller.project_id, execute_uuid, instance_id, report.attempt, &log).await?;
        let effects = Effects { withdraw: vec![instance_id], ..Effects::default() };
        landed(jobs::save_order(store, &order, current.version, was, &effects).await, true)
    })
    .await?;
    if recorded {
        engine::kick(app.queue.as_ref(), &caller.project_id, execute_uuid).await?;
    }
    ApiResponse::data(recorded)
}
