//! Hosts imported without an agent. Per tenant partition:
//! - `OTHER#{id}`: the host (ids are `OR` + creation time + random, so text
//!   order is import order), listed in index `List` partition
//!   `PROJECT#{project}#OTHER#{type}` by id;
//! - `OTHER_IP#{type}#{ip}`: a claim on the address, written with the host,
//!   so one address is imported once per type;
//! - counts `COUNT#OTHER` and `COUNT#OTHER#TYPE#{type}`, changed in the
//!   transaction that stores a host.
//!
//! Tags of imported hosts are in their records and in `repositories::tags`
//! (kind `OTHER`, listed by id).

use serde_json::json;

use super::listing::count_key;
use super::{decode, encode, tenant_pk, versioned, Versioned};
use crate::domain::inventory::other::{OtherResource, OtherType};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, IndexQuery, Item, Order, Store, StoreError, WriteOp};

fn sk(id: &str) -> String {
    format!("OTHER#{id}")
}

fn ip_claim_sk(other_type: OtherType, ip: &str) -> String {
    format!("OTHER_IP#{}#{ip}", other_type.name())
}

fn list_pk(project: &ProjectId, other_type: OtherType) -> String {
    format!("{}#OTHER#{}", tenant_pk(project), other_type.name())
}

fn total_count() -> String {
    count_key(&["OTHER"])
}

fn type_count(other_type: OtherType) -> String {
    count_key(&["OTHER", "TYPE", other_type.name()])
}

/// Where an imported host is in its lists (and tag index partitions): its id.
pub fn order_sk(id: &str) -> String {
    id.to_owned()
}

pub fn put_op(resource: &OtherResource, read_at: Option<u64>) -> Result<WriteOp, StoreError> {
    let (version, condition) = match read_at {
        None => (1, Condition::NotExists),
        Some(v) => (v + 1, Condition::VersionIs(v)),
    };
    let item = Item::new(tenant_pk(&resource.project_id), sk(&resource.id), encode(resource)?, version).indexed(
        Index::List,
        list_pk(&resource.project_id, resource.other_type),
        order_sk(&resource.id),
    );
    Ok(WriteOp::Put { item, condition })
}

/// Stores a newly imported host with its address claim and counts, all or
/// nothing: `ConditionFailed` when the address is imported already.
pub async fn insert(store: &dyn Store, resource: &OtherResource) -> Result<(), StoreError> {
    let pk = tenant_pk(&resource.project_id);
    let claim = Item::new(
        pk.clone(),
        ip_claim_sk(resource.other_type, &resource.ip),
        json!({ "id": resource.id }).to_string(),
        1,
    );
    store
        .write(vec![
            put_op(resource, None)?,
            WriteOp::Put { item: claim, condition: Condition::NotExists },
            WriteOp::Add { pk: pk.clone(), sk: total_count(), delta: 1 },
            WriteOp::Add { pk, sk: type_count(resource.other_type), delta: 1 },
        ])
        .await
}

pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
) -> Result<Option<Versioned<OtherResource>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &sk(id)).await?)
}

/// At most `limit` imported hosts of a type after id `after`, in id order,
/// and the id to resume after when more may follow.
pub async fn page(
    store: &dyn Store,
    project: &ProjectId,
    other_type: OtherType,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<OtherResource>, Option<String>), StoreError> {
    let pk = list_pk(project, other_type);
    let read =
        store.query_index(IndexQuery { index: Index::List, pk: &pk, after, limit, order: Order::Ascending }).await?;
    let rows = read.items.iter().map(decode).collect::<Result<Vec<OtherResource>, _>>()?;
    Ok((rows, read.last_sk))
}

/// How many hosts are imported, of one type or of all.
pub async fn count(store: &dyn Store, project: &ProjectId, other_type: Option<OtherType>) -> Result<i64, StoreError> {
    let sk = other_type.map(type_count).unwrap_or_else(total_count);
    Ok(store.counter(&tenant_pk(project), &sk).await?.max(0))
}
