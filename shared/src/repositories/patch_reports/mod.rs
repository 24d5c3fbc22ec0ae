//! Compliance reports in the table (spec 4.5). One report per (host, baseline)
//! and tenant, under a stable id ([`report_id`]). In the tenant partition:
//! - `PATCH_REPORT#{id}`: the header ([`StoredReport`]): the report, its
//!   counts by compliance level and by patch status, and the generation its
//!   items are stored under. Index `List` partition `PROJECT#{p}#PATCH_REPORT`
//!   and index `Filter` partition `PROJECT#{p}#PATCH_REPORT#STATUS#{compliant|non_compliant}`,
//!   both sorted by `{report_time:020}#{id}`;
//! - counts `COUNT#PATCH_REPORT` and `COUNT#PATCH_REPORT#STATUS#{status}`,
//!   changed in the transaction that writes the header;
//! - counter `PATCH_REPORT_GENERATION#{id}`: the generations of its items.
//!
//! The items of a generation live in partition `PROJECT#{p}#PATCH_ITEMS#{id}`
//! at `{generation:020}#{rank:010}`, where `rank` is the item's place in
//! installed-time order; index `List` partition `PROJECT#{p}#PATCH_ITEMS#{id}#{generation:020}`
//! sorted by that rank, index `Filter` partition `…#{generation:020}#{patch_status}`
//! sorted by the rank among the items of that status. Items are written once,
//! so the ranks are dense: an offset is a key to start after, not rows to skip.
//!
//! A save writes the new generation's items first, then points the header at
//! them in one conditional write, then deletes the generation that is now two
//! saves old. A reader reads the header, then items of the generation it
//! names: the old report or the new one, whole, never a mix. The previous
//! generation is kept so that a reader who read the header just before a
//! save is not cut short by it.

mod items;
mod list;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::patch::report::{summarize, ComplianceStatus};
use crate::domain::patch::{ComplianceItem, InstanceCompliant, PatchStatus};
use crate::domain::tenant::ProjectId;
use crate::error::ApiError;
use crate::ports::{Condition, Index, Item, Order, PageQuery, Store, StoreError, WriteOp};

use super::listing::{self, count_key};
use super::{decode, encode, tenant_pk, versioned, Versioned};

pub use items::{items_page, ItemFilter, ItemPage};
pub use list::{reports_page, ReportFilter, ReportPage, ENTERPRISE_PROJECT, REPORT_SCENE};

const REPORT_PREFIX: &str = "PATCH_REPORT#";
const GENERATION_COUNTER: &str = "PATCH_REPORT_GENERATION#";
/// How many times a save re-reads the header when another save wrote it in between.
const FLIP_ATTEMPTS: usize = 20;
/// Operations per store transaction (the port's limit).
const WRITE_CHUNK: usize = 25;

/// A page of a list: where it starts and how many rows it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// Rows to pass over before the page (0 for the first page).
    pub skip: usize,
    pub limit: usize,
    pub order: Order,
}

/// The stable id of the report of `instance_id` against `baseline_id`: 32 hex
/// characters, as the reference's example ids are.
pub fn report_id(instance_id: &str, baseline_id: &str) -> String {
    let digest = Sha256::digest(format!("{instance_id}\n{baseline_id}").as_bytes());
    hex::encode(&digest[..16])
}

/// A report as stored: the report and what the lists read without reading items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    pub report: InstanceCompliant,
    /// The items of the report, by patch status (`PatchStatus::key`).
    pub status_counts: BTreeMap<String, u64>,
    /// The generation the items are stored under.
    pub generation: u64,
    /// The generation before it, kept until the next save for readers in flight.
    pub previous_generation: Option<u64>,
}

impl StoredReport {
    pub fn status_count(&self, status: PatchStatus) -> u64 {
        self.status_counts.get(status.key()).copied().unwrap_or(0)
    }
}

fn report_sk(id: &str) -> String {
    format!("{REPORT_PREFIX}{id}")
}

fn reports_list_pk(project: &ProjectId) -> String {
    format!("{}#PATCH_REPORT", tenant_pk(project))
}

fn reports_status_pk(project: &ProjectId, status: ComplianceStatus) -> String {
    format!("{}#PATCH_REPORT#STATUS#{}", tenant_pk(project), status.key())
}

/// A report's place in its lists: report time, then id to make it unique.
fn report_time_sk(report: &InstanceCompliant) -> String {
    format!("{:020}#{}", report.report_time.max(0), report.id)
}

