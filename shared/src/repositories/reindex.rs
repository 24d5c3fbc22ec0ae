//! `coc-admin reindex`: lists read indexes and counters, which records written
//! by versions before them lack, so lists skip those records. This walks a
//! tenant's scripts, tickets, incidents, alarms and agents once, by primary key in bounded pages, and
//! gives each record without index keys its keys and its counts, in one
//! transaction per record. Records with keys are left alone, so a second run
//! changes nothing, and of two concurrent runs (or a run and an edit) only
//! one writes a record: the write is conditional on the version read.

use serde::Serialize;

use super::{alarms, incidents, jobs, scripts, tenant_pk};
use crate::domain::tenant::ProjectId;
use crate::ports::{Item, Order, PageQuery, Store, StoreError, WriteOp};

/// Records read per page of the walk.
const PAGE: usize = 100;
/// How often a record that changed under the run is read again.
const ATTEMPTS: usize = 5;

/// What a run found and fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Reindexed {
    pub scripts_read: usize,
    pub scripts_indexed: usize,
    pub tickets_read: usize,
    pub tickets_indexed: usize,
    /// Incidents saved before their status index, assignee copies, counts and
    /// history items: saved again in that layout.
    pub incidents_read: usize,
    pub incidents_indexed: usize,
    /// Alarms stored before public ids and the tenant-wide list: given their
    /// `AL…` pointer, their place in that list and the tenant's counts.
    pub alarms_read: usize,
    pub alarms_indexed: usize,
    /// Agents registered before `COUNT#AGENT`: counted.
    pub agents_read: usize,
    pub agents_indexed: usize,
}

/// Gives the tenant's scripts, tickets and incidents their missing index keys and counts.
pub async fn reindex(store: &dyn Store, project: &ProjectId) -> Result<Reindexed, StoreError> {
    let (scripts_read, scripts_indexed) = walk(store, project, scripts::ITEM_PREFIX, scripts::reindex_ops).await?;
    let (tickets_read, tickets_indexed) = walk(store, project, jobs::ORDER_PREFIX, jobs::order_reindex_ops).await?;
    let (incidents_read, incidents_indexed) =
        walk(store, project, incidents::ITEM_PREFIX, incidents::reindex_ops).await?;
    let (alarms_read, alarms_indexed) =
        walk(store, project, alarms::ITEM_PREFIX, |item| alarms::reindex_ops(project, item)).await?;
    let (agents_read, agents_indexed) = walk(store, project, jobs::AGENT_PREFIX, jobs::agent_reindex_ops).await?;
    Ok(Reindexed {
        scripts_read,
        scripts_indexed,
        tickets_read,
        tickets_indexed,
        incidents_read,
        incidents_indexed,
        alarms_read,
        alarms_indexed,
        agents_read,
        agents_indexed,
    })
}

/// Walks the records under `prefix`; returns (records read, records indexed).
async fn walk(
    store: &dyn Store,
    project: &ProjectId,
    prefix: &str,
    ops_of: impl Fn(&Item) -> Result<Option<Vec<WriteOp>>, StoreError>,
) -> Result<(usize, usize), StoreError> {
    let pk = tenant_pk(project);
    let (mut read, mut indexed) = (0, 0);
    let mut after: Option<String> = None;
    loop {
        let query = PageQuery { pk: &pk, prefix, after: after.as_deref(), limit: PAGE, order: Order::Ascending };
        let page = store.query_page(query).await?;
        read += page.items.len();
        for item in page.items {
            if index_one(store, item, &ops_of).await? {
                indexed += 1;
            }
        }
        match page.last_sk {
            Some(last) => after = Some(last),
            None => return Ok((read, indexed)),
        }
    }
}

/// Indexes one record if it needs it; true when this run wrote it.
async fn index_one(
    store: &dyn Store,
    mut item: Item,
    ops_of: &impl Fn(&Item) -> Result<Option<Vec<WriteOp>>, StoreError>,
) -> Result<bool, StoreError> {
    for _ in 0..ATTEMPTS {
        let Some(ops) = ops_of(&item)? else {
            return Ok(false);
        };
        match store.write(ops).await {
            Ok(()) => return Ok(true),
            // Written since the page was read: look again.
            Err(StoreError::ConditionFailed) => match store.get(&item.pk, &item.sk).await? {
                Some(fresh) => item = fresh,
                None => return Ok(false),
            },
            Err(other) => return Err(other),
        }
    }
    Err(StoreError::Backend(format!("{}/{} kept changing while it was reindexed", item.pk, item.sk)))
}
