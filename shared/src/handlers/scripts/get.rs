use super::{not_found, views::ScriptDetail, SCRIPT_UUID};
use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::scripts;

/// `GET /v1/job/scripts/{script_uuid}` → `{"data": ScriptDetailModel}`, sensitive values masked.
pub async fn get(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let script = scripts::get_masked(app.store.as_ref(), &caller.project_id, script_uuid)
        .await?
        .ok_or_else(|| not_found(script_uuid))?;
    ApiResponse::data(ScriptDetail::from(&script.value))
}
