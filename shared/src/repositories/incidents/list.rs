//! `POST /v2/incidents/list`: one index partition, the one the query's most
//! selective filter names (an assignee's copies, one status, or every
//! incident), walked in creation order from the time range's near end, the
//! other filters discarding rows as it goes.

use super::{all_pk, assignee_pk, count_all, count_assignee, count_status, status_pk};
use crate::domain::incident::query::{IncidentQuery, Served};
use crate::domain::incident::Incident;
use crate::domain::tenant::ProjectId;
use crate::limits;
use crate::ports::{Index, IndexQuery, Order, Store, StoreError};
use crate::repositories::decode;
use crate::repositories::listing::{self, bounded_total, Verdict, Walk};
use crate::repositories::tenant_pk;

/// A page and, when asked for, the total of the query.
#[derive(Debug)]
pub struct IncidentPage {
    pub rows: Vec<Incident>,
    pub total: Option<usize>,
}

/// The largest read of the walk (a deep page walks past its rows in reads of this).
const CHUNK: usize = 200;

/// The partition the query walks and the count of everything in it.
fn partition(project: &ProjectId, query: &IncidentQuery) -> (String, String) {
    match query.served_by() {
        Served::Assignee => {
            let assignee = query.assignee.as_deref().unwrap_or_default();
            (assignee_pk(project, assignee), count_assignee(assignee))
        }
        Served::Status => (status_pk(project, query.statuses[0]), count_status(query.statuses[0])),
        Served::All => (all_pk(project), count_all()),
    }
}

/// Where the walk starts: strictly after this sort key, the time range's near
/// end (sort keys are `{create_time:013}#{num}`).
fn start(query: &IncidentQuery) -> Option<String> {
    if query.newest_first {
        query.created_to.map(|to| format!("{:013}", to.saturating_add(1).max(0)))
    } else {
        query.created_from.map(|from| format!("{:013}", from.max(0)))
    }
}

/// A row's verdict: beyond the range's far end stops the walk.
fn judge(query: &IncidentQuery, incident: &Incident) -> Verdict {
    let beyond = if query.newest_first {
        query.created_from.is_some_and(|from| incident.create_time < from)
    } else {
        query.created_to.is_some_and(|to| incident.create_time > to)
    };
    if beyond {
        Verdict::Stop
    } else if query.matches(incident) {
        Verdict::Keep
    } else {
        Verdict::Skip
    }
}

pub async fn list_incidents(
    store: &dyn Store,
    project: &ProjectId,
    query: &IncidentQuery,
) -> Result<IncidentPage, StoreError> {
    let (pk, count_sk) = partition(project, query);
    let order = if query.newest_first { Order::Descending } else { Order::Ascending };
    let after = start(query);
    let filtered = query.filters_beyond(query.served_by());
    let rows = walk(store, &pk, after.as_deref(), order, query, filtered).await?;
    let total = if !query.contain_total {
        None
    } else {
        let counted = store.counter(&tenant_pk(project), &count_sk).await?;
        let ranged = query.created_from.is_some() || query.created_to.is_some();
        if !filtered && !ranged {
            Some(counted.max(0) as usize)
        } else {
            let walk = Walk { index: index_of(query), pk: &pk, after: after.as_deref(), order };
            let seen = listing::count(store, walk, decode, |i: &Incident| judge(query, i)).await?;
            Some(bounded_total(seen, counted))
        }
    };
    Ok(IncidentPage { rows, total })
}

fn index_of(query: &IncidentQuery) -> Index {
    match query.served_by() {
        Served::All => Index::List,
        Served::Status | Served::Assignee => Index::Filter,
    }
}

/// The page: the kept rows after the first `query.skip` of them. Reads in
/// chunks of what is still missing (skipped rows included), at least
/// `LIST_WALK_MIN_CHUNK` when a filter may discard rows.
async fn walk(
    store: &dyn Store,
    pk: &str,
    start: Option<&str>,
    order: Order,
    query: &IncidentQuery,
    filtered: bool,
) -> Result<Vec<Incident>, StoreError> {
    let mut skipped = 0usize;
    let mut rows = Vec::with_capacity(query.per_page);
    let mut after = start.map(str::to_owned);
    loop {
        let missing = query.skip - skipped + query.per_page - rows.len();
        let chunk = if filtered { missing.max(limits::LIST_WALK_MIN_CHUNK) } else { missing }.min(CHUNK);
        let read = store
            .query_index(IndexQuery { index: index_of(query), pk, after: after.as_deref(), limit: chunk, order })
            .await?;
        for item in &read.items {
            let incident: Incident = decode(item)?;
            match judge(query, &incident) {
                Verdict::Stop => return Ok(rows),
                Verdict::Skip => {}
                Verdict::Keep if skipped < query.skip => skipped += 1,
                Verdict::Keep => {
                    rows.push(incident);
                    if rows.len() == query.per_page {
                        return Ok(rows);
                    }
                }
            }
        }
        match read.last_sk {
            Some(last) => after = Some(last),
            None => return Ok(rows),
        }
    }
}
