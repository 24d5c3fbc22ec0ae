use super::{not_found, SCRIPT_UUID};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::job::execute::Execution;
use crate::domain::job::order::Order;
use crate::domain::script::ScriptStatus;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::orders;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::repositories::{jobs, scripts};

/// `POST /v1/job/scripts/{script_uuid}`: runs an approved script on registered
/// agents of the tenant, batch by batch → `{"data": execute_uuid}`. A script whose analysis is
/// HIGH runs on more than one batch only with `execute_param.confirm_high_risk: true`.
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
    super::require_confirmation(&request, &script, &execution)?;
    orders::check_agents(app, caller, &execution).await?;
    let now = now_ms();
    let order_id = jobs::next_order_id(store, &caller.project_id).await?;
    let order = Order::create(execution, &script, order_id, ids::execute_uuid(now), caller, now)
        .map_err(ApiError::InvalidParameter)?;
    orders::start(app, caller, order).await
}
