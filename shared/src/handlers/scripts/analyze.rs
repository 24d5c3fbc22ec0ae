use crate::app::App;
use crate::domain::job::execute::Execution;
use crate::domain::script::risk::{self, AnalyzeRequest, HighRiskConfirmation, CONFIRM_FIELD};
use crate::domain::script::Script;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};

/// `POST /v1/job/analyze-job` (check_script_risk) → `{"data": {"risk_level", "blacklist_commands"}}`.
/// The analysis reads only the posted content: nothing of the tenant is read or stored.
pub async fn analyze(_app: &App, _caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: AnalyzeRequest = request.json_body()?;
    let script_type = body.script_type.unwrap_or_else(|| risk::detect_type(body.content.as_str()));
    ApiResponse::data(risk::analyze(body.content.as_str(), script_type))
}

/// An execution of `script` on more than one batch, when its analysis is HIGH, only with
/// `execute_param.confirm_high_risk: true` in the request's body (a tenant's or a public script).
pub(crate) fn require_confirmation(
    request: &ApiRequest,
    script: &Script,
    execution: &Execution,
) -> Result<(), ApiError> {
    let confirmation: HighRiskConfirmation = request.json_body()?;
    let batches = execution.execute_batches.len();
    match risk::of_script(script).refuses(batches, confirmation.execute_param.confirm_high_risk) {
        Some(problem) => Err(ApiError::invalid(CONFIRM_FIELD, problem)),
        None => Ok(()),
    }
}

/// `{"data": …}` with the script's analysis beside it as `risk_analysis`, which the SDK ignores.
pub(super) fn with_analysis(response: ApiResponse, script: &Script) -> Result<ApiResponse, ApiError> {
    let mut response = response;
    let analysis = serde_json::to_value(risk::of_script(script))
        .map_err(|e| ApiError::Internal(format!("cannot encode the risk analysis: {e}")))?;
    response.body["risk_analysis"] = analysis;
    Ok(response)
}
