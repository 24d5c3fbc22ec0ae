//! Incidents (and integrations, [`integrations`]) in the table.
//!
//! Tenant partition `PROJECT#{project}`:
//! - `INCIDENT#{incident_num}`: the incident, version-locked; in index `List`
//!   under `{p}#INCIDENT` and in index `Filter` under
//!   `{p}#INCIDENT#STATUS#{status}`, both sorted `{create_time:013}#{num}`,
//!   so a status change moves it in the write that makes it;
//! - `INCIDENT_ASSIGNEE#{incident_num}`: a copy of the incident for its
//!   assignee's list, in index `Filter` under `{p}#INCIDENT#ASSIGNEE#{user}`
//!   (one item per incident, so a forward re-keys it in place);
//! - `INCIDENT_HISTORY#{incident_num}#{seq:08}`: one item per action, written
//!   in the transaction of the action (`NotExists`: of two racing writers of
//!   the same step, one lands), so a long life never outgrows an item;
//! - counts `COUNT#INCIDENT`, `COUNT#INCIDENT#STATUS#{status}`,
//!   `COUNT#INCIDENT#ASSIGNEE#{user}`, moved in the same transaction.
//!
//! Incidents saved before this layout hold their history inside and have no
//! status key, copy or counts (`history_seq` 0): their next save, or
//! `coc-admin reindex`, writes them in it.

mod history;
mod integrations;
mod list;

pub use history::{history, HistoryPage, SavedEntry};
pub use integrations::{
    count_integrations, delete_integration, get_integration, insert_integration, integration_by_key, list_integrations,
};
pub use list::{list_incidents, IncidentPage};

use super::listing::{count_key, key_name};
use super::{encode, tenant_pk, versioned, Versioned};
use crate::domain::incident::{Incident, IncidentStatus};
use crate::domain::tenant::ProjectId;
use crate::ports::{Condition, Index, Item, Store, StoreError, WriteOp};

fn incident_sk(num: &str) -> String {
    format!("INCIDENT#{num}")
}

fn assignee_sk(num: &str) -> String {
    format!("INCIDENT_ASSIGNEE#{num}")
}

pub(crate) const ITEM_PREFIX: &str = "INCIDENT#";

fn all_pk(project: &ProjectId) -> String {
    format!("{}#INCIDENT", tenant_pk(project))
}

fn status_pk(project: &ProjectId, status: IncidentStatus) -> String {
    format!("{}#INCIDENT#STATUS#{}", tenant_pk(project), key_name(&status))
}

fn assignee_pk(project: &ProjectId, assignee: &str) -> String {
    format!("{}#INCIDENT#ASSIGNEE#{assignee}", tenant_pk(project))
}

/// The sort key of every incident index: creation time, then the number.
fn time_sk(incident: &Incident) -> String {
    format!("{:013}#{}", incident.create_time, incident.incident_num)
}

fn count_all() -> String {
    count_key(&["INCIDENT"])
}

fn count_status(status: IncidentStatus) -> String {
    count_key(&["INCIDENT", "STATUS", &key_name(&status)])
}

fn count_assignee(assignee: &str) -> String {
    count_key(&["INCIDENT", "ASSIGNEE", assignee])
}

fn assignee_of(incident: &Incident) -> Option<&str> {
    incident.incident_assignee.first().map(String::as_str).filter(|a| !a.is_empty())
}

/// The incident as stored: without the actions, which are items of their own.
fn stored(incident: &Incident) -> Incident {
    Incident { history: Vec::new(), history_seq: incident.actions_taken(), ..incident.clone() }
}

fn incident_item(incident: &Incident, version: u64) -> Result<Item, StoreError> {
    let project = &incident.project_id;
    Ok(Item::new(tenant_pk(project), incident_sk(&incident.incident_num), encode(incident)?, version)
        .indexed(Index::List, all_pk(project), time_sk(incident))
        .indexed(Index::Filter, status_pk(project, incident.status), time_sk(incident)))
}

fn count(project: &ProjectId, sk: String, delta: i64) -> WriteOp {
    WriteOp::Add { pk: tenant_pk(project), sk, delta }
}

/// Every write that saves `incident`, read as `before` at `version` (none: new).
fn save_ops(incident: &Incident, before: Option<(&Incident, u64)>) -> Result<Vec<WriteOp>, StoreError> {
    let project = &incident.project_id;
    let doc = stored(incident);
    let (version, condition) = match before {
        Some((_, version)) => (version + 1, Condition::VersionIs(version)),
        None => (1, Condition::NotExists),
    };
    let mut ops = vec![WriteOp::Put { item: incident_item(&doc, version)?, condition }];
    for (n, entry) in incident.history.iter().enumerate() {
        ops.push(history::insert_op(incident, incident.history_seq + 1 + n as u64, entry)?);
    }
    // What the counts and the assignee copy held before: nothing for a new
    // incident, and for one saved before they existed.
    let counted = before.filter(|(b, _)| b.history_seq > 0).map(|(b, _)| b);
    let (old_status, old_assignee) = match counted {
        Some(b) => (Some(b.status), assignee_of(b)),
        None => (None, None),
    };
    if counted.is_none() {
        ops.push(count(project, count_all(), 1));
    }
    if old_status != Some(incident.status) {
        if let Some(old) = old_status {
            ops.push(count(project, count_status(old), -1));
        }
        ops.push(count(project, count_status(incident.status), 1));
    }
    let new_assignee = assignee_of(incident);
    if old_assignee != new_assignee {
        if let Some(old) = old_assignee {
            ops.push(count(project, count_assignee(old), -1));
        }
        if let Some(new) = new_assignee {
            ops.push(count(project, count_assignee(new), 1));
        }
    }
    match new_assignee {
        // The copy follows every save, so its row shows what the incident's does.
        Some(assignee) => {
            let item = Item::new(tenant_pk(project), assignee_sk(&incident.incident_num), encode(&doc)?, version)
                .indexed(Index::Filter, assignee_pk(project, assignee), time_sk(incident));
            ops.push(WriteOp::Put { item, condition: Condition::Always });
        }
        None if old_assignee.is_some() => ops.push(WriteOp::Delete {
            pk: tenant_pk(project),
            sk: assignee_sk(&incident.incident_num),
            condition: Condition::Always,
        }),
        None => {}
    }
    Ok(ops)
}

