//! Scripts in the table. Per tenant partition:
//! - `SCRIPT#{uuid}`: the script;
//! - `SCRIPT_NAME#{name}`: a claim on the name, written in the same transaction
//!   as the script so that two creates of one name cannot both succeed;
//! - counter `SCRIPT_ID`: the auto-increment id.
//!
//! The default values of sensitive parameters are sealed in the stored record
//! (a copy of the table yields nothing usable) and opened only by [`get`], for
//! the handlers that need them: an edit that keeps a secret, an execution that
//! resolves it into its (sealed) ticket. Read-backs show the mask anyway, so
//! [`get_masked`] and [`list`] never call the keyring.

use serde_json::Value;

use crate::domain::script::{Script, MASK};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, KeyringError, Store, StoreError, WriteOp};
use crate::secrets::SecretBox;

use super::{encode, tenant_pk, Versioned};

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

fn keyring_failed(e: KeyringError) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The `param_value` strings of the sensitive parameters of a stored (JSON) script.
fn sensitive_values(record: &mut Value) -> impl Iterator<Item = &mut Value> {
    record
        .get_mut("script_params")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter(|param| param.get("sensitive") == Some(&Value::Bool(true)))
        .filter_map(|param| param.get_mut("param_value"))
        .filter(|value| value.is_string())
}

async fn script_item(secrets: &SecretBox, script: &Script, version: u64) -> Result<Item, StoreError> {
    let mut record =
        serde_json::to_value(script).map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))?;
    for value in sensitive_values(&mut record) {
        let clear = value.as_str().unwrap_or_default();
        *value = Value::String(secrets.seal(clear).await.map_err(keyring_failed)?);
    }
    Ok(Item::new(
        tenant_pk(&script.project_id),
        format!("{SCRIPT_PREFIX}{}", script.script_uuid),
        encode(&record)?,
        version,
    ))
}

/// How a read treats the sealed values of sensitive parameters.
enum Secrets<'a> {
    Open(&'a SecretBox),
    Mask,
}

/// The script of a stored record. Records written before sealing hold clear
/// values: opening reads them as they are.
async fn read_script(item: &Item, secrets: Secrets<'_>) -> Result<Script, StoreError> {
    let unreadable = |e: serde_json::Error| StoreError::Backend(format!("{}/{} is unreadable: {e}", item.pk, item.sk));
    let mut record: Value = serde_json::from_str(&item.data).map_err(unreadable)?;
    for value in sensitive_values(&mut record) {
        let shown = match &secrets {
            Secrets::Open(secrets) => secrets.open(value.as_str().unwrap_or_default()).await.map_err(keyring_failed)?,
            Secrets::Mask => MASK.to_owned(),
        };
        *value = Value::String(shown);
    }
    serde_json::from_value(record).map_err(unreadable)
}

async fn read_versioned(item: Option<Item>, secrets: Secrets<'_>) -> Result<Option<Versioned<Script>>, StoreError> {
    let Some(item) = item else {
        return Ok(None);
    };
    Ok(Some(Versioned { value: read_script(&item, secrets).await?, version: item.version }))
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
pub async fn insert(store: &dyn Store, secrets: &SecretBox, script: &Script) -> Result<(), InsertError> {
    let ops = vec![
        WriteOp::Put { item: name_claim(script), condition: Condition::NotExists },
        WriteOp::Put { item: script_item(secrets, script, 1).await?, condition: Condition::NotExists },
    ];
    store.write(ops).await.map_err(|e| match e {
        StoreError::ConditionFailed => InsertError::NameTaken,
        other => InsertError::Store(other),
    })
}

/// The script with its sensitive default values opened: for edits and executions.
pub async fn get(
    store: &dyn Store,
    secrets: &SecretBox,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<Versioned<Script>>, StoreError> {
    let item = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await?;
    read_versioned(item, Secrets::Open(secrets)).await
}

/// The script with its sensitive default values replaced by [`MASK`]: for
/// read-backs and deletes. Never write it back.
pub async fn get_masked(
    store: &dyn Store,
    project: &ProjectId,
    script_uuid: &str,
) -> Result<Option<Versioned<Script>>, StoreError> {
    let item = store.get(&tenant_pk(project), &format!("{SCRIPT_PREFIX}{script_uuid}")).await?;
    read_versioned(item, Secrets::Mask).await
}

/// Every script of the tenant, in id order, sensitive default values replaced by [`MASK`].
pub async fn list(store: &dyn Store, project: &ProjectId) -> Result<Vec<Script>, StoreError> {
    let items = store.query_prefix(&tenant_pk(project), SCRIPT_PREFIX).await?;
    let mut scripts = Vec::with_capacity(items.len());
    for item in &items {
        scripts.push(read_script(item, Secrets::Mask).await?);
    }
    scripts.sort_by_key(|s| s.id);
    Ok(scripts)
}

/// Writes a changed script if nobody else wrote it since it was read at `version`.
pub async fn replace(store: &dyn Store, secrets: &SecretBox, script: &Script, version: u64) -> Result<(), StoreError> {
    let item = script_item(secrets, script, version + 1).await?;
    let op = WriteOp::Put { item, condition: Condition::VersionIs(version) };
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