fn total_count() -> String {
    count_key(&["PATCH_REPORT"])
}

fn status_count(status: ComplianceStatus) -> String {
    count_key(&["PATCH_REPORT", "STATUS", status.key()])
}

fn items_pk(project: &ProjectId, id: &str) -> String {
    format!("{}#PATCH_ITEMS#{id}", tenant_pk(project))
}

fn generation_prefix(generation: u64) -> String {
    format!("{generation:020}#")
}

/// A rank in a sort key: fixed width, so that text order is rank order.
fn rank_sk(rank: usize) -> String {
    format!("{rank:010}")
}

fn items_list_pk(project: &ProjectId, id: &str, generation: u64) -> String {
    format!("{}#{generation:020}", items_pk(project, id))
}

fn items_status_pk(project: &ProjectId, id: &str, generation: u64, status: PatchStatus) -> String {
    format!("{}#{generation:020}#{}", items_pk(project, id), status.key())
}

fn header_item(project: &ProjectId, stored: &StoredReport, version: u64) -> Result<Item, StoreError> {
    let report = &stored.report;
    Ok(Item::new(tenant_pk(project), report_sk(&report.id), encode(stored)?, version)
        .indexed(Index::List, reports_list_pk(project), report_time_sk(report))
        .indexed(Index::Filter, reports_status_pk(project, report.status()), report_time_sk(report)))
}

/// The items in the order their lists show them: installed time (not
/// installed first), then title, then the order they came in.
fn in_installed_order(items: &[ComplianceItem]) -> Vec<&ComplianceItem> {
    let mut sorted: Vec<&ComplianceItem> = items.iter().collect();
    sorted.sort_by(|a, b| {
        a.installed_time.unwrap_or(i64::MIN).cmp(&b.installed_time.unwrap_or(i64::MIN)).then(a.title.cmp(&b.title))
    });
    sorted
}

/// The item records of one generation, each with its dense ranks.
fn generation_items(
    project: &ProjectId,
    id: &str,
    generation: u64,
    items: &[ComplianceItem],
) -> Result<(Vec<Item>, BTreeMap<String, u64>), StoreError> {
    let mut status_counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut records = Vec::with_capacity(items.len());
    for (rank, item) in in_installed_order(items).into_iter().enumerate() {
        let status_rank = status_counts.entry(item.patch_status.key().to_owned()).or_insert(0);
        let record = Item::new(
            items_pk(project, id),
            format!("{}{}", generation_prefix(generation), rank_sk(rank)),
            encode(item)?,
            1,
        )
        .indexed(Index::List, items_list_pk(project, id, generation), rank_sk(rank))
        .indexed(
            Index::Filter,
            items_status_pk(project, id, generation, item.patch_status),
            rank_sk(*status_rank as usize),
        );
        *status_rank += 1;
        records.push(record);
    }
    Ok((records, status_counts))
}

/// Deletes every item of one generation, in bounded reads.
async fn delete_generation(
    store: &dyn Store,
    project: &ProjectId,
    id: &str,
    generation: u64,
) -> Result<(), StoreError> {
    let pk = items_pk(project, id);
    let prefix = generation_prefix(generation);
    loop {
        let query = PageQuery { pk: &pk, prefix: &prefix, after: None, limit: WRITE_CHUNK, order: Order::Ascending };
        let page = store.query_page(query).await?;
        if page.items.is_empty() {
            return Ok(());
        }
        let done = page.last_sk.is_none();
        let ops = page
            .items
            .into_iter()
            .map(|item| WriteOp::Delete { pk: item.pk, sk: item.sk, condition: Condition::Always })
            .collect();
        store.write(ops).await?;
        if done {
            return Ok(());
        }
    }
}

/// The count changes of a header write: a new report is counted, a report
/// whose status changed moves between the status counts.
fn count_ops(project: &ProjectId, old: Option<&InstanceCompliant>, new: &InstanceCompliant) -> Vec<WriteOp> {
    let add = |sk: String, delta: i64| WriteOp::Add { pk: tenant_pk(project), sk, delta };
    match old {
        None => vec![add(total_count(), 1), add(status_count(new.status()), 1)],
        Some(old) if old.status() != new.status() => {
            vec![add(status_count(old.status()), -1), add(status_count(new.status()), 1)]
        }
        Some(_) => Vec::new(),
    }
}

