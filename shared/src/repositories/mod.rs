//! How records map onto the key-value table. Every key starts with the tenant's
//! project, so a request can only ever address its own tenant's items.

pub mod alarm_deliveries;
pub mod alarms;
pub mod attachments;
pub mod credentials;
pub mod engineers;
pub mod incidents;
pub mod jobs;
pub mod listing;
pub mod notifications;
pub mod patch_baselines;
pub mod patch_reports;
pub mod reindex;
pub mod reports;
pub mod schedules;
pub mod scripts;
pub mod war_rooms;
// tags and resources
pub mod other_resources;
pub mod tags;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::domain::tenant::ProjectId;
use crate::ports::{Item, StoreError};

pub(crate) fn tenant_pk(project: &ProjectId) -> String {
    format!("PROJECT#{project}")
}

/// A record as read, with the version a later write must match.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: u64,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}")))
}

pub(crate) fn decode<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    serde_json::from_str(&item.data)
        .map_err(|e| StoreError::Backend(format!("{}/{} is unreadable: {e}", item.pk, item.sk)))
}

pub(crate) fn versioned<T: DeserializeOwned>(item: Option<Item>) -> Result<Option<Versioned<T>>, StoreError> {
    item.map(|item| Ok(Versioned { value: decode(&item)?, version: item.version })).transpose()
}
