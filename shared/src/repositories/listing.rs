//! Walking an index partition for a list endpoint: in the list's order, in
//! bounded reads, keeping the rows a residual filter accepts, stopping as soon
//! as the page is full. What the walk reads is the page plus what the filter
//! discards; nothing is held beyond the page.

use crate::limits;
use crate::ports::{Index, IndexQuery, Item, Order, Store, StoreError};

/// Where a walk reads: one index partition, in one direction, after a key.
#[derive(Debug, Clone, Copy)]
pub struct Walk<'a> {
    pub index: Index,
    pub pk: &'a str,
    /// An index sort key: the walk starts strictly after it.
    pub after: Option<&'a str>,
    pub order: Order,
}

/// What a row of the walk means to the list.
pub enum Verdict {
    Keep,
    Skip,
    /// This row and every later one are outside the list (e.g. older than its time range).
    Stop,
}

/// A page of a walk.
#[derive(Debug)]
pub struct Listed<T> {
    pub rows: Vec<T>,
    /// The index sort key of the last row, when more rows may follow: the
    /// `after` of the next page.
    pub next: Option<String>,
}

fn index_sk(item: &Item, index: Index) -> Result<String, StoreError> {
    item.index_key(index)
        .map(|key| key.sk.clone())
        .ok_or_else(|| StoreError::Backend(format!("{}/{} came from an index it is not in", item.pk, item.sk)))
}

/// At most `limit` rows of the walk that `judge` keeps. Reads in chunks of what
/// is still missing (at least [`limits::LIST_WALK_MIN_CHUNK`] when a filter may
/// discard rows, so a selective filter does not cost one round trip per row).
pub async fn page<T>(
    store: &dyn Store,
    walk: Walk<'_>,
    limit: usize,
    filtered: bool,
    decode: impl Fn(&Item) -> Result<T, StoreError>,
    judge: impl Fn(&T) -> Verdict,
) -> Result<Listed<T>, StoreError> {
    let mut rows = Vec::with_capacity(limit);
    let mut after = walk.after.map(str::to_owned);
    while rows.len() < limit {
        let missing = limit - rows.len();
        let chunk = if filtered { missing.max(limits::LIST_WALK_MIN_CHUNK) } else { missing };
        let query =
            IndexQuery { index: walk.index, pk: walk.pk, after: after.as_deref(), limit: chunk, order: walk.order };
        let read = store.query_index(query).await?;
        for (n, item) in read.items.iter().enumerate() {
            let row = decode(item)?;
            match judge(&row) {
                Verdict::Keep => {
                    rows.push(row);
                    if rows.len() == limit {
                        // Full: more may follow unless this was the range's very last item.
                        let exhausted = read.last_sk.is_none() && n + 1 == read.items.len();
                        let next = if exhausted { None } else { Some(index_sk(item, walk.index)?) };
                        return Ok(Listed { rows, next });
                    }
                }
                Verdict::Skip => {}
                Verdict::Stop => return Ok(Listed { rows, next: None }),
            }
        }
        match read.last_sk {
            Some(last) => after = Some(last),
            None => break,
        }
    }
    Ok(Listed { rows, next: None })
}

/// How many rows of the walk `judge` keeps, reading at most
/// [`limits::LIST_COUNT_WALK`] items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    pub kept: usize,
    pub read: usize,
    /// Whether the walk reached the end of what the list can hold.
    pub complete: bool,
}

pub async fn count<T>(
    store: &dyn Store,
    walk: Walk<'_>,
    decode: impl Fn(&Item) -> Result<T, StoreError>,
    judge: impl Fn(&T) -> Verdict,
) -> Result<Counted, StoreError> {
    let mut counted = Counted { kept: 0, read: 0, complete: false };
    let mut after = walk.after.map(str::to_owned);
    while counted.read < limits::LIST_COUNT_WALK {
        let chunk = (limits::LIST_COUNT_WALK - counted.read).min(limits::LIST_COUNT_CHUNK);
        let query =
            IndexQuery { index: walk.index, pk: walk.pk, after: after.as_deref(), limit: chunk, order: walk.order };
        let read = store.query_index(query).await?;
        counted.read += read.items.len();
        for item in &read.items {
            match judge(&decode(item)?) {
                Verdict::Keep => counted.kept += 1,
                Verdict::Skip => {}
                Verdict::Stop => {
                    counted.complete = true;
                    return Ok(counted);
                }
            }
        }
        match read.last_sk {
            Some(last) => after = Some(last),
            None => {
                counted.complete = true;
                return Ok(counted);
            }
        }
    }
    Ok(counted)
}

/// The `total` of a list whose filters no counter answers: exact when the
/// bounded count saw every candidate; otherwise the matches seen plus every
/// candidate not read (`candidates`, from the narrowest counter), an upper
/// bound, so a client paging until it has `total` rows or an empty page never
/// stops early.
pub fn bounded_total(counted: Counted, candidates: i64) -> usize {
    if counted.complete {
        counted.kept
    } else {
        counted.kept + (candidates.max(0) as usize).saturating_sub(counted.read)
    }
}

/// The sort key of a count kept in the tenant partition: `COUNT#{parts…}`.
pub(crate) fn count_key(parts: &[&str]) -> String {
    let mut key = String::from("COUNT");
    for part in parts {
        key.push('#');
        key.push_str(part);
    }
    key
}

/// The stable name of an enum value in keys: its JSON name (`LOW`, `SHELL`, `READY`).
pub(crate) fn key_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        other => format!("{other:?}"),
    }
}

/// Whether `text` contains `part` whatever the case: the match of the lists'
/// name and title filters.
pub fn contains_ignoring_case(text: &str, part: &str) -> bool {
    text.to_lowercase().contains(&part.to_lowercase())
}
