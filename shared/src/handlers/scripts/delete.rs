use super::{not_found, SCRIPT_UUID};
use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::scripts;

/// `DELETE /v1/job/scripts/{script_uuid}` → `{"data": script_uuid}`. The name is free again afterwards.
pub async fn delete(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let store = app.store.as_ref();
    until_written(&format!("script {script_uuid}"), || async {
        let current =
            scripts::get_masked(store, &caller.project_id, script_uuid).await?.ok_or_else(|| not_found(script_uuid))?;
        landed(scripts::delete(store, &current.value, current.version).await, ())
    })
    .await?;
    ApiResponse::data(script_uuid)
}
