use super::{not_found, SCRIPT_UUID, WRITE_ATTEMPTS};
use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ports::StoreError;
use crate::repositories::scripts;

/// `DELETE /v1/job/scripts/{script_uuid}` → `{"data": script_uuid}`. The name is free again afterwards.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let store = app.store.as_ref();
    for _ in 0..WRITE_ATTEMPTS {
        let current =
            scripts::get(store, &caller.project_id, script_uuid).await?.ok_or_else(|| not_found(script_uuid))?;
        match scripts::delete(store, &current.value, current.version).await {
            Ok(()) => return ApiResponse::data(script_uuid),
            // Changed or deleted since it was read: look again.
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Conflict(format!("script {script_uuid} is being changed by others; try again")))
}
