//! `GET /v1/alarm-mgmt/alarm/{alarm_id}` (SDK `show_alarm`) and
//! `GET /v1/alarm-mgmt/alarm/{alarm_id}/handle-histories` (SDK
//! `list_alarm_handle_histories`).

use http::StatusCode;
use serde_json::json;

use super::{alarm_view, history_view, not_found, path_alarm_id};
use crate::app::App;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::alarms::{self, history};
use crate::repositories::incidents;

/// → `{"data": AlarmInfoDTO}`.
pub async fn show(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = path_alarm_id(&request)?;
    let store = app.store.as_ref();
    let alarm = alarms::get_by_public_id(store, &caller.project_id, &id).await?.ok_or_else(|| not_found(&id))?.value;
    // The integration (its name, its assignee) may have been deleted since.
    let integration = incidents::get_integration(store, &caller.project_id, &alarm.integration_id).await?;
    ApiResponse::data(alarm_view(&alarm, integration.as_ref()))
}

/// `?offset=&limit=` → `{"count", "alarm_handle_histories": [the latest first],
/// "resolved_record": how it was cleared, or null}`.
pub async fn histories(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let id = path_alarm_id(&request)?;
    let offset = request.query_number("offset", limits::ALARM_HISTORY_OFFSET)?.unwrap_or(0) as usize;
    let limit = request.limit(limits::ALARM_HISTORY_PAGE, false)?;
    let store = app.store.as_ref();
    let alarm = alarms::get_by_public_id(store, &caller.project_id, &id).await?.ok_or_else(|| not_found(&id))?.value;
    let entries = history::page(store, &caller.project_id, &id, offset, limit).await?;
    let resolved =
        alarm.cleared.as_ref().map(|c| json!({ "resolved_time": c.time, "create_name": c.by, "remarks": c.remarks }));
    Ok(ApiResponse::json(
        StatusCode::OK,
        json!({
            "count": history::count(&alarm),
            "alarm_handle_histories": entries.iter().map(history_view).collect::<Vec<_>>(),
            "resolved_record": resolved,
        }),
    ))
}
