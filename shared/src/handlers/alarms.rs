//! `POST /v1/event/huawei/custom/{integration_key}` (spec 4.4.2): alarm intake.
//! The key in the path is the credential. The same `ingest` runs behind the
//! SQS-triggered intake function.

use serde_json::{json, Value};

use crate::app::App;
use crate::domain::alarm::manage::{HistoryEntry, HistoryKind, MONITORING};
use crate::domain::alarm::{incident_for, opens_incident, Alarm, AlarmReport};
use crate::error::ApiError;
use crate::http::{ApiRequest, ApiResponse};
use crate::ids;
use crate::notify::{templates, triggers};
use crate::ports::StoreError;
use crate::repositories::{alarm_deliveries, alarms, incidents};

use super::alarm_mgmt::recovery;
use super::incidents::PROVIDER_CODE;

pub const SUCCESS: &str = "COC.00000000";
pub const BAD_REQUEST: &str = "COC.00000001";
pub const AUTH_FAILED: &str = "common.01010001";
/// A report's write fails only when another write changed what it read: a
/// first report beaten by another first report (it then repeats), or a relink
/// to a new incident (one per closing of the previous incident). Repeats never
/// fail each other, so a few tries are plenty; running out means the alarm's
/// incident is being closed and reopened faster than it can be read.
const WRITE_ATTEMPTS: usize = 8;

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
    /// Whether this report created the alarm.
    pub first: bool,
    /// The incident opened by this report, if it opened one.
    pub opened: Option<String>,
    /// A queue message taken before, delivered again: nothing was written.
    pub redelivered: bool,
}

impl Ingested {
    fn redelivery() -> Self {
        Ingested { first: false, opened: None, redelivered: true }
    }
}

/// Records one report: deduplicated by alarmId, `ok` clears, and an alarm at or
/// above the integration's level opens one incident, in the same write as the
/// alarm so that concurrent duplicates cannot open two. A duplicate is one
/// write that concurrent duplicates do not make fail ([`alarms`] tells how).
/// The alarm's history entries ride in the same write, and so does what the
/// integration's auto-recovery rule does to the incident of an alarm it clears
/// ([`super::alarm_mgmt::recovery`]).
pub async fn ingest(app: &App, key: &str, body: &Value) -> Result<Ingested, IntakeError> {
    record(app, key, body, None, ReportedState::AsReported).await
}

/// [`ingest`] for the report of queue message `message_id`, at most once per
/// message: a redelivery of one taken before writes nothing and answers
/// [`Ingested::redelivered`] ([`alarm_deliveries`] tells how).
pub async fn ingest_delivery(app: &App, key: &str, body: &Value, message_id: &str) -> Result<Ingested, IntakeError> {
    record(app, key, body, Some(message_id), ReportedState::AsReported).await
}

/// [`ingest_delivery`] of a report whose status counts as `state` says.
pub async fn ingest_delivery_as(
    app: &App,
    key: &str,
    body: &Value,
    message_id: &str,
    state: ReportedState,
) -> Result<Ingested, IntakeError> {
    record(app, key, body, Some(message_id), state).await
}

/// Whether a report's status and level count, or only that it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportedState {
    AsReported,
    /// The monitor does not know the state (CloudWatch's INSUFFICIENT_DATA):
    /// an occurrence that keeps the stored alarm's status and level, as read
    /// in the write's own attempt (so a concurrent change of state, which
    /// bumps the alarm's version, makes the attempt read again rather than be
    /// overwritten), and never opens an incident. An alarm never seen before
    /// takes the report's.
    KeepStored,
}

