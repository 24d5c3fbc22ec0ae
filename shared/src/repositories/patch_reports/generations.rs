//! The generations of a report's items: written and deleted in concurrent
//! chunks, and tracked by a mark each until their items are gone, so that what
//! a crashed save left is found and collected by a later save.
//!
//! Tenant partition: `PATCH_REPORT_SAVE#{id}#{generation:020}`, a [`Mark`]
//! with the generation's item count. Its state moves only forward, each step
//! a write conditional on the version read:
//! - `Pending` (version 1): written before the first item, by the save;
//! - `Live`: the header names the generation (current or previous). Set in
//!   the transaction that switches the header to it, on condition the mark is
//!   still `Pending`, so a save taken for crashed can never switch to its
//!   half-collected items;
//! - `Dropped`: nothing names it any more. Set in the transaction that
//!   switches the header past it, by a save that lost to a newer report, or by
//!   a later save that finds it `Pending` for longer than
//!   [`PATCH_SAVE_ABANDONED_MS`] (the crashed save's);
//! - deleted once its items are, which [`collect`] does from the highest rank
//!   down, within a budget per save, recording what is left.
//!
//! Items of one generation have the dense keys `{generation:020}#{rank:010}`
//! for ranks `0..items`, so they are deleted by key, without reading them.

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::{Deserialize, Serialize};

