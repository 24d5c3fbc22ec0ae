//! Integrations in the table (alarms: [`crate::repositories::alarms`]).
//!
//! Tenant partition `PROJECT#{project}`:
//! - `INTEGRATION#{integration_id}`: an integration and its rule;
//! - count `COUNT#INTEGRATION`, changed in the transaction that adds (or
//!   removes) an integration.
//!
//! Index `List`: integrations under `PROJECT#{project}#INTEGRATION`, sort key
//! `{create_time:013}#{integration_id}` (oldest first).
//!
//! Partition `INTEGRATION_KEY#{key}`: which tenant's integration a key opens
//! (the intake URL carries only the key).

use serde::{Deserialize, Serialize};

use crate::domain::alarm::Integration;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, Order, Store, StoreError, WriteOp};
use crate::repositories::listing::{self, count_key, Listed, Verdict, Walk};
use crate::repositories::{decode, encode, tenant_pk};

// ---- integrations ----------------------------------------------------------

#[derive(Serialize, Deserialize)]
struct KeyOwner {
    project_id: ProjectId,
    integration_id: String,
}

fn key_pk(key: &str) -> String {
    format!("INTEGRATION_KEY#{key}")
}

const KEY_SK: &str = "INTEGRATION";

fn integration_sk(id: &str) -> String {
    format!("INTEGRATION#{id}")
}

fn integration_list_pk(project: &ProjectId) -> String {
    format!("{}#INTEGRATION", tenant_pk(project))
}

fn integration_count() -> String {
    count_key(&["INTEGRATION"])
}

/// Stores a new integration, its key and counts it, all or nothing.
pub async fn insert_integration(store: &dyn Store, integration: &Integration) -> Result<(), StoreError> {
    let owner =
        KeyOwner { project_id: integration.project_id.clone(), integration_id: integration.integration_id.clone() };
    let project = &integration.project_id;
    let item = Item::new(tenant_pk(project), integration_sk(&integration.integration_id), encode(integration)?, 1)
        .indexed(
            Index::List,
            integration_list_pk(project),
            format!("{:013}#{}", integration.create_time, integration.integration_id),
        );
    store
        .write(vec![
            WriteOp::Put { item, condition: Condition::NotExists },
            WriteOp::Put {
                item: Item::new(key_pk(&integration.integration_key), KEY_SK, encode(&owner)?, 1),
                condition: Condition::NotExists,
            },
            WriteOp::Add { pk: tenant_pk(project), sk: integration_count(), delta: 1 },
        ])
        .await
}

/// At most `limit` integrations after the index key `after` (a `next` of an
/// earlier page), oldest first.
pub async fn list_integrations(
    store: &dyn Store,
    project: &ProjectId,
    after: Option<&str>,
    limit: usize,
) -> Result<Listed<Integration>, StoreError> {
    let pk = integration_list_pk(project);
    let walk = Walk { index: Index::List, pk: &pk, after, order: Order::Ascending };
    listing::page(store, walk, limit, false, decode, |_| Verdict::Keep).await
}

/// How many integrations the tenant has.
pub async fn count_integrations(store: &dyn Store, project: &ProjectId) -> Result<usize, StoreError> {
    Ok(store.counter(&tenant_pk(project), &integration_count()).await?.max(0) as usize)
}

pub async fn get_integration(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
) -> Result<Option<Integration>, StoreError> {
    store.get(&tenant_pk(project), &integration_sk(id)).await?.as_ref().map(decode).transpose()
}

/// The integration a key opens, in whichever tenant it lives.
pub async fn integration_by_key(store: &dyn Store, key: &str) -> Result<Option<Integration>, StoreError> {
    let Some(item) = store.get(&key_pk(key), KEY_SK).await? else { return Ok(None) };
    let owner: KeyOwner = decode(&item)?;
    get_integration(store, &owner.project_id, &owner.integration_id).await
}

/// Removes an integration and its key, both or neither. Its alarms and
/// incidents stay: they are the tenant's history.
pub async fn delete_integration(store: &dyn Store, integration: &Integration) -> Result<(), StoreError> {
    store
        .write(vec![
            WriteOp::Delete {
                pk: tenant_pk(&integration.project_id),
                sk: integration_sk(&integration.integration_id),
                condition: Condition::Exists,
            },
            WriteOp::Delete {
                pk: key_pk(&integration.integration_key),
                sk: KEY_SK.into(),
                condition: Condition::Always,
            },
            WriteOp::Add { pk: tenant_pk(&integration.project_id), sk: integration_count(), delta: -1 },
        ])
        .await
}
