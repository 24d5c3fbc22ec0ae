use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, ToSql};

use super::range::{index_select, Range, COLUMNS};
use super::SqliteDb;
use crate::ports::{Condition, IndexKey, IndexQuery, Item, Order, Page, PageQuery, Store, StoreError, WriteOp};

pub struct SqliteStore {
    db: SqliteDb,
}

impl SqliteStore {
    pub fn new(db: SqliteDb) -> Self {
        SqliteStore { db }
    }
}

fn condition_holds(conn: &Connection, pk: &str, sk: &str, condition: Condition) -> rusqlite::Result<bool> {
    if condition == Condition::Always {
        return Ok(true);
    }
    let version: Option<i64> = conn
        .prepare_cached("SELECT version FROM items WHERE pk = ?1 AND sk = ?2")?
        .query_row(params![pk, sk], |row| row.get(0))
        .optional()?;
    Ok(match condition {
        Condition::Always => true,
        Condition::NotExists => version.is_none(),
        Condition::Exists => version.is_some(),
        Condition::VersionIs(expected) => version == Some(expected as i64),
    })
}

/// An item from a row of [`COLUMNS`].
fn item_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Item> {
    let key = |pk: Option<String>, sk: Option<String>| pk.zip(sk).map(|(pk, sk)| IndexKey { pk, sk });
    Ok(Item {
        pk: row.get(0)?,
        sk: row.get(1)?,
        data: row.get(2)?,
        version: row.get::<_, i64>(3)? as u64,
        list_key: key(row.get(4)?, row.get(5)?),
        filter_key: key(row.get(6)?, row.get(7)?),
        tally: row.get(8)?,
    })
}

/// Inserts or replaces an item; `tally` is the stored tally's new value, in
/// terms of the old one (`excluded.tally` is the bound `?9`).
fn upsert(conn: &Connection, item: &Item, tally: &str, bound_tally: i64) -> rusqlite::Result<()> {
    let list = item.list_key.as_ref();
    let filter = item.filter_key.as_ref();
    conn.prepare_cached(&format!(
        "INSERT INTO items (pk, sk, data, version, list_pk, list_sk, filter_pk, filter_sk, tally)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, version = excluded.version,
           list_pk = excluded.list_pk, list_sk = excluded.list_sk,
           filter_pk = excluded.filter_pk, filter_sk = excluded.filter_sk, tally = {tally}"
    ))?
    .execute(params![
        item.pk,
        item.sk,
        item.data,
        item.version as i64,
        list.map(|k| &k.pk),
        list.map(|k| &k.sk),
        filter.map(|k| &k.pk),
        filter.map(|k| &k.sk),
        bound_tally,
    ])?;
    Ok(())
}

/// Applies one write of a call, after its condition held.
fn apply(conn: &Connection, op: &WriteOp) -> rusqlite::Result<()> {
    match op {
        WriteOp::Put { item, .. } => upsert(conn, item, "excluded.tally", item.tally)?,
        // A new item starts from the delta; a stored one adds it to what it has.
        WriteOp::Tally { item, delta, .. } => upsert(conn, item, "items.tally + excluded.tally", *delta)?,
        WriteOp::Delete { pk, sk, .. } => {
            conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?.execute(params![pk, sk])?;
        }
        WriteOp::Add { pk, sk, delta } => {
            conn.prepare_cached(
                "INSERT INTO counters (pk, sk, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (pk, sk) DO UPDATE SET value = value + excluded.value",
            )?
            .execute(params![pk, sk, delta])?;
        }
    }
    Ok(())
}

/// The SQL of one `write` call, run by the writer inside the request's own
/// savepoint: `Ok(Err(ConditionFailed))` when a condition does not hold, and
/// the writer then undoes what the earlier operations of the call did.
fn apply_ops(conn: &Connection, ops: &[WriteOp]) -> rusqlite::Result<Result<(), StoreError>> {
    for op in ops {
        let (pk, sk, condition) = match op {
            WriteOp::Put { item, condition } | WriteOp::Tally { item, condition, .. } => {
                (&item.pk, &item.sk, *condition)
            }
            WriteOp::Delete { pk, sk, condition } => (pk, sk, *condition),
            WriteOp::Add { pk, sk, .. } => (pk, sk, Condition::Always),
        };
        if !condition_holds(conn, pk, sk, condition)? {
            return Ok(Err(StoreError::ConditionFailed));
        }
        apply(conn, op)?;
    }
    Ok(Ok(()))
}

