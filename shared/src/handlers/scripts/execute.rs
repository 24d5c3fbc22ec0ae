use super::{not_found, SCRIPT_UUID};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::execute::Execution;
use crate::domain::job::order::Order;
use crate::domain::script::ScriptStatus;
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::repositories::{jobs, scripts};
use crate::secrets;

/// `POST /v1/job/scripts/{script_uuid}`: runs an approved script on registered
/// agents of the tenant, batch by batch → `{"data": execute_uuid}`.
pub async fn execute(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let execution: Execution = request.json_body()?;
    let store = app.store.as_ref();
    let script = scripts::get(store, &app.secrets, &caller.project_id, script_uuid)
        .await?
        .ok_or_else(|| not_found(script_uuid))?
        .value;
    if script.status != ScriptStatus::Approved {
        return Err(ApiError::Conflict(format!(
            "script {script_uuid} is {:?}; only an approved script can run",
            script.status
        )));
    }
    for (b, batch) in execution.execute_batches.iter().enumerate() {
        for (t, target) in batch.target_instances.iter().enumerate() {
            if jobs::get_agent(store, &caller.project_id, target.agent_sn.as_str()).await?.is_none() {
                return Err(ApiError::invalid(
                    &format!("execute_batches[{b}].target_instances[{t}].agent_sn"),
                    format!("no agent {} is registered in this project", target.agent_sn),
                ));
            }
        }
    }
    let now = now_ms();
    let order_id = jobs::next_order_id(store, &caller.project_id).await?;
    let mut order = Order::create(execution, &script, order_id, ids::execute_uuid(now), caller, now)
        .map_err(ApiError::InvalidParameter)?;
    secrets::seal_order(&app.secrets, &mut order).await?;
    jobs::insert_order(store, &order).await?;
    // Were this lost, the engine's sweep of active tickets would still start it.
    engine::kick(app.queue.as_ref(), &caller.project_id, &order.execute_uuid).await?;
    ApiResponse::data(&order.execute_uuid)
}
