//! Which alarm queue messages were taken, so that a redelivered message (SQS
//! delivers at least once; its `message_id` stays the same) is counted once.
//!
//! Tenant partition `PROJECT#{project}`: `ALARM_DELIVERY#{message_id}`, written
//! "must not exist" in the same transaction as the alarm report it carried, so
//! a message is either taken whole (alarm and mark) or not at all, and of two
//! concurrent deliveries of it exactly one lands. Index `List` partition
//! `PROJECT#{project}#ALARM_DELIVERY`, sorted by `{taken_at:013}#{message_id}`:
//! marks are kept [`ALARM_DELIVERY_RETENTION_MS`] (as long as the queue keeps
//! a message) and each take deletes up to [`ALARM_DELIVERY_CLEANUP`] of the
//! oldest expired ones, a bounded range read from the start of the index.

use serde::{Deserialize, Serialize};

use super::{decode, encode, tenant_pk};
use crate::domain::tenant::ProjectId;
use crate::limits::{ALARM_DELIVERY_CLEANUP, ALARM_DELIVERY_RETENTION_MS};
use crate::ports::{Condition, Index, IndexQuery, Item, Order, Store, StoreError, WriteOp};

/// What a mark remembers of the message it stands for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub message_id: String,
    pub integration_id: String,
    pub alarm_id: String,
    pub taken_at: i64,
}

fn delivery_sk(message_id: &str) -> String {
    format!("ALARM_DELIVERY#{message_id}")
}

fn deliveries_list_pk(project: &ProjectId) -> String {
    format!("{}#ALARM_DELIVERY", tenant_pk(project))
}

/// The write that marks `delivery` taken, to go in the transaction that
/// records its alarm: it fails (and the transaction with it) when the message
/// was taken before.
pub fn mark_op(project: &ProjectId, delivery: &Delivery) -> Result<WriteOp, StoreError> {
    let item = Item::new(tenant_pk(project), delivery_sk(&delivery.message_id), encode(delivery)?, 1).indexed(
        Index::List,
        deliveries_list_pk(project),
        format!("{:013}#{}", delivery.taken_at.max(0), delivery.message_id),
    );
    Ok(WriteOp::Put { item, condition: Condition::NotExists })
}

/// The mark of a message taken (and not yet expired), if any.
pub async fn taken(store: &dyn Store, project: &ProjectId, message_id: &str) -> Result<Option<Delivery>, StoreError> {
    store.get(&tenant_pk(project), &delivery_sk(message_id)).await?.map(|item| decode(&item)).transpose()
}

/// Deletes up to [`ALARM_DELIVERY_CLEANUP`] marks older than the retention at
/// `now`, oldest first; returns how many. One bounded index read, one write.
pub async fn expire(store: &dyn Store, project: &ProjectId, now: i64) -> Result<usize, StoreError> {
    let pk = deliveries_list_pk(project);
    let query =
        IndexQuery { index: Index::List, pk: &pk, after: None, limit: ALARM_DELIVERY_CLEANUP, order: Order::Ascending };
    let page = store.query_index(query).await?;
    let mut ops = Vec::new();
    for item in page.items {
        let delivery: Delivery = decode(&item)?;
        if delivery.taken_at > now - ALARM_DELIVERY_RETENTION_MS {
            // Sorted by time: every later mark is younger still.
            break;
        }
        ops.push(WriteOp::Delete { pk: item.pk, sk: item.sk, condition: Condition::Always });
    }
    let expired = ops.len();
    store.write(ops).await?;
    Ok(expired)
}
