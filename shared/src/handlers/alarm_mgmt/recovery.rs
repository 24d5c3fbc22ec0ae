//! The integration's auto-recovery rule: when an alarm clears (a report says
//! `ok`, Alertmanager says resolved, or a person clears it), its linked open
//! incident moves to resolved through the incident workflow, in the same
//! transaction as the clear.

use crate::app::App;
use crate::domain::alarm::manage::{recover_incident, HistoryEntry, HistoryKind, AUTO_RECOVERY};
use crate::domain::alarm::{Alarm, Integration};
use crate::ports::{StoreError, WriteOp};
use crate::repositories::incidents;

/// What the clear of `alarm` (already applied to it) does to its incident under
/// `integration`'s rule: the writes of the incident's conditional replace, for the clear's
/// transaction, with the alarm's history entry added to `entries`. Nothing when
/// the rule is off, nothing is linked, or the incident is past resolving.
pub async fn on_clear(
    app: &App,
    integration: &Integration,
    alarm: &mut Alarm,
    entries: &mut Vec<HistoryEntry>,
    now: i64,
) -> Result<Vec<WriteOp>, StoreError> {
    if !integration.auto_recover_incident {
        return Ok(Vec::new());
    }
    let Some(num) = alarm.incident_num.clone() else { return Ok(Vec::new()) };
    let project = &integration.project_id;
    let Some(current) = incidents::get_incident(app.store.as_ref(), project, &num).await? else {
        return Ok(Vec::new());
    };
    let mut incident = current.value.clone();
    if !recover_incident(&mut incident, &alarm.last.alarm_name, now) {
        return Ok(Vec::new());
    }
    alarm.actions += 1;
    entries
        .push(HistoryEntry::new(HistoryKind::IncidentRecovered, AUTO_RECOVERY, alarm.status, now).with_incident(&num));
    // Conditional on the incident read: a concurrent action on it makes the
    // whole clear try again against the incident's new state.
    incidents::replace_incident_ops(&incident, &current)
}
