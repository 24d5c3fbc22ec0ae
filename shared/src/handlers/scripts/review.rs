use std::sync::OnceLock;

use super::{modify, SCRIPT_UUID};
use crate::app::App;
use crate::clock::now_ms;
use crate::domain::script::{ReviewDecision, ReviewError};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};

/// `POST /v1/job/scripts/{script_uuid}/action` with `{"status": "APPROVED" | "REJECTED", "comments": "...",
/// "revision": n}` (`revision` is ours and optional): one reviewer's decision settles the revision
/// pending approval. → `{"data": true}`.
pub async fn review(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let script_uuid = request.path_param(SCRIPT_UUID)?;
    let decision: ReviewDecision = request.json_body()?;
    // The decision is about the revision the reviewer named or, when they name none (the SDK
    // cannot), the one this request reads first. Pinned here, outside the retried closure, so
    // that an edit landing between our read and our conditional write makes the retry refuse
    // instead of approving content the reviewer never saw.
    let reviewed = decision.revision.map(OnceLock::from).unwrap_or_default();
    modify(app, caller, script_uuid, |script| {
        let revision = *reviewed.get_or_init(|| script.revision);
        script.review(decision.clone(), revision, caller, now_ms()).map_err(|err| match err {
            ReviewError::NotAReviewer | ReviewError::OwnScript => ApiError::Forbidden(err.to_string()),
            ReviewError::Changed { .. } | ReviewError::NotPending(_) => ApiError::Conflict(err.to_string()),
        })
    })
    .await?;
    ApiResponse::data(true)
}
