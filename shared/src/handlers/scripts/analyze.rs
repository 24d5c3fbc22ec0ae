use crate::app::App;
use crate::domain::script::risk::{self, Analysis, AnalyzeRequest};
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

/// The analysis of a stored script's content. It is recomputed, not stored: it is derived
/// from the content alone, costs well under a millisecond for the 4096 characters a script
/// holds, and so always follows the current rules.
pub fn analysis_of(script: &Script) -> Analysis {
    risk::analyze(script.content.as_str(), script.script_type)
}

/// `{"data": …}` with the script's analysis beside it as `risk_analysis`, which the SDK ignores.
pub(super) fn with_analysis(response: ApiResponse, script: &Script) -> Result<ApiResponse, ApiError> {
    let mut response = response;
    let analysis = serde_json::to_value(analysis_of(script))
        .map_err(|e| ApiError::Internal(format!("cannot encode the risk analysis: {e}")))?;
    response.body["risk_analysis"] = analysis;
    Ok(response)
}
