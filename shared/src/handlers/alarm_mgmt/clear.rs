//! `POST /v1/alarm-mgmt/alarms/cancel` (SDK `clear_alarm`): clears alarms in a
//! batch, each alarm its own conditional write (it, its history entry, its
//! state counts, and what the auto-recovery rule does to its incident), so
//! each is cleared once however many clears race, and `data` says per alarm
//! what happened: `{alarm_id}:cleared`, `…:already_cleared`, `…:not_found`.

use super::recovery;
use crate::app::App;
use crate::domain::alarm::manage::{parse_alarm_ids, ClearOutcome, ClearRequest, HistoryEntry, HistoryKind};
use crate::domain::alarm::AlarmStatus;
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::limits;
use crate::repositories::alarms::{self, history};
use crate::repositories::incidents;

/// → `{"data": ["{alarm_id}:{outcome}", …]}`, in the order asked.
pub async fn clear(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: ClearRequest = request.json_body()?;
    let ids = parse_alarm_ids(body.alarm_ids.as_str(), limits::ALARM_CLEAR_BATCH)
        .map_err(|problem| ApiError::invalid("alarm_ids", problem))?;
    let mut outcomes = Vec::with_capacity(ids.len());
    for id in &ids {
        let outcome = clear_one(app, caller, &body, id).await?;
        outcomes.push(format!("{id}:{}", outcome.name()));
    }
    ApiResponse::data(outcomes)
}

async fn clear_one(app: &App, caller: &Caller, body: &ClearRequest, id: &str) -> Result<ClearOutcome, ApiError> {
    let store = app.store.as_ref();
    let project = &caller.project_id;
    until_written(&format!("alarm {id}"), || async {
        let Some(read) = alarms::get_by_public_id(store, project, id).await? else {
            return Ok(Some(ClearOutcome::NotFound));
        };
        if read.value.status == AlarmStatus::Ok {
            return Ok(Some(ClearOutcome::AlreadyCleared));
        }
        let now = app.clock.now_ms();
        let mut alarm = read.value.clone();
        alarm.status = AlarmStatus::Ok;
        alarm.cleared = Some(body.clearance(&caller.user_id, now));
        alarm.actions += 1;
        let mut cleared = HistoryEntry::new(HistoryKind::Cleared, &caller.user_id, alarm.status, now);
        cleared.remarks = alarm.cleared.as_ref().and_then(|c| c.remarks.clone());
        let mut entries = vec![cleared];
        let mut ops = Vec::new();
        // The rule of the alarm's integration, when it still exists.
        let integration = incidents::get_integration(store, project, &alarm.integration_id).await?;
        let auto_recover = integration.is_some_and(|i| i.auto_recover_incident);
        ops.extend(recovery::on_clear(app, project, auto_recover, &mut alarm, &mut entries, now).await?);
        ops.extend(alarms::changed_ops(project, &read, &alarm, 0)?);
        ops.extend(history::entry_ops(project, &alarm.public_id(), &entries)?);
        landed(store.write(ops).await, ClearOutcome::Cleared)
    })
    .await
}
