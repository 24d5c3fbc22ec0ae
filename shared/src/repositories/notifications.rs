//! Notifications and their deliveries in the table (see README "Access patterns").
//!
//! Tenant partition `PROJECT#{project}`:
//! - `NOTIFICATION#{notification_id}`: a notification with every delivery in
//!   it (at most a handful: one per contact method), version-locked, so that a
//!   consumer's claim of an attempt and its outcome are conditional writes;
//! - count `COUNT#NOTIFICATION`, changed in the transaction that inserts one.
//!
//! Index `List`: `PROJECT#{project}#NOTIFICATION`, sort key
//! `{create_time:013}#{notification_id}`, read newest first (the delivery log).
//!
//! Partition `PENDING_NOTIFICATIONS`, sort key `{project}#{notification_id}`:
//! notifications with a delivery not yet final, written with the notification
//! and removed in the write that makes its last delivery final, so that the
//! sweep finds a delivery whose queue message was lost without a scan.

use serde::{Deserialize, Serialize};

use super::listing::{self, count_key, Listed, Verdict, Walk};
use super::{decode, encode, tenant_pk, versioned, Versioned};
use crate::domain::notification::Notification;
use crate::domain::tenant::ProjectId;
use crate::ports::{self, Condition, Index, Item, Order, PageQuery, Store, StoreError, WriteOp};

const PENDING_PK: &str = "PENDING_NOTIFICATIONS";

fn notification_sk(id: &str) -> String {
    format!("NOTIFICATION#{id}")
}

fn list_pk(project: &ProjectId) -> String {
    format!("{}#NOTIFICATION", tenant_pk(project))
}

fn notification_count() -> String {
    count_key(&["NOTIFICATION"])
}

/// What the pending list holds of a notification: enough to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRef {
    pub project_id: ProjectId,
    pub notification_id: String,
}

fn pending_item(notification: &Notification) -> Result<Item, StoreError> {
    let entry = PendingRef {
        project_id: notification.project_id.clone(),
        notification_id: notification.notification_id.clone(),
    };
    let sk = format!("{}#{}", notification.project_id, notification.notification_id);
    Ok(Item::new(PENDING_PK, sk, encode(&entry)?, 1))
}

fn notification_item(notification: &Notification, version: u64) -> Result<Item, StoreError> {
    let project = &notification.project_id;
    let id = &notification.notification_id;
    Ok(Item::new(tenant_pk(project), notification_sk(id), encode(notification)?, version).indexed(
        Index::List,
        list_pk(project),
        format!("{:013}#{id}", notification.create_time),
    ))
}

/// The writes that record a new notification: the notification (its id must
/// be new), its entry in the pending list, and its count.
pub fn insert_ops(notification: &Notification) -> Result<Vec<WriteOp>, StoreError> {
    let mut ops = vec![WriteOp::Put { item: notification_item(notification, 1)?, condition: Condition::NotExists }];
    if !notification.is_final() {
        ops.push(WriteOp::Put { item: pending_item(notification)?, condition: Condition::NotExists });
    }
    ops.push(WriteOp::Add { pk: tenant_pk(&notification.project_id), sk: notification_count(), delta: 1 });
    Ok(ops)
}

pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
) -> Result<Option<Versioned<Notification>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &notification_sk(id)).await?)
}

/// Saves `notification` over the version read; once it is final it leaves the
/// pending list in the same transaction. Fails with `ConditionFailed` if
/// anyone wrote it since.
pub async fn replace(store: &dyn Store, notification: &Notification, version: u64) -> Result<(), StoreError> {
    let mut ops = vec![WriteOp::Put {
        item: notification_item(notification, version + 1)?,
        condition: Condition::VersionIs(version),
    }];
    if notification.is_final() {
        let pending = pending_item(notification)?;
        ops.push(WriteOp::Delete { pk: pending.pk, sk: pending.sk, condition: Condition::Always });
    }
    store.write(ops).await
}

/// At most `limit` of the tenant's notifications after the index key `after`
/// (a `next` of an earlier page), newest first.
pub async fn list(
    store: &dyn Store,
    project: &ProjectId,
    after: Option<&str>,
    limit: usize,
) -> Result<Listed<Notification>, StoreError> {
    let pk = list_pk(project);
    let walk = Walk { index: Index::List, pk: &pk, after, order: Order::Descending };
    listing::page(store, walk, limit, false, decode, |_| Verdict::Keep).await
}

/// How many notifications the tenant has.
pub async fn count(store: &dyn Store, project: &ProjectId) -> Result<usize, StoreError> {
    Ok(store.counter(&tenant_pk(project), &notification_count()).await?.max(0) as usize)
}

/// At most `limit` notifications with a delivery not yet final, of every
/// tenant, after the sort key `after`; with the key to resume after when more
/// may follow.
pub async fn pending_page(
    store: &dyn Store,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<PendingRef>, Option<String>), StoreError> {
    let query = PageQuery { pk: PENDING_PK, prefix: "", after, limit, order: ports::Order::Ascending };
    let page = store.query_page(query).await?;
    let pending = page.items.iter().map(decode).collect::<Result<Vec<PendingRef>, _>>()?;
    Ok((pending, page.last_sk))
}
