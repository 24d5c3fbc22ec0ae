use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::SqliteDb;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

pub struct SqliteStore {
    db: SqliteDb,
}

impl SqliteStore {
    pub fn new(db: SqliteDb) -> Self {
        SqliteStore { db }
    }
}

fn condition_holds(tx: &Transaction<'_>, pk: &str, sk: &str, condition: Condition) -> rusqlite::Result<bool> {
    if condition == Condition::Always {
        return Ok(true);
    }
    let version: Option<i64> = tx
        .query_row("SELECT version FROM items WHERE pk = ?1 AND sk = ?2", params![pk, sk], |row| row.get(0))
        .optional()?;
    Ok(match condition {
        Condition::Always => true,
        Condition::NotExists => version.is_none(),
        Condition::Exists => version.is_some(),
        Condition::VersionIs(expected) => version == Some(expected as i64),
    })
}

fn map_err(err: String) -> StoreError {
    StoreError::Backend(err)
}

#[async_trait]
impl Store for SqliteStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.db
            .run(move |conn| {
                conn.query_row("SELECT data, version FROM items WHERE pk = ?1 AND sk = ?2", params![pk, sk], |row| {
                    Ok(Item::new(pk.clone(), sk.clone(), row.get(0)?, row.get::<_, i64>(1)? as u64))
                })
                .optional()
            })
            .await
            .map_err(map_err)
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let (pk, prefix) = (pk.to_owned(), sk_prefix.to_owned());
        self.db
            .run(move |conn| {
                // substr() instead of LIKE: the prefix is user data and may hold % or _.
                let mut stmt = conn.prepare_cached(
                    "SELECT sk, data, version FROM items
                     WHERE pk = ?1 AND sk >= ?2 AND substr(sk, 1, length(?2)) = ?2
                     ORDER BY sk",
                )?;
                let rows = stmt.query_map(params![pk, prefix], |row| {
                    Ok(Item::new(pk.clone(), row.get::<_, String>(0)?, row.get(1)?, row.get::<_, i64>(2)? as u64))
                })?;
                rows.collect()
            })
            .await
            .map_err(map_err)
    }

    async fn write(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.db
            .run(move |conn| {
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                for op in &ops {
                    let (pk, sk, condition) = match op {
                        WriteOp::Put { item, condition } => (&item.pk, &item.sk, *condition),
                        WriteOp::Delete { pk, sk, condition } => (pk, sk, *condition),
                    };
                    if !condition_holds(&tx, pk, sk, condition)? {
                        // Dropping the transaction rolls back what came before.
                        return Ok(Err(StoreError::ConditionFailed));
                    }
                    match op {
                        WriteOp::Put { item, .. } => tx.execute(
                            "INSERT INTO items (pk, sk, data, version) VALUES (?1, ?2, ?3, ?4)
                             ON CONFLICT (pk, sk) DO UPDATE SET data = excluded.data, version = excluded.version",
                            params![item.pk, item.sk, item.data, item.version as i64],
                        )?,
                        WriteOp::Delete { pk, sk, .. } => {
                            tx.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![pk, sk])?
                        }
                    };
                }
                tx.commit().map(Ok)
            })
            .await
            .map_err(map_err)?
    }

    async fn increment(&self, pk: &str, sk: &str) -> Result<u64, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.db
            .run(move |conn| {
                conn.query_row(
                    "INSERT INTO counters (pk, sk, value) VALUES (?1, ?2, 1)
                     ON CONFLICT (pk, sk) DO UPDATE SET value = value + 1
                     RETURNING value",
                    params![pk, sk],
                    |row| row.get::<_, i64>(0),
                )
            })
            .await
            .map(|v| v as u64)
            .map_err(map_err)
    }
}
