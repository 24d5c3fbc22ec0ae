use super::named;
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::execute::Execution;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::orders;
use crate::handlers::scripts;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::repositories::jobs;

/// `POST /v1/job/public-scripts/{script_uuid}` (ScriptExecuteModel, as for a
/// tenant script) → `{"data": execute_uuid}`: a ticket in the caller's tenant,
/// made from the library's script; nothing is written to the tenant's scripts.
pub async fn execute(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let public = named(&request)?;
    let execution: Execution = request.json_body()?;
    // Checked before a ticket number is taken.
    public.check(&execution).map_err(ApiError::InvalidParameter)?;
    // The rule of a tenant script's execution (README, "Script risk analysis").
    scripts::require_confirmation(&request, &public.script, &execution)?;
    orders::check_agents(app, caller, &execution).await?;
    let now = now_ms();
    let order_id = jobs::next_order_id(app.store.as_ref(), &caller.project_id).await?;
    let order =
        public.order(execution, order_id, ids::execute_uuid(now), caller, now).map_err(ApiError::InvalidParameter)?;
    orders::start(app, caller, order).await
}
