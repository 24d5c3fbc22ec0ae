//! Alarms in the table, deduplicated by their id.
//!
//! Tenant partition `PROJECT#{project}`: `ALARM#{integration_id}#{alarm_id}`,
//! one item per alarm, and the count `COUNT#ALARM#{integration_id}` of an
//! integration's alarms, added to in the transaction that creates one.
//! Index `List`: an integration's alarms under `PROJECT#{project}#ALARM#{integration_id}`,
//! sort key `{last_seen:013}#{alarm_id}` (read newest first, moved by every report).
//!
//! How concurrent reports of one alarm all land in one write each:
//! - the occurrences are the item's tally ([`WriteOp::Tally`]), which every
//!   report adds one to, so no report's count depends on having read another's;
//! - the item's version changes only when its incident link does. A repeat is
//!   conditional on the version it read and keeps it, so repeats never fail
//!   each other, and a repeat that read the link before a concurrent relink
//!   fails instead of writing the old link back;
//! - the first report creates the item (exactly one winner: the loser reads
//!   the winner and repeats), and a relink bumps the version (exactly one of
//!   concurrent ones opens the incident).
//!
//! The document keeps the latest report (last writer wins among concurrent
//! repeats). Its `occurrences` is what a version before tallies counted: that
//! base never changes, and an alarm's occurrences are base plus tally.

use super::incidents::insert_incident_ops;
use super::listing::{self, count_key, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk};
use crate::domain::alarm::Alarm;
use crate::domain::incident::Incident;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};

fn alarm_sk(integration_id: &str, alarm_id: &str) -> String {
    format!("ALARM#{integration_id}#{alarm_id}")
}

fn alarm_list_pk(project: &ProjectId, integration_id: &str) -> String {
    format!("{}#ALARM#{integration_id}", tenant_pk(project))
}

fn alarm_count(integration_id: &str) -> String {
    count_key(&["ALARM", integration_id])
}

/// An alarm as read, with what a write over it must keep.
#[derive(Debug, Clone)]
pub struct StoredAlarm {
    /// The alarm, its `occurrences` every report so far.
    pub value: Alarm,
    /// The version of its incident link.
    pub version: u64,
    /// Occurrences counted in the document (by a version before tallies).
    base: u64,
}

fn stored(item: &Item) -> Result<StoredAlarm, StoreError> {
    let mut value: Alarm = decode(item)?;
    let base = value.occurrences;
    value.occurrences = base + item.tally.max(0) as u64;
    Ok(StoredAlarm { value, version: item.version, base })
}

/// The alarm's item, its document holding `base` as the occurrences.
fn alarm_item(project: &ProjectId, alarm: &Alarm, base: u64, version: u64) -> Result<Item, StoreError> {
    let document = Alarm { occurrences: base, ..alarm.clone() };
    Ok(Item::new(tenant_pk(project), alarm_sk(&alarm.integration_id, &alarm.alarm_id), encode(&document)?, version)
        .indexed(
            Index::List,
            alarm_list_pk(project, &alarm.integration_id),
            format!("{:013}#{}", alarm.last_seen, alarm.alarm_id),
        ))
}

pub async fn get_alarm(
    store: &dyn Store,
    project: &ProjectId,
    integration_id: &str,
    alarm_id: &str,
) -> Result<Option<StoredAlarm>, StoreError> {
    store.get(&tenant_pk(project), &alarm_sk(integration_id, alarm_id)).await?.as_ref().map(stored).transpose()
}

/// Creates the alarm of a first report, counted once among the integration's
/// alarms, with the incident it opens, if any, and `also` (what the write
/// carries besides: the incident's notification, a queue delivery's mark,
/// [`super::alarm_deliveries::mark_op`]): all or nothing.
/// `ConditionFailed`: another report of it was first (or the mark's message
/// was taken).
pub async fn record_first(
    store: &dyn Store,
    project: &ProjectId,
    alarm: &Alarm,
    incident: Option<&Incident>,
    also: Vec<WriteOp>,
) -> Result<(), StoreError> {
    let item = alarm_item(project, alarm, 0, 1)?;
    let mut ops = vec![
        WriteOp::Tally { item, condition: Condition::NotExists, delta: 1 },
        WriteOp::Add { pk: tenant_pk(project), sk: alarm_count(&alarm.integration_id), delta: 1 },
    ];
    if let Some(incident) = incident {
        ops.extend(insert_incident_ops(incident)?);
    }
    ops.extend(also);
    store.write(ops).await
}

/// Records one more report of a stored alarm: `alarm` is `read` with the
/// report applied. Without an incident, one write that concurrent repeats do
/// not disturb; with one (the alarm's link changes to it), one write that
/// exactly one of concurrent relinks wins; `also` as in [`record_first`].
/// `ConditionFailed`: the link changed since `read` (or the mark's message was
/// taken).
pub async fn record_again(
    store: &dyn Store,
    project: &ProjectId,
    read: &StoredAlarm,
    alarm: &Alarm,
    incident: Option<&Incident>,
    also: Vec<WriteOp>,
) -> Result<(), StoreError> {
    let condition = Condition::VersionIs(read.version);
    let mut ops = match incident {
        None => {
            let item = alarm_item(project, alarm, read.base, read.version)?;
            vec![WriteOp::Tally { item, condition, delta: 1 }]
        }
        Some(incident) => {
            let item = alarm_item(project, alarm, read.base, read.version + 1)?;
            let mut ops = vec![WriteOp::Tally { item, condition, delta: 1 }];
            ops.extend(insert_incident_ops(incident)?);
            ops
        }
    };
    ops.extend(also);
    store.write(ops).await
}

/// At most `limit` alarms of an integration after the index key `after`,
/// the most recently reported first.
pub async fn list_alarms(
    store: &dyn Store,
    project: &ProjectId,
    integration_id: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Listed<Alarm>, StoreError> {
    let pk = alarm_list_pk(project, integration_id);
    let walk = Walk { index: Index::List, pk: &pk, after, order: Order::Descending };
    listing::page(store, walk, limit, false, |item| stored(item).map(|s| s.value), |_| Verdict::Keep).await
}

/// How many distinct alarms an integration has received.
pub async fn count_alarms(store: &dyn Store, project: &ProjectId, integration_id: &str) -> Result<usize, StoreError> {
    Ok(store.counter(&tenant_pk(project), &alarm_count(integration_id)).await?.max(0) as usize)
}