/// Replaces the report of (`report.instance_id`, `report.baseline_id`) with
/// this one and its items; readers see the old report or the new one, whole.
/// Of two saves of one report the one with the later `report_time` wins,
/// whichever finishes last. The report's id, summaries and item count are
/// those of `items` (the id is [`report_id`]).
pub async fn save(
    store: &dyn Store,
    project: &ProjectId,
    report: &InstanceCompliant,
    items: &[ComplianceItem],
) -> Result<(), ApiError> {
    let mut report = report.clone();
    report.id = report_id(&report.instance_id, &report.baseline_id);
    report.summaries = summarize(items);
    report.item_count = items.len() as u64;
    let id = report.id.clone();
    let generation = store.increment(&tenant_pk(project), &format!("{GENERATION_COUNTER}{id}")).await?;
    let (records, status_counts) = generation_items(project, &id, generation, items)?;
    let mut records = records.into_iter().peekable();
    while records.peek().is_some() {
        let ops = records.by_ref().take(WRITE_CHUNK).map(|item| WriteOp::Put { item, condition: Condition::Always });
        store.write(ops.collect()).await?;
    }
    let mut stored = StoredReport { report, status_counts, generation, previous_generation: None };
    for _ in 0..FLIP_ATTEMPTS {
        let current: Option<Versioned<StoredReport>> =
            versioned(store.get(&tenant_pk(project), &report_sk(&id)).await?)?;
        let (condition, version) = match &current {
            None => (Condition::NotExists, 1),
            Some(current) => {
                let theirs = (current.value.report.report_time, current.value.generation);
                if theirs > (stored.report.report_time, generation) {
                    // A newer report is in place: ours is history already.
                    delete_generation(store, project, &id, generation).await?;
                    return Ok(());
                }
                (Condition::VersionIs(current.version), current.version + 1)
            }
        };
        stored.previous_generation = current.as_ref().map(|c| c.value.generation);
        let mut ops = vec![WriteOp::Put { item: header_item(project, &stored, version)?, condition }];
        ops.extend(count_ops(project, current.as_ref().map(|c| &c.value.report), &stored.report));
        match store.write(ops).await {
            Ok(()) => {
                // Two saves old now: no reader that starts from here can reach it.
                if let Some(stale) = current.and_then(|c| c.value.previous_generation) {
                    delete_generation(store, project, &id, stale).await?;
                }
                return Ok(());
            }
            Err(StoreError::ConditionFailed) => continue,
            Err(other) => return Err(other.into()),
        }
    }
    Err(ApiError::Internal(format!("the report {id} kept changing while it was saved")))
}

/// The report with this id, if the tenant has it.
pub async fn get(store: &dyn Store, project: &ProjectId, id: &str) -> Result<Option<StoredReport>, StoreError> {
    store.get(&tenant_pk(project), &report_sk(id)).await?.map(|item| decode(&item)).transpose()
}

/// Where a page starts once `skip` rows the filter keeps are passed over.
enum Start {
    /// After this index sort key (`None`: at the beginning).
    After(Option<String>),
    /// The walk holds no more than `skip` such rows: the page is empty.
    Beyond,
}

/// Passes over `skip` kept rows of the walk, reading them (and what the
/// filter discards among them) in bounded chunks: the cost of an offset on a
/// list whose rows have no dense rank to start from.
async fn skip_rows<T>(
    store: &dyn Store,
    walk: listing::Walk<'_>,
    skip: usize,
    filtered: bool,
    decode: &(impl Fn(&Item) -> Result<T, StoreError> + Sync),
    judge: &(impl Fn(&T) -> listing::Verdict + Sync),
) -> Result<Start, StoreError> {
    let mut after = walk.after.map(str::to_owned);
    let mut remaining = skip;
    while remaining > 0 {
        let chunk = remaining.min(crate::limits::LIST_COUNT_CHUNK);
        let step = listing::Walk { after: after.as_deref(), ..walk };
        let passed = listing::page(store, step, chunk, filtered, decode, judge).await?;
        if passed.rows.len() < chunk {
            return Ok(Start::Beyond);
        }
        remaining -= chunk;
        match passed.next {
            Some(next) => after = Some(next),
            // The walk ends with the rows passed over.
            None => return Ok(Start::Beyond),
        }
    }
    Ok(Start::After(after))
}
