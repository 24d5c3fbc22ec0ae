use super::{modify, SCRIPT_UUID};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::script::{ReviewDecision, ReviewError};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};

/// `POST /v1/job/scripts/{script_uuid}/action` with `{"status": "APPROVED" | "REJECTED", "comments": "..."}`:
/// one reviewer's decision settles a script pending approval. → `{"data": true}`.
pub async fn review(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let decision: ReviewDecision = request.json_body()?;
    modify(app.store.as_ref(), caller, script_uuid, |script| {
        script.review(decision.clone(), caller, now_ms()).map_err(|err| match err {
            ReviewError::NotAReviewer => ApiError::Forbidden(err.to_string()),
            ReviewError::NotPending(_) => ApiError::Conflict(err.to_string()),
        })
    })
    .await?;
    ApiResponse::data(true)
}
