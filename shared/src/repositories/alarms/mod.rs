//! Alarms in the table, deduplicated by their id.
//!
//! Tenant partition `PROJECT#{project}`: `ALARM#{integration_id}#{alarm_id}`,
//! one item per alarm; `ALARM_ID#{public_id}`, which alarm a public id names
//! (written with the alarm); the counts `COUNT#ALARM#{integration_id}` of an
//! integration's alarms and `COUNT#ALARMS` of the tenant's, added to in the
//! transaction that creates one, and `COUNT#ALARMS#STATE#{alarm|ok}`, moved in
//! the transaction that changes an alarm's state. History: [`history`].
//! Index `List`: an integration's alarms under `PROJECT#{project}#ALARM#{integration_id}`,
//! sort key `{last_seen:013}#{alarm_id}` (read newest first, moved by every report).
//! Index `Filter`: the tenant's alarms under `PROJECT#{project}#ALARMS`, sort
//! key `{last_seen:013}#{integration_id}#{alarm_id}` (the console's list).
//!
//! How concurrent reports of one alarm all land in one write each:
//! - the occurrences are the item's tally ([`WriteOp::Tally`]), which every
//!   report adds one to, so no report's count depends on having read another's;
//! - the item's version changes only when its incident link or its state
//!   (firing, cleared) does, or a person acts on it. A repeat is conditional on
//!   the version it read and keeps it, so repeats never fail each other, and a
//!   repeat that read the alarm before a concurrent relink, clear or transfer
//!   fails instead of writing the old alarm back;
//! - the first report creates the item (exactly one winner: the loser reads
//!   the winner and repeats), and a relink or a change of state bumps the
//!   version (exactly one of concurrent ones opens the incident, moves the
//!   state counts, or clears it).
//!
//! The document keeps the latest report (last writer wins among concurrent
//! repeats). Its `occurrences` is what a version before tallies counted: that
//! base never changes, and an alarm's occurrences are base plus tally.

pub mod history;

use serde::{Deserialize, Serialize};

use super::incidents::insert_incident_ops;
use super::listing::{self, count_key, key_name, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk};
use crate::domain::alarm::manage::HistoryEntry;
use crate::domain::alarm::{Alarm, AlarmStatus};
use crate::domain::incident::Incident;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};

fn alarm_sk(integration_id: &str, alarm_id: &str) -> String {
    format!("ALARM#{integration_id}#{alarm_id}")
}

fn alarm_list_pk(project: &ProjectId, integration_id: &str) -> String {
    format!("{}#ALARM#{integration_id}", tenant_pk(project))
}

fn tenant_list_pk(project: &ProjectId) -> String {
    format!("{}#ALARMS", tenant_pk(project))
}

fn alarm_count(integration_id: &str) -> String {
    count_key(&["ALARM", integration_id])
}

fn tenant_count() -> String {
    count_key(&["ALARMS"])
}

fn state_count(status: AlarmStatus) -> String {
    count_key(&["ALARMS", "STATE", &key_name(&status)])
}

fn pointer_sk(public_id: &str) -> String {
    format!("ALARM_ID#{public_id}")
}

/// What a public id names.
#[derive(Serialize, Deserialize)]
struct Pointer {
    integration_id: String,
    alarm_id: String,
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
    /// Stored before the tenant-wide list: not in it, not counted in the
    /// tenant's counts, no public id pointer. The next write that bumps the
    /// version adds all three (exactly once: concurrent ones conflict).
    legacy: bool,
}

fn stored(item: &Item) -> Result<StoredAlarm, StoreError> {
    let mut value: Alarm = decode(item)?;
    let base = value.occurrences;
    value.occurrences = base + item.tally.max(0) as u64;
    Ok(StoredAlarm { value, version: item.version, base, legacy: item.filter_key.is_none() })
}

/// The alarm's item, its document holding `base` as the occurrences.
fn alarm_item(project: &ProjectId, alarm: &Alarm, base: u64, version: u64) -> Result<Item, StoreError> {
    let document = Alarm { occurrences: base, ..alarm.clone() };
    Ok(Item::new(tenant_pk(project), alarm_sk(&alarm.integration_id, &alarm.alarm_id), encode(&document)?, version)
        .indexed(
            Index::List,
            alarm_list_pk(project, &alarm.integration_id),
            format!("{:013}#{}", alarm.last_seen, alarm.alarm_id),
        )
        .indexed(
            Index::Filter,
            tenant_list_pk(project),
            format!("{:013}#{}#{}", alarm.last_seen, alarm.integration_id, alarm.alarm_id),
        ))
}

