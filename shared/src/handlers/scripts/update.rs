use super::{modify, SCRIPT_UUID};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::script::ScriptEdit;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::assignees;
use crate::http::{ApiRequest, ApiResponse};

/// `PUT /v1/job/scripts/{script_uuid}` → `{"data": script_uuid, "risk_analysis": {…}}`. A change of content, parameters or
/// reviewers is a new revision that needs a new review.
pub async fn update(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let edit: ScriptEdit = request.json_body()?;
    if let Some(properties) = &edit.properties {
        assignees::require_reviewers(app, &caller.project_id, &properties.reviewers).await?;
    }
    let script = modify(app, caller, script_uuid, |script| {
        script.edit(edit.clone(), caller, now_ms()).map_err(|err| ApiError::Forbidden(err.to_string()))
    })
    .await?;
    super::analyze::with_analysis(ApiResponse::data(&script.script_uuid)?, &script)
}