use super::{generation_prefix, items_pk, rank_sk, WRITE_CHUNK};
use crate::domain::tenant::ProjectId;
use crate::limits::{PATCH_SAVE_ABANDONED_MS, PATCH_SAVE_MARKS_READ, PATCH_SAVE_WRITES_IN_FLIGHT};
use crate::ports::{Condition, Item, Order, PageQuery, Store, StoreError, WriteOp};
use crate::repositories::{decode, encode, tenant_pk};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum State {
    Pending,
    Live,
    Dropped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Mark {
    pub generation: u64,
    /// Items not yet deleted: ranks `0..items`.
    pub items: u64,
    pub started_at: i64,
    pub state: State,
}

/// A mark as read, with the version its next write is conditional on.
#[derive(Debug, Clone)]
pub(super) struct StoredMark {
    pub mark: Mark,
    pub version: u64,
}

fn marks_prefix(id: &str) -> String {
    format!("PATCH_REPORT_SAVE#{id}#")
}

fn mark_sk(id: &str, generation: u64) -> String {
    format!("{}{generation:020}", marks_prefix(id))
}

/// The write that moves a mark from `read` (`None`: a new mark) to `mark`.
pub(super) fn mark_op(
    project: &ProjectId,
    id: &str,
    read: Option<&StoredMark>,
    mark: &Mark,
) -> Result<WriteOp, StoreError> {
    let (condition, version) = match read {
        None => (Condition::NotExists, 1),
        Some(read) => (Condition::VersionIs(read.version), read.version + 1),
    };
    let item = Item::new(tenant_pk(project), mark_sk(id, mark.generation), encode(mark)?, version);
    Ok(WriteOp::Put { item, condition })
}

fn stored(item: &Item) -> Result<StoredMark, StoreError> {
    Ok(StoredMark { mark: decode(item)?, version: item.version })
}

pub(super) async fn get_mark(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
    generation: u64,
) -> Result<Option<StoredMark>, StoreError> {
    store.get(&tenant_pk(project), &mark_sk(id, generation)).await?.as_ref().map(stored).transpose()
}

/// Runs the writes (each at most 25 unconditional puts and deletes, written
/// each on its own: [`Store::write_each`]), [`PATCH_SAVE_WRITES_IN_FLIGHT`] at
/// a time. After a failure it starts no more, but lets those in flight end
/// (a request dropped half-way may still land, unknown to us), then returns it.
pub(super) async fn write_all(store: &dyn Store, writes: Vec<Vec<WriteOp>>) -> Result<(), StoreError> {
    let mut waiting = writes.into_iter();
    let mut in_flight = FuturesUnordered::new();
    let mut failure = None;
    loop {
        while failure.is_none() && in_flight.len() < PATCH_SAVE_WRITES_IN_FLIGHT {
            match waiting.next() {
                Some(ops) => in_flight.push(store.write_each(ops)),
                None => break,
            }
        }
        match in_flight.next().await {
            Some(Ok(())) => {}
            Some(Err(err)) => {
                failure.get_or_insert(err);
            }
            None => return failure.map_or(Ok(()), Err),
        }
    }
}

/// Deletes ranks `from..to` of a generation's items, by key.
async fn delete_ranks(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
    generation: u64,
    from: u64,
    to: u64,
) -> Result<(), StoreError> {
    let pk = items_pk(project, id);
    let keys: Vec<String> =
        (from..to).map(|rank| format!("{}{}", generation_prefix(generation), rank_sk(rank as usize))).collect();
    let writes = keys
        .chunks(WRITE_CHUNK)
        .map(|chunk| {
            chunk.iter().map(|sk| WriteOp::Delete { pk: pk.clone(), sk: sk.clone(), condition: Condition::Always })
        })
        .map(Iterator::collect)
        .collect();
    write_all(store, writes).await
}

/// Deletes every item of a generation that has no mark (saved before marks
/// were kept), reading their keys in bounded pages.
pub(super) async fn delete_unmarked(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
    generation: u64,
) -> Result<(), StoreError> {
    let pk = items_pk(project, id);
    let prefix = generation_prefix(generation);
    loop {
        let limit = WRITE_CHUNK * PATCH_SAVE_WRITES_IN_FLIGHT;
        let query = PageQuery { pk: &pk, prefix: &prefix, after: None, limit, order: Order::Ascending };
        let page = store.query_page(query).await?;
        let done = page.last_sk.is_none();
        let writes = page
            .items
            .chunks(WRITE_CHUNK)
            .map(|chunk| {
                chunk
                    .iter()
                    .map(|item| WriteOp::Delete {
                        pk: item.pk.clone(),
                        sk: item.sk.clone(),
                        condition: Condition::Always,
                    })
                    .collect()
            })
            .collect();
        write_all(store, writes).await?;
        if done {
            return Ok(());
        }
    }
}

/// Deletes the items of dropped generations of the report, and of those a
/// crashed save left `Pending` (dropping them first), oldest first, at most
/// `budget` items; returns how many it deleted. A generation cut short by the
/// budget keeps its mark, with what is left, for the next save.
pub(super) async fn collect(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
    now: i64,
    budget: usize,
) -> Result<usize, StoreError> {
    let pk = tenant_pk(project);
    let prefix = marks_prefix(id);
    let query =
        PageQuery { pk: &pk, prefix: &prefix, after: None, limit: PATCH_SAVE_MARKS_READ, order: Order::Ascending };
    let mut deleted = 0;
    for item in store.query_page(query).await?.items {
        let mut read = stored(&item)?;
        let abandoned = read.mark.state == State::Pending && read.mark.started_at < now - PATCH_SAVE_ABANDONED_MS;
        if abandoned {
            let dropped = Mark { state: State::Dropped, ..read.mark.clone() };
            match store.write(vec![mark_op(project, id, Some(&read), &dropped)?]).await {
                Ok(()) => read = StoredMark { mark: dropped, version: read.version + 1 },
                // Its save switched to it after all, or another save dropped it.
                Err(StoreError::ConditionFailed) => continue,
                Err(other) => return Err(other),
            }
            tracing::info!(report = id, generation = read.mark.generation, "collecting the items of a crashed save");
        }
        if read.mark.state != State::Dropped {
            continue;
        }
        let take = (read.mark.items as usize).min(budget - deleted) as u64;
        let left = read.mark.items - take;
        delete_ranks(store, project, id, read.mark.generation, left, read.mark.items).await?;
        deleted += take as usize;
        let op = if left == 0 {
            WriteOp::Delete { pk: pk.clone(), sk: item.sk.clone(), condition: Condition::VersionIs(read.version) }
        } else {
            mark_op(project, id, Some(&read), &Mark { items: left, ..read.mark.clone() })?
        };
        match store.write(vec![op]).await {
            // Another save collecting the same generation got there first.
            Ok(()) | Err(StoreError::ConditionFailed) => {}
            Err(other) => return Err(other),
        }
        if deleted == budget {
            break;
        }
    }
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::sqlite::{SqliteDb, SqliteStore};

    /// A generation larger than one save's budget is deleted over several
    /// saves, its mark counting down what is left, from the highest rank.
    #[tokio::test]
    async fn a_dropped_generation_beyond_the_budget_is_deleted_over_several_saves() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::new(SqliteDb::open_dir(dir.path()).unwrap());
        let (project, id) = (ProjectId::parse("p").unwrap(), "r");
        let item = |rank: usize| {
            let sk = format!("{}{}", generation_prefix(7), rank_sk(rank));
            WriteOp::Put { item: Item::new(items_pk(&project, id), sk, "{}".into(), 1), condition: Condition::Always }
        };
        write_all(&store, (0..60).map(|rank| vec![item(rank)]).collect()).await.unwrap();
        let mark = Mark { generation: 7, items: 60, started_at: 0, state: State::Dropped };
        store.write(vec![mark_op(&project, id, None, &mark).unwrap()]).await.unwrap();

        assert_eq!(collect(&store, &project, id, 0, 25).await.unwrap(), 25);
        let left = store.query_prefix(&items_pk(&project, id), "").await.unwrap();
        assert_eq!(left.len(), 35);
        assert_eq!(left.last().unwrap().sk, format!("{}{}", generation_prefix(7), rank_sk(34)));
        assert_eq!(get_mark(&store, &project, id, 7).await.unwrap().unwrap().mark.items, 35);

        assert_eq!(collect(&store, &project, id, 0, 100).await.unwrap(), 35);
        assert!(store.query_prefix(&items_pk(&project, id), "").await.unwrap().is_empty());
        assert!(get_mark(&store, &project, id, 7).await.unwrap().is_none());
    }
}