fn pointer_op(project: &ProjectId, alarm: &Alarm) -> Result<WriteOp, StoreError> {
    let pointer = Pointer { integration_id: alarm.integration_id.clone(), alarm_id: alarm.alarm_id.clone() };
    let item = Item::new(tenant_pk(project), pointer_sk(&alarm.public_id()), encode(&pointer)?, 1);
    Ok(WriteOp::Put { item, condition: Condition::Always })
}

/// The tenant-wide counts of a new alarm (or a legacy one entering the list).
fn counted_ops(project: &ProjectId, status: AlarmStatus) -> Vec<WriteOp> {
    vec![
        WriteOp::Add { pk: tenant_pk(project), sk: tenant_count(), delta: 1 },
        WriteOp::Add { pk: tenant_pk(project), sk: state_count(status), delta: 1 },
    ]
}

pub async fn get_alarm(
    store: &dyn Store,
    project: &ProjectId,
    integration_id: &str,
    alarm_id: &str,
) -> Result<Option<StoredAlarm>, StoreError> {
    store.get(&tenant_pk(project), &alarm_sk(integration_id, alarm_id)).await?.as_ref().map(stored).transpose()
}

/// The alarm a public id names, in the tenant (`None` in any other tenant).
pub async fn get_by_public_id(
    store: &dyn Store,
    project: &ProjectId,
    public_id: &str,
) -> Result<Option<StoredAlarm>, StoreError> {
    let Some(item) = store.get(&tenant_pk(project), &pointer_sk(public_id)).await? else { return Ok(None) };
    let pointer: Pointer = decode(&item)?;
    get_alarm(store, project, &pointer.integration_id, &pointer.alarm_id).await
}

/// Creates the alarm of a first report, counted once among the integration's
/// and the tenant's alarms, with its history entries, the incident it opens,
/// if any, and `also` (what the write carries besides: the incident's
/// notification, a queue delivery's mark, [`super::alarm_deliveries::mark_op`]):
/// all or nothing.
/// `ConditionFailed`: another report of it was first (or the mark's message
/// was taken).
pub async fn record_first(
    store: &dyn Store,
    project: &ProjectId,
    alarm: &Alarm,
    incident: Option<&Incident>,
    entries: &[HistoryEntry],
    also: Vec<WriteOp>,
) -> Result<(), StoreError> {
    let item = alarm_item(project, alarm, 0, 1)?;
    let mut ops = vec![
        WriteOp::Tally { item, condition: Condition::NotExists, delta: 1 },
        WriteOp::Add { pk: tenant_pk(project), sk: alarm_count(&alarm.integration_id), delta: 1 },
        pointer_op(project, alarm)?,
    ];
    ops.extend(counted_ops(project, alarm.status));
    if let Some(incident) = incident {
        ops.extend(insert_incident_ops(incident)?);
    }
    ops.extend(history::entry_ops(project, &alarm.public_id(), entries)?);
    ops.extend(also);
    store.write(ops).await
}

/// Records one more report of a stored alarm: `alarm` is `read` with the
/// report applied. When neither its incident link nor its state changes, one
/// write that concurrent repeats do not disturb; otherwise one write that
/// exactly one of concurrent changes wins ([`changed_ops`]); `entries` its
/// history, `also` as in [`record_first`].
/// `ConditionFailed`: the alarm changed since `read` (or the mark's message was
/// taken).
#[allow(clippy::too_many_arguments)]
pub async fn record_again(
    store: &dyn Store,
    project: &ProjectId,
    read: &StoredAlarm,
    alarm: &Alarm,
    incident: Option<&Incident>,
    entries: &[HistoryEntry],
    also: Vec<WriteOp>,
) -> Result<(), StoreError> {
    let changes = incident.is_some() || alarm.status != read.value.status || read.legacy;
    let mut ops = if changes {
        changed_ops(project, read, alarm, 1)?
    } else {
        let item = alarm_item(project, alarm, read.base, read.version)?;
        vec![WriteOp::Tally { item, condition: Condition::VersionIs(read.version), delta: 1 }]
    };
    if let Some(incident) = incident {
        ops.extend(insert_incident_ops(incident)?);
    }
    ops.extend(history::entry_ops(project, &alarm.public_id(), entries)?);
    ops.extend(also);
    store.write(ops).await
}

