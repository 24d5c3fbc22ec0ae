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
//! A save ([`save`]) writes the new generation's items first (concurrently,
//! in transactions of 25), then points the header at them in one conditional
//! write, then deletes the generation that is now two saves old. A reader
//! reads the header, then items of the generation it names: the old report or
//! the new one, whole, never a mix. The previous generation is kept so that a
//! reader who read the header just before a save is not cut short by it.
//! Each generation has a mark (`PATCH_REPORT_SAVE#{id}#{generation:020}`,
//! [`generations`]) until its items are gone, so a later save finds and
//! deletes what a crashed one left.

mod generations;
mod items;
mod list;
mod save;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::domain::patch::report::ComplianceStatus;
use crate::domain::patch::{ComplianceItem, InstanceCompliant, PatchStatus};
use crate::domain::tenant::ProjectId;
use crate::ports::{Index, Item, Order, Store, StoreError, WriteOp};

use super::listing::{self, count_key};
use super::{decode, encode, tenant_pk};

pub use items::{items_page, ItemFilter, ItemPage};
pub use list::{reports_page, ReportFilter, ReportPage, ENTERPRISE_PROJECT, REPORT_SCENE};
pub use save::{save, save_at};

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