/// About how many bytes a write call carries (bounds the writer's groups).
fn payload(ops: &[WriteOp]) -> usize {
    ops.iter()
        .map(|op| match op {
            WriteOp::Put { item, .. } | WriteOp::Tally { item, .. } => item.pk.len() + item.sk.len() + item.data.len(),
            WriteOp::Delete { pk, sk, .. } | WriteOp::Add { pk, sk, .. } => pk.len() + sk.len(),
        })
        .sum()
}

fn add_one(conn: &Connection, pk: &str, sk: &str) -> rusqlite::Result<u64> {
    conn.prepare_cached(
        "INSERT INTO counters (pk, sk, value) VALUES (?1, ?2, 1)
         ON CONFLICT (pk, sk) DO UPDATE SET value = value + 1
         RETURNING value",
    )?
    .query_row(params![pk, sk], |row| row.get::<_, i64>(0))
    .map(|value| value as u64)
}

fn get_item(conn: &Connection, pk: &str, sk: &str) -> rusqlite::Result<Option<Item>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2"))?
        .query_row(params![pk, sk], item_from_row)
        .optional()
}

fn get_counter(conn: &Connection, pk: &str, sk: &str) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT value FROM counters WHERE pk = ?1 AND sk = ?2")?
        .query_row(params![pk, sk], |row| row.get::<_, i64>(0))
        .optional()
        .map(|value| value.unwrap_or(0))
}

/// The items of one sort-key range of partition `pk`, at most `limit` of them.
fn read_range(
    conn: &Connection,
    pk: &str,
    range: &Range,
    order: Order,
    limit: Option<usize>,
) -> rusqlite::Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached(&range.select(order, limit.is_some()))?;
    let mut values: Vec<&dyn ToSql> = vec![&pk];
    let bounds = range.bounds();
    values.extend(bounds.iter().map(|bound| bound as &dyn ToSql));
    let limit = limit.map(|limit| i64::try_from(limit).unwrap_or(i64::MAX));
    if let Some(limit) = &limit {
        values.push(limit);
    }
    let rows = stmt.query_map(values.as_slice(), item_from_row)?;
    rows.collect()
}

/// The items of one index read.
fn read_index(
    conn: &Connection,
    sql: &str,
    pk: &str,
    after: Option<&str>,
    limit: usize,
) -> rusqlite::Result<Vec<Item>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match after {
        Some(after) => stmt.query_map(params![pk, after, limit], item_from_row)?.collect(),
        None => stmt.query_map(params![pk, limit], item_from_row)?.collect(),
    };
    rows
}

