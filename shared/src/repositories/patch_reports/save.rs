//! Saving a report: the new generation's items, then the header switched to
//! them in one conditional write, then what dropped out deleted.

use crate::clock::now_ms;
use crate::domain::patch::report::summarize;
use crate::domain::patch::{ComplianceItem, InstanceCompliant};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::limits::PATCH_SAVE_DELETES;
use crate::ports::{Condition, Store, StoreError, WriteOp};
use crate::repositories::{tenant_pk, versioned, Versioned};

use super::generations::{self, Mark, State, StoredMark};
use super::{
    count_ops, generation_items, header_item, report_id, report_sk, StoredReport, FLIP_ATTEMPTS, GENERATION_COUNTER,
    WRITE_CHUNK,
};

/// Replaces the report of (`report.instance_id`, `report.baseline_id`) with
/// this one and its items; readers see the old report or the new one, whole.
/// Of two saves of one report the one with the later `report_time` wins,
/// whichever finishes last. The report's id, summaries and item count are
/// those of `items` (the id is [`report_id`]).
pub async fn save(
    store: &dyn Store,
    project: &ProjectId,
    report: &InstanceCompliant,
    items: &[ComplianceItem],
) -> Result<(), ApiError> {
    save_at(store, project, report, items, now_ms()).await
}

/// [`save`] at time `now`, which tells how old other saves' unfinished
/// generations are (a test's clock may move).
pub async fn save_at(
    store: &dyn Store,
    project: &ProjectId,
    report: &InstanceCompliant,
    items: &[ComplianceItem],
    now: i64,
) -> Result<(), ApiError> {
    let mut report = report.clone();
    report.id = report_id(&report.instance_id, &report.baseline_id);
    report.summaries = summarize(items);
    report.item_count = items.len() as u64;
    let id = report.id.clone();
    let generation = store.increment(&tenant_pk(project), &format!("{GENERATION_COUNTER}{id}")).await?;
    let (records, status_counts) = generation_items(project, &id, generation, items)?;

    // The mark first: from here on a crash leaves nothing a later save cannot find.
    let pending = Mark { generation, items: records.len() as u64, started_at: now, state: State::Pending };
    store.write(vec![generations::mark_op(project, &id, None, &pending)?]).await?;
    let mine = StoredMark { mark: pending, version: 1 };
    // Items are invisible until the header names their generation: no order among their writes.
    let mut puts = records.into_iter().map(|item| WriteOp::Put { item, condition: Condition::Always }).peekable();
    let mut writes = Vec::new();
    while puts.peek().is_some() {
        writes.push(puts.by_ref().take(WRITE_CHUNK).collect());
    }
    generations::write_all(store, writes).await?;

    let mut stored = StoredReport { report, status_counts, generation, previous_generation: None };
    for _ in 0..FLIP_ATTEMPTS {
        let current: Option<Versioned<StoredReport>> =
            versioned(store.get(&tenant_pk(project), &report_sk(&id)).await?)?;
        let (condition, version) = match &current {
            None => (Condition::NotExists, 1),
            Some(current) => {
                let theirs = (current.value.report.report_time, current.value.generation);
                if theirs > (stored.report.report_time, generation) {
                    // A newer report is in place: ours is history already.
                    let dropped = Mark { state: State::Dropped, ..mine.mark.clone() };
                    match store.write(vec![generations::mark_op(project, &id, Some(&mine), &dropped)?]).await {
                        Ok(()) | Err(StoreError::ConditionFailed) => {}
                        Err(other) => return Err(other.into()),
                    }
                    clean_up(store, project, &id, None, now).await;
                    return Ok(());
                }
                (Condition::VersionIs(current.version), current.version + 1)
            }
        };
        stored.previous_generation = current.as_ref().map(|c| c.value.generation);
        // The generation two saves old drops out of the header.
        let stale = current.as_ref().and_then(|c| c.value.previous_generation);
        let stale_mark = match stale {
            Some(stale) => generations::get_mark(store, project, &id, stale).await?,
            None => None,
        };
        let mut ops = vec![WriteOp::Put { item: header_item(project, &stored, version)?, condition }];
        ops.extend(count_ops(project, current.as_ref().map(|c| &c.value.report), &stored.report));
        let live = Mark { state: State::Live, ..mine.mark.clone() };
        ops.push(generations::mark_op(project, &id, Some(&mine), &live)?);
        if let Some(read) = &stale_mark {
            let dropped = Mark { state: State::Dropped, ..read.mark.clone() };
            ops.push(generations::mark_op(project, &id, Some(read), &dropped)?);
        }
        match store.write(ops).await {
            Ok(()) => {
                let unmarked = stale.filter(|_| stale_mark.is_none());
                clean_up(store, project, &id, unmarked, now).await;
                return Ok(());
            }
            Err(StoreError::ConditionFailed) => {
                let still_mine = generations::get_mark(store, project, &id, generation).await?;
                if still_mine.is_none_or(|m| m.version != mine.version) {
                    return Err(ApiError::Internal(format!(
                        "the save of report {id} took so long that a later save collected its items"
                    )));
                }
                continue;
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Internal(format!("the report {id} kept changing while it was saved")))
}

/// Deletes what dropped out of the report (`unmarked`: a generation saved
/// before marks were kept) and what crashed saves left, within
/// [`PATCH_SAVE_DELETES`]. The report is saved already: a failure here only
/// leaves items for the next save to collect, so it is logged, not returned.
async fn clean_up(store: &dyn Store, project: &ProjectId, id: &str, unmarked: Option<u64>, now: i64) {
    if let Some(generation) = unmarked {
        if let Err(err) = generations::delete_unmarked(store, project, id, generation).await {
            tracing::warn!(report = id, generation, error = %err, "could not delete a generation that dropped out");
        }
    }
    if let Err(err) = generations::collect(store, project, id, now, PATCH_SAVE_DELETES).await {
        tracing::warn!(report = id, error = %err, "could not collect the report's dropped generations");
    }
}
