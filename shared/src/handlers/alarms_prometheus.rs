//! `POST /v1/event/prometheus/{integration_key}` (SDK
//! `create_report_prometheus_event`): Alertmanager's webhook. The key in the
//! path is the credential, as for the custom intake; each alert of the
//! notification is reported to that intake's `ingest`.

use http::StatusCode;
use serde_json::Value;

use super::alarms::{answer, ingest, IntakeError, AUTH_FAILED, BAD_REQUEST, SUCCESS};
use crate::app::App;
use crate::domain::prometheus::{LabelNames, Notification};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::repositories::incidents;

fn bad_request(message: &str) -> ApiResponse {
    answer(StatusCode::BAD_REQUEST, BAD_REQUEST, message)
}

pub async fn intake(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let key = match request.path_param("integration_key") {
        Ok(key) => key,
        Err(err) => return Ok(bad_request(&err.to_string())),
    };
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(err) => return Ok(bad_request(&format!("request body is not valid JSON: {err}"))),
    };
    let Some(integration) = incidents::integration_by_key(app.store.as_ref(), key).await? else {
        return Ok(answer(StatusCode::UNAUTHORIZED, AUTH_FAILED, "Token missing or invalid."));
    };
    let notification = match Notification::parse(&body) {
        Ok(notification) => notification,
        Err(problems) => return Ok(bad_request(&problems)),
    };
    let events = match notification.reports(&LabelNames::of(&integration)) {
        Ok(events) => events,
        Err(problems) => return Ok(bad_request(&problems)),
    };
    // One alert after another: each is one alarm's conditional write. Should
    // one fail, Alertmanager retries the whole notification, and the alerts
    // already recorded count as repeats (occurrences grow; nothing doubles).
    for event in &events {
        match ingest(app, key, event).await {
            Ok(_) => {}
            Err(IntakeError::UnknownKey) => {
                return Ok(answer(StatusCode::UNAUTHORIZED, AUTH_FAILED, "Token missing or invalid."))
            }
            Err(IntakeError::Invalid(problems)) => return Ok(bad_request(&problems)),
            Err(IntakeError::Contended) => {
                return Ok(answer(StatusCode::CONFLICT, "COC.00000009", "an alarm is changing fast; send it again"))
            }
            Err(IntakeError::Store(err)) => return Err(err.into()),
        }
    }
    tracing::info!(
        integration = %integration.integration_id,
        alerts = events.len(),
        truncated = notification.truncated_alerts,
        "alertmanager notification recorded"
    );
    Ok(answer(StatusCode::OK, SUCCESS, "success"))
}