async fn record(
    app: &App,
    key: &str,
    body: &Value,
    message_id: Option<&str>,
    state: ReportedState,
) -> Result<Ingested, IntakeError> {
    let store = app.store.as_ref();
    let integration = incidents::integration_by_key(store, key).await?.ok_or(IntakeError::UnknownKey)?;
    let report = AlarmReport::parse(body).map_err(IntakeError::Invalid)?;
    let project = integration.project_id.clone();
    for _ in 0..WRITE_ATTEMPTS {
        let now = app.clock.now_ms();
        // Checked on every try: a concurrent delivery of the message may be
        // what made the last one fail.
        if let Some(message_id) = message_id {
            if alarm_deliveries::taken(store, &project, message_id).await?.is_some() {
                return Ok(Ingested::redelivery());
            }
        }
        let mark = message_id
            .map(|message_id| {
                let delivery = alarm_deliveries::Delivery {
                    message_id: message_id.to_owned(),
                    integration_id: integration.integration_id.clone(),
                    alarm_id: report.alarm_id.clone(),
                    taken_at: now,
                };
                alarm_deliveries::mark_op(&project, &delivery)
            })
            .transpose()?;
        let mark_written = mark.is_some();
        let read = alarms::get_alarm(store, &project, &integration.integration_id, &report.alarm_id).await?;
        let report = match (state, &read) {
            (ReportedState::KeepStored, Some(read)) => report.keeping_state_of(&read.value),
            _ => report.clone(),
        };
        // A new incident when the rule says so and the alarm has no open one.
        let mut needs_incident = state == ReportedState::AsReported && opens_incident(&integration, &report);
        if let (true, Some(num)) = (needs_incident, read.as_ref().and_then(|r| r.value.incident_num.as_ref())) {
            let linked = incidents::get_incident(store, &project, num).await?;
            needs_incident = linked.is_none_or(|i| i.value.is_closed());
        }
        let incident = if needs_incident {
            let warroom = report.region_id.as_ref().map(|_| ids::warroom_id(now));
            Some(
                incident_for(&integration, &report, ids::incident_num(now), warroom, now)
                    .map_err(IntakeError::Invalid)?,
            )
        } else {
            None
        };
        // The incident's assignee hears of it in the same write (prepared per
        // attempt: only the attempt that lands saves its notification).
        let outgoing = match &incident {
            Some(incident) => {
                let message = templates::alarm_opened_incident(app.public_url.as_deref(), incident, &report);
                let assignee = incident.incident_assignee.first().map(String::as_str);
                triggers::to_engineer(app, &project, assignee, message).await?
            }
            None => None,
        };
        // What the write carries besides the alarm and its incident.
        let also = triggers::with_notification(mark.into_iter().collect(), outgoing.as_ref());
        let linked = |mut alarm: Alarm, entries: &mut Vec<HistoryEntry>| {
            if let Some(incident) = &incident {
                alarm.incident_num = Some(incident.incident_num.clone());
                alarm.actions += 1;
                entries.push(
                    HistoryEntry::new(HistoryKind::LinkedIncident, MONITORING, alarm.status, now)
                        .with_incident(&incident.incident_num),
                );
            }
            alarm
        };
        let written = match &read {
            None => {
                let first = Alarm::first(&integration, report.clone(), now);
                let mut entries = vec![first.reported(now)];
                let alarm = linked(first, &mut entries);
                alarms::record_first(store, &project, &alarm, incident.as_ref(), &entries, also).await
            }
            Some(read) => {
                let mut alarm = read.value.clone();
                let kind = alarm.again(report.clone(), now);
                let mut entries = vec![HistoryEntry::new(kind, MONITORING, alarm.status, now)];
                let mut also = also;
                match kind {
                    // The linked incident's firing alarms and the integration's
                    // auto-recovery rule, in the same write.
                    HistoryKind::Cleared => also.extend(
                        recovery::on_clear(
                            app,
                            &project,
                            integration.auto_recover_incident,
                            &mut alarm,
                            &mut entries,
                            now,
                        )
                        .await?,
                    ),
                    HistoryKind::Reopened if incident.is_none() => {
                        also.extend(recovery::on_reopen(app, &project, &alarm).await?)
                    }
                    _ => {}
                }
                let alarm = linked(alarm, &mut entries);
                alarms::record_again(store, &project, read, &alarm, incident.as_ref(), &entries, also).await
            }
        };
        match written {
            Ok(()) => {
                if mark_written {
                    // Best effort: marks a failed cleanup leaves, the next take deletes.
                    if let Err(err) = alarm_deliveries::expire(store, &project, now).await {
                        tracing::warn!(error = %err, "could not delete expired alarm delivery marks");
                    }
                }
                triggers::dispatch_saved(app, outgoing.as_ref()).await;
                let opened = incident.map(|i| i.incident_num);
                return Ok(Ingested { first: read.is_none(), opened, redelivered: false });
            }
            // Another report changed what this one read (see WRITE_ATTEMPTS). A
            // failed condition is answered once the winner is stored, so reading
            // again at once sees it: no sleeping.
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(IntakeError::Contended)
}

pub(crate) fn answer(status: http::StatusCode, code: &str, message: &str) -> ApiResponse {
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
    Ok(match ingest(app, key, &body).await {
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
