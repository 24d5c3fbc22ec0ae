//! Starting a ticket: what a script execution and a patch ticket share.

use crate::app::App;
use crate::domain::job::execute::Execution;
use crate::domain::job::order::Order;
use crate::domain::tenant::Caller;
use crate::engine;
use crate::error::ApiError;
use crate::http::ApiResponse;
use crate::repositories::jobs;
use crate::secrets;

/// Every target's `agent_sn` is an agent registered in the caller's tenant
/// (one read per host, at most 200); else a 400 naming the target.
pub(crate) async fn check_agents(app: &App, caller: &Caller, execution: &Execution) -> Result<(), ApiError> {
    for (b, batch) in execution.execute_batches.iter().enumerate() {
        for (t, target) in batch.target_instances.iter().enumerate() {
            if jobs::get_agent(app.store.as_ref(), &caller.project_id, target.agent_sn.as_str()).await?.is_none() {
                return Err(ApiError::invalid(
                    &format!("execute_batches[{b}].target_instances[{t}].agent_sn"),
                    format!("no agent {} is registered in this project", target.agent_sn),
                ));
            }
        }
    }
    Ok(())
}

/// Stores a new ticket (sensitive values sealed) and asks the engine to start
/// it → `{"data": execute_uuid}`.
pub(crate) async fn start(app: &App, caller: &Caller, mut order: Order) -> Result<ApiResponse, ApiError> {
    secrets::seal_order(&app.secrets, &mut order).await?;
    jobs::insert_order(app.store.as_ref(), &order).await?;
    // Were this lost, the engine's sweep of active tickets would still start it.
    engine::kick(app.queue.as_ref(), &caller.project_id, &order.execute_uuid).await?;
    ApiResponse::data(&order.execute_uuid)
}