/// The writes that store a new incident: the item, its creation in its
/// history, its assignee's copy and its counts (one transaction with whatever
/// the caller adds: the assignee's notification, the alarm it was opened for).
pub fn insert_incident_ops(incident: &Incident) -> Result<Vec<WriteOp>, StoreError> {
    save_ops(incident, None)
}

/// The writes that replace the incident `read`, conditional on its version:
/// the actions not saved yet, the moved index keys and counts.
pub fn replace_incident_ops(incident: &Incident, read: &Versioned<Incident>) -> Result<Vec<WriteOp>, StoreError> {
    save_ops(incident, Some((&read.value, read.version)))
}

pub async fn get_incident(
    store: &dyn Store,
    project: &ProjectId,
    num: &str,
) -> Result<Option<Versioned<Incident>>, StoreError> {
    versioned(store.get(&tenant_pk(project), &incident_sk(num)).await?)
}

/// `coc-admin reindex`: an incident saved before this layout, saved in it
/// (conditional on the version read, so an action in between wins).
pub(crate) fn reindex_ops(item: &Item) -> Result<Option<Vec<WriteOp>>, StoreError> {
    let incident: Incident = super::decode(item)?;
    if incident.history_seq > 0 {
        return Ok(None);
    }
    save_ops(&incident, Some((&incident, item.version))).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{IncidentLevel, IncidentSource, IncidentType};

    fn incident(assignee: Option<&str>) -> Incident {
        let new = serde_json::from_value(serde_json::json!({
            "current_cloud_service": ["app"], "incident_level": "level_10", "is_service_interrupt": "false",
            "incident_type": "inc_type_p_config_issues", "incident_title": "t", "incident_description": "d",
            "incident_source": "incident_source_manual", "creator": "u-c",
            "incident_assignee": assignee.map(|a| vec![a]).unwrap_or_default(),
            "assignee_scene": assignee.map_or("scene", |_| ""), "assignee_role": assignee.map_or("role", |_| ""),
        }))
        .unwrap();
        let i = Incident::create(new, "IM1".into(), None, ProjectId::parse("p").unwrap(), 5);
        assert_eq!(
            (i.incident_level, i.incident_source, i.incident_type),
            (IncidentLevel::P1, IncidentSource::Manual, IncidentType::Config)
        );
        i
    }

    fn adds(ops: &[WriteOp]) -> Vec<(String, i64)> {
        ops.iter()
            .filter_map(|op| match op {
                WriteOp::Add { sk, delta, .. } => Some((sk.clone(), *delta)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_forward_moves_the_assignee_count_and_an_accept_the_status_count() {
        let created = incident(Some("u-a"));
        let ops = insert_incident_ops(&created).unwrap();
        assert_eq!(
            adds(&ops),
            [
                ("COUNT#INCIDENT".into(), 1),
                ("COUNT#INCIDENT#STATUS#INCIDENT_STATUS_TRIGGERED".into(), 1),
                ("COUNT#INCIDENT#ASSIGNEE#u-a".into(), 1)
            ]
        );
        let read = Versioned { value: stored(&created), version: 1 };
        let mut forwarded = read.value.clone();
        let to = serde_json::json!({"virtual_send_assignee": "u-b"});
        forwarded.handle("unAcceptedForward", "u-a", to.as_object().unwrap(), 6).unwrap();
        let ops = replace_incident_ops(&forwarded, &read).unwrap();
        assert_eq!(adds(&ops), [("COUNT#INCIDENT#ASSIGNEE#u-a".into(), -1), ("COUNT#INCIDENT#ASSIGNEE#u-b".into(), 1)]);
        let history: Vec<_> = ops
            .iter()
            .filter_map(|op| match op {
                WriteOp::Put { item, condition: Condition::NotExists } => Some(item.sk.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(history, ["INCIDENT_HISTORY#IM1#00000002"]);
    }

    #[test]
    fn an_incident_assigned_by_role_has_no_assignee_copy() {
        let ops = insert_incident_ops(&incident(None)).unwrap();
        assert!(ops
            .iter()
            .all(|op| !matches!(op, WriteOp::Put { item, .. } if item.sk.starts_with("INCIDENT_ASSIGNEE#"))));
        assert_eq!(adds(&ops).len(), 2);
    }
}