fn map_err(err: String) -> StoreError {
    StoreError::Backend(err)
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.db.readers.run(move |conn| get_item(conn, &pk, &sk)).await.map_err(map_err)
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let (pk, range) = (pk.to_owned(), Range::prefix(sk_prefix));
        // Unbounded in size: read off the runtime threads.
        self.db
            .readers
            .run_long(move |conn| read_range(conn, &pk, &range, Order::Ascending, None))
            .await
            .map_err(map_err)
    }

    async fn query_page(&self, query: PageQuery<'_>) -> Result<Page, StoreError> {
        if query.limit == 0 {
            return Ok(Page { items: Vec::new(), last_sk: query.after.map(str::to_owned) });
        }
        let (pk, range, order, limit) = (query.pk.to_owned(), Range::page(&query), query.order, query.limit);
        let items = self
            .db
            .readers
            .run(move |conn| read_range(conn, &pk, &range, order, Some(limit)))
            .await
            .map_err(map_err)?;
        let last_sk = if items.len() == limit { items.last().map(|item| item.sk.clone()) } else { None };
        Ok(Page { items, last_sk })
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.db.writer.run(payload(&ops), move |conn| apply_ops(conn, &ops)).await.map_err(map_err)?
    }

    async fn query_index(&self, query: IndexQuery<'_>) -> Result<Page, StoreError> {
        if query.limit == 0 {
            return Ok(Page { items: Vec::new(), last_sk: query.after.map(str::to_owned) });
        }
        let (sql, pk, after, limit, index) =
            (index_select(&query), query.pk.to_owned(), query.after.map(str::to_owned), query.limit, query.index);
        let items = self
            .db
            .readers
            .run(move |conn| read_index(conn, &sql, &pk, after.as_deref(), limit))
            .await
            .map_err(map_err)?;
        let last_sk = if items.len() == limit {
            items.last().and_then(|item| item.index_key(index)).map(|key| key.sk.clone())
        } else {
            None
        };
        Ok(Page { items, last_sk })
    }

    async fn counter(&self, pk: &str, sk: &str) -> Result<i64, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.db.readers.run(move |conn| get_counter(conn, &pk, &sk)).await.map_err(map_err)
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        let value =
            self.db.writer.run(pk.len() + sk.len(), move |conn| add_one(conn, &pk, &sk).map(Ok::<_, StoreError>));
        value.await.map_err(map_err)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What SQLite plans for the statement a range read runs, one line per step.
    fn plan(range: &Range, order: Order, limited: bool) -> Vec<String> {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", range.select(order, limited));
        let mut stmt = conn.prepare(&sql).unwrap();
        let mut values: Vec<&dyn ToSql> = vec![&"P#1"];
        let bounds = range.bounds();
        values.extend(bounds.iter().map(|bound| bound as &dyn ToSql));
        if limited {
            values.push(&10);
        }
        let rows = stmt.query_map(values.as_slice(), |row| row.get::<_, String>(3)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    #[test]
    fn index_reads_are_ranges_of_their_index_in_order() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(super::super::SCHEMA).unwrap();
        super::super::add_missing_columns(&conn).unwrap();
        for index in crate::ports::Index::ALL {
            for order in [Order::Ascending, Order::Descending] {
                for after in [None, Some("0005")] {
                    let query = IndexQuery { index, pk: "P#1#SCRIPTS", after, limit: 10, order };
                    let sql = format!("EXPLAIN QUERY PLAN {}", index_select(&query));
                    let mut stmt = conn.prepare(&sql).unwrap();
                    fn detail(row: &rusqlite::Row<'_>) -> rusqlite::Result<String> {
                        row.get(3)
                    }
                    let plan: Vec<String> = match after {
                        Some(after) => stmt.query_map(params!["P#1#SCRIPTS", after, 10], detail),
                        None => stmt.query_map(params!["P#1#SCRIPTS", 10], detail),
                    }
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                    let (pk, sk) = index.attributes();
                    let name = super::super::range::index_table(index);
                    let range = if after.is_some() {
                        let op = if order == Order::Ascending { ">" } else { "<" };
                        format!("SEARCH items USING INDEX {name} ({pk}=? AND {sk}{op}?)")
                    } else {
                        format!("SEARCH items USING INDEX {name} ({pk}=?)")
                    };
                    // No "USE TEMP B-TREE FOR ORDER BY": the index walk is the order.
                    assert_eq!(plan, [range], "{index:?} {order:?} {after:?}");
                }
            }
        }
    }

    #[test]
    fn prefix_and_page_reads_are_primary_key_ranges() {
        let after = |after, order| PageQuery { pk: "P#1", prefix: "SCRIPT#", after: Some(after), limit: 10, order };
        let cases = [
            (Range::prefix("SCRIPT#"), Order::Ascending, false),
            (Range::prefix("é\u{10FFFF}"), Order::Ascending, false),
            (Range::page(&after("SCRIPT#5", Order::Ascending)), Order::Ascending, true),
            (Range::page(&after("SCRIPT#5", Order::Descending)), Order::Descending, true),
        ];
        for (range, order, limited) in cases {
            let plan = plan(&range, order, limited);
            assert_eq!(plan, ["SEARCH items USING PRIMARY KEY (pk=? AND sk>? AND sk<?)"], "{range:?} {order:?}");
        }
    }
}
