//! `POST /v1/alarm-mgmt/alarms-linked-incident` (SDK
//! `transfer_alarm_to_incident`): links alarms to a new incident (opened with
//! the request's fields, source alarm) or, with our `incident_num`, to an open
//! one. One transaction: every alarm (conditional on the version read, which
//! the link bumps), its history entry, the new incident and its assignee's
//! notification, or the existing incident's `linkAlarms` history entry. Of racing transfers of one alarm, one lands; the others find
//! it linked and answer 409.

use crate::app::App;
use crate::domain::alarm::manage::{parse_alarm_ids, HistoryEntry, HistoryKind, TransferRequest};
use crate::domain::alarm::AlarmStatus;
use crate::domain::incident::{AlarmOrigin, Incident};
use crate::domain::tenant::Caller;
use crate::error::ApiError;
use crate::handlers::assignees;
use crate::handlers::retry::{landed, until_written};
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::limits;
use crate::notify::{templates, triggers};
use crate::repositories::alarms::{self, history, StoredAlarm};
use crate::repositories::incidents;

use super::not_found;

/// The public ids of the alarms of `read` that fire: the incident's firing alarms.
fn firing_ids(read: &[StoredAlarm]) -> impl Iterator<Item = String> + '_ {
    read.iter().filter(|a| a.value.status == AlarmStatus::Alarm).map(|a| a.value.public_id())
}

/// → `{"data": [incident_num]}`.
pub async fn transfer(app: &App, caller: &Caller, request: ApiRequest) -> Result<ApiResponse, ApiError> {
    let body: TransferRequest = request.json_body()?;
    let ids = parse_alarm_ids(body.alarm_ids.as_str(), limits::ALARM_TRANSFER_BATCH)
        .map_err(|problem| ApiError::invalid("alarm_ids", problem))?;
    let project = &caller.project_id;
    // Checked once: a new incident's fields and its assignee do not change between tries.
    let new = match &body.incident_num {
        Some(_) => None,
        None => {
            let new = body
                .new_incident(&caller.user_id, None)
                .map_err(|(field, problem)| ApiError::invalid(field, problem))?;
            if let Some(assignee) = new.incident_assignee.first() {
                assignees::require_engineer(app, project, "assignee", assignee).await?;
            }
            Some(new)
        }
    };
    let store = app.store.as_ref();
    let (incident_num, outgoing) = until_written("these alarms", || async {
        let now = app.clock.now_ms();
        let mut read: Vec<StoredAlarm> = Vec::with_capacity(ids.len());
        for id in &ids {
            let alarm = alarms::get_by_public_id(store, project, id).await?.ok_or_else(|| not_found(id))?;
            if let Some(linked) = &alarm.value.incident_num {
                let open = incidents::get_incident(store, project, linked).await?.is_some_and(|i| !i.value.is_closed());
                if open {
                    return Err(ApiError::Conflict(format!("alarm {id} is already linked to open incident {linked}")));
                }
            }
            read.push(alarm);
        }
        let mut ops = Vec::new();
        let mut outgoing = None;
        let incident_num = match (&body.incident_num, &new) {
            (Some(num), _) => {
                let target = incidents::get_incident(store, project, num.as_str())
                    .await?
                    .ok_or_else(|| ApiError::NotFound(format!("incident {num} does not exist")))?;
                if target.value.is_closed() {
                    return Err(ApiError::Conflict(format!(
                        "incident {num} is closed; link the alarms to an open one"
                    )));
                }
                // The link is in the incident's history too, conditional on the
                // incident read: an action on it in between makes this try again.
                let mut incident = target.value.clone();
                let linked: Vec<String> = read.iter().map(|a| a.value.public_id()).collect();
                incident.note_linked_alarms(&caller.user_id, &linked, now);
                if let Some(firing) = incident.firing_alarms.as_mut() {
                    firing.extend(firing_ids(&read));
                }
                ops.extend(incidents::replace_incident_ops(&incident, &target)?);
                num.to_string()
            }
            (None, Some(new)) => {
                let mut new = new.clone();
                new.start_time = read.iter().map(|a| a.value.first_seen).min();
                let warroom = new.region.first().map(|_| ids::warroom_id(now));
                let mut incident = Incident::create(new, ids::incident_num(now), warroom, project.clone(), now);
                let first = &read[0].value;
                incident.alarm = Some(AlarmOrigin {
                    integration_id: first.integration_id.clone(),
                    alarm_id: first.alarm_id.clone(),
                });
                incident.firing_alarms = Some(firing_ids(&read).collect());
                // Prepared per attempt: only the attempt whose write lands saves it.
                let message = templates::incident_created(app.public_url.as_deref(), &incident);
                let assignee = incident.incident_assignee.first().map(String::as_str);
                outgoing = triggers::to_engineer(app, project, assignee, message).await?;
                ops.extend(incidents::insert_incident_ops(&incident)?);
                incident.incident_num
            }
            (None, None) => return Err(ApiError::Internal("a transfer without an incident".into())),
        };
        for stored in &read {
            let mut alarm = stored.value.clone();
            alarm.incident_num = Some(incident_num.clone());
            alarm.actions += 1;
            let entry = HistoryEntry::new(HistoryKind::LinkedIncident, &caller.user_id, alarm.status, now)
                .with_incident(&incident_num);
            ops.extend(alarms::changed_ops(project, stored, &alarm, 0)?);
            ops.extend(history::entry_ops(project, &alarm.public_id(), &[entry])?);
        }
        let ops = triggers::with_notification(ops, outgoing.as_ref());
        landed(store.write(ops).await, (incident_num, outgoing))
    })
    .await?;
    triggers::dispatch_saved(app, outgoing.as_ref()).await;
    ApiResponse::data(vec![incident_num])
}
