//! Incidents, integrations and alarms in the table.
//!
//! Tenant partition `PROJECT#{project}`:
//! - `INCIDENT#{incident_num}`: an incident with its history, version-locked;
//! - `INTEGRATION#{integration_id}`: an integration and its rule;
//! - `ALARM#{integration_id}#{alarm_id}`: an alarm, deduplicated by its id.
//!
//! Partition `INTEGRATION_KEY#{key}`: which tenant's integration a key opens
//! (the intake URL carries only the key).

use serde::{Deserialize, Serialize};

use super::{decode, encode, tenant_pk, versioned, Versioned};
use crate::domain::alarm::{Alarm, Integration};
use crate::domain::incident::Incident;
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Item, Store, StoreError, WriteOp};

// ---- incidents -------------------------------------------------------------

fn incident_sk(num: &str) -> String {
    format!("INCIDENT#{num}")
}

pub fn insert_incident_op(incident: &Incident) -> Result<WriteOp, StoreError> {
    let item = Item::new(tenant_pk(&incident.project_id), incident_sk(&incident.incident_num), encode(incident)?, 1);
    Ok(WriteOp::Put { item, condition: Condition::NotExists })
}

pub async fn get_incident(
    store: &dyn Store,
    project: &ProjectId,
    num: &str,
) -> Result<Option<Versioned<Incident>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &incident_sk(num)).await?)
}

pub async fn replace_incident(store: &dyn Store, incident: &Incident, version: u64) -> Result<(), StoreError> {
    let item =
        Item::new(tenant_pk(&incident.project_id), incident_sk(&incident.incident_num), encode(incident)?, version + 1);
    store.write(vec![WriteOp::Put { item, condition: Condition::VersionIs(version) }]).await
}

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

pub async fn insert_integration(store: &dyn Store, integration: &Integration) -> Result<(), StoreError> {
    let owner =
        KeyOwner { project_id: integration.project_id.clone(), integration_id: integration.integration_id.clone() };
    store
        .write(vec![
            WriteOp::Put {
                item: Item::new(
                    tenant_pk(&integration.project_id),
                    integration_sk(&integration.integration_id),
                    encode(integration)?,
                    1,
                ),
                condition: Condition::NotExists,
            },
            WriteOp::Put {
                item: Item::new(key_pk(&integration.integration_key), KEY_SK, encode(&owner)?, 1),
                condition: Condition::NotExists,
            },
        ])
        .await
}

pub async fn list_integrations(store: &dyn Store, project: &ProjectId) -> Result<Vec<Integration>, StoreError> {
    let mut all: Vec<Integration> =
        store.query_prefix(&tenant_pk(project), "INTEGRATION#").await?.iter().map(decode).collect::<Result<_, _>>()?;
    all.sort_by_key(|i| i.create_time);
    Ok(all)
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
        ])
        .await
}

// ---- alarms ----------------------------------------------------------------

fn alarm_sk(integration_id: &str, alarm_id: &str) -> String {
    format!("ALARM#{integration_id}#{alarm_id}")
}

pub async fn get_alarm(
    store: &dyn Store,
    project: &ProjectId,
    integration_id: &str,
    alarm_id: &str,
) -> Result<Option<Versioned<Alarm>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &alarm_sk(integration_id, alarm_id)).await?)
}

/// Writes an alarm (new when `version` is None, else over the version read),
/// with the incident it opens, if any: all or nothing.
pub async fn save_alarm(
    store: &dyn Store,
    project: &ProjectId,
    alarm: &Alarm,
    version: Option<u64>,
    incident: Option<&Incident>,
) -> Result<(), StoreError> {
    let condition = version.map(Condition::VersionIs).unwrap_or(Condition::NotExists);
    let item = Item::new(
        tenant_pk(project),
        alarm_sk(&alarm.integration_id, &alarm.alarm_id),
        encode(alarm)?,
        version.map_or(1, |v| v + 1),
    );
    let mut ops = vec![WriteOp::Put { item, condition }];
    if let Some(incident) = incident {
        ops.push(insert_incident_op(incident)?);
    }
    store.write(ops).await
}

pub async fn list_alarms(
    store: &dyn Store,
    project: &ProjectId,
    integration_id: &str,
) -> Result<Vec<Alarm>, StoreError> {
    store.query_prefix(&tenant_pk(project), &format!("ALARM#{integration_id}#")).await?.iter().map(decode).collect()
}