/// The writes that replace `read` with `alarm` under a new version (so exactly
/// one of concurrent changes lands), adding `reports` to its occurrences:
/// the alarm, the state counts moved when its state changed, and what a legacy
/// alarm lacks (its pointer, its place in the tenant's counts).
pub fn changed_ops(
    project: &ProjectId,
    read: &StoredAlarm,
    alarm: &Alarm,
    reports: i64,
) -> Result<Vec<WriteOp>, StoreError> {
    let mut alarm = alarm.clone();
    if read.legacy {
        // Its earlier reports have no history entries.
        alarm.actions -= read.value.occurrences as i64;
    }
    let alarm = &alarm;
    let item = alarm_item(project, alarm, read.base, read.version + 1)?;
    let mut ops = vec![WriteOp::Tally { item, condition: Condition::VersionIs(read.version), delta: reports }];
    if read.legacy {
        ops.push(pointer_op(project, alarm)?);
        ops.extend(counted_ops(project, alarm.status));
    } else if alarm.status != read.value.status {
        ops.push(WriteOp::Add { pk: tenant_pk(project), sk: state_count(read.value.status), delta: -1 });
        ops.push(WriteOp::Add { pk: tenant_pk(project), sk: state_count(alarm.status), delta: 1 });
    }
    Ok(ops)
}

/// Where the tenant's alarms are, for `coc-admin reindex` (not the pointers
/// `ALARM_ID#` nor the histories `ALARM_HISTORY#`, whose keys go on otherwise).
pub(crate) const ITEM_PREFIX: &str = "ALARM#";

/// `coc-admin reindex`: an alarm stored before public ids and the tenant-wide
/// list gets its `ALARM_ID#` pointer, its place in the tenant's list and its
/// counts, as its next report would give them (conditional on the version
/// read, so a report in between wins). `None` for an alarm that has them.
pub(crate) fn reindex_ops(project: &ProjectId, item: &Item) -> Result<Option<Vec<WriteOp>>, StoreError> {
    let read = stored(item)?;
    if !read.legacy {
        return Ok(None);
    }
    changed_ops(project, &read, &read.value, 0).map(Some)
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

/// Where the console's list walks: the tenant's alarms, or one integration's,
/// the most recently reported first.
pub fn tenant_walk_pk(project: &ProjectId, integration_id: Option<&str>) -> (Index, String) {
    match integration_id {
        Some(id) => (Index::List, alarm_list_pk(project, id)),
        None => (Index::Filter, tenant_list_pk(project)),
    }
}

/// A page of the console's list: the walk of [`tenant_walk_pk`] after `after`,
/// the rows `judge` keeps (`filtered`: whether it may discard any).
pub async fn list_tenant_alarms(
    store: &dyn Store,
    walk: Walk<'_>,
    limit: usize,
    filtered: bool,
    judge: impl Fn(&Alarm) -> Verdict,
) -> Result<Listed<Alarm>, StoreError> {
    listing::page(store, walk, limit, filtered, |item| stored(item).map(|s| s.value), judge).await
}

/// The bounded count of the console's list under filters no counter answers.
pub async fn count_tenant_alarms(
    store: &dyn Store,
    walk: Walk<'_>,
    judge: impl Fn(&Alarm) -> Verdict,
) -> Result<listing::Counted, StoreError> {
    listing::count(store, walk, |item| stored(item).map(|s| s.value), judge).await
}

/// How many alarms the tenant has, of one state or all.
pub async fn count_tenant(
    store: &dyn Store,
    project: &ProjectId,
    status: Option<AlarmStatus>,
) -> Result<i64, StoreError> {
    let key = status.map_or_else(tenant_count, state_count);
    Ok(store.counter(&tenant_pk(project), &key).await?.max(0))
}
