//! `POST /v1/patch/jobs` (ours): a scan or an install of patches on hosts, as
//! a ticket of the job engine (batches, success rate, pause/cancel, logs: the
//! ticket endpoints of spec 4.3 show and steer it like any other).

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::order::Order;
use crate::domain::job::patch::PatchExecution;
use crate::domain::patch::{Baseline, PatchJob};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::orders;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::repositories::{jobs, patch_baselines};

/// `POST /v1/patch/jobs` with `{"operation": "SCAN"|"INSTALL", "baseline_id"?,
/// "execute_batches", "success_rate"?, "timeout"?}` → `{"data": execute_uuid}`.
/// The ticket carries the baselines as they are now: the one chosen, or the
/// tenant's default of every OS family (each host uses its own family's).
pub async fn start_job(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: PatchExecution = request.json_body()?;
    let baselines = baselines(app, caller, &body).await?;
    let patch = PatchJob { operation: body.operation, baselines };
    let size = serde_json::to_vec(&patch).map_err(|e| ApiError::Internal(e.to_string()))?.len();
    if size > limits::PATCH_JOB_BYTES {
        return Err(ApiError::invalid(
            "baseline_id",
            format!(
                "the baselines come to {size} bytes, more than a ticket carries ({}); name one baseline",
                limits::PATCH_JOB_BYTES
            ),
        ));
    }
    orders::check_agents(app, caller, &body.execution).await?;
    let now = now_ms();
    let order_id = jobs::next_order_id(app.store.as_ref(), &caller.project_id).await?;
    let order = Order::create_patch(body.execution, patch, order_id, ids::execute_uuid(now), caller, now);
    orders::start(app, caller, order).await
}

async fn baselines(app: &App, caller: &Caller, body: &PatchExecution) -> Result<Vec<Baseline>, ApiError> {
    let store = app.store.as_ref();
    match &body.baseline_id {
        Some(id) => {
            let baseline = patch_baselines::get(store, &caller.project_id, id.as_str()).await?;
            let baseline = baseline
                .ok_or_else(|| ApiError::invalid("baseline_id", format!("no baseline {id} in this project")))?;
            Ok(vec![baseline])
        }
        None => patch_baselines::defaults(store, &caller.project_id).await,
    }
}
