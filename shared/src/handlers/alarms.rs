//! `POST /v1/event/huawei/custom/{integration_key}` (spec 4.4.2): alarm intake.
//! The key in the path is the credential. The same `ingest` runs behind the
//! SQS-triggered intake function.

use serde_json::{json, Value};

use crate::app::App;
use crate::clock::now_ms;
use crate::domain::alarm::{incident_for, opens_incident, Alarm, AlarmReport};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::ports::{Store, StoreError};
use crate::repositories::incidents;

use super::incidents::PROVIDER_CODE;

pub const SUCCESS: &str = "COC.00000000";
pub const BAD_REQUEST: &str = "COC.00000001";
pub const AUTH_FAILED: &str = "common.01010001";
/// Duplicates of one alarm arriving together all retry their write, and each
/// failed try means another copy landed: enough tries for every one of them.
const WRITE_ATTEMPTS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("Token missing or invalid.")]
    UnknownKey,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the alarm kept changing; not recorded")]
    Contended,
}

/// What an accepted report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ingested {
    pub occurrences: u64,
    /// The incident opened by this report, if it opened one.
    pub opened: Option<String>,
}

/// Records one report: deduplicated by alarmId, `ok` clears, and an alarm at or
/// above the integration's level opens one incident, in the same write as the
/// alarm so that concurrent duplicates cannot open two.
pub async fn ingest(store: &dyn Store, key: &str, body: &Value) -> Result<Ingested, IntakeError> {
    let integration = incidents::integration_by_key(store, key).await?.ok_or(IntakeError::UnknownKey)?;
    let report = AlarmReport::parse(body).map_err(IntakeError::Invalid)?;
    let project = integration.project_id.clone();
    for _ in 0..WRITE_ATTEMPTS {
        let now = now_ms();
        let current = incidents::get_alarm(store, &project, &integration.integration_id, &report.alarm_id).await?;
        let (mut alarm, version) = match current {
            Some(current) => (current.value, Some(current.version)),
            None => (Alarm::first(&integration, report.clone(), now), None),
        };
        if version.is_some() {
            alarm.again(report.clone(), now);
        }
        // A new incident when the rule says so and the alarm has no open one.
        let mut needs_incident = opens_incident(&integration, &report);
        if let (true, Some(num)) = (needs_incident, &alarm.incident_num) {
            let linked = incidents::get_incident(store, &project, num).await?;
            needs_incident = linked.is_none_or(|i| i.value.is_closed());
        }
        let incident = if needs_incident {
            let warroom = report.region_id.as_ref().map(|_| ids::warroom_id(now));
            let incident = incident_for(&integration, &report, ids::incident_num(now), warroom, now)
                .map_err(IntakeError::Invalid)?;
            alarm.incident_num = Some(incident.incident_num.clone());
            Some(incident)
        } else {
            None
        };
        match incidents::save_alarm(store, &project, &alarm, version, incident.as_ref()).await {
            Ok(()) => return Ok(Ingested { occurrences: alarm.occurrences, opened: incident.map(|i| i.incident_num) }),
            // Another copy of this alarm won the write. A failed condition is
            // answered once the winner is stored, so reading again at once sees
            // it: count this one on top, without sleeping.
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(IntakeError::Contended)
}

fn answer(status: http::StatusCode, code: &str, message: &str) -> ApiResponse {
    ApiResponse::json(
        status,
        json!({ "error_code": code, "error_msg": message, "data": null, "provider_code": PROVIDER_CODE }),
    )
}

pub async fn intake(app: &App, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let key = match request.path_param("integration_key") {
        Ok(key) => key,
        Err(err) => return Ok(answer(http::StatusCode::BAD_REQUEST, BAD_REQUEST, &err.to_string())),
    };
    let body: Value = match serde_json::from_slice(&request.body) {
        Ok(body) => body,
        Err(err) => {
            return Ok(answer(
                http::StatusCode::BAD_REQUEST,
                BAD_REQUEST,
                &format!("request body is not valid JSON: {err}"),
            ))
        }
    };
    Ok(match ingest(app.store.as_ref(), key, &body).await {
        Ok(_) => answer(http::StatusCode::OK, SUCCESS, "success"),
        Err(IntakeError::UnknownKey) => {
            answer(http::StatusCode::UNAUTHORIZED, AUTH_FAILED, "Token missing or invalid.")
        }
        Err(IntakeError::Invalid(problems)) => answer(http::StatusCode::BAD_REQUEST, BAD_REQUEST, &problems),
        Err(IntakeError::Contended) => {
            answer(http::StatusCode::CONFLICT, "COC.00000009", "the alarm is changing fast; report it again")
        }
        Err(IntakeError::Store(err)) => return Err(err.into()),
    })
}
