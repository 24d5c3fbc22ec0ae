//! An incident's actions, one item each: `INCIDENT_HISTORY#{num}#{seq:08}`,
//! read as a key range in either order, in bounded pages.

use serde::{Deserialize, Serialize};

use super::tenant_pk;
use crate::domain::incident::query::HistoryQuery;
use crate::domain::incident::{HistoryEntry, Incident};
use crate::ports::{Condition, Item, Order, PageQuery, Store, StoreError, WriteOp};
use crate::repositories::{decode, encode};

/// A saved action and its place in the incident's life (1: the creation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedEntry {
    pub seq: u64,
    #[serde(flatten)]
    pub entry: HistoryEntry,
}

fn prefix(num: &str) -> String {
    format!("INCIDENT_HISTORY#{num}#")
}

/// The write of action `seq`: it must be the first of that number.
pub(super) fn insert_op(incident: &Incident, seq: u64, entry: &HistoryEntry) -> Result<WriteOp, StoreError> {
    let saved = SavedEntry { seq, entry: entry.clone() };
    let sk = format!("{}{seq:08}", prefix(&incident.incident_num));
    let item = Item::new(tenant_pk(&incident.project_id), sk, encode(&saved)?, 1);
    Ok(WriteOp::Put { item, condition: Condition::NotExists })
}

/// At most `limit` actions the query keeps, and how many it keeps in all:
/// exact when the walk saw every action, otherwise (a filter, and more than
/// the page) the incident's count of actions, an upper bound.
#[derive(Debug)]
pub struct HistoryPage {
    pub entries: Vec<SavedEntry>,
    pub total: usize,
}

/// The incident's actions (`incident` as read: its `history_seq` is the count).
pub async fn history(
    store: &dyn Store,
    incident: &Incident,
    query: &HistoryQuery,
    limit: usize,
) -> Result<HistoryPage, StoreError> {
    // Saved before actions were items: they are still inside it.
    if incident.history_seq == 0 {
        let mut entries: Vec<SavedEntry> = (1..)
            .zip(&incident.history)
            .filter(|(_, e)| query.matches(e))
            .map(|(seq, entry)| SavedEntry { seq, entry: entry.clone() })
            .collect();
        if query.newest_first {
            entries.reverse();
        }
        let total = entries.len();
        entries.truncate(limit);
        return Ok(HistoryPage { entries, total });
    }
    let pk = tenant_pk(&incident.project_id);
    let prefix = prefix(&incident.incident_num);
    let order = if query.newest_first { Order::Descending } else { Order::Ascending };
    let mut entries = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let chunk = (limit - entries.len()).max(if query.filtered() { limit } else { 1 });
        let page = store
            .query_page(PageQuery { pk: &pk, prefix: &prefix, after: after.as_deref(), limit: chunk, order })
            .await?;
        for item in &page.items {
            let saved: SavedEntry = decode(item)?;
            if query.matches(&saved.entry) {
                entries.push(saved);
                if entries.len() == limit {
                    return Ok(HistoryPage { entries, total: incident.history_seq as usize });
                }
            }
        }
        match page.last_sk {
            Some(last) => after = Some(last),
            None => {
                let total = if query.filtered() { entries.len() } else { incident.history_seq as usize };
                return Ok(HistoryPage { entries, total });
            }
        }
    }
}
