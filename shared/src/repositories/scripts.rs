//! Scripts in the table. Per tenant partition:
//! - `SCRIPT#{uuid}`: the script;
//! - `SCRIPT_NAME#{name}`: a claim on the name, written in the same transaction
//!   as the script so that two creates of one name cannot both succeed;
//! - counter `SCRIPT_ID`: the auto-increment id.

use crate::domain::script::Script;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

use super::{decode, encode, tenant_pk, versioned, Versioned};

const SCRIPT_PREFIX: &str = "SCRIPT#";
const NAME_PREFIX: &str = "SCRIPT_NAME#";
const ID_COUNTER: &str = "SCRIPT_ID";

#[derive(Debug, thiserror::Error)]
pub enum InsertError {
    #[error("the name is taken")]
    NameTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn script_item(script: &Script, version: u64) -> Result<Item, StoreError> {
    Ok(Item::new(
        tenant_pk(&script.project_id),
        format!("{SCRIPT_PREFIX}{}", script.script_uuid),
        encode(script)?,
        version,
    ))
}

fn name_claim(script: &Script) -> Item {
    let data = serde_json::json!({ "script_uuid": script.script_uuid }).to_string();
    Item::new(tenant_pk(&script.project_id), format!("{NAME_PREFIX}{}", script.name), data, 1)
}

/// The next auto-increment id of the tenant. Ids are never reused; a failed
/// create leaves a gap, as a database sequence would.
pub async fn next_id(store: &dyn Store, project: &ProjectId) -> Result<u64, StoreError> {
    store.increment(&tenant_pk(project), ID_COUNTER).await
}

/// Stores a new script and claims its name, both or neither.
pub async fn insert(store: &dyn Store, script: &Script) -> Result<(), InsertError> {
    let ops = vec![
        WriteOp::Put { item: name_claim(script), condition: Condition::NotExists },
        WriteOp::Put { item: script_item(script, 1)?, condition: Condition::NotExists },
    ];
    store.write(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => InsertError::NameTaken,
        other => InsertError::Store(other),
    })
}

pub async fn get(
    store: &dyn Store,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<Versioned<Script>>, StoreError> {
    let item = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await?;
    versioned(item)
}

/// Every script of the tenant, in id order.
pub async fn list(store: &dyn Store, project: &ProjectId) -> Result<Vec<Script>, StoreError> {
    let items = store.query_prefix(&tenant_pk(project), SCRIPT_PREFIX).await?;
    let mut scripts = items.iter().map(decode).collect::<Result<Vec<Script>, _>>()?;
    scripts.sort_by_key(|s| s.id);
    Ok(scripts)
}

/// Writes a changed script if nobody else wrote it since it was read at `version`.
pub async fn replace(store: &dyn Store, script: &Script, version: u64) -> Result<(), StoreError> {
    let op = WriteOp::Put { item: script_item(script, version + 1)?, condition: Condition::VersionIs(version) };
    store.write(vec![op]).await
}

/// Removes the script read at `version` and frees its name, both or neither.
pub async fn delete(store: &dyn Store, script: &Script, version: u64) -> Result<(), StoreError> {
    let pk = tenant_pk(&script.project_id);
    let ops = vec![
        WriteOp::Delete {
            pk: pk.clone(),
            sk: format!("{SCRIPT_PREFIX}{}", script.script_uuid),
            condition: Condition::VersionIs(version),
        },
        WriteOp::Delete { pk, sk: format!("{NAME_PREFIX}{}", script.name), condition: Condition::Exists },
    ];
    store.write(ops).await
}
