use crate::app::App;
use crate::clock::now_ms;
use crate::domain::script::{NewScript, Script};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::assignees;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::repositories::scripts::{self, InsertError};

/// `POST /v1/job/scripts` → `{"data": script_uuid, "risk_analysis": {…}}`.
pub async fn create(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let new: NewScript = request.json_body()?;
    assignees::require_reviewers(app, &caller.project_id, &new.properties.reviewers).await?;
    let now = now_ms();
    let id = scripts::next_id(app.store.as_ref(), &caller.project_id).await?;
    let script = Script::create(new, id, ids::script_uuid(now), caller, now);
    match scripts::insert(app.store.as_ref(), &app.secrets, &script).await {
        Ok(()) => super::analyze::with_analysis(ApiResponse::data(&script.script_uuid)?, &script),
        Err(InsertError::NameTaken) => Err(ApiError::DuplicateName(script.name.to_string())),
        Err(InsertError::Store(err)) => Err(err.into()),
    }
}
