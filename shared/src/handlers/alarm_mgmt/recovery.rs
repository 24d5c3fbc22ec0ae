//! The integration's auto-recovery rule: when an alarm clears (a report says
//! `ok`, Alertmanager says resolved, or a person clears it), its linked open
//! incident moves to resolved through the incident workflow, in the same
//! transaction as the clear, once no other linked alarm fires.
//!
//! The incident keeps which of its linked alarms fire (`firing_alarms`): a
//! clear takes its alarm out and a reopening puts it back, each in a write of
//! the incident conditional on the version read. So of two alarms clearing at
//! once, one takes itself out first; the other's write then fails, it reads
//! the incident again, finds itself the last, and resolves it: once.

use crate::app::App;
use crate::domain::alarm::manage::{recover_incident, HistoryEntry, HistoryKind, AUTO_RECOVERY};
use crate::domain::alarm::Alarm;
use crate::domain::tenant::ProjectId;
use crate::ports::{StoreError, WriteOp};
use crate::repositories::incidents;

/// What the clear of `alarm` (already applied to it) does to its linked
/// incident: takes it out of the incident's firing alarms and, when
/// `auto_recover` (the rule of the alarm's integration) and no other linked
/// alarm fires, resolves it, with the alarm's history entry added to
/// `entries`. The writes are the incident's conditional replace, for the
/// clear's transaction; nothing when nothing is linked, the incident is over,
/// or it has nothing to change.
pub async fn on_clear(
    app: &App,
    project: &ProjectId,
    auto_recover: bool,
    alarm: &mut Alarm,
    entries: &mut Vec<HistoryEntry>,
    now: i64,
) -> Result<Vec<WriteOp>, StoreError> {
    let Some(num) = alarm.incident_num.clone() else { return Ok(Vec::new()) };
    let Some(current) = incidents::get_incident(app.store.as_ref(), project, &num).await? else {
        return Ok(Vec::new());
    };
    let mut incident = current.value.clone();
    if incident.is_closed() {
        return Ok(Vec::new());
    }
    let taken_out = incident.firing_alarms.as_mut().is_some_and(|firing| firing.remove(&alarm.public_id()));
    let others_fire = incident.firing_alarms.as_ref().is_some_and(|firing| !firing.is_empty());
    let recovered = auto_recover && !others_fire && recover_incident(&mut incident, &alarm.last.alarm_name, now);
    if recovered {
        alarm.actions += 1;
        entries.push(
            HistoryEntry::new(HistoryKind::IncidentRecovered, AUTO_RECOVERY, alarm.status, now).with_incident(&num),
        );
    }
    if !recovered && !taken_out {
        return Ok(Vec::new());
    }
    // Conditional on the incident read: a concurrent action on it, or another
    // linked alarm's clear, makes the whole clear try again against its new state.
    incidents::replace_incident_ops(&incident, &current)
}

/// What a linked alarm firing again does to its incident: back among its
/// firing alarms (so another alarm's clear does not resolve it), in the
/// report's transaction. Nothing when the incident is over or not kept so.
pub async fn on_reopen(app: &App, project: &ProjectId, alarm: &Alarm) -> Result<Vec<WriteOp>, StoreError> {
    let Some(num) = alarm.incident_num.as_deref() else { return Ok(Vec::new()) };
    let Some(current) = incidents::get_incident(app.store.as_ref(), project, num).await? else {
        return Ok(Vec::new());
    };
    let mut incident = current.value.clone();
    if incident.is_closed() || !incident.firing_alarms.as_mut().is_some_and(|f| f.insert(alarm.public_id())) {
        return Ok(Vec::new());
    }
    incidents::replace_incident_ops(&incident, &current)
}
