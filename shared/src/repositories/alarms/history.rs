//! An alarm's history in the table: tenant partition `PROJECT#{project}`, one
//! item per entry at `ALARM_HISTORY#{public_id}#{time:013}#{random}`, written
//! in the transaction of what it records (so there is no entry of a change
//! that did not land, nor a change without one). After the time, the entry's
//! place in its write (so one write's entries keep their order) and a random
//! suffix, which keeps entries of concurrent repeats in one millisecond apart.
//!
//! How many entries an alarm has is known without reading them: one per report
//! (its occurrences) plus the alarm's count of the others ([`Alarm::actions`]),
//! which only version-bumping writes add to.

use super::super::{decode, encode, tenant_pk};
use crate::domain::alarm::manage::HistoryEntry;
use crate::domain::alarm::Alarm;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Order, PageQuery, Store, StoreError, WriteOp};

fn history_prefix(public_id: &str) -> String {
    format!("ALARM_HISTORY#{public_id}#")
}

/// The puts of `entries`, for the transaction of what they record.
pub fn entry_ops(project: &ProjectId, public_id: &str, entries: &[HistoryEntry]) -> Result<Vec<WriteOp>, StoreError> {
    entries
        .iter()
        .enumerate()
        .map(|(n, entry)| {
            // The place in the write keeps one write's entries of one millisecond in order.
            let random = uuid::Uuid::new_v4().simple().to_string();
            let sk = format!("{}{:013}#{n:02}{}", history_prefix(public_id), entry.time, &random[..12]);
            let item = Item::new(tenant_pk(project), sk, encode(entry)?, 1);
            Ok(WriteOp::Put { item, condition: Condition::NotExists })
        })
        .collect()
}

/// How many entries the alarm's history holds.
pub fn count(alarm: &Alarm) -> u64 {
    (alarm.occurrences as i64 + alarm.actions).max(0) as u64
}

/// Entries `offset..offset + limit` of the history, the latest first. A range
/// read of at most `offset + limit` entries (both bounded in
/// [`crate::limits`]): the entries skipped are read, the rest never.
pub async fn page(
    store: &dyn Store,
    project: &ProjectId,
    public_id: &str,
    offset: usize,
    limit: usize,
) -> Result<Vec<HistoryEntry>, StoreError> {
    let pk = tenant_pk(project);
    let prefix = history_prefix(public_id);
    let query = PageQuery { pk: &pk, prefix: &prefix, after: None, limit: offset + limit, order: Order::Descending };
    let read = store.query_page(query).await?;
    read.items.iter().skip(offset).map(decode).collect()
}
